//! Tests of the store as a whole: append, recovery, sealing, retention,
//! ordered reads, history replay and the disk floor.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use super::history::HistoryItem;
use super::*;
use crate::event::parse_clef;
use crate::{EventId, EventView};

fn opts() -> StoreOptions {
    StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// `n` events whose timestamps start at second `t0` and step by `step` ms.
fn events(t0: i64, n: usize, step: i64) -> Vec<Event> {
    let body: String = (0..n)
        .map(|i| {
            let ms = t0 * 1000 + i as i64 * step;
            format!(
                "{{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"n {{N}}\",\"N\":{i},\"Ms\":{ms}}}\n"
            )
        })
        .collect();
    let mut evs = parse_clef(body.as_bytes()).unwrap();
    for (i, e) in evs.iter_mut().enumerate() {
        e.timestamp =
            Timestamp(1_735_689_600_000_000_000 + (t0 * 1000 + i as i64 * step) * 1_000_000);
    }
    evs
}

fn all_events(store: &Store, order: Order) -> Vec<(EventId, Event)> {
    let mut out = Vec::new();
    store
        .visit(None, None, order, &mut |e| {
            out.push((e.id().unwrap(), crate::event::view::to_event(e)));
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn appends_survive_reopen_with_their_generations() {
    let dir = tempfile::tempdir().unwrap();
    let batches = [events(0, 3, 10), events(1, 2, 10), events(2, 4, 10)];
    {
        let s = Store::open(dir.path(), opts()).unwrap();
        assert_eq!(s.generation(), Generation::ZERO);
        for (i, b) in batches.iter().enumerate() {
            let r = s.append_events(b).unwrap();
            assert_eq!(
                r.generation,
                Generation {
                    model: 1,
                    write: i as u64 + 1
                }
            );
        }
        assert_eq!(s.status().events, 9);
    }
    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(s.generation(), Generation { model: 1, write: 3 });
    let read: Vec<Event> = all_events(&s, Order::OldestFirst)
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(read, batches.concat());
    assert_eq!(s.append_events(&events(3, 1, 1)).unwrap().first_arrival, 9);
}

#[test]
fn an_empty_batch_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    assert!(matches!(
        s.append_events(&[]),
        Err(StoreError::InvalidBatch(_))
    ));
    assert_eq!(s.generation(), Generation::ZERO);
}

#[test]
fn concurrent_appends_share_fsyncs_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(Store::open(dir.path(), opts()).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| s.append_events(&events(t * 100 + i, 5, 1)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut gens: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .map(|r| r.generation.write)
        .collect();
    gens.sort();
    assert_eq!(gens, (1..=100).collect::<Vec<_>>());
    drop(s);
    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(s.status().events, 500);
    assert_eq!(s.generation().write, 100);
}

#[test]
fn a_torn_tail_is_set_aside_and_the_intact_prefix_kept() {
    let dir = tempfile::tempdir().unwrap();
    let seg = {
        let s = Store::open(dir.path(), opts()).unwrap();
        s.append_events(&events(0, 3, 1)).unwrap();
        s.append_events(&events(1, 3, 1)).unwrap();
        segment::log_path(dir.path(), 1)
    };
    let len = std::fs::metadata(&seg).unwrap().len();
    // Cut the second block in half, as a crash mid-write would.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 20).unwrap();
    drop(f);
    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(s.generation(), Generation { model: 1, write: 1 });
    assert_eq!(all_events(&s, Order::OldestFirst).len(), 3);
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("damaged"))
        .unwrap()
        .collect();
    assert_eq!(aside.len(), 1);
    // The store goes on from the intact prefix.
    assert_eq!(
        s.append_events(&events(2, 1, 1)).unwrap().generation.write,
        2
    );
}

#[test]
fn a_flipped_bit_in_the_last_block_is_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    let seg = {
        let s = Store::open(dir.path(), opts()).unwrap();
        s.append_events(&events(0, 3, 1)).unwrap();
        s.append_events(&events(1, 3, 1)).unwrap();
        segment::log_path(dir.path(), 1)
    };
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x10;
    std::fs::write(&seg, &bytes).unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    let read = all_events(&s, Order::OldestFirst);
    assert_eq!(read.len(), 3);
    assert_eq!(
        read.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        events(0, 3, 1)
    );
}

#[test]
fn sealed_segments_reopen_from_their_directories_and_retention_deletes_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let small = StoreOptions {
        segment_max_bytes: 1,
        ..opts()
    };
    {
        let s = Store::open(dir.path(), small.clone()).unwrap();
        for t in 0..4 {
            s.append_events(&events(t * 10, 2, 1)).unwrap();
        }
        // Each append opened a segment and sealed it: 4 × (new + seal) + 4 writes.
        assert_eq!(s.generation(), Generation { model: 8, write: 4 });
    }
    let s = Store::open(dir.path(), small).unwrap();
    assert_eq!(s.status().segments, 4);
    assert_eq!(all_events(&s, Order::OldestFirst).len(), 8);
    let cutoff = Timestamp(1_735_689_600_000_000_000 + 15 * 1_000_000_000);
    assert_eq!(s.maintain(Some(cutoff)).unwrap(), vec![1, 2]);
    assert_eq!(
        s.generation(),
        Generation {
            model: 10,
            write: 4
        }
    );
    assert!(!segment::log_path(dir.path(), 1).exists());
    assert!(!segment::sum_path(dir.path(), 1).exists());
    assert!(segment::sum_path(dir.path(), 3).exists());
    assert_eq!(all_events(&s, Order::OldestFirst).len(), 4);
}

/// Twelve batches over several 600-byte segments.
fn sealed_store(dir: &Path) -> Store {
    let o = StoreOptions {
        segment_max_bytes: 600,
        ..opts()
    };
    let s = Store::open(dir, o).unwrap();
    for t in 0..12 {
        s.append_events(&events(t, 8, 10)).unwrap();
    }
    s
}

/// Waits until the background summarizer has given every block of `s` its
/// summary, then checks each equals the summary of the stored block.
fn all_summarized(s: &Store) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.blocks(None, None).iter().any(|b| b.summary.is_none()) {
        assert!(
            std::time::Instant::now() < deadline,
            "blocks left unsummarized"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    for b in s.blocks(None, None) {
        let stored = crate::summary::summarize_block(&read::read_block(&b).unwrap());
        assert_eq!(b.summary.as_deref(), Some(&stored.unwrap()));
    }
}

#[test]
fn summary_files_damaged_or_missing_are_rebuilt_on_open_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let active = {
        let s = sealed_store(dir.path());
        assert!(s.status().segments > 4, "{:?}", s.status());
        all_summarized(&s);
        s.status().segments as u64
    };
    let original = file_bytes(dir.path());
    let sum = |id| segment::sum_path(dir.path(), id);
    assert!(sum(1).exists() && !sum(active).exists());
    let mut flipped = std::fs::read(sum(1)).unwrap();
    flipped[30] ^= 1;
    std::fs::write(sum(1), flipped).unwrap();
    let cut = std::fs::read(sum(2)).unwrap();
    std::fs::write(sum(2), &cut[..cut.len() - 9]).unwrap();
    std::fs::remove_file(sum(3)).unwrap();
    // Another segment's file in place of segment 4's.
    std::fs::copy(sum(1), sum(4)).unwrap();
    // A crash between writing the active segment's file and sealing it.
    std::fs::write(sum(active), b"left by a crash").unwrap();

    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(file_bytes(dir.path()), original);
    // Blocks recovered into the active segment are summarized again.
    all_summarized(&s);
    s.seal().unwrap();
    // The same file as a store that never closed writes at that seal.
    let other = tempfile::tempdir().unwrap();
    let never_closed = sealed_store(other.path());
    never_closed.seal().unwrap();
    let read = |d: &Path| std::fs::read(segment::sum_path(d, active)).unwrap();
    assert_eq!(read(dir.path()), read(other.path()));
}

#[test]
fn a_sealed_segment_holds_the_summary_of_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    for t in 0..50 {
        s.append_events(&events(t, 20, 1)).unwrap();
    }
    s.seal().unwrap();
    // The seal summarized whatever blocks the summarizer had not reached.
    assert!(s.blocks(None, None).iter().all(|b| b.summary.is_some()));
    let file =
        crate::summary::decode_summaries(&std::fs::read(segment::sum_path(dir.path(), 1)).unwrap())
            .unwrap();
    assert_eq!(file.blocks.len(), 50);
    assert!(file.blocks.iter().all(|(_, s)| s.is_some()));
}

#[test]
fn visits_are_in_exact_timestamp_order_within_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    // Overlapping, out-of-order batches.
    s.append_events(&events(10, 5, 1000)).unwrap(); // 10s..14s
    s.append_events(&events(0, 5, 3000)).unwrap(); // 0s..12s
    s.append_events(&events(11, 2, 0)).unwrap(); // 11s twice
    let newest = all_events(&s, Order::NewestFirst);
    assert_eq!(newest.len(), 12);
    assert!(
        newest.windows(2).all(|w| w[0].0 > w[1].0),
        "strictly descending ids"
    );
    let mut oldest = all_events(&s, Order::OldestFirst);
    oldest.reverse();
    assert_eq!(oldest, newest);

    let base = 1_735_689_600_000_000_000i64;
    let (from, to) = (
        Timestamp(base + 3_000_000_000),
        Timestamp(base + 11_000_000_000),
    );
    let mut got = Vec::new();
    s.visit(Some(from), Some(to), Order::NewestFirst, &mut |e| {
        got.push(e.timestamp());
        if got.len() == 4 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let expect: Vec<Timestamp> = newest
        .iter()
        .map(|(id, _)| id.timestamp)
        .filter(|t| *t >= from && *t < to)
        .take(4)
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn replaying_history_gives_byte_identical_files_and_generation() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = StoreOptions {
        segment_max_bytes: 3000,
        ..opts()
    };
    let a = Store::open(a_dir.path(), o.clone()).unwrap();
    let b = Store::open_replica(b_dir.path(), o.clone(), &a.status().store_id).unwrap();
    a.set_term(3).unwrap();
    let mut t = 0;
    for round in 0..6 {
        for _ in 0..5 {
            a.append_events(&events(t, 7, 100)).unwrap();
            t += 1;
        }
        if round == 2 {
            a.set_term(4).unwrap();
            a.maintain(Some(Timestamp(1_735_689_600_000_000_000 + 3_000_000_000)))
                .unwrap();
        }
        // Ship in small pieces, as a replication stream would.
        loop {
            let items = a.history_after(b.generation(), 500).unwrap().unwrap();
            if items.is_empty() {
                break;
            }
            b.apply(&items).unwrap();
        }
        assert_eq!(b.generation(), a.generation());
        assert_eq!(file_bytes(b_dir.path()), file_bytes(a_dir.path()));
    }
    assert!(
        a.generation().model > 4,
        "segments were opened, sealed and deleted"
    );
    assert_eq!(b.term_history(), a.term_history());
    drop(b);
    let b = Store::open(b_dir.path(), o).unwrap();
    assert_eq!(
        all_events(&b, Order::NewestFirst),
        all_events(&a, Order::NewestFirst)
    );
}

#[test]
fn history_is_too_old_once_its_operations_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let o = StoreOptions {
        segment_max_bytes: 1,
        recent_ops_kept: 2,
        ..opts()
    };
    let s = Store::open(dir.path(), o).unwrap();
    for t in 0..3 {
        s.append_events(&events(t, 1, 1)).unwrap();
    }
    let r = s.history_after(Generation::ZERO, usize::MAX).unwrap();
    assert!(matches!(r, Err(TooOld { .. })), "{r:?}");
    let recent = s
        .history_after(Generation { model: 4, write: 2 }, usize::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(recent.len(), 3);
}

#[test]
fn out_of_order_history_is_refused_and_changes_nothing() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Store::open(a_dir.path(), opts()).unwrap();
    let b = Store::open_replica(b_dir.path(), opts(), &a.status().store_id).unwrap();
    a.append_events(&events(0, 2, 1)).unwrap();
    a.append_events(&events(1, 2, 1)).unwrap();
    let items = a
        .history_after(Generation::ZERO, usize::MAX)
        .unwrap()
        .unwrap();
    assert!(matches!(
        b.apply(&items[1..]),
        Err(StoreError::OutOfOrder { .. })
    ));
    assert_eq!(b.generation(), Generation::ZERO);
    let mut forged = items.clone();
    if let HistoryItem::Append { bytes, .. } = &mut forged[1] {
        let n = bytes.len();
        bytes[n - 1] ^= 1;
    }
    assert!(matches!(
        b.apply(&forged),
        Err(StoreError::CorruptBlock { .. })
    ));
    assert_eq!(b.generation(), Generation { model: 1, write: 0 });
    assert!(Store::open_replica(b_dir.path(), opts(), "other").is_err());
}

#[test]
fn below_the_disk_floor_appends_fail_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(
        dir.path(),
        StoreOptions {
            disk_floor_bytes: u64::MAX,
            ..opts()
        },
    )
    .unwrap();
    let err = s.append_events(&events(0, 1, 1)).unwrap_err();
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("disk full"));
    assert_eq!(s.generation(), Generation::ZERO);
}

/// Found by `actors/fuzz` (replication_frames): a leader's `Snapshot`
/// whose file lengths add up past `u64::MAX` made the follower's disk check
/// panic on overflow (in release builds the sum wrapped round, so the disk
/// floor could be passed by). It is refused before anything is fetched.
#[test]
fn a_snapshot_plan_whose_file_lengths_overflow_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let file = |len: u64, crc: u32| snapshot::SnapshotFile {
        name: String::new(),
        len,
        crc,
    };
    let plan = snapshot::SnapshotPlan {
        store_id: String::new(),
        generation: Generation {
            model: u64::MAX,
            write: u64::MAX,
        },
        manifest: vec![0xff; 41],
        files: vec![
            file(18446744073709551615, 4294967295),
            file(18446740775174668287, 248),
            file(0, 0),
        ],
    };
    let mut fetch = |name: &str, _: u64, _: usize| -> Result<Vec<u8>, StoreError> {
        panic!("{name:?} fetched")
    };
    let dir = parent.path().join("Stream");
    let err = snapshot::install_snapshot(&dir, &plan, 0, &mut fetch, &mut |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::Mismatch(_)), "{err}");
    assert!(!dir.exists());
}

#[test]
fn a_snapshot_copies_the_store_resumes_after_interruption_then_history_continues() {
    let (a_dir, parent) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b_dir = parent.path().join("Stream");
    let o = StoreOptions {
        segment_max_bytes: 1500,
        ..opts()
    };
    let a = Store::open(a_dir.path(), o.clone()).unwrap();
    for t in 0..12 {
        a.append_events(&events(t, 6, 10)).unwrap();
    }
    let plan = a.snapshot_plan();
    assert!(
        plan.files.len() > 3,
        "sealed segments, directories and the active one: {plan:?}"
    );
    let mut served = 0usize;
    // First attempt dies after a few small chunks.
    let mut failing = |name: &str, off: u64, len: usize| {
        if served >= 5 {
            return Err(StoreError::Mismatch("link dropped".into()));
        }
        served += 1;
        a.read_chunk(name, off, len.min(700))
    };
    assert!(snapshot::install_snapshot(&b_dir, &plan, 0, &mut failing, &mut |_| {}).is_err());
    assert!(!b_dir.exists(), "nothing half-copied is put in place");
    let mut fetched = 0usize;
    let mut fetch = |name: &str, off: u64, len: usize| {
        let c = a.read_chunk(name, off, len.min(700))?;
        fetched += c.len();
        Ok(c)
    };
    let (mut kept, mut reported) = (0u64, 0u64);
    let mut progress = |s: snapshot::Staged| match s {
        snapshot::Staged::Kept(n) => kept += n,
        snapshot::Staged::Fetched(n) => reported += n,
    };
    snapshot::install_snapshot(&b_dir, &plan, 0, &mut fetch, &mut progress).unwrap();
    let total: u64 = plan.files.iter().map(|f| f.len).sum();
    assert_eq!(plan.total_bytes().unwrap(), total);
    assert!(
        (fetched as u64) < total,
        "the interrupted copy was resumed, not restarted"
    );
    assert_eq!(reported, fetched as u64, "every fetched byte is reported");
    assert!(
        kept > 0,
        "what the first attempt staged is reported as kept"
    );
    assert_eq!(kept + reported, total, "every byte is reported once");
    assert!(!parent.path().join("Stream.staging").exists());

    a.append_events(&events(50, 3, 1)).unwrap();
    let b = Store::open(&b_dir, o).unwrap();
    assert_eq!(b.generation(), plan.generation);
    let items = a
        .history_after(b.generation(), usize::MAX)
        .unwrap()
        .unwrap();
    b.apply(&items).unwrap();
    assert_eq!(b.generation(), a.generation());
    assert_eq!(file_bytes(&b_dir), file_bytes(a_dir.path()));
}

#[test]
fn chunks_are_served_only_for_the_stores_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    s.append_events(&events(0, 1, 1)).unwrap();
    assert!(s.read_chunk("manifest", 0, 10).is_err());
    assert!(s.read_chunk("../../etc/passwd", 0, 10).is_err());
    assert!(!s
        .read_chunk(&segment::log_name(1), 0, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn a_failed_store_refuses_writes_until_reopened_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    s.append_events(&events(0, 3, 1)).unwrap();
    s.writer().failed = true;
    assert!(s.is_failed());
    assert!(matches!(
        s.append_events(&events(1, 1, 1)),
        Err(StoreError::Failed)
    ));
    // A torn write the failure left behind is set aside by the reopen.
    let seg = segment::log_path(dir.path(), 1);
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, b"half a block").unwrap();
    s.reopen().unwrap();
    assert!(!s.is_failed());
    assert_eq!(s.generation(), Generation { model: 1, write: 1 });
    assert_eq!(
        s.append_events(&events(2, 2, 1)).unwrap().generation.write,
        2
    );
    assert_eq!(all_events(&s, Order::OldestFirst).len(), 5);
    assert!(dir.path().join("damaged").exists());
}

#[test]
fn an_empty_store_adopts_another_id_and_then_replicates_it_byte_for_byte() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Store::open(a_dir.path(), opts()).unwrap();
    a.append_events(&events(0, 5, 100)).unwrap();
    let b = Store::open(b_dir.path(), opts()).unwrap();
    let id = a.status().store_id;
    assert_ne!(b.status().store_id, id);
    b.adopt_store_id(&id).unwrap();
    assert_eq!(b.status().store_id, id);
    b.apply(&a.history_after(b.generation(), 1 << 20).unwrap().unwrap())
        .unwrap();
    drop(b);
    let b = Store::open_replica(b_dir.path(), opts(), &id).unwrap();
    assert_eq!(b.generation(), a.generation());
    assert_eq!(file_bytes(b_dir.path()), file_bytes(a_dir.path()));
    // A store holding anything keeps its id.
    assert!(matches!(
        b.adopt_store_id("another"),
        Err(StoreError::Mismatch(_))
    ));
    b.adopt_store_id(&id).unwrap();
}

#[test]
fn an_open_store_installs_a_snapshot_in_place_and_then_follows_history() {
    let (a_dir, parent) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b_dir = parent.path().join("Stream");
    let o = StoreOptions {
        segment_max_bytes: 1500,
        ..opts()
    };
    let a = Store::open(a_dir.path(), o.clone()).unwrap();
    for t in 0..12 {
        a.append_events(&events(t, 6, 10)).unwrap();
    }
    let b = Store::open(&b_dir, o.clone()).unwrap();
    let plan = a.snapshot_plan();
    b.install_snapshot_in_place(
        &plan,
        &mut |name: &str, off: u64, len: usize| a.read_chunk(name, off, len),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(b.generation(), plan.generation);
    assert_eq!(b.status().store_id, a.status().store_id);
    a.append_events(&events(50, 3, 1)).unwrap();
    b.apply(&a.history_after(b.generation(), 1 << 20).unwrap().unwrap())
        .unwrap();
    assert_eq!(b.generation(), a.generation());
    assert_eq!(
        all_events(&b, Order::NewestFirst),
        all_events(&a, Order::NewestFirst)
    );
    drop(b);
    assert_eq!(file_bytes(&b_dir), file_bytes(a_dir.path()));
}

/// Found reviewing the replication-frame fuzz target: a store id comes from
/// the leader's Welcome and ends up in a file name when a store is set
/// aside, so `../` in it must be refused before anything uses it.
#[test]
fn a_store_id_that_is_no_plain_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    for bad in ["../../etc", "", "a/b", "x\u{0}", &"f".repeat(65)] {
        assert!(s.adopt_store_id(bad).is_err(), "{bad:?} adopted");
        let other = tempfile::tempdir().unwrap();
        assert!(
            Store::open_replica(other.path(), opts(), bad).is_err(),
            "{bad:?} opened"
        );
    }
    s.adopt_store_id("0123abcd-ef").unwrap();
    assert_eq!(s.status().store_id, "0123abcd-ef");
}

/// Found reviewing the fuzz targets: a segment copied from a hostile
/// leader (a snapshot) may hold a well-signed block whose arrival numbers
/// overflow; opening it must not panic.
#[test]
fn a_block_whose_arrival_numbers_overflow_opens_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    s.append_events(&events(0, 3, 1)).unwrap();
    drop(s);
    let segment = segment::log_path(dir.path(), 1);
    let mut bytes = std::fs::read(&segment).unwrap();
    let mut h = crate::block::BlockHeader::decode(&bytes).unwrap();
    h.first_arrival = u64::MAX - 1;
    bytes[..crate::block::HEADER_LEN].copy_from_slice(&h.encode());
    std::fs::write(&segment, &bytes).unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(s.generation(), Generation { model: 1, write: 1 });
}

#[test]
fn appends_record_their_fsyncs_and_bytes_after_measures_what_a_copy_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), opts()).unwrap();
    assert_eq!(s.fsync_latency().count, 0);
    let first = s.append_events(&events(0, 3, 1)).unwrap().generation;
    s.append_events(&events(1, 5, 1)).unwrap();
    let latency = s.fsync_latency();
    assert_eq!(latency.count, 2);
    assert!(latency.sum_seconds > 0.0);
    let total = s.bytes_after(Generation::ZERO);
    assert_eq!(total, s.status().bytes, "one segment holds every block");
    let second = s.bytes_after(first);
    assert!(second > 0 && second < total, "{second} of {total}");
    assert_eq!(s.bytes_after(s.generation()), 0);
}
