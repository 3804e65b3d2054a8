//! Signals: saved filters, create / read / update / delete.

use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

use super::entities::signal;
use super::{new_id, Metastore, MetastoreError};

/// A signal's editable fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSignal {
    /// The title shown in lists.
    pub title: String,
    /// The filter expression (not parsed here).
    pub filter: String,
    /// Whether every user sees it.
    pub shared: bool,
    /// The owning user, if any.
    pub owner: Option<String>,
}

/// A stored signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// `signal-<hex>`.
    pub id: String,
    /// The title shown in lists.
    pub title: String,
    /// The filter expression.
    pub filter: String,
    /// Whether every user sees it.
    pub shared: bool,
    /// The owning user, if any.
    pub owner: Option<String>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<signal::Model> for Signal {
    fn from(m: signal::Model) -> Self {
        Signal {
            id: m.id,
            title: m.title,
            filter: m.filter,
            shared: m.shared,
            owner: m.owner,
            created_at: m.created_at,
        }
    }
}

impl Metastore {
    /// Stores a new signal.
    pub async fn create_signal(&self, new: NewSignal) -> Result<Signal, MetastoreError> {
        check(&new)?;
        let row = signal::ActiveModel {
            id: Set(new_id("signal")?),
            title: Set(new.title.trim().to_string()),
            filter: Set(new.filter),
            shared: Set(new.shared),
            owner: Set(new.owner),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(&self.db)
        .await?;
        Ok(row.into())
    }

    /// Every signal, oldest first.
    pub async fn list_signals(&self) -> Result<Vec<Signal>, MetastoreError> {
        Ok(signal::Entity::find()
            .order_by_asc(signal::Column::CreatedAt)
            .order_by_asc(signal::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Signal::from)
            .collect())
    }

    /// The signal with this id, if any.
    pub async fn signal(&self, id: &str) -> Result<Option<Signal>, MetastoreError> {
        Ok(signal::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(Signal::from))
    }

    /// Replaces the editable fields of signal `id`.
    pub async fn update_signal(&self, id: &str, new: NewSignal) -> Result<Signal, MetastoreError> {
        check(&new)?;
        let existing = signal::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(|| MetastoreError::NotFound {
                kind: "signal",
                what: id.to_string(),
            })?;
        let mut row: signal::ActiveModel = existing.into();
        row.title = Set(new.title.trim().to_string());
        row.filter = Set(new.filter);
        row.shared = Set(new.shared);
        row.owner = Set(new.owner);
        Ok(row.update(&self.db).await?.into())
    }

    /// Removes signal `id`; returns whether it existed.
    pub async fn remove_signal(&self, id: &str) -> Result<bool, MetastoreError> {
        let result = signal::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }
}

fn check(new: &NewSignal) -> Result<(), MetastoreError> {
    if new.title.trim().is_empty() {
        return Err(MetastoreError::Invalid("a signal needs a title".into()));
    }
    Ok(())
}
