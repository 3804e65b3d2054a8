//! A disk that fills up, for real: the storage root is a small tmpfs
//! (mounted by the test; the suite runs as root, as CI does). Ingestion
//! stops with 503 and a clear health status once free space falls below the
//! floor, nothing acknowledged is lost, and ingestion resumes on its own —
//! without a restart — when space is freed.

use skein_harness::{ingest_clef, tmpfs::Tmpfs, wait_for, Node};
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// A batch of `n` events carrying about 16 KB of poorly compressible text each.
fn noisy_batch(batch: usize, n: usize, seed: &mut u64) -> String {
    let mut body = String::new();
    for i in 0..n {
        let mut noise = String::with_capacity(16 * 1024);
        while noise.len() < 16 * 1024 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            noise.push_str(&format!("{:016x}", *seed));
        }
        body.push_str(&format!(
            "{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Fill {{B}}/{{N}}\",\"B\":{batch},\"N\":{i},\"X\":\"{noise}\"}}\n"
        ));
    }
    body
}

#[test]
fn a_full_disk_refuses_with_503_and_resumes_on_its_own_when_space_returns() {
    let mut node = Node::new("small");
    let _fs = Tmpfs::mount(&node.root(), 64 * MIB);
    let filler = node.root().join("filler.bin");
    std::fs::write(&filler, vec![0x5a; (24 * MIB) as usize]).unwrap();
    node.env.insert(
        "SKEIN_STORAGE_FLUSHFLOORBYTES".into(),
        (16 * MIB).to_string(),
    );
    node.start();
    wait_for(Duration::from_secs(30), "the node is healthy", || {
        node.get("/health").0 == 200
    });

    let (mut seed, mut acked, mut batch) = (0x9e37_79b9_7f4a_7c15u64, 0usize, 0usize);
    let refusal = loop {
        let (status, body) = ingest_clef(node.api, &noisy_batch(batch, 32, &mut seed));
        batch += 1;
        match status {
            201 => acked += 1,
            503 => break body,
            other => panic!("{other} {body}\n{}", node.log()),
        }
        assert!(batch < 400, "the floor was never reached");
    };
    assert!(refusal.contains("disk full"), "{refusal}");
    assert!(acked > 0, "some batches fit before the floor");
    let (status, health) = node.get("/health");
    assert_eq!(status, 503, "{health}");
    assert!(health.contains("disk full"), "{health}");
    // Still refused, and nothing changes, while the disk stays full.
    let generation = node.generation();
    assert_eq!(
        ingest_clef(node.api, &noisy_batch(batch, 1, &mut seed)).0,
        503
    );
    assert_eq!(node.generation(), generation);

    // Space returns: ingestion resumes without a restart.
    std::fs::remove_file(&filler).unwrap();
    let mut resumed = false;
    wait_for(Duration::from_secs(30), "ingestion resumes", || {
        let (status, _) = ingest_clef(node.api, &noisy_batch(batch, 1, &mut seed));
        batch += 1;
        resumed = status == 201;
        resumed
    });
    wait_for(Duration::from_secs(30), "the node is healthy again", || {
        node.get("/health").0 == 200
    });
    // Every acknowledged batch is there: 32 events each, plus the one that resumed.
    let (status, body) = node.get("/api/data?q=select%20count(*)%20from%20stream");
    assert_eq!(status, 200, "{body}");
    let expected = acked * 32 + 1;
    eprintln!("{acked} batches acknowledged before the floor; {body}");
    assert!(
        body.contains(&format!("[[{expected}]]")),
        "expected {expected}: {body}"
    );
    node.assert_running();
    assert!(!node.log().contains("panicked"), "{}", node.log());
    node.stop();
}
