//! `skein`: the binary's library part, so tests can call it.
//!
//! - [`cli`]: the clap command line, one file per command group, and
//!   [`cli::run`], which executes a parsed command.
//! - [`context`]: what the node and every command start from (storage root,
//!   environment) and what they give (settings, runtime config, secrets).
//! - [`storage`]: the storage root layout and private (0700/0600) file writing.
//! - [`settings`]: the layered [`settings::Settings`] (defaults → `skein.json`
//!   → `SKEIN_*`), the key registry and the validated runtime config.
//! - [`secrets`]: the storage secret key and encrypted secrets under `Secrets/`.
//! - [`metastore_url`]: which metastore a node uses (embedded SQLite or the
//!   PostgreSQL connection string secret).
//!
//! - [`client`]: the HTTP client side of `skein ingest`, `search` and
//!   `bench` (endpoint, errors, retries, batching, load generation).
//! - [`api`]: the actix-web HTTP API.
//! - [`ui`]: the admin web UI, embedded in the binary and served at `/`.
//! - [`node`]: `skein run`, wiring store, metastore, actors and HTTP server.
//! - [`first_admin`]: the first-run administrator a starting node creates.
//! - [`run_lock`]: the running node's claim on its storage root
//!   (`skein.pid`, one process per event store).
//! - [`cluster_port`]: the cluster port (replication WebSocket, scale-out
//!   query shares) and the node's replication setup.
//! - [`scale_out`]: scale-out queries, split by the leader over its
//!   up-to-date followers and merged.
//! - [`listen`]: where listeners bind (peer-facing `localhost` binds every
//!   interface).
//! - [`systemd`]: systemd's notify protocol (ready, reloading, stopping).
//! - [`log_file`]: `Logs/skein.log` of a node started by `skein service`,
//!   rotated at a size cap.
//! - [`tls`]: PFX certificates under `Certificates/` for `https://`/`wss://`
//!   listeners (reloadable) and the roots peers are verified against.

pub mod api;
pub mod cli;
pub mod client;
pub mod cluster_port;
pub mod context;
pub mod first_admin;
pub mod listen;
pub mod log_file;
pub mod metastore_url;
pub mod node;
pub mod run_lock;
pub mod scale_out;
pub mod secrets;
pub mod settings;
pub mod storage;
pub mod systemd;
pub mod tls;
pub mod ui;
