//! Fuzzes a replica's apply path with hostile but well-formed history: what
//! a peer holding the cluster key could send in `Ops` frames (the frames'
//! decoding itself is fuzzed by `actors/fuzz`'s `replication_frames`).
//!
//! A real leader store's history (appends, new segments, seals, a retention
//! delete, two terms) is edited by the input and applied, in frames, to a
//! fresh replica. Edits keep blocks well-formed where it matters to get past
//! the first checks: a header edit re-signs the header, a payload edit
//! re-signs the payload. `Store::apply` must answer `Ok` or an error, never
//! panic; whatever it accepted must then read back, serve as history and
//! reopen (recovery) without a panic either.
//!
//! The input is a list of 10-byte edits: `op, index, value (8 bytes LE)`.
//! Each op's low bits pick what is done to item `index` (see [`edit`]); an
//! op byte of 255 ends a frame (the items so far are applied together).

#![no_main]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skein_store::block::{BlockHeader, HEADER_LEN};
use skein_store::event::parse_clef;
use skein_store::stream::history::HistoryItem;
use skein_store::stream::manifest::{ModelOp, OpRecord};
use skein_store::stream::read::Order;
use skein_store::{EventView, Generation, Store, StoreOptions, Timestamp};

fn opts() -> StoreOptions {
    StoreOptions {
        segment_max_bytes: 1500,
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// Where the stores live, one at a time (removed after each): tmpfs when
/// there is one (fsync is then free).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("skein-history-apply-{}", std::process::id()))
    })
}

/// The leader's store id and whole history, made once.
fn seed() -> &'static (String, Vec<HistoryItem>) {
    static SEED: OnceLock<(String, Vec<HistoryItem>)> = OnceLock::new();
    SEED.get_or_init(|| {
        let leader = Store::open(scratch().join("leader"), opts()).expect("leader store");
        leader.set_term(2).expect("term");
        for batch in 0..6 {
            let clef: String = (0..4)
                .map(|i| {
                    format!(
                        "{{\"@t\":\"2025-01-01T00:00:{:02}Z\",\"@mt\":\"n {{N}}\",\"@l\":\"{}\",\"N\":{i}}}\n",
                        batch * 5 + i,
                        ["Error", "Warning"][i % 2]
                    )
                })
                .collect();
            let events = parse_clef(clef.as_bytes()).expect("seed CLEF");
            leader.append_events(&events).expect("append");
            if batch == 3 {
                // Retention deletes the first sealed segment; a new term follows.
                leader
                    .maintain(Some(Timestamp(1_735_689_603_000_000_000)))
                    .expect("retention");
                leader.set_term(3).expect("term");
            }
        }
        let items = leader
            .history_after(Generation::ZERO, usize::MAX)
            .expect("history")
            .expect("complete history");
        let store_id = leader.status().store_id;
        drop(leader);
        let _ = std::fs::remove_dir_all(scratch());
        (store_id, items)
    })
}

/// Re-signs an `Append`'s header after `change`; the payload stays as it is.
fn edit_header(bytes: &mut Vec<u8>, change: impl FnOnce(&mut BlockHeader)) {
    if let Ok(mut h) = BlockHeader::decode(bytes) {
        change(&mut h);
        bytes[..HEADER_LEN].copy_from_slice(&h.encode());
    }
}

/// Applies one edit to `items`.
fn edit(items: &mut Vec<HistoryItem>, op: u8, index: u8, v: u64) {
    if items.is_empty() {
        return;
    }
    let i = index as usize % items.len();
    let j = v as usize % items.len();
    match op % 16 {
        0 => {
            items.remove(i);
            return;
        }
        1 => {
            let copy = items[i].clone();
            items.insert(j, copy);
            return;
        }
        2 => return items.swap(i, j),
        _ => {}
    }
    let other = items[j].clone();
    match (op % 16, &mut items[i]) {
        (3, HistoryItem::Append { segment, .. }) => *segment = v,
        (4, HistoryItem::Append { offset, .. }) => *offset = v,
        (5, HistoryItem::Append { bytes, .. }) => {
            bytes.truncate(v as usize % (bytes.len() + 1));
        }
        (6, HistoryItem::Append { bytes, .. }) => {
            // A payload byte changed and the payload re-signed: it passes the
            // checksums but may not decode.
            if bytes.len() > HEADER_LEN {
                let at = HEADER_LEN + (v >> 8) as usize % (bytes.len() - HEADER_LEN);
                bytes[at] ^= (v as u8) | 1;
                let crc = crc32c::crc32c(&bytes[HEADER_LEN..]);
                edit_header(bytes, |h| h.payload_crc = crc);
            }
        }
        (7, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            h.event_count = v as u32;
        }),
        (8, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            h.first_arrival = v;
        }),
        (9, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            h.term = v;
        }),
        (10, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            if v & 1 == 0 {
                h.generation.model = v >> 1;
            } else {
                h.generation.write = v >> 1;
            }
        }),
        (11, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            if v & 1 == 0 {
                h.min_ts = Timestamp(v as i64);
            } else {
                h.max_ts = Timestamp(v as i64);
            }
        }),
        (12, HistoryItem::Append { bytes, .. }) => edit_header(bytes, |h| {
            h.level_counts[v as usize % 6] = (v >> 32) as u32;
        }),
        (13, HistoryItem::Model(rec)) => rec.term = v,
        (14, HistoryItem::Model(rec)) => {
            if v & 1 == 0 {
                rec.generation.model = v >> 1;
            } else {
                rec.generation.write = v >> 1;
            }
        }
        (15, HistoryItem::Model(rec)) => edit_op(rec, v),
        // An edit meant for the other kind of item: the item becomes a copy
        // of another one, or a new segment at a small generation.
        (_, item) => {
            *item = if v & 1 == 0 {
                HistoryItem::Model(OpRecord {
                    term: 2,
                    generation: Generation {
                        model: (v >> 1) % 16,
                        write: (v >> 5) % 16,
                    },
                    op: ModelOp::NewSegment { segment: v >> 9 },
                })
            } else {
                other
            };
        }
    }
}

fn edit_op(rec: &mut OpRecord, v: u64) {
    let segment = v >> 2;
    rec.op = match (v & 3, rec.op) {
        (0, _) => ModelOp::NewSegment { segment },
        (1, _) => ModelOp::Delete { segment },
        (2, ModelOp::Seal { mut info, .. }) => {
            info.len = segment;
            ModelOp::Seal { segment, info }
        }
        (_, ModelOp::Seal { mut info, segment }) => {
            info.events = v;
            info.min_ts = Some(Timestamp(v as i64));
            ModelOp::Seal { segment, info }
        }
        (_, ModelOp::NewSegment { segment: s } | ModelOp::Delete { segment: s }) => {
            ModelOp::NewSegment { segment: s + 1 }
        }
    };
}

/// Reads back everything the replica accepted, as a node would.
fn exercise(store: &Store) {
    let _ = store.status();
    let _ = store.term_history();
    for order in [Order::OldestFirst, Order::NewestFirst] {
        let _ = store.visit(None, None, order, &mut |e| {
            let _ = (e.id(), e.timestamp(), e.severity(), e.message_template());
            ControlFlow::Continue(())
        });
    }
    let _ = store.history_after(Generation::ZERO, usize::MAX);
    let _ = store.snapshot_plan();
}

fuzz_target!(|data: &[u8]| {
    let (store_id, history) = seed();
    let mut items = history.clone();
    let mut cuts = Vec::new();
    for e in data.chunks_exact(10) {
        let v = u64::from_le_bytes(e[2..10].try_into().expect("8 bytes"));
        if e[0] == 255 {
            cuts.push(items.len());
        } else {
            edit(&mut items, e[0], e[1], v);
        }
    }
    let dir = scratch().join("replica");
    let replica = Store::open_replica(&dir, opts(), store_id).expect("fresh replica");
    let mut from = 0;
    for cut in cuts.into_iter().chain([items.len()]) {
        let cut = cut.clamp(from, items.len());
        // A failed frame ends that session; the next one is a new session.
        let _ = replica.apply(&items[from..cut]);
        from = cut;
    }
    exercise(&replica);
    drop(replica);
    if let Ok(again) = Store::open_replica(&dir, opts(), store_id) {
        exercise(&again);
    }
    let _ = std::fs::remove_dir_all(scratch());
});
