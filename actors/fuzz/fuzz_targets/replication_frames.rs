//! Fuzzes what a peer sends on the cluster port: sealed and unsealed
//! replication frames. Nothing may panic, whatever the bytes.
//!
//! Input byte 0 picks the mode:
//! - 0: the rest is one frame as a hostile peer without the session key
//!   sends it, through [`SessionSeal::open`] and then [`Frame::decode`];
//! - 1: the rest, cut at each `0xFF 0xFE`, is a run of frames the real
//!   leader sealed; a part that starts with `0x00` (no frame does) is
//!   tampered with after sealing, its second byte picking the bit flipped.
//!   Each frame must open exactly when it and every frame before it were
//!   left alone, to the bytes sealed, and is then decoded;
//! - 2: one of a sample of every kind of frame, encoded, is edited by the
//!   rest and decoded: byte 0 picks the sample, then each 3 bytes
//!   `lo, hi, value` overwrite (or, when `hi`'s top bit is set, insert)
//!   `value` at position `lo + 256 * (hi & 0x7F)` — so the fuzzer starts
//!   from frames that decode and reaches the fields' values at once;
//! - 3: the rest builds a frame field by field (`arbitrary`), so every
//!   value a field can hold is reached — such a frame must encode, and
//!   decode back to itself;
//! - anything else: the rest is decoded as a frame (the handshake's frames
//!   travel unsealed).
//!
//! Every frame that decodes must encode and decode back to itself, and is
//! then consumed as the leader and the follower consume it: its
//! generations compared and counted, a `Hello`'s term history matched
//! against this node's, a `Welcome`'s proof checked, an `Ops` frame's
//! items read, a `Snapshot`'s plan installed (on tmpfs when there is one;
//! no file can be fetched, so only a plan without files gets as far as
//! opening the store it makes). Applying `Ops` to a store is fuzzed by
//! `store/fuzz`'s `history_apply`.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use skein_wire::protocol::sample_frames;
use skein_wire::{ClusterKey, Frame, SessionSeal};
use skein_store::stream::history::HistoryItem;
use skein_store::stream::manifest::{ModelOp, OpRecord, SealInfo};
use skein_store::stream::snapshot::{install_snapshot, SnapshotFile, SnapshotPlan};
use skein_store::stream::{common_point, TermStart};
use skein_store::{Generation, Store, StoreError, StoreOptions, Timestamp};

const NONCE_L: &[u8] = &[7; 32];
const NONCE_F: &[u8] = &[9; 32];
const NODE: &str = "follower";

fn key() -> ClusterKey {
    ClusterKey::new("fuzz cluster key").expect("a key")
}

/// This node's history, as `common_point` sees it.
const LOCAL: [TermStart; 2] = [
    TermStart {
        term: 1,
        generation: Generation::ZERO,
    },
    TermStart {
        term: 3,
        generation: Generation { model: 2, write: 5 },
    },
];
const LOCAL_AT: Generation = Generation { model: 3, write: 9 };

/// The comparisons the sender and receiver make on a peer's generation.
fn weigh(g: Generation) {
    let _ = (g.ops(), g > LOCAL_AT, g.min(LOCAL_AT), g.to_string());
}

fn consume(frame: Frame) {
    let bytes = frame.encode().expect("a decoded frame encodes");
    assert_eq!(Frame::decode(&bytes).expect("re-decodes"), frame);
    let _ = frame.kind();
    match frame {
        Frame::Hello {
            term_history,
            generation,
            ..
        } => {
            weigh(generation);
            let common = common_point(&term_history, generation, &LOCAL, LOCAL_AT);
            weigh(common.min(generation));
        }
        Frame::Welcome {
            generation,
            common,
            proof_l,
            ..
        } => {
            weigh(generation);
            weigh(common);
            let _ = key().verify_leader(NONCE_L, NONCE_F, NODE, &proof_l);
        }
        Frame::Proof { hmac } => {
            let _ = key().verify_follower(NONCE_L, NONCE_F, NODE, &hmac);
        }
        Frame::SetAside { at, .. } => weigh(at),
        Frame::Heartbeat { generation } | Frame::Ack { generation } => weigh(generation),
        Frame::Ops { items } => {
            for item in &items {
                if let Some(g) = item.generation() {
                    weigh(g);
                }
            }
        }
        Frame::Snapshot { plan } => {
            weigh(plan.generation);
            install(&plan);
        }
        Frame::Challenge { .. }
        | Frame::ChunkRequest { .. }
        | Frame::FileChunk { .. }
        | Frame::Refused { .. } => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let key = key();
    match mode {
        0 => {
            let mut follower = SessionSeal::follower(&key, NONCE_L, NONCE_F, NODE);
            if let Ok(opened) = follower.open(rest) {
                panic!("a frame not sealed by the session opened: {opened:?}");
            }
        }
        1 => {
            let mut leader = SessionSeal::leader(&key, NONCE_L, NONCE_F, NODE);
            let mut follower = SessionSeal::follower(&key, NONCE_L, NONCE_F, NODE);
            let mut in_sync = true;
            for part in split(rest) {
                let mut sealed = leader.seal(part.to_vec());
                let tamper = (part.first() == Some(&0)).then(|| part.get(1).copied().unwrap_or(0));
                if let Some(t) = tamper {
                    let at = t as usize * 7 % sealed.len();
                    sealed[at] ^= 1 << (t % 8);
                }
                match follower.open(&sealed) {
                    Ok(opened) => {
                        assert!(in_sync && tamper.is_none(), "a tampered frame opened");
                        assert_eq!(opened, part);
                        if let Ok(frame) = Frame::decode(opened) {
                            consume(frame);
                        }
                    }
                    Err(_) => {
                        assert!(!in_sync || tamper.is_some(), "a sealed frame was refused");
                        // The session ends; later frames are out of sequence.
                        in_sync = false;
                    }
                }
            }
        }
        2 => {
            let Some((&pick, edits)) = rest.split_first() else {
                return;
            };
            let samples = samples();
            let mut bytes = samples[pick as usize % samples.len()].clone();
            for e in edits.chunks_exact(3) {
                let at = (e[0] as usize + 256 * (e[1] & 0x7F) as usize) % (bytes.len() + 1);
                if e[1] & 0x80 != 0 {
                    bytes.insert(at, e[2]);
                } else if at < bytes.len() {
                    bytes[at] = e[2];
                }
            }
            if let Ok(frame) = Frame::decode(&bytes) {
                consume(frame);
            }
        }
        3 => {
            if let Ok(frame) = arbitrary_frame(&mut Unstructured::new(rest)) {
                consume(frame);
            }
        }
        _ => {
            if let Ok(frame) = Frame::decode(rest) {
                consume(frame);
            }
        }
    }
});

fn generation(u: &mut Unstructured) -> Result<Generation> {
    Ok(Generation {
        model: u.arbitrary()?,
        write: u.arbitrary()?,
    })
}

fn op_record(u: &mut Unstructured) -> Result<OpRecord> {
    let segment = u.arbitrary()?;
    let op = match u.choose_index(3)? {
        0 => ModelOp::NewSegment { segment },
        1 => ModelOp::Delete { segment },
        _ => ModelOp::Seal {
            segment,
            info: SealInfo {
                len: u.arbitrary()?,
                crc: u.arbitrary()?,
                idx_crc: u.arbitrary()?,
                events: u.arbitrary()?,
                min_ts: u.arbitrary::<Option<i64>>()?.map(Timestamp),
                max_ts: u.arbitrary::<Option<i64>>()?.map(Timestamp),
            },
        },
    };
    Ok(OpRecord {
        term: u.arbitrary()?,
        generation: generation(u)?,
        op,
    })
}

/// Any frame at all, each field any value of its type.
fn arbitrary_frame(u: &mut Unstructured) -> Result<Frame> {
    Ok(match u.choose_index(12)? {
        0 => Frame::Hello {
            protocol: u.arbitrary()?,
            node: u.arbitrary()?,
            store_id: u.arbitrary()?,
            term_history: (0..u.choose_index(4)?)
                .map(|_| {
                    Ok(TermStart {
                        term: u.arbitrary()?,
                        generation: generation(u)?,
                    })
                })
                .collect::<Result<_>>()?,
            generation: generation(u)?,
            nonce_f: u.arbitrary()?,
        },
        1 => Frame::Challenge {
            nonce_l: u.arbitrary()?,
        },
        2 => Frame::Proof {
            hmac: u.arbitrary()?,
        },
        3 => Frame::Welcome {
            leader: u.arbitrary()?,
            term: u.arbitrary()?,
            store_id: u.arbitrary()?,
            generation: generation(u)?,
            common: generation(u)?,
            proof_l: u.arbitrary()?,
        },
        4 => Frame::SetAside {
            at: generation(u)?,
            need_snapshot: u.arbitrary()?,
        },
        5 => Frame::Ops {
            items: (0..u.choose_index(4)?)
                .map(|_| {
                    Ok(if u.arbitrary()? {
                        HistoryItem::Append {
                            segment: u.arbitrary()?,
                            offset: u.arbitrary()?,
                            bytes: u.arbitrary()?,
                        }
                    } else {
                        HistoryItem::Model(op_record(u)?)
                    })
                })
                .collect::<Result<_>>()?,
        },
        6 => Frame::Heartbeat {
            generation: generation(u)?,
        },
        7 => Frame::Ack {
            generation: generation(u)?,
        },
        8 => Frame::Snapshot {
            plan: SnapshotPlan {
                store_id: u.arbitrary()?,
                generation: generation(u)?,
                manifest: u.arbitrary()?,
                files: (0..u.choose_index(4)?)
                    .map(|_| {
                        Ok(SnapshotFile {
                            name: u.arbitrary()?,
                            len: u.arbitrary()?,
                            crc: u.arbitrary()?,
                        })
                    })
                    .collect::<Result<_>>()?,
            },
        },
        9 => Frame::ChunkRequest {
            name: u.arbitrary()?,
            offset: u.arbitrary()?,
            max_len: u.arbitrary()?,
        },
        10 => Frame::FileChunk {
            name: u.arbitrary()?,
            offset: u.arbitrary()?,
            bytes: u.arbitrary()?,
        },
        _ => Frame::Refused {
            reason: u.arbitrary()?,
        },
    })
}

/// Installs a leader's snapshot plan as the follower does, into a fresh
/// folder (removed afterwards); the source has no bytes to give.
fn install(plan: &SnapshotPlan) {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("skein-frames-{}", std::process::id()))
    });
    let stream = dir.join("Stream");
    std::fs::create_dir_all(dir).expect("scratch folder");
    let mut fetch =
        |_: &str, _: u64, _: usize| Err(StoreError::Mismatch("the source is gone".into()));
    if install_snapshot(&stream, plan, 0, &mut fetch, &mut |_| {}).is_ok() {
        if let Ok(store) = Store::open_replica(&stream, StoreOptions::default(), &plan.store_id) {
            let _ = (store.status(), store.snapshot_plan());
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Every kind of frame, encoded (the protocol's own samples).
fn samples() -> &'static [Vec<u8>] {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        sample_frames()
            .iter()
            .map(|f| f.encode().expect("encodes"))
            .collect()
    })
}

/// `bytes` cut at each `0xFF 0xFE`.
fn split(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(2).position(|w| w == [0xFF, 0xFE]) {
            Some(at) => {
                rest = Some(&r[at + 2..]);
                Some(&r[..at])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}
