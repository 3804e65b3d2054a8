//! sea-orm entities, one per metastore table (see `skein-migrations` for the
//! schema each mirrors).

pub mod api_key;
pub mod cluster_leadership;
pub mod cluster_node;
pub mod session;
pub mod setting;
pub mod signal;
pub mod user;
