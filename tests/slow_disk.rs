//! Skein on a slow disk (issue #8, "slow disk (fsync delays)"): real
//! `skein run` processes whose storage roots sit on a FUSE passthrough
//! ([`slow_disk::SlowDisk`]) whose fsyncs wait a delay changed at run time.
//!
//! - the disk itself does what the store does (files, directories, fsyncs
//!   delayed, `statvfs`);
//! - an acknowledged ingestion waited for its fsync, and survives kill -9
//!   and a power cut (unsynced writes taken back) while fsyncs stall;
//! - a follower on a slow disk lags while the leader keeps acknowledging,
//!   then catches up byte for byte once the disk is fast again;
//! - `/health` answers at once while fsyncs stall, and turns unhealthy once
//!   a write has waited on the disk for more than 5 s.
//!
//! Needs root and `/dev/fuse` (fails, never skips, without them).

use skein_harness::{
    cluster::assert_same_files, fast_timing, ingest_clef, request, slow_disk::SlowDisk, wait_for,
    Cluster, Node,
};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The fsync delay of the stalled-disk tests.
const DELAY: Duration = Duration::from_millis(300);

/// A slow disk over `dir/backing`, mounted at `dir/mnt`.
fn slow_disk(dir: &tempfile::TempDir) -> SlowDisk {
    SlowDisk::mount(&dir.path().join("backing"), &dir.path().join("mnt"))
}

#[test]
fn the_slow_disk_passes_through_what_the_store_does_and_delays_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let disk = slow_disk(&dir);
    let backing = dir.path().join("backing");
    let root = disk.path().join("Stream");
    std::fs::create_dir(&root).unwrap();
    let seg = root.join("00000001.log");
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&seg)
        .unwrap();
    f.write_all_at(b"hello world", 0).unwrap();
    f.write_all_at(b"W", 6).unwrap();
    let mut back = [0u8; 11];
    f.read_exact_at(&mut back, 0).unwrap();
    assert_eq!(&back, b"hello World");
    // Written through at once: the backing file has the bytes before any fsync.
    assert_eq!(
        std::fs::read(backing.join("Stream/00000001.log")).unwrap(),
        b"hello World"
    );

    disk.set_fsync_delay(DELAY);
    let started = Instant::now();
    f.sync_data().unwrap();
    assert!(started.elapsed() >= DELAY, "fdatasync was not delayed");
    let started = Instant::now();
    File::open(&root).unwrap().sync_all().unwrap();
    assert!(
        started.elapsed() >= DELAY,
        "the directory fsync was not delayed"
    );
    disk.set_fsync_delay(Duration::ZERO);
    let started = Instant::now();
    f.sync_all().unwrap();
    assert!(started.elapsed() < DELAY, "fsync still delayed");
    assert_eq!(disk.fsyncs(), 3);

    // A power cut takes back what no fsync covered, overwrites included.
    f.write_all_at(b"HELLO", 0).unwrap();
    f.write_all_at(b", and more", 11).unwrap();
    assert_eq!(std::fs::read(&seg).unwrap(), b"HELLO World, and more");
    assert!(disk.cut_power() > 0);
    assert_eq!(std::fs::read(&seg).unwrap(), b"hello World");
    assert!(f.write_all_at(b"?", 0).is_err(), "wrote with the power off");
    assert!(f.sync_data().is_err(), "fsynced with the power off");
    disk.restore_power();
    f.write_all_at(b"!", 11).unwrap();
    f.sync_data().unwrap();
    assert_eq!(disk.cut_power(), 0);
    disk.restore_power();
    assert_eq!(std::fs::read(&seg).unwrap(), b"hello World!");
    // A cut fails the fsyncs waiting out their delay, at once.
    disk.set_fsync_delay(Duration::from_secs(30));
    f.write_all_at(b"?", 0).unwrap();
    let g = f.try_clone().unwrap();
    let stalled = std::thread::spawn(move || g.sync_data());
    wait_for(Duration::from_secs(5), "the fsync stalls", || {
        disk.fsyncs_in_flight() == 1
    });
    let cut = Instant::now();
    assert!(disk.cut_power() > 0);
    assert!(stalled.join().unwrap().is_err(), "fsynced after the cut");
    assert!(
        cut.elapsed() < Duration::from_secs(5),
        "the cut did not wake the fsync"
    );
    disk.restore_power();
    disk.set_fsync_delay(Duration::ZERO);
    assert_eq!(std::fs::read(&seg).unwrap(), b"hello World!");

    f.set_len(5).unwrap();
    assert_eq!(std::fs::read(&seg).unwrap(), b"hello");
    let tmp = root.join("manifest.tmp");
    File::create(&tmp)
        .and_then(|mut t| t.write_all(b"{}"))
        .unwrap();
    std::fs::rename(&tmp, root.join("manifest.json")).unwrap();
    std::fs::create_dir(root.join("damaged")).unwrap();
    std::fs::rename(&root, disk.path().join("Moved")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(disk.path().join("Moved"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["00000001.log", "damaged", "manifest.json"]);
    // The file opened before its directory moved still works.
    f.write_all_at(b"!", 5).unwrap();
    let mut text = String::new();
    File::open(disk.path().join("Moved/00000001.log"))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "hello!");
    drop(f);
    std::fs::remove_file(disk.path().join("Moved/manifest.json")).unwrap();
    std::fs::remove_dir(disk.path().join("Moved/damaged")).unwrap();
    assert!(!backing.join("Moved/damaged").exists());

    // SAFETY: a zeroed statvfs filled by the call on a valid C path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let c = std::ffi::CString::new(disk.path().to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    assert!(st.f_bavail > 0 && st.f_frsize > 0, "statvfs: no space seen");

    // tests/run-all.sh finds leftover slow disks by their source.
    let mount_point = disk.path().to_str().unwrap().to_owned();
    let mounted = || {
        std::fs::read_to_string("/proc/self/mounts")
            .unwrap()
            .lines()
            .filter(|l| l.split(' ').nth(1) == Some(mount_point.as_str()))
            .filter(|l| l.starts_with("slowdisk:"))
            .map(|l| l.split(' ').nth(2).unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(mounted(), ["fuse"]);
    drop(disk);
    assert!(mounted().is_empty(), "still mounted after drop");
}

/// One CLEF event carrying `K = key`.
fn event(key: &str) -> String {
    format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Event {{K}}\",\"K\":\"{key}\"}}\n")
}

/// Fifty events for batch `b`.
fn batch(b: usize) -> String {
    (0..50).map(|i| event(&format!("{b}/{i}"))).collect()
}

/// The `K` of every event `GET /api/events` finds on the node on `port`.
fn keys_on(port: u16) -> BTreeSet<String> {
    let (status, body) = request(port, "GET", "/api/events?clef&count=10000", &[], b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.lines().count() < 10000, "more events than one page");
    body.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["K"].as_str().map(str::to_owned))
        .collect()
}

/// The `/health` document of the node on `port`, and how long it took.
fn health(port: u16) -> (u16, serde_json::Value, Duration) {
    let started = Instant::now();
    let (status, body) = request(port, "GET", "/health", &[], b"");
    let took = started.elapsed();
    (
        status,
        serde_json::from_str(&body).unwrap_or_default(),
        took,
    )
}

/// Store operations (`model + write`) of a `model.write` generation.
fn ops(generation: &str) -> u64 {
    let (model, write) = generation.split_once('.').unwrap_or(("0", "0"));
    model.parse::<u64>().unwrap_or(0) + write.parse::<u64>().unwrap_or(0)
}

#[test]
fn an_acknowledged_ingestion_waited_for_its_fsync_and_survives_a_power_cut_while_fsyncs_stall() {
    let dir = tempfile::tempdir().unwrap();
    let disk = slow_disk(&dir);
    let mut node = Node::new_in("node", disk.path().join("storage"));
    node.start_healthy();
    disk.set_fsync_delay(DELAY);
    let mut acked = BTreeSet::new();
    for i in 0..3 {
        let key = format!("timed-{i}");
        let started = Instant::now();
        let (status, body) = ingest_clef(node.api, &event(&key));
        let took = started.elapsed();
        assert_eq!(status, 201, "{body}\n{}", node.log());
        assert!(
            took >= DELAY,
            "acknowledged after {took:?}, before its {DELAY:?} fsync could finish"
        );
        acked.insert(key);
    }

    // A client ingests without pause; the node is killed while fsyncs
    // stall, and the power cut takes back every write no fsync covered.
    let port = node.api;
    let progress = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let progress = progress.clone();
        std::thread::spawn(move || {
            for b in 0.. {
                if ingest_clef(port, &batch(b)).0 != 201 {
                    return b;
                }
                progress.lock().unwrap().push(b);
            }
            unreachable!()
        })
    };
    wait_for(
        Duration::from_secs(20),
        "three acknowledged batches and a stalled fsync",
        || progress.lock().unwrap().len() >= 3 && disk.fsyncs_in_flight() > 0,
    );
    let taken_back = disk.cut_power();
    node.kill();
    assert!(
        taken_back > 0,
        "the power cut found nothing unsynced while an fsync stalled"
    );
    let refused = client.join().unwrap();
    let batches = progress.lock().unwrap().clone();
    eprintln!(
        "power cut: {} batches acknowledged, {taken_back} unsynced bytes taken back",
        batches.len()
    );
    assert_eq!(batches.len(), refused, "batches acknowledged out of order");
    for b in batches {
        acked.extend((0..50).map(|i| format!("{b}/{i}")));
    }

    disk.restore_power();
    disk.set_fsync_delay(Duration::ZERO);
    node.restart();
    let found = keys_on(node.api);
    let lost: Vec<&String> = acked.difference(&found).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost to a power cut while fsyncs stalled: {lost:?}\n{}",
        lost.len(),
        node.log()
    );
    let (status, report, _) = health(node.api);
    assert_eq!(status, 200, "not healthy after restart: {report}");
    assert_eq!(ingest_clef(node.api, &event("after")).0, 201);
    assert!(keys_on(node.api).contains("after"));
}

#[test]
fn a_follower_on_a_slow_disk_lags_while_the_leader_acknowledges_then_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let disk = slow_disk(&dir);
    let cluster = Cluster::of(vec![
        Node::new("a"),
        Node::new_in("b", disk.path().join("storage")),
    ])
    .env(&fast_timing())
    .start();
    let [a, b] = cluster.nodes();
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(a.api, &event("first")).0 == 201
    });
    let caught_up = |what: &str| {
        wait_for(Duration::from_secs(30), what, || {
            let g = a.generation();
            !g.is_empty() && g == b.generation()
        })
    };
    caught_up("the follower catches up before the disk slows");

    disk.set_fsync_delay(DELAY);
    let (mut latencies, mut lags) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < DELAY * 5 {
        let sent = Instant::now();
        let (status, text) = ingest_clef(a.api, &batch(n));
        assert_eq!(status, 201, "{text}\n{}", a.log());
        latencies.push(sent.elapsed());
        lags.push(ops(&a.generation()).saturating_sub(ops(&b.generation())));
        n += 1;
    }
    eprintln!("slow follower's /health while behind: {}", b.health());
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    assert!(
        median < DELAY,
        "the leader waited for its follower's slow disk: median {median:?} over {n} batches"
    );
    let (last, most) = (*lags.last().unwrap(), *lags.iter().max().unwrap());
    assert_ne!(b.get("/health").0, 0, "the follower died:\n{}", b.log());
    eprintln!(
        "slow follower: {n} batches acknowledged in {:?} (median {median:?}); follower behind by up to {most} operations",
        started.elapsed()
    );
    assert!(
        last > 0 && most >= 3,
        "the follower did not fall behind on its slow disk: lags {lags:?}"
    );

    disk.set_fsync_delay(Duration::ZERO);
    let fast_again = Instant::now();
    caught_up("the follower catches up once its disk is fast again");
    eprintln!(
        "slow follower: caught up {:?} after its disk was fast again",
        fast_again.elapsed()
    );
    assert_same_files(a, b);
}

#[test]
fn health_answers_at_once_nothing_unsynced_shows_and_a_long_stall_turns_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let disk = slow_disk(&dir);
    let mut node = Node::new_in("node", disk.path().join("storage"));
    node.start_healthy();
    assert_eq!(ingest_clef(node.api, &event("before")).0, 201);
    let (_, before, _) = health(node.api);
    // Longer than the 5 s a write may wait before the node says it is unhealthy.
    let stall = Duration::from_secs(6);
    disk.set_fsync_delay(stall);
    let port = node.api;
    let client = std::thread::spawn(move || {
        let sent = Instant::now();
        (ingest_clef(port, &event("stalled")).0, sent.elapsed())
    });
    wait_for(
        Duration::from_secs(10),
        "the ingestion's fsync stalls",
        || disk.fsyncs_in_flight() > 0,
    );
    std::thread::sleep(Duration::from_millis(500));
    let (status, during, took) = health(node.api);
    eprintln!("/health while an fsync stalls for {stall:?}: {status} {during}");
    assert!(
        took < Duration::from_secs(2),
        "/health took {took:?} while an fsync stalled"
    );
    assert_eq!(status, 200, "a short wait is no problem yet: {during}");
    assert_eq!(
        during["generation"], before["generation"],
        "a batch not yet fsynced is already visible"
    );
    let visible = keys_on(node.api);
    assert!(
        visible.contains("before") && !visible.contains("stalled"),
        "readers see {visible:?} before the stalled fsync finished"
    );
    wait_for(
        Duration::from_secs(10),
        "/health reports the stalled write",
        || {
            let (status, h, _) = health(node.api);
            status == 503
                && h["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("disk: a write has waited"))
        },
    );
    let (status_code, waited) = client.join().unwrap();
    assert_eq!(status_code, 201);
    assert!(
        waited >= stall,
        "acknowledged after {waited:?}, before its fsync"
    );
    assert!(keys_on(node.api).contains("stalled"));
    let (status, after, _) = health(node.api);
    assert_eq!(
        status, 200,
        "healthy again once the write finished: {after}"
    );
    assert_ne!(after["generation"], before["generation"]);
}
