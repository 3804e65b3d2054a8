//! Login sessions, kept server-side in the metastore so that whichever node
//! serves a request (the leader, for proxied ones) sees them.
//!
//! A session token is 32 random bytes (base64url), given to the browser in
//! a cookie; the metastore keeps only the hex SHA-256 of the token, its
//! user and its expiry, so reading the table does not let anyone log in.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entities::session;
use super::users::UserInfo;
use super::{random, Metastore, MetastoreError};

/// A session just created: the token to put in the cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie value (never stored).
    pub token: String,
    /// How long the session lasts.
    pub lifetime: Duration,
}

fn token_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Metastore {
    /// Starts a session for `user` that lasts `lifetime`.
    pub async fn create_session(
        &self,
        user: &UserInfo,
        lifetime: Duration,
    ) -> Result<NewSession, MetastoreError> {
        let mut bytes = [0u8; 32];
        random(&mut bytes)?;
        let token = B64URL.encode(bytes);
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(lifetime)
            .map_err(|e| MetastoreError::Invalid(format!("session lifetime: {e}")))?;
        session::ActiveModel {
            id: Set(token_id(&token)),
            user_id: Set(user.id.clone()),
            created_at: Set(now),
            expires_at: Set(now + ttl),
        }
        .insert(&self.db)
        .await?;
        Ok(NewSession { token, lifetime })
    }

    /// The user a session token belongs to, `None` when the token is
    /// unknown, expired (then it is removed) or its user is gone.
    pub async fn session_user(&self, token: &str) -> Result<Option<UserInfo>, MetastoreError> {
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        let Some(row) = session::Entity::find_by_id(token_id(token))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if row.expires_at <= Utc::now() {
            session::Entity::delete_by_id(row.id).exec(&self.db).await?;
            return Ok(None);
        }
        self.user(&row.user_id).await
    }

    /// Ends the session with this token (nothing happens for an unknown one).
    pub async fn end_session(&self, token: &str) -> Result<(), MetastoreError> {
        session::Entity::delete_by_id(token_id(token))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes every expired session; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64, MetastoreError> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metastore::users::{hash_password, Role};

    #[tokio::test]
    async fn sessions_resolve_expire_and_end() {
        let m = Metastore::open("sqlite::memory:").await.unwrap();
        let hash = hash_password("s3cret-pass").unwrap();
        let u = m.create_user("ann", &hash, Role::Reader).await.unwrap();
        let s = m.create_session(&u, Duration::from_secs(60)).await.unwrap();
        assert_eq!(m.session_user(&s.token).await.unwrap(), Some(u.clone()));
        assert_eq!(m.session_user("forged").await.unwrap(), None);
        // Only the hash is stored.
        let rows = session::Entity::find().all(&m.db).await.unwrap();
        assert!(rows.iter().all(|r| r.id != s.token));
        m.end_session(&s.token).await.unwrap();
        assert_eq!(m.session_user(&s.token).await.unwrap(), None);

        let short = m
            .create_session(&u, Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(m.session_user(&short.token).await.unwrap(), None);

        let other = m.create_session(&u, Duration::from_secs(60)).await.unwrap();
        m.set_password("ann", &hash_password("new-pass-1").unwrap(), None)
            .await
            .unwrap();
        assert_eq!(m.session_user(&other.token).await.unwrap(), None);
        assert_eq!(m.purge_expired_sessions().await.unwrap(), 0);
    }
}
