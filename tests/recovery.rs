//! A follower whose store was damaged while it was down — a byte flipped in
//! its active segment, or its tail torn off — detects it by checksum when it
//! starts (the bad bytes are set aside in `Stream/damaged/`, never deleted),
//! re-fetches what it lost from the leader, and ends byte-identical to it.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use std::collections::HashMap;
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::time::Duration;

use cluster::{files, ingest_clef, pair, wait_for, ClusterNode};

fn ingest(node: &ClusterNode, batches: usize) {
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
fn active_segment(node: &ClusterNode) -> PathBuf {
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
fn store_files(node: &ClusterNode) -> Vec<(String, Vec<u8>)> {
    files(&node.root().join("Stream"))
        .into_iter()
        .filter(|(name, _)| !name.starts_with("damaged"))
        .collect()
}

fn caught_up(a: &ClusterNode, b: &ClusterNode) {
    wait_for(Duration::from_secs(60), "the follower catches up", || {
        let g = a.generation();
        !g.is_empty() && g == b.generation()
    });
}

fn damage_and_recover(how: &str, damage: impl Fn(&PathBuf)) {
    let (a, mut b) = pair(None, &HashMap::new());
    wait_for(Duration::from_secs(30), "the leader accepts writes", || {
        ingest_clef(
            a.api,
            "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"first\"}\n",
        )
        .0 == 201
    });
    ingest(&a, 30);
    caught_up(&a, &b);
    let before = b.generation();
    b.kill();
    damage(&active_segment(&b));
    // The leader goes on meanwhile.
    ingest(&a, 5);
    b.start();
    caught_up(&a, &b);
    assert!(
        b.log().contains("setting them aside"),
        "{how}: the damage was not reported:\n{}",
        b.log()
    );
    let damaged = files(&b.root().join("Stream").join("damaged"));
    assert!(!damaged.is_empty(), "{how}: nothing kept in damaged/");
    b.stop();
    let (fa, fb) = (store_files(&a), store_files(&b));
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
