//! Users: accounts with argon2id password hashes, a role, and a failed-login
//! throttle kept in the metastore (so every node, and `skein auth reset`,
//! sees the same lock).
//!
//! Passwords are hashed with the `argon2` crate's defaults (argon2id,
//! 19 MiB, two passes: OWASP's recommendation), each with a random salt,
//! and stored as PHC strings. Hashing and verification run on a blocking
//! thread so that they never stall an async worker. After
//! [`FREE_FAILURES`] consecutive failed logins a user is locked for 30 s,
//! doubling with every further failure up to [`MAX_LOCK`]; a successful
//! login, a new password or `skein auth reset` clears the lock.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::api_keys::Permissions;
use super::entities::{session, user};
use super::{new_id, random, Metastore, MetastoreError};

/// Consecutive failed logins allowed before the user is locked.
pub const FREE_FAILURES: i32 = 5;
/// The longest lock after repeated failures.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest username accepted.
pub const MAX_USERNAME_CHARS: usize = 100;

/// What a user may do, by role (admin = all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Every permission.
    Administrator,
    /// Read events, change signals and project settings, ingest.
    User,
    /// Read events and metadata only.
    Reader,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Administrator, Role::User, Role::Reader];

    /// The role's name as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::User => "User",
            Role::Reader => "Reader",
        }
    }

    /// Parses a role name (any case).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The permissions the role grants.
    pub fn permissions(self) -> Permissions {
        let all = Permissions {
            ingest: true,
            read: true,
            write: true,
            project: true,
            system: true,
        };
        match self {
            Role::Administrator => all,
            Role::User => Permissions {
                system: false,
                ..all
            },
            Role::Reader => Permissions {
                read: true,
                ..Permissions::default()
            },
        }
    }
}

/// A user as listed (never the hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// `user-<hex>`.
    pub id: String,
    /// The login name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Logins are refused until then, after repeated failures.
    pub locked_until: Option<DateTime<Utc>>,
}

impl UserInfo {
    /// Whether logins are refused now because of failed attempts.
    pub fn is_locked(&self) -> bool {
        self.locked_until.is_some_and(|t| t > Utc::now())
    }
}

/// The result of [`Metastore::check_login`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The password is right.
    Accepted(UserInfo),
    /// Unknown user or wrong password (deliberately not told apart).
    Rejected,
    /// Too many failures: try again after this long.
    Locked(Duration),
}

/// Hashes `password` with argon2id and a fresh random salt (a PHC string).
pub fn hash_password(password: &str) -> Result<String, MetastoreError> {
    check_password_rules(password)?;
    let mut salt = [0u8; 16];
    random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| MetastoreError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| MetastoreError::Invalid(format!("cannot hash the password: {e}")))
}

/// Checks that `phc` is an argon2 PHC string (as `skein config hash` prints).
pub fn check_password_hash(phc: &str) -> Result<(), MetastoreError> {
    let parsed = PasswordHash::new(phc.trim()).map_err(|e| {
        MetastoreError::Invalid(format!("not a password hash from `skein config hash`: {e}"))
    })?;
    if !parsed.algorithm.as_str().starts_with("argon2") || parsed.hash.is_none() {
        return Err(MetastoreError::Invalid(
            "not an argon2 password hash (use `skein config hash`)".into(),
        ));
    }
    Ok(())
}

/// Whether `password` matches the PHC string `phc` (constant-time).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks a new password against the rules (length), naming what is wrong.
pub fn check_password_rules(password: &str) -> Result<(), MetastoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(MetastoreError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<&str, MetastoreError> {
    let name = username.trim();
    if name.is_empty() {
        return Err(MetastoreError::Invalid("a user needs a username".into()));
    }
    if name.chars().count() > MAX_USERNAME_CHARS || name.chars().any(char::is_control) {
        return Err(MetastoreError::Invalid(format!(
            "a username has at most {MAX_USERNAME_CHARS} characters and no control characters"
        )));
    }
    Ok(name)
}

/// A hash to verify against when the user does not exist, so that unknown
/// and known usernames take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never matches").unwrap_or_default())
}

/// How long a user with `failures` consecutive failures stays locked.
pub fn lock_for(failures: i32) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(10) as u32;
    Some((Duration::from_secs(30) * 2u32.pow(doublings)).min(MAX_LOCK))
}

impl Metastore {
    /// Creates a user from a password hash made by [`hash_password`].
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<UserInfo, MetastoreError> {
        let username = check_username(username)?;
        check_password_hash(password_hash)?;
        if self.user_row(username).await?.is_some() {
            return Err(MetastoreError::Invalid(format!(
                "a user named `{username}` already exists"
            )));
        }
        let row = user::ActiveModel {
            id: Set(new_id("user")?),
            username: Set(username.to_string()),
            password_hash: Set(password_hash.trim().to_string()),
            created_at: Set(Utc::now()),
            role: Set(role.name().to_string()),
            failed_logins: Set(0),
            locked_until: Set(None),
        }
        .insert(&self.db)
        .await?;
        info(row)
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> Result<Vec<UserInfo>, MetastoreError> {
        user::Entity::find()
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(info)
            .collect()
    }

    /// How many users exist.
    pub async fn count_users(&self) -> Result<u64, MetastoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    /// The user with this id, `None` when there is none.
    pub async fn user(&self, id: &str) -> Result<Option<UserInfo>, MetastoreError> {
        user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(info)
            .transpose()
    }

    /// Removes the user named `username` and ends their sessions.
    pub async fn delete_user(&self, username: &str) -> Result<UserInfo, MetastoreError> {
        let row = self.existing(username).await?;
        self.end_sessions_of(&row.id).await?;
        user::Entity::delete_by_id(row.id.clone())
            .exec(&self.db)
            .await?;
        info(row)
    }

    /// Gives `username` a new password hash (and optionally a new role),
    /// clears any failed-login lock and ends the user's sessions.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        role: Option<Role>,
    ) -> Result<UserInfo, MetastoreError> {
        check_password_hash(password_hash)?;
        let row = self.existing(username).await?;
        self.end_sessions_of(&row.id).await?;
        let mut active: user::ActiveModel = row.into();
        active.password_hash = Set(password_hash.trim().to_string());
        active.failed_logins = Set(0);
        active.locked_until = Set(None);
        if let Some(role) = role {
            active.role = Set(role.name().to_string());
        }
        info(active.update(&self.db).await?)
    }

    /// Checks a login attempt and records its outcome (failures count
    /// towards the lock; success clears it). The password is verified on a
    /// blocking thread.
    pub async fn check_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginOutcome, MetastoreError> {
        let row = self.user_row(username.trim()).await?;
        let now = Utc::now();
        if let Some(until) = row.as_ref().and_then(|r| r.locked_until) {
            if until > now {
                let left = (until - now).to_std().unwrap_or_default();
                return Ok(LoginOutcome::Locked(left.max(Duration::from_secs(1))));
            }
        }
        let phc = row
            .as_ref()
            .map(|r| r.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_string());
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
            .await
            .unwrap_or(false);
        let Some(row) = row else {
            return Ok(LoginOutcome::Rejected);
        };
        let mut active: user::ActiveModel = row.clone().into();
        if matches {
            if row.failed_logins != 0 || row.locked_until.is_some() {
                active.failed_logins = Set(0);
                active.locked_until = Set(None);
                active.update(&self.db).await?;
            }
            return Ok(LoginOutcome::Accepted(info(row)?));
        }
        let failures = row.failed_logins.saturating_add(1);
        active.failed_logins = Set(failures);
        let lock = lock_for(failures);
        active.locked_until =
            Set(lock.and_then(|d| chrono::Duration::from_std(d).ok().map(|d| now + d)));
        active.update(&self.db).await?;
        Ok(match lock {
            Some(d) => LoginOutcome::Locked(d),
            None => LoginOutcome::Rejected,
        })
    }

    async fn user_row(&self, username: &str) -> Result<Option<user::Model>, MetastoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?)
    }

    async fn existing(&self, username: &str) -> Result<user::Model, MetastoreError> {
        self.user_row(username.trim())
            .await?
            .ok_or_else(|| MetastoreError::NotFound {
                kind: "user",
                what: username.to_string(),
            })
    }

    pub(crate) async fn end_sessions_of(&self, user_id: &str) -> Result<u64, MetastoreError> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

fn info(row: user::Model) -> Result<UserInfo, MetastoreError> {
    let role = Role::parse(&row.role).ok_or_else(|| MetastoreError::Corrupt {
        key: row.id.clone(),
        detail: format!("unknown role `{}`", row.role),
    })?;
    Ok(UserInfo {
        id: row.id,
        username: row.username,
        role,
        created_at: row.created_at,
        locked_until: row.locked_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(!a.contains("correct horse"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horsE", &a));
        assert!(!verify_password("correct horse", "not a hash"));
        check_password_hash(&a).unwrap();
        assert!(check_password_hash("$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(check_password_hash("plain text").is_err());
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn locks_grow_and_are_capped() {
        assert_eq!(lock_for(FREE_FAILURES - 1), None);
        assert_eq!(lock_for(FREE_FAILURES), Some(Duration::from_secs(30)));
        assert_eq!(lock_for(FREE_FAILURES + 1), Some(Duration::from_secs(60)));
        assert_eq!(lock_for(1000), Some(MAX_LOCK));
    }

    #[test]
    fn roles_map_to_permissions() {
        assert_eq!(Role::parse("administrator"), Some(Role::Administrator));
        assert_eq!(Role::parse("boss"), None);
        assert!(Role::Administrator.permissions().system);
        assert!(!Role::User.permissions().system);
        let r = Role::Reader.permissions();
        assert!(r.read && !r.write && !r.ingest);
    }

    #[tokio::test]
    async fn logins_count_failures_and_lock() {
        let m = Metastore::open("sqlite::memory:").await.unwrap();
        let hash = hash_password("s3cret-pass").unwrap();
        let u = m
            .create_user("admin", &hash, Role::Administrator)
            .await
            .unwrap();
        assert!(m.create_user(" admin ", &hash, Role::Reader).await.is_err());
        assert_eq!(m.count_users().await.unwrap(), 1);
        assert_eq!(
            m.check_login("admin", "s3cret-pass").await.unwrap(),
            LoginOutcome::Accepted(u.clone())
        );
        assert_eq!(
            m.check_login("nobody", "s3cret-pass").await.unwrap(),
            LoginOutcome::Rejected
        );
        for _ in 1..FREE_FAILURES {
            assert_eq!(
                m.check_login("admin", "wrong").await.unwrap(),
                LoginOutcome::Rejected
            );
        }
        assert!(matches!(
            m.check_login("admin", "wrong").await.unwrap(),
            LoginOutcome::Locked(_)
        ));
        // Locked: even the right password is refused until the lock ends.
        assert!(matches!(
            m.check_login("admin", "s3cret-pass").await.unwrap(),
            LoginOutcome::Locked(_)
        ));
        // A new password clears the lock.
        let new_hash = hash_password("another-pass").unwrap();
        m.set_password("admin", &new_hash, None).await.unwrap();
        assert!(matches!(
            m.check_login("admin", "another-pass").await.unwrap(),
            LoginOutcome::Accepted(_)
        ));
        m.delete_user("admin").await.unwrap();
        assert!(m.delete_user("admin").await.is_err());
        assert!(m.list_users().await.unwrap().is_empty());
    }
}
