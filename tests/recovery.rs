//! A follower whose store was damaged while it was down — a byte flipped in
//! its active segment, or its tail torn off — detects it by checksum when it
//! starts (the bad bytes are set aside in `Stream/damaged/`, never deleted),
//! re-fetches what it lost from the leader, and ends byte-identical to it.
//! A follower killed while copying a snapshot resumes the copy where it
//! stopped when it comes back.

use skein_harness::{
    cluster::ingest_noise, cluster::outgrow_history, ingest_clef, node::files, wait_for, Cluster,
    Node,
};
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::time::Duration;

fn ingest(node: &Node, batches: usize) {
    for b in 0..batches {
        let body: String = (0..50)
            .map(|i| {
                format!("{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Event {{B}}/{{I}}\",\"B\":{b},\"I\":{i}}}\n")
            })
            .collect();
        let (status, text) = ingest_clef(node.api, &body);
        assert_eq!(status, 201, "{text}\n{}", node.log());
    }
}

/// The node's newest segment file.
fn active_segment(node: &Node) -> PathBuf {
    let dir = node.root().join("Stream");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    logs.pop().expect("a segment")
}

/// The Stream files outside `damaged/`.
fn store_files(node: &Node) -> Vec<(String, Vec<u8>)> {
    files(&node.root().join("Stream"))
        .into_iter()
        .filter(|(name, _)| !name.starts_with("damaged"))
        .collect()
}

fn caught_up(a: &Node, b: &Node) {
    wait_for(Duration::from_secs(60), "the follower catches up", || {
        let g = a.generation();
        !g.is_empty() && g == b.generation()
    });
}

fn damage_and_recover(how: &str, damage: impl Fn(&PathBuf)) {
    let mut cluster = Cluster::sized(2).start();
    let [a, b] = cluster.nodes_mut();
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(
            a.api,
            "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"first\"}\n",
        )
        .0 == 201
    });
    ingest(a, 30);
    caught_up(a, b);
    let before = b.generation();
    b.kill();
    damage(&active_segment(b));
    // The leader goes on meanwhile.
    ingest(a, 5);
    b.start();
    caught_up(a, b);
    assert!(
        b.log().contains("setting them aside"),
        "{how}: the damage was not reported:\n{}",
        b.log()
    );
    let damaged = files(&b.root().join("Stream").join("damaged"));
    assert!(!damaged.is_empty(), "{how}: nothing kept in damaged/");
    b.stop();
    let (fa, fb) = (store_files(a), store_files(b));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "{how}");
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{how}: {name} differs after recovery (was at {before})"
        );
    }
}

#[test]
fn a_follower_with_a_flipped_byte_sets_the_bad_tail_aside_and_refetches_it() {
    damage_and_recover("flipped byte", |segment| {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(segment)
            .unwrap();
        let len = file.metadata().unwrap().len();
        let at = len - len.min(4000) / 2;
        let mut byte = [0u8; 1];
        file.read_exact_at(&mut byte, at).unwrap();
        file.write_all_at(&[byte[0] ^ 0x40], at).unwrap();
        file.sync_all().unwrap();
    });
}

#[test]
fn a_follower_with_a_torn_tail_sets_it_aside_and_refetches_it() {
    damage_and_recover("torn tail", |segment| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(segment)
            .unwrap();
        let len = file.metadata().unwrap().len();
        file.set_len(len - 300.min(len)).unwrap();
        file.sync_all().unwrap();
    });
}

/// Bytes under `dir` (0 when it does not exist).
fn bytes_under(dir: &std::path::Path) -> u64 {
    files(dir).iter().map(|(_, b)| b.len() as u64).sum()
}

#[test]
fn a_follower_killed_while_copying_a_snapshot_resumes_the_copy() {
    // The follower reaches the leader's cluster port through a proxy, to
    // slow the copy down enough to kill the follower in the middle of it.
    let mut cluster = Cluster::sized(2).linked().configure();
    let link = cluster.link(1).cluster;
    let [a, b] = cluster.nodes_mut();
    a.start();
    b.start();
    ingest_noise(a, 2, 100, 1000, "2020-01-01T00:00:00Z");
    caught_up(a, b);
    b.stop();
    outgrow_history(a);
    // What the snapshot copies: about 25 MB of events that retention keeps
    // (dated in the future, so whatever today's date).
    ingest_noise(a, 32, 1000, 1000, "2099-01-01T00:00:00Z");
    let size = bytes_under(&a.root().join("Stream"));

    link.delay(Duration::from_millis(5));
    b.start();
    let staging = b.root().join("Stream.staging");
    let started = std::time::Instant::now();
    while bytes_under(&staging) <= size / 3 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "a third of the snapshot was not copied in 120 s ({} of {size}):\n{}",
            bytes_under(&staging),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    b.kill();
    let kept = bytes_under(&staging);
    assert!(
        kept < size,
        "killed before the copy completed ({kept} of {size})"
    );
    let sent_before = a.metrics()["skein_replication_snapshot_sent_bytes_total"];

    link.delay(Duration::ZERO);
    ingest(a, 2);
    b.start();
    caught_up(a, b);
    assert!(b.log().contains("copying a snapshot"), "{}", b.log());
    let sent_after = a.metrics()["skein_replication_snapshot_sent_bytes_total"];
    let size_now = bytes_under(&a.root().join("Stream"));
    // Chunks are at most 4 MB; one in flight at the kill may be sent again.
    let refetched = sent_after - sent_before;
    eprintln!("store {size_now} bytes; {kept} staged before the kill; {refetched} sent after it");
    assert!(
        refetched < (size_now - kept) as f64 + (4 << 20) as f64 * 1.1,
        "the second copy sent {refetched} bytes of a {size_now}-byte store \
         although {kept} bytes were already staged: it restarted, not resumed"
    );
    assert!(
        !staging.exists(),
        "the staging folder is gone once installed"
    );
    a.stop();
    b.stop();
    assert_eq!(
        store_files(a),
        store_files(b),
        "byte-identical after the resumed copy"
    );
}
