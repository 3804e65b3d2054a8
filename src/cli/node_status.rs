//! `skein node status`: the local cluster configuration and, when a shared
//! metastore is configured and reachable, the leadership row and the rows
//! the nodes' heartbeats keep current. Every configured peer is listed, in
//! order, with whether the node fails over automatically.

use std::io::Write;

use skein_actors::metastore::{redact, Metastore};

use super::node::CLUSTER_KEY_SECRET;
use super::{block_on, error_message, Context};
use crate::metastore_url::{metastore_url, POSTGRES_SECRET};
use crate::settings::ClusterConfig;

/// Prints the status of the node at `ctx`.
pub fn print(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let rc = ctx.runtime()?;
    let c = &rc.cluster;
    let show = |u: &Option<url::Url>| {
        u.as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "(not set)".into())
    };
    let role = serde_json::to_value(c.role)?;
    let name = c.node_name.clone().unwrap_or_default();
    writeln!(
        out,
        "node name:          {}",
        if name.is_empty() { "(not set)" } else { &name }
    )?;
    writeln!(out, "role:               {}", role.as_str().unwrap_or("?"))?;
    writeln!(out, "cluster listen:     {}", show(&c.listen_uri))?;
    writeln!(out, "internal api:       {}", show(&c.internal_api_uri))?;
    peers(c, out)?;
    let explicit = ctx.settings()?.cluster.auto_failover.is_some();
    writeln!(out, "auto failover:      {}", auto_failover(c, explicit))?;
    let secrets = ctx.secrets()?;
    let key = if secrets.contains(CLUSTER_KEY_SECRET)? {
        "set (encrypted secret)"
    } else {
        "(not set)"
    };
    writeln!(out, "authentication key: {key}")?;
    if !secrets.contains(POSTGRES_SECRET)? {
        writeln!(
            out,
            "metastore:          embedded SQLite (not shared; a cluster needs {POSTGRES_SECRET})"
        )?;
        return Ok(());
    }
    let url = match metastore_url(&ctx.root, &secrets) {
        Ok(url) => url,
        Err(e) => {
            writeln!(
                out,
                "metastore:          PostgreSQL (cannot read its connection string: {e})"
            )?;
            return Ok(());
        }
    };
    writeln!(
        out,
        "metastore:          PostgreSQL {} (shared)",
        redact(&url)
    )?;
    block_on(async {
        let ms = match Metastore::open(&url).await {
            Ok(ms) => ms,
            Err(e) => {
                writeln!(
                    out,
                    "leadership:         unknown (cannot reach the metastore: {})",
                    error_message(&e.into())
                )?;
                return Ok(());
            }
        };
        let result = shared(&ms, &name, out).await;
        let _ = ms.close().await;
        result
    })?
}

/// One `peer cluster` and `peer internal api` line per configured peer,
/// in order (`(not set)` when there is none).
fn peers(c: &ClusterConfig, out: &mut dyn Write) -> anyhow::Result<()> {
    if c.peers.is_empty() {
        writeln!(out, "peer cluster:       (not set)")?;
        writeln!(out, "peer internal api:  (not set)")?;
    }
    for peer in &c.peers {
        writeln!(out, "peer cluster:       {}", peer.cluster_uri)?;
        writeln!(out, "peer internal api:  {}", peer.internal_api_uri)?;
    }
    Ok(())
}

/// `on`/`off`, and whether `cluster.autoFailover` says so (`explicit`) or
/// the default for this many peers.
fn auto_failover(c: &ClusterConfig, explicit: bool) -> String {
    let state = if c.auto_failover { "on" } else { "off" };
    if explicit {
        return format!("{state} (cluster.autoFailover)");
    }
    let n = c.peers.len();
    let peers = if n == 1 { "peer" } else { "peers" };
    format!("{state} (cluster.autoFailover unset: {state} with {n} {peers})")
}

async fn shared(ms: &Metastore, me: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let l = ms.current_leadership().await?;
    writeln!(out, "leadership:")?;
    writeln!(out, "  term:             {}", l.term)?;
    let leader = match l.leader_node.as_deref() {
        None => "(none)".to_string(),
        Some(n) if n == me => format!("{n} (this node)"),
        Some(n) => n.to_string(),
    };
    writeln!(out, "  leader:           {leader}")?;
    let lease = match (l.lease_expires_at, l.lease_valid) {
        (None, _) => "(none)".to_string(),
        (Some(at), true) => format!("valid until {}", at.to_rfc3339()),
        (Some(at), false) => format!("expired at {}", at.to_rfc3339()),
    };
    writeln!(out, "  lease:            {lease}")?;
    let nodes = ms.nodes().await?;
    writeln!(out, "nodes:")?;
    if nodes.is_empty() {
        writeln!(out, "  (no node has reported yet)")?;
    }
    for n in nodes {
        writeln!(
            out,
            "  {}  role={} term={} generation={}.{} state={:?} seen={}",
            n.name,
            n.role,
            n.term,
            n.generation_model,
            n.generation_write,
            n.state,
            n.seen_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        )?;
    }
    Ok(())
}
