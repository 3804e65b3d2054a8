//! Secrets at rest: values encrypted with the storage secret key.
//!
//! The [`SecretKey`] is 256 random bits, written as standard base64
//! (`skein show-key --generate`) and configured as `storage.secretKey`
//! (better: `SKEIN_STORAGE_SECRETKEY`). Each secret lives in its own file,
//! `Secrets/<name>.secret` (mode 0600), holding JSON with a random 192-bit
//! nonce and the XChaCha20-Poly1305 ciphertext; the secret's name is bound in
//! as associated data, so a file renamed to another secret's name does not
//! decrypt. Plain text never reaches the disk.
//!
//! Every change first checks that the configured key opens every existing
//! secret: a missing or wrong key is an error that changes nothing. Only
//! the names Skein reads ([`KNOWN_SECRETS`]) can be set: a mistyped or
//! foreign name (e.g. Seq's `metastore.msSql.connectionString`) would be
//! stored and silently ignored.

use std::fs;
use std::io;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use crate::storage::{self, StorageError, StorageRoot};

/// Errors raised by secret keys and the secret store.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No `storage.secretKey` is configured.
    #[error("storage.secretKey is not set: generate one with `skein show-key --generate`, then `skein config set -k storage.secretKey -v <key>` (or set SKEIN_STORAGE_SECRETKEY)")]
    MissingKey,
    /// The configured key does not open an existing secret.
    #[error(
        "storage.secretKey does not decrypt secret `{0}`: the key is wrong (nothing was changed)"
    )]
    WrongKey(String),
    /// A key is not 32 bytes of base64.
    #[error("a secret key must be 32 bytes written as base64 (44 characters): {0}")]
    BadKey(String),
    /// A secret name uses characters outside `[A-Za-z0-9._-]`.
    #[error(
        "invalid secret name `{0}`: use letters, digits, `.`, `_` and `-`, not starting with `.`"
    )]
    BadName(String),
    /// A secret name Skein does not read.
    #[error("unknown secret `{name}`: {hint}known secrets are {}", KNOWN_SECRETS.join(", "))]
    Unknown {
        /// The name given.
        name: String,
        /// A pointer for a name from elsewhere (empty, or ending in "; ").
        hint: &'static str,
    },
    /// A secret file is damaged.
    #[error("secret file for `{name}` is damaged: {detail}")]
    Corrupt {
        /// The secret.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The system random number generator failed.
    #[error("cannot get random bytes: {0}")]
    Random(String),
    /// Reading or removing a secret file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing a secret file failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The 256-bit storage secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, SecretsError> {
        let mut bytes = [0u8; 32];
        random(&mut bytes)?;
        Ok(SecretKey(bytes))
    }

    /// Decodes a key written as standard base64.
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| SecretsError::BadKey(e.to_string()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| SecretsError::BadKey(format!("got {} bytes", b.len())))?;
        Ok(SecretKey(bytes))
    }

    /// The key as standard base64 (44 characters).
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

/// Fills `buf` from the operating system's random number generator.
pub fn random(buf: &mut [u8]) -> Result<(), SecretsError> {
    getrandom::fill(buf).map_err(|e| SecretsError::Random(e.to_string()))
}

/// The on-disk form of one secret.
#[derive(Serialize, Deserialize)]
struct SealedSecret {
    version: u32,
    algorithm: String,
    nonce: String,
    ciphertext: String,
}

const ALGORITHM: &str = "XChaCha20-Poly1305";

/// The secrets under `<storage>/Secrets`, opened with an optional key.
pub struct SecretStore {
    dir: PathBuf,
    key: Option<SecretKey>,
}

impl SecretStore {
    /// The secret store of `root`, using `key` (the configured `storage.secretKey`).
    pub fn new(root: &StorageRoot, key: Option<SecretKey>) -> Self {
        SecretStore {
            dir: root.secrets_dir(),
            key,
        }
    }

    /// The names of all stored secrets, sorted (no key needed).
    pub fn names(&self) -> Result<Vec<String>, SecretsError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.io_error(self.dir.clone(), source)),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let name = file.strip_suffix(".secret")?;
                validate_name(name).ok().map(|_| name.to_string())
            })
            .collect();
        names.sort();
        Ok(names)
    }

    /// Whether a secret named `name` is stored (no key needed).
    pub fn contains(&self, name: &str) -> Result<bool, SecretsError> {
        validate_name(name)?;
        Ok(self.path_of(name).exists())
    }

    /// The decrypted value of `name`, `None` when it is not stored.
    pub fn get(&self, name: &str) -> Result<Option<String>, SecretsError> {
        validate_name(name)?;
        let key = self.key.as_ref().ok_or(SecretsError::MissingKey)?;
        let path = self.path_of(name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io_error(path, source)),
        };
        open(key, name, &text).map(Some)
    }

    /// Encrypts and stores `value` as `name`, replacing any previous value.
    pub fn set(&self, name: &str, value: &str) -> Result<(), SecretsError> {
        validate_name(name)?;
        known_name(name)?;
        let key = self.key.as_ref().ok_or(SecretsError::MissingKey)?;
        self.verify_key()?;
        storage::create_private_dir(&self.dir)?;
        let sealed = seal(key, name, value)?;
        storage::write_private_file(&self.path_of(name), sealed.as_bytes())?;
        Ok(())
    }

    /// Removes `name`; returns whether it was stored.
    pub fn clear(&self, name: &str) -> Result<bool, SecretsError> {
        validate_name(name)?;
        self.key.as_ref().ok_or(SecretsError::MissingKey)?;
        self.verify_key()?;
        let path = self.path_of(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(self.io_error(path, source)),
        }
    }

    /// Checks that the configured key opens every stored secret.
    pub fn verify_key(&self) -> Result<(), SecretsError> {
        for name in self.names()? {
            self.get(&name)?;
        }
        Ok(())
    }

    /// Re-encrypts every stored secret under `new_key` (for a key change).
    /// All secrets are decrypted first, so a wrong current key changes nothing.
    pub fn rekey(&self, new_key: &SecretKey) -> Result<usize, SecretsError> {
        let names = self.names()?;
        let mut plain = Vec::with_capacity(names.len());
        for name in &names {
            let value = self.get(name)?.unwrap_or_default();
            plain.push((name, value));
        }
        for (name, value) in &plain {
            let sealed = seal(new_key, name, value)?;
            storage::write_private_file(&self.path_of(name), sealed.as_bytes())?;
        }
        Ok(plain.len())
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.secret"))
    }

    fn io_error(&self, path: PathBuf, source: io::Error) -> SecretsError {
        SecretsError::Io { path, source }
    }
}

/// The secret holding the cluster authentication key.
pub const CLUSTER_KEY_SECRET: &str = "cluster.authenticationKey";
/// The secret holding the PFX files' password.
pub const CERTIFICATE_PASSWORD_SECRET: &str = "certificates.defaultPassword";
/// The secret holding the PostgreSQL connection string.
pub const POSTGRES_SECRET: &str = "metastore.postgres.connectionString";

/// Every secret name Skein reads.
pub const KNOWN_SECRETS: &[&str] = &[
    CLUSTER_KEY_SECRET,
    CERTIFICATE_PASSWORD_SECRET,
    POSTGRES_SECRET,
];

/// Refuses a name Skein does not read, pointing Seq's SQL Server
/// metastore secret at the PostgreSQL one.
fn known_name(name: &str) -> Result<(), SecretsError> {
    if KNOWN_SECRETS.contains(&name) {
        return Ok(());
    }
    let hint = match name.to_ascii_lowercase().as_str() {
        "metastore.mssql.connectionstring" => {
            "Skein's shared metastore is PostgreSQL, not SQL Server: set metastore.postgres.connectionString; "
        }
        _ => "",
    };
    Err(SecretsError::Unknown {
        name: name.to_string(),
        hint,
    })
}

fn validate_name(name: &str) -> Result<(), SecretsError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(SecretsError::BadName(name.to_string()))
    }
}

fn aad(name: &str) -> Vec<u8> {
    format!("skein-secret-v1:{name}").into_bytes()
}

fn seal(key: &SecretKey, name: &str, value: &str) -> Result<String, SecretsError> {
    let mut nonce = [0u8; 24];
    random(&mut nonce)?;
    let aad = aad(name);
    let payload = Payload {
        msg: value.as_bytes(),
        aad: &aad,
    };
    let ciphertext = key
        .cipher()
        .encrypt(XNonce::from_slice(&nonce), payload)
        .map_err(|_| SecretsError::Random("encryption failed".to_string()))?;
    let sealed = SealedSecret {
        version: 1,
        algorithm: ALGORITHM.to_string(),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ciphertext),
    };
    serde_json::to_string_pretty(&sealed).map_err(|e| SecretsError::Random(e.to_string()))
}

fn open(key: &SecretKey, name: &str, text: &str) -> Result<String, SecretsError> {
    let corrupt = |detail: String| SecretsError::Corrupt {
        name: name.to_string(),
        detail,
    };
    let sealed: SealedSecret = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    if sealed.version != 1 || sealed.algorithm != ALGORITHM {
        return Err(corrupt(format!(
            "unsupported format {} {}",
            sealed.version, sealed.algorithm
        )));
    }
    let nonce = B64
        .decode(&sealed.nonce)
        .map_err(|e| corrupt(e.to_string()))?;
    if nonce.len() != 24 {
        return Err(corrupt("bad nonce length".to_string()));
    }
    let ciphertext = B64
        .decode(&sealed.ciphertext)
        .map_err(|e| corrupt(e.to_string()))?;
    let aad = aad(name);
    let payload = Payload {
        msg: &ciphertext,
        aad: &aad,
    };
    let plain = key
        .cipher()
        .decrypt(XNonce::from_slice(&nonce), payload)
        .map_err(|_| SecretsError::WrongKey(name.to_string()))?;
    String::from_utf8(plain).map_err(|_| corrupt("value is not UTF-8".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(key: Option<&SecretKey>) -> (tempfile::TempDir, StorageRoot, SecretStore) {
        let tmp = tempfile::tempdir().unwrap();
        let root = StorageRoot::new(tmp.path());
        root.ensure().unwrap();
        let store = SecretStore::new(&root, key.cloned());
        (tmp, root, store)
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let key = SecretKey::generate().unwrap();
        let text = key.to_base64();
        assert_eq!(text.len(), 44);
        assert_eq!(SecretKey::from_base64(&text).unwrap(), key);
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
        assert!(format!("{key:?}").contains(".."));
        assert_ne!(SecretKey::generate().unwrap(), key);
    }

    #[test]
    fn secrets_round_trip_and_never_hit_disk_in_plain_text() {
        let key = SecretKey::generate().unwrap();
        let (_tmp, root, store) = store(Some(&key));
        let value = "Host=db;Password=hunter2-very-secret";
        store
            .set("metastore.postgres.connectionString", value)
            .unwrap();
        assert_eq!(
            store
                .get("metastore.postgres.connectionString")
                .unwrap()
                .as_deref(),
            Some(value)
        );
        assert_eq!(
            store.names().unwrap(),
            vec!["metastore.postgres.connectionString"]
        );
        for entry in fs::read_dir(root.secrets_dir()).unwrap() {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("hunter2"), "plain text on disk: {text}");
        }
        assert!(store.clear("metastore.postgres.connectionString").unwrap());
        assert!(!store.clear("metastore.postgres.connectionString").unwrap());
        assert!(store.names().unwrap().is_empty());
    }

    #[test]
    fn a_wrong_or_missing_key_changes_nothing() {
        let key = SecretKey::generate().unwrap();
        let (_tmp, root, store) = store(Some(&key));
        store
            .set("certificates.defaultPassword", "pfx-pass")
            .unwrap();
        let before = fs::read(
            root.secrets_dir()
                .join("certificates.defaultPassword.secret"),
        )
        .unwrap();

        let wrong = SecretStore::new(&root, Some(SecretKey::generate().unwrap()));
        assert!(matches!(
            wrong.set(CLUSTER_KEY_SECRET, "x"),
            Err(SecretsError::WrongKey(_))
        ));
        assert!(matches!(
            wrong.clear("certificates.defaultPassword"),
            Err(SecretsError::WrongKey(_))
        ));
        assert!(matches!(
            wrong.get("certificates.defaultPassword"),
            Err(SecretsError::WrongKey(_))
        ));
        let missing = SecretStore::new(&root, None);
        assert!(matches!(
            missing.set(CLUSTER_KEY_SECRET, "x"),
            Err(SecretsError::MissingKey)
        ));
        assert!(matches!(
            missing.clear("certificates.defaultPassword"),
            Err(SecretsError::MissingKey)
        ));

        assert_eq!(store.names().unwrap(), vec!["certificates.defaultPassword"]);
        let after = fs::read(
            root.secrets_dir()
                .join("certificates.defaultPassword.secret"),
        )
        .unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn renamed_files_do_not_decrypt_and_names_are_checked() {
        let key = SecretKey::generate().unwrap();
        let (_tmp, root, store) = store(Some(&key));
        let (a, b) = (KNOWN_SECRETS[0], KNOWN_SECRETS[1]);
        store.set(a, "1").unwrap();
        fs::rename(
            root.secrets_dir().join(format!("{a}.secret")),
            root.secrets_dir().join(format!("{b}.secret")),
        )
        .unwrap();
        assert!(matches!(store.get(b), Err(SecretsError::WrongKey(_))));
        for bad in ["", "../x", ".hidden", "a/b", "sp ace"] {
            assert!(
                matches!(store.set(bad, "v"), Err(SecretsError::BadName(_))),
                "{bad}"
            );
        }
        let unknown = store.set("metastore.msSql.connectionString", "Server=x");
        let message = unknown.unwrap_err().to_string();
        assert!(
            message.contains("set metastore.postgres.connectionString")
                && message.contains("known secrets are cluster.authenticationKey"),
            "{message}"
        );
        assert!(matches!(
            store.set("typo.secret", "v"),
            Err(SecretsError::Unknown { .. })
        ));
        assert!(!root.secrets_dir().join("typo.secret.secret").exists());
    }

    #[test]
    fn rekey_moves_every_secret_to_the_new_key() {
        let old = SecretKey::generate().unwrap();
        let (_tmp, root, store) = store(Some(&old));
        let (a, b) = (KNOWN_SECRETS[0], KNOWN_SECRETS[1]);
        store.set(a, "1").unwrap();
        store.set(b, "2").unwrap();
        let new = SecretKey::generate().unwrap();
        assert_eq!(store.rekey(&new).unwrap(), 2);
        let reopened = SecretStore::new(&root, Some(new));
        assert_eq!(reopened.get(b).unwrap().as_deref(), Some("2"));
        assert!(store.get(a).is_err());
    }
}
