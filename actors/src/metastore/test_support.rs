//! Test helpers: temporary directories, a throwaway PostgreSQL database on
//! the machine's server, and one behavioural suite run against every backend.

use std::future::Future;
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database, EntityTrait};
use skein_store::Severity;

use super::*;

/// A fresh temporary directory (kept until the caller removes it).
pub fn tempdir() -> PathBuf {
    tempfile::tempdir().expect("tempdir").keep()
}

/// The PostgreSQL server the tests use: `SKEIN_TEST_POSTGRES_URL`, else the
/// machine's server at 127.0.0.1:5432 (user `postgres`, trust).
fn admin_url() -> String {
    std::env::var("SKEIN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Runs `body` with the URL of a new, randomly named database, and drops the
/// database afterwards even when `body` panics.
pub async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = admin_url();
    let admin = Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
    let name = new_id("skein_test").unwrap().replace('-', "_");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    let outcome = tokio::spawn(body(format!("{base}/{name}"))).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The behaviour every backend must show.
pub async fn exercise(ms: &Metastore) {
    api_keys(ms).await;
    settings(ms).await;
    signals(ms).await;
}

async fn api_keys(ms: &Metastore) {
    assert!(ms.list_api_keys().await.unwrap().is_empty());
    let ingest = ms
        .create_api_key(NewApiKey {
            title: "app".into(),
            permissions: Permissions {
                ingest: true,
                ..Default::default()
            },
            minimum_level: Some(Severity::Warning),
            applied_properties: vec![
                ("Environment".into(), serde_json::json!("prod")),
                ("Tier".into(), serde_json::json!({"n": 3})),
            ],
        })
        .await
        .unwrap();
    let reader = ms
        .create_api_key(NewApiKey {
            title: "dashboards".into(),
            permissions: Permissions {
                read: true,
                ..Default::default()
            },
            minimum_level: None,
            applied_properties: Vec::new(),
        })
        .await
        .unwrap();
    assert_ne!(ingest.token, reader.token);
    let listed = ms.list_api_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], ingest.info);
    assert_eq!(
        ms.api_key(&ingest.info.id).await.unwrap(),
        Some(ingest.info.clone())
    );
    assert_eq!(ms.api_key("ApiKey-missing").await.unwrap(), None);

    let verified = ms.verify_api_key(&ingest.token).await.unwrap().unwrap();
    assert_eq!(verified.id, ingest.info.id);
    assert!(verified.permissions.ingest && !verified.permissions.read);
    assert_eq!(verified.minimum_level, Some(Severity::Warning));
    assert_eq!(verified.applied_properties, ingest.info.applied_properties);
    assert_eq!(
        verified.applied_properties[1].1,
        serde_json::json!({"n": 3})
    );
    let mut wrong = ingest.token.clone().into_bytes();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert!(ms.verify_api_key(&wrong).await.unwrap().is_none());
    assert!(ms.verify_api_key("short").await.unwrap().is_none());
    assert!(ms.verify_api_key("").await.unwrap().is_none());

    // No column holds the token.
    for row in entities::api_key::Entity::find()
        .all(ms.connection())
        .await
        .unwrap()
    {
        for field in [&row.token_hash, &row.token_salt, &row.title, &row.id] {
            assert!(!field.contains(&ingest.token) && !field.contains(&reader.token));
        }
    }

    let removed = ms.remove_api_key("dashboards").await.unwrap();
    assert_eq!(removed.id, reader.info.id);
    assert!(ms.verify_api_key(&reader.token).await.unwrap().is_none());
    ms.remove_api_key(&ingest.info.id).await.unwrap();
    assert!(matches!(
        ms.remove_api_key("nope").await,
        Err(MetastoreError::NotFound { .. })
    ));
    for _ in 0..2 {
        ms.create_api_key(NewApiKey {
            title: "twin".into(),
            permissions: Permissions::default(),
            minimum_level: None,
            applied_properties: Vec::new(),
        })
        .await
        .unwrap();
    }
    assert!(matches!(
        ms.remove_api_key("twin").await,
        Err(MetastoreError::Ambiguous(_))
    ));
    assert!(ms
        .create_api_key(NewApiKey {
            title: "  ".into(),
            permissions: Permissions::default(),
            minimum_level: None,
            applied_properties: Vec::new(),
        })
        .await
        .is_err());
}

async fn settings(ms: &Metastore) {
    use setting_names::*;
    assert_eq!(
        ms.setting(REQUIRE_API_KEY_FOR_INGESTION).await.unwrap(),
        None
    );
    ms.set_setting(REQUIRE_API_KEY_FOR_INGESTION, &true.into())
        .await
        .unwrap();
    ms.set_setting(RETENTION_PERIOD, &"30d".into())
        .await
        .unwrap();
    ms.set_setting(REQUIRE_API_KEY_FOR_INGESTION, &false.into())
        .await
        .unwrap();
    assert_eq!(
        ms.setting(REQUIRE_API_KEY_FOR_INGESTION).await.unwrap(),
        Some(false.into())
    );
    assert_eq!(ms.settings().await.unwrap().len(), 2);
    assert!(ms.remove_setting(RETENTION_PERIOD).await.unwrap());
    assert!(!ms.remove_setting(RETENTION_PERIOD).await.unwrap());
}

async fn signals(ms: &Metastore) {
    let errors = ms
        .create_signal(NewSignal {
            title: "Errors".into(),
            filter: "@Level = 'Error'".into(),
            shared: true,
            owner: None,
        })
        .await
        .unwrap();
    assert_eq!(ms.signal(&errors.id).await.unwrap().as_ref(), Some(&errors));
    let updated = ms
        .update_signal(
            &errors.id,
            NewSignal {
                title: "Errors and worse".into(),
                filter: "@Level in ['Error', 'Fatal']".into(),
                shared: false,
                owner: Some("admin".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.id, errors.id);
    assert_eq!(ms.list_signals().await.unwrap(), vec![updated]);
    assert!(ms.remove_signal(&errors.id).await.unwrap());
    assert!(ms.signal(&errors.id).await.unwrap().is_none());
    assert!(matches!(
        ms.update_signal(
            &errors.id,
            NewSignal {
                title: "x".into(),
                filter: String::new(),
                shared: false,
                owner: None
            }
        )
        .await,
        Err(MetastoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn repository_behaviour_on_sqlite() {
    let dir = tempdir();
    let ms = Metastore::open(&Metastore::sqlite_url(&dir.join("metastore.db")))
        .await
        .unwrap();
    exercise(&ms).await;
    ms.close().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn repository_behaviour_on_in_memory_sqlite() {
    let ms = Metastore::open("sqlite::memory:").await.unwrap();
    exercise(&ms).await;
}

#[tokio::test]
async fn repository_behaviour_and_idempotent_migrations_on_postgres() {
    with_postgres(|url| async move {
        let ms = Metastore::open(&url).await.unwrap();
        assert_eq!(ms.backend(), sea_orm::DbBackend::Postgres);
        ms.close().await.unwrap();
        let ms = Metastore::open(&url).await.unwrap();
        exercise(&ms).await;
        let row = entities::cluster_leadership::Entity::find_by_id(1)
            .one(ms.connection())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.term, row.leader_node), (0, None));
        ms.close().await.unwrap();
    })
    .await;
}
