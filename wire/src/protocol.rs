//! Wire frames of the replication protocol (cluster port, WebSocket binary
//! messages). Each frame is one MessagePack map (`rmp_serde::to_vec_named`),
//! so fields can be added by later protocol versions without breaking the
//! decoding of older ones. These types are never used as in-process messages.
//!
//! ```text
//! follower → leader   Hello { protocol, node, store_id, term_history, generation, nonce_f }
//! leader → follower   Challenge { nonce_l }
//! follower → leader   Proof { hmac }
//! leader → follower   Welcome { leader, term, store_id, generation, common, proof_l }
//! follower → leader   SetAside { at, need_snapshot }   (only when it was past `common`)
//! leader → follower   Ops { items } | Heartbeat { generation }
//! follower → leader   Ack { generation }
//! leader → follower   Snapshot { plan }        (history too old to stream)
//! follower → leader   ChunkRequest { name, offset, max_len }
//! leader → follower   FileChunk { name, offset, bytes }
//! either way          Refused { reason }   (then the session closes)
//! ```
//!
//! Version 2 added the follower's term history to `Hello`, the common point
//! to `Welcome` and the `SetAside` frame: a follower whose store holds
//! operations the leader never had (a returning old leader's divergent
//! tail, or another store altogether) sets them aside before it follows.

use serde::{Deserialize, Serialize};
use skein_store::stream::history::HistoryItem;
use skein_store::stream::snapshot::SnapshotPlan;
use skein_store::stream::TermStart;
use skein_store::Generation;

use crate::WireError;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 3;

/// One frame on the cluster port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The follower opens the session.
    Hello {
        /// Protocol version spoken by the follower.
        protocol: u32,
        /// The follower's node name.
        node: String,
        /// The follower's store id.
        store_id: String,
        /// The follower's term history (term starts, oldest first). Absent
        /// from version 1 frames, which are then refused for their version.
        #[serde(default)]
        term_history: Vec<TermStart>,
        /// The follower's store generation.
        generation: Generation,
        /// The follower's random nonce.
        #[serde(with = "serde_bytes")]
        nonce_f: Vec<u8>,
    },
    /// The leader's random nonce, to be signed by the follower.
    Challenge {
        /// The leader's random nonce.
        #[serde(with = "serde_bytes")]
        nonce_l: Vec<u8>,
    },
    /// The follower's proof that it knows the cluster key.
    Proof {
        /// HMAC-SHA256 over both nonces and the follower's name.
        #[serde(with = "serde_bytes")]
        hmac: Vec<u8>,
    },
    /// The leader accepts the follower and proves that it knows the key too.
    Welcome {
        /// The leader's node name.
        leader: String,
        /// The leader's term.
        term: u64,
        /// The leader's store id (an empty follower adopts it).
        store_id: String,
        /// The leader's generation when the session began.
        generation: Generation,
        /// The last position the follower shares with the leader's history
        /// (`Generation::ZERO` for another store). A follower past it sets
        /// its tail aside and answers `SetAside`; otherwise streaming starts.
        common: Generation,
        /// The leader's HMAC-SHA256 proof.
        #[serde(with = "serde_bytes")]
        proof_l: Vec<u8>,
    },
    /// The follower set aside what it held past `common` and is now at
    /// `at` (then the leader streams after it), or could not cut its store
    /// back in place and needs a snapshot.
    SetAside {
        /// The follower's generation now.
        at: Generation,
        /// Whether the follower needs a snapshot to continue.
        need_snapshot: bool,
    },
    /// Operations to apply, in order.
    Ops {
        /// The operations, oldest first.
        items: Vec<HistoryItem>,
    },
    /// The leader is alive and at `generation`.
    Heartbeat {
        /// The leader's current generation.
        generation: Generation,
    },
    /// The follower durably holds everything up to `generation`.
    Ack {
        /// The follower's generation.
        generation: Generation,
    },
    /// The follower's history is too old to stream: copy this snapshot, then
    /// reconnect (and stream what follows it).
    Snapshot {
        /// The leader's files and manifest.
        plan: SnapshotPlan,
    },
    /// The follower asks for a piece of a snapshot file.
    ChunkRequest {
        /// File name (from the plan).
        name: String,
        /// Byte offset.
        offset: u64,
        /// Most bytes wanted.
        max_len: u64,
    },
    /// A piece of a snapshot file.
    FileChunk {
        /// File name.
        name: String,
        /// Byte offset.
        offset: u64,
        /// The bytes.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The session is refused or ended, and why.
    Refused {
        /// Why.
        reason: String,
    },
}

impl Frame {
    /// The frame's MessagePack encoding (named fields).
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        rmp_serde::to_vec_named(self).map_err(|e| WireError::Encode(e.to_string()))
    }

    /// Decodes a frame; malformed input is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Frame, WireError> {
        rmp_serde::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))
    }

    /// The frame's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "Hello",
            Frame::Challenge { .. } => "Challenge",
            Frame::Proof { .. } => "Proof",
            Frame::Welcome { .. } => "Welcome",
            Frame::SetAside { .. } => "SetAside",
            Frame::Ops { .. } => "Ops",
            Frame::Heartbeat { .. } => "Heartbeat",
            Frame::Ack { .. } => "Ack",
            Frame::Snapshot { .. } => "Snapshot",
            Frame::ChunkRequest { .. } => "ChunkRequest",
            Frame::FileChunk { .. } => "FileChunk",
            Frame::Refused { .. } => "Refused",
        }
    }
}

/// One frame of every kind with plausible contents: the round-trip test's
/// cases and the seeds the replication-frame fuzz target mutates.
#[cfg(any(test, fuzzing))]
pub fn sample_frames() -> Vec<Frame> {
    use skein_store::stream::manifest::{ModelOp, OpRecord, SealInfo};
    use skein_store::stream::snapshot::SnapshotFile;
    let g = Generation { model: 3, write: 7 };
    let op = |op| {
        HistoryItem::Model(OpRecord {
            term: 1,
            generation: g,
            op,
        })
    };
    let seal = SealInfo {
        len: 4096,
        crc: 1,
        idx_crc: 2,
        events: 40,
        min_ts: Some(skein_store::Timestamp(1)),
        max_ts: None,
    };
    let segment = "seg-000001.log".to_string();
    vec![
        Frame::Hello {
            protocol: PROTOCOL_VERSION,
            node: "b".into(),
            store_id: "abc".into(),
            term_history: vec![
                TermStart {
                    term: 1,
                    generation: Generation::ZERO,
                },
                TermStart {
                    term: 3,
                    generation: Generation { model: 2, write: 5 },
                },
            ],
            generation: g,
            nonce_f: vec![1; 32],
        },
        Frame::Challenge {
            nonce_l: vec![2; 32],
        },
        Frame::Proof { hmac: vec![3; 32] },
        Frame::Welcome {
            leader: "a".into(),
            term: 4,
            store_id: "abc".into(),
            generation: g,
            common: g,
            proof_l: vec![4; 32],
        },
        Frame::SetAside {
            at: g,
            need_snapshot: true,
        },
        Frame::Ops {
            items: vec![
                HistoryItem::Append {
                    segment: 1,
                    offset: 0,
                    bytes: vec![9; 100],
                },
                op(ModelOp::NewSegment { segment: 2 }),
                op(ModelOp::Seal {
                    segment: 1,
                    info: seal,
                }),
                op(ModelOp::Delete { segment: 1 }),
            ],
        },
        Frame::Heartbeat { generation: g },
        Frame::Ack { generation: g },
        Frame::Snapshot {
            plan: SnapshotPlan {
                store_id: "abc".into(),
                generation: g,
                manifest: b"{}".to_vec(),
                files: vec![SnapshotFile {
                    name: segment.clone(),
                    len: 4096,
                    crc: 5,
                }],
            },
        },
        Frame::ChunkRequest {
            name: segment.clone(),
            offset: 4096,
            max_len: 1 << 20,
        },
        Frame::FileChunk {
            name: segment,
            offset: 4096,
            bytes: vec![5; 64],
        },
        Frame::Refused {
            reason: "no".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(f: Frame) {
        let bytes = f.encode().expect("encodes");
        assert_eq!(Frame::decode(&bytes).expect("decodes"), f);
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = sample_frames();
        let kinds: std::collections::BTreeSet<&str> = frames.iter().map(Frame::kind).collect();
        assert_eq!(kinds.len(), 12, "one sample of every kind: {kinds:?}");
        for f in frames {
            round_trip(f);
        }
    }

    #[test]
    fn frames_are_named_maps_with_compact_bytes() {
        let bytes = Frame::Ops {
            items: vec![HistoryItem::Append {
                segment: 1,
                offset: 0,
                bytes: vec![0; 1000],
            }],
        }
        .encode()
        .unwrap();
        // Field names are present (maps, not positional arrays)...
        assert!(bytes.windows(5).any(|w| w == b"items"));
        // ...and block bytes travel as one bin, not as an array of integers.
        assert!(bytes.len() < 1100, "{} bytes", bytes.len());
    }

    #[test]
    fn a_version_1_hello_decodes_so_that_its_version_can_be_refused() {
        #[derive(Serialize)]
        enum V1 {
            Hello {
                protocol: u32,
                node: String,
                store_id: String,
                generation: Generation,
                #[serde(with = "serde_bytes")]
                nonce_f: Vec<u8>,
            },
        }
        let bytes = rmp_serde::to_vec_named(&V1::Hello {
            protocol: 1,
            node: "b".into(),
            store_id: "abc".into(),
            generation: Generation::ZERO,
            nonce_f: vec![1; 32],
        })
        .unwrap();
        match Frame::decode(&bytes).unwrap() {
            Frame::Hello {
                protocol,
                term_history,
                ..
            } => assert_eq!((protocol, term_history.len()), (1, 0)),
            other => panic!("{other:?}"),
        }
    }

    /// Found by `actors/fuzz` (replication_frames): a well-formed `Ack`
    /// whose generation's parts add past `u64::MAX` made the leader's
    /// "acknowledged a generation never sent" comparison panic on overflow.
    /// It now orders past every real generation, so the leader refuses it.
    #[test]
    fn an_ack_whose_generation_overflows_orders_past_every_real_generation() {
        let bytes: &[u8] = &[
            0x81, 0xa3, b'A', b'c', b'k', 0x81, 0xaa, b'g', b'e', b'n', b'e', b'r', b'a', b't',
            b'i', b'o', b'n', 0x82, 0xa5, b'm', b'o', b'd', b'e', b'l', 0xcf, 0xdf, 0x00, 0x00,
            0x00, 0x00, 0xdf, 0xdf, 0xdf, 0xa5, b'w', b'r', b'i', b't', b'e', 0xcf, 0xdf, 0xdf,
            0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf,
        ];
        let Frame::Ack { generation } = Frame::decode(bytes).unwrap() else {
            panic!("an Ack");
        };
        let sent = Generation { model: 3, write: 7 };
        assert!(generation > sent);
        assert_eq!(generation.ops(), u64::MAX);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let malformed = |bytes: &[u8]| match Frame::decode(bytes) {
            Err(WireError::Malformed(why)) => why,
            other => panic!("{bytes:02x?} gave {other:?}"),
        };
        // An unknown frame is named.
        let unknown =
            rmp_serde::to_vec_named(&std::collections::BTreeMap::from([("Hijack", 0u8)])).unwrap();
        assert!(
            malformed(&unknown).contains("Hijack"),
            "{}",
            malformed(&unknown)
        );
        // A field of the wrong type.
        let wrong = rmp_serde::to_vec_named(&std::collections::BTreeMap::from([(
            "Refused",
            std::collections::BTreeMap::from([("reason", 5u8)]),
        )]))
        .unwrap();
        malformed(&wrong);
        // Lengths far beyond the input allocate nothing and fail.
        malformed(&[
            0x81, 0xa3, b'O', b'p', b's', 0x81, 0xa5, b'i', b't', b'e', b'm', b's', 0xdd, 0xff,
            0xff, 0xff, 0xff,
        ]);
        malformed(&[
            0x81, 0xa9, b'C', b'h', b'a', b'l', b'l', b'e', b'n', b'g', b'e', 0x81, 0xa7, b'n',
            b'o', b'n', b'c', b'e', b'_', b'l', 0xc6, 0xff, 0xff, 0xff, 0xff,
        ]);
        // Nesting far deeper than any frame is refused, not a stack overflow.
        malformed(&[0x91; 100_000]);
        malformed(&[0x81; 100_000]);
    }

    #[test]
    fn unknown_fields_are_ignored_for_later_versions() {
        #[derive(Serialize)]
        enum Later {
            Heartbeat { generation: Generation, load: u32 },
        }
        let g = Generation { model: 1, write: 2 };
        let bytes = rmp_serde::to_vec_named(&Later::Heartbeat {
            generation: g,
            load: 7,
        })
        .unwrap();
        assert_eq!(
            Frame::decode(&bytes).unwrap(),
            Frame::Heartbeat { generation: g }
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(matches!(
            Frame::decode(b"\xc1garbage"),
            Err(WireError::Malformed(_))
        ));
        assert!(Frame::decode(&[]).is_err());
        let truncated = Frame::Ack {
            generation: Generation::ZERO,
        }
        .encode()
        .unwrap();
        assert!(Frame::decode(&truncated[..truncated.len() - 1]).is_err());
    }
}
