//! A returning old leader's divergent tail: finding the common point of two
//! copies' histories, setting the tail aside (CLEF + raw blocks, durably),
//! cutting the store back in place or replacing it by a snapshot, and
//! moving a foreign store aside — all through the store's public API.

use std::path::Path;

use skein_store::event::parse_clef;
use skein_store::stream::{common_point, TermStart};
use skein_store::{Event, Generation, Store, StoreOptions};

fn opts() -> StoreOptions {
    StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// `n` events tagged `tag` (a property), numbered from 0.
fn events(tag: &str, n: usize) -> Vec<Event> {
    let body: String = (0..n)
        .map(|i| {
            format!("{{\"@t\":\"2026-01-01T00:00:0{}Z\",\"@mt\":\"{{Tag}} {{N}}\",\"Tag\":\"{tag}\",\"N\":{i}}}\n", i % 10)
        })
        .collect();
    parse_clef(body.as_bytes()).unwrap()
}

/// Every regular file directly in `dir`, name → bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn replicate(from: &Store, to: &Store) {
    let items = from
        .history_after(to.generation(), usize::MAX)
        .unwrap()
        .unwrap();
    to.apply(&items).unwrap();
    assert_eq!(to.generation(), from.generation());
}

/// An old leader `a` (term 1) and a follower `b` that got its first
/// `common` batches; `a` then wrote `tail` more batches in term 1 that `b`
/// never got, and `b` led term 2 with `new` batches.
struct Parted {
    _dirs: Vec<tempfile::TempDir>,
    a: Store,
    b: Store,
    a_dir: std::path::PathBuf,
    b_dir: std::path::PathBuf,
    aside: std::path::PathBuf,
}

fn parted(tail: usize, new: usize, seal_tail: bool) -> Parted {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = Store::open(dirs[0].path(), opts()).unwrap();
    a.set_term(1).unwrap();
    for i in 0..3 {
        a.append_events(&events(&format!("common{i}"), 5)).unwrap();
    }
    let b = Store::open_replica(dirs[1].path(), opts(), &a.status().store_id).unwrap();
    replicate(&a, &b);
    for i in 0..tail {
        a.append_events(&events(&format!("lost{i}"), 4)).unwrap();
    }
    if seal_tail {
        a.seal().unwrap();
    }
    b.set_term(2).unwrap();
    for i in 0..new {
        b.append_events(&events(&format!("new{i}"), 3)).unwrap();
    }
    Parted {
        a_dir: dirs[0].path().to_path_buf(),
        b_dir: dirs[1].path().to_path_buf(),
        aside: dirs[2].path().join("Divergent"),
        _dirs: dirs,
        a,
        b,
    }
}

fn common_of(p: &Parted) -> Generation {
    common_point(
        &p.a.term_history(),
        p.a.generation(),
        &p.b.term_history(),
        p.b.generation(),
    )
}

fn tags(clef: &[u8]) -> Vec<String> {
    assert_eq!(
        parse_clef(clef).unwrap().len(),
        clef.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
    );
    String::from_utf8_lossy(clef)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}#{}", v["Tag"].as_str().unwrap(), v["N"])
        })
        .collect()
}

#[test]
fn common_point_follows_the_term_histories() {
    let t = |term, model, write| TermStart {
        term,
        generation: Generation { model, write },
    };
    let g = |model, write| Generation { model, write };
    // Identical copies, and a copy that is a prefix of the other.
    let h = [t(1, 0, 0)];
    assert_eq!(common_point(&h, g(1, 5), &h, g(1, 5)), g(1, 5));
    assert_eq!(common_point(&h, g(1, 3), &h, g(1, 5)), g(1, 3));
    // The leader moved on in term 2; the follower's term-1 prefix is common.
    let leader = [t(1, 0, 0), t(2, 1, 3)];
    assert_eq!(common_point(&h, g(1, 3), &leader, g(1, 9)), g(1, 3));
    assert_eq!(common_point(&h, g(1, 2), &leader, g(1, 9)), g(1, 2));
    // The old leader wrote two more batches in term 1: they diverged.
    assert_eq!(common_point(&h, g(1, 5), &leader, g(1, 9)), g(1, 3));
    // The old leader then led term 3, which the new leader never saw.
    let old = [t(1, 0, 0), t(3, 1, 5)];
    assert_eq!(common_point(&old, g(2, 7), &leader, g(1, 9)), g(1, 3));
    // A term started at different points is not shared.
    let other = [t(1, 0, 0), t(2, 1, 4)];
    assert_eq!(common_point(&other, g(1, 6), &leader, g(1, 9)), g(1, 3));
    // Empty copies share only the beginning.
    assert_eq!(
        common_point(&[], Generation::ZERO, &leader, g(1, 9)),
        Generation::ZERO
    );
    assert_eq!(
        common_point(&h, g(1, 3), &[], Generation::ZERO),
        Generation::ZERO
    );
}

#[test]
fn a_tail_of_appends_is_set_aside_then_cut_off_in_place() {
    let p = parted(2, 2, false);
    let common = common_of(&p);
    assert_eq!(common, Generation { model: 1, write: 3 });
    let before = p.a.generation();
    let done = p.a.set_aside_after(common, &p.aside).unwrap();
    assert!(done.truncated, "{done:?}");
    assert_eq!((done.events, done.blocks, done.ops), (8, 2, 2));
    assert_eq!((done.from, done.to), (common, before));
    assert_eq!(p.a.generation(), common);
    let clef = done.clef.clone().unwrap();
    assert_eq!(
        clef.file_name().unwrap().to_str().unwrap(),
        format!("term1-from{common}-to{before}.clef")
    );
    let lost: Vec<String> = (0..2)
        .flat_map(|b| (0..4).map(move |n| format!("lost{b}#{n}")))
        .collect();
    assert_eq!(tags(&std::fs::read(&clef).unwrap()), lost);
    assert!(clef.with_extension("blocks").exists());
    assert!(
        done.describe().contains("set aside 8 events"),
        "{}",
        done.describe()
    );
    // The old leader now follows the new one and ends byte-identical.
    replicate(&p.b, &p.a);
    assert_eq!(files(&p.a_dir), files(&p.b_dir));
    // Reopening finds the same state; setting aside again changes nothing.
    drop(p.a);
    let a = Store::open(&p.a_dir, opts()).unwrap();
    assert_eq!(a.generation(), p.b.generation());
    let again = a.set_aside_after(a.generation(), &p.aside).unwrap();
    assert_eq!((again.ops, again.truncated, again.clef), (0, true, None));
}

#[test]
fn a_crash_before_the_cut_sets_the_same_tail_aside_again_under_the_same_name() {
    let p = parted(1, 1, false);
    let common = common_of(&p);
    // The state a crash after the export but before the cut leaves: the
    // export in place, the store untouched (a copy of it taken now).
    let copy = tempfile::tempdir().unwrap();
    for (name, bytes) in files(&p.a_dir) {
        std::fs::write(copy.path().join(name), bytes).unwrap();
    }
    let first = p.a.set_aside_after(common, &p.aside).unwrap();
    let exported = std::fs::read(first.clef.as_ref().unwrap()).unwrap();
    let crashed = Store::open(copy.path(), opts()).unwrap();
    let second = crashed.set_aside_after(common, &p.aside).unwrap();
    assert_eq!(second.clef, first.clef);
    assert_eq!(std::fs::read(second.clef.unwrap()).unwrap(), exported);
    let names: Vec<String> = files(&p.aside).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 2, "one .clef and one .blocks: {names:?}");
    assert_eq!(crashed.generation(), common);
}

#[test]
fn a_tail_with_structural_operations_is_set_aside_and_replaced_by_a_snapshot() {
    let p = parted(2, 1, true);
    let common = common_of(&p);
    let done = p.a.set_aside_after(common, &p.aside).unwrap();
    assert!(!done.truncated, "a sealed tail cannot be cut in place");
    assert_eq!(done.events, 8);
    assert_eq!(done.ops, 3, "two appends and a seal");
    // The store is untouched until the snapshot replaces it.
    assert!(p.a.generation() > common);
    let plan = p.b.snapshot_plan();
    let b = &p.b;
    p.a.install_snapshot_in_place(
        &plan,
        &mut |name, offset, max| b.read_chunk(name, offset, max),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(p.a.generation(), p.b.generation());
    assert_eq!(files(&p.a_dir), files(&p.b_dir));
    assert_eq!(tags(&std::fs::read(done.clef.unwrap()).unwrap()).len(), 8);
}

#[test]
fn a_foreign_store_is_moved_aside_whole_and_the_folder_starts_empty() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let stream = dirs[0].path().join("Stream");
    let s = Store::open(&stream, opts()).unwrap();
    s.append_events(&events("mine", 3)).unwrap();
    let (id, at) = (s.status().store_id, s.generation());
    let moved = s
        .set_aside_store(&dirs[1].path().join("Divergent"), "other")
        .unwrap();
    assert_eq!(
        moved.file_name().unwrap().to_str().unwrap(),
        format!("store-{id}-at-{at}")
    );
    assert!(moved.join("manifest").exists());
    let status = s.status();
    assert_eq!(
        (status.store_id.as_str(), status.generation),
        ("other", Generation::ZERO)
    );
    assert_eq!(status.events, 0);
    // The moved store still opens, with everything it held.
    let old = Store::open(&moved, opts()).unwrap();
    assert_eq!((old.generation(), old.status().events), (at, 3));
    // The emptied store replicates as any new one.
    drop(s);
    let s = Store::open_replica(&stream, opts(), "other").unwrap();
    assert_eq!(s.generation(), Generation::ZERO);
}

/// How fast a divergent tail is set aside (CLEF + raw blocks, fsynced, then
/// cut off): `SKEIN_TAIL_BATCHES` batches of 1000 events (default 200).
/// Run with `cargo test -p skein-store --release --test diverge -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: set-aside rate, reported in the README"]
fn set_aside_rate() {
    let batches: usize = std::env::var("SKEIN_TAIL_BATCHES")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(200);
    let p = parted(0, 1, false);
    let common = common_of(&p);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in 0..batches {
        let body: String = (0..1000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Request {{Path}} took {{Ms}} ms\",\"Path\":\"/api/{b}/{i}\",\"Ms\":{},\"Trace\":\"{x:016x}\"}}\n", x % 1000)
            })
            .collect();
        p.a.append_events(&parse_clef(body.as_bytes()).unwrap())
            .unwrap();
    }
    let bytes = p.a.status().bytes;
    let started = std::time::Instant::now();
    let done = p.a.set_aside_after(common, &p.aside).unwrap();
    let took = started.elapsed();
    assert!(done.truncated);
    assert_eq!(done.events, batches as u64 * 1000);
    let clef = std::fs::metadata(done.clef.unwrap()).unwrap().len();
    eprintln!(
        "set aside {} events ({:.1} MB stored, {:.1} MB of CLEF) in {took:?}: {:.0} events/s",
        done.events,
        bytes as f64 / 1e6,
        clef as f64 / 1e6,
        done.events as f64 / took.as_secs_f64()
    );
}
