//! Copying a SQLite metastore into PostgreSQL (and into another SQLite).

use std::time::Duration;

use super::*;
use crate::metastore::test_support::{tempdir, with_postgres};
use crate::metastore::{NewApiKey, NewSignal, NodeRow, Permissions};

async fn source() -> (Metastore, String, std::path::PathBuf) {
    let dir = tempdir();
    let ms = Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap();
    let key = ms
        .create_api_key(NewApiKey {
            title: "app".into(),
            permissions: Permissions::default(),
            minimum_level: None,
            applied_properties: Vec::new(),
        })
        .await
        .unwrap();
    ms.set_setting("retention.period", &"30d".into())
        .await
        .unwrap();
    ms.create_signal(NewSignal {
        title: "Errors".into(),
        filter: "@Level = 'Error'".into(),
        shared: true,
        owner: None,
    })
    .await
    .unwrap();
    ms.take_leadership("seq001", 0, Duration::from_secs(30))
        .await
        .unwrap();
    ms.heartbeat(&NodeRow {
        name: "seq001".into(),
        role: "leader".into(),
        term: 1,
        generation_model: 1,
        generation_write: 2,
        state: "leading".into(),
        store_term: 1,
        ..NodeRow::default()
    })
    .await
    .unwrap();
    (ms, key.token, dir)
}

async fn exercise(target_url: &str) {
    let (src, token, dir) = source().await;
    let target = Metastore::open(target_url).await.unwrap();
    let mut seen = Vec::new();
    let first = src
        .copy_into(&target, false, &mut |t| seen.push(t.table))
        .await
        .unwrap();
    assert_eq!(seen.len(), 6);
    let inserted: usize = first.iter().map(|t| t.inserted).sum();
    assert_eq!(inserted, 5, "{first:?}"); // no users
    assert!(target.verify_api_key(&token).await.unwrap().is_some());
    assert_eq!(target.current_leadership().await.unwrap().term, 1);
    assert_eq!(target.nodes().await.unwrap().len(), 1);

    // Again: nothing to do, no --force needed.
    let second = src.copy_into(&target, false, &mut |_| {}).await.unwrap();
    assert!(
        second.iter().all(|t| t.inserted + t.updated == 0),
        "{second:?}"
    );

    // A target with rows of its own is refused unless forced.
    target
        .set_setting("ingestion.minimumLevel", &"Warning".into())
        .await
        .unwrap();
    let err = src
        .copy_into(&target, false, &mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("--force") && err.contains("settings"), "{err}");
    src.set_setting("retention.period", &"7d".into())
        .await
        .unwrap();
    let forced = src.copy_into(&target, true, &mut |_| {}).await.unwrap();
    let settings = forced.iter().find(|t| t.table == "settings").unwrap();
    assert_eq!((settings.updated, settings.target_only), (1, 1));
    assert_eq!(
        target.setting("retention.period").await.unwrap(),
        Some("7d".into())
    );

    // Terms never go back.
    target
        .take_leadership("seq002", 1, Duration::from_secs(30))
        .await
        .unwrap();
    src.copy_into(&target, true, &mut |_| {}).await.unwrap();
    assert_eq!(target.current_leadership().await.unwrap().term, 2);

    target.close().await.unwrap();
    src.close().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn copies_into_sqlite() {
    let dir = tempdir();
    exercise(&Metastore::sqlite_url(&dir.join("target.db"))).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn copies_into_postgres() {
    with_postgres(|url| async move { exercise(&url).await }).await;
}
