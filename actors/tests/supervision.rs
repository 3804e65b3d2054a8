//! A store write that fails beyond repair makes the StoreWriter stop; its
//! supervisor restarts it, and the restart rebuilds the store from its files.
//! The failure is real: the active segment is made immutable (`chattr +i`),
//! so both the append and its roll-back fail with EPERM.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use skein_actors::messages::{AppendBatch, GetHealth, HealthStatus, Role};
use skein_actors::NodeActors;
use skein_store::block::encode_block;
use skein_store::event::parse_clef;
use skein_store::{Store, StoreOptions};

fn batch(i: usize) -> AppendBatch {
    let line = format!(
        "{{\"@t\":\"2025-01-01T00:00:{:02}Z\",\"@mt\":\"n {{N}}\",\"N\":{i}}}",
        i % 60
    );
    AppendBatch {
        block: encode_block(&parse_clef(line.as_bytes()).unwrap()),
    }
}

fn chattr(flag: &str, path: &Path) {
    let status = Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .expect("run chattr (e2fsprogs)");
    assert!(
        status.success(),
        "chattr {flag} {} failed: this test needs root on ext4/xfs",
        path.display()
    );
}

/// Undoes `chattr +i` even when the test fails, so the temp dir can be removed.
struct Mutable<'a>(&'a Path);

impl Drop for Mutable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
    }
}

async fn health(actors: &NodeActors) -> (HealthStatus, String) {
    let r = actors.health.send(GetHealth).await.unwrap();
    (r.status, r.description)
}

#[actix_rt::test]
async fn a_failed_store_writer_is_restarted_and_recovers_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    };
    let store = Arc::new(Store::open(dir.path(), opts).unwrap());
    let actors = NodeActors::start(store.clone(), Role::Standalone, 0);
    actors.store_writer.send(batch(0)).await.unwrap().unwrap();
    let segment = dir.path().join("seg-000001.log");
    let _guard = Mutable(&segment);

    chattr("+i", &segment);
    assert!(actors.store_writer.send(batch(1)).await.unwrap().is_err());
    assert!(store.is_failed());
    // Restarted, the writer cannot recover while the file stays immutable.
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(&actors).await.0 == HealthStatus::Healthy {
        assert!(Instant::now() < deadline, "health never turned unhealthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        health(&actors).await.1.contains("store"),
        "{:?}",
        health(&actors).await
    );

    chattr("-i", &segment);
    // The next failed append stops the writer again; this restart recovers.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut i = 2;
    while actors.store_writer.send(batch(i)).await.unwrap().is_err() {
        assert!(
            Instant::now() < deadline,
            "the store writer never recovered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        i += 1;
    }
    assert!(!store.is_failed());
    assert_eq!(health(&actors).await.0, HealthStatus::Healthy);
    assert_eq!(
        store.status().events,
        2,
        "the batch before the failure and the one after recovery"
    );
    assert!(actors.store_writer.connected());
}
