//! `skein node`: this node's place in a leader/follower cluster.
//!
//! `setup`, `lead` and `follow` change the local configuration (`cluster.*`
//! in skein.json; the cluster key as an encrypted secret) and work on a
//! stopped node. `setup` takes one `--peer-cluster`/`--peer-internal-api`
//! pair per other node. `lead` also takes leadership in the shared
//! metastore when one is configured and reachable; `demote` asks a running
//! leader to hand leadership to its follower; `remove` takes a node out of
//! the membership in the shared metastore; `status` shows the local
//! configuration and, from the shared metastore, the leadership row and
//! the nodes' rows.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{ArgAction, Args, Subcommand};
use serde_json::Value;
use skein_actors::metastore::Metastore;
use url::Url;

use super::config::{file_doc, validated};
use super::{block_on, Context};
use crate::metastore_url::{metastore_url, POSTGRES_SECRET};
use crate::settings::keys;
use crate::settings::runtime::{peer_conflict, Peer, CLUSTER_PEERS};
use crate::storage::write_private_file;

pub use crate::secrets::CLUSTER_KEY_SECRET;

/// The lease `node lead` takes: none. The node renews it when it runs (it
/// may renew an expired lease as long as nobody has taken a newer term);
/// a lease taken for a node that may not be running would only make the
/// next `node lead` wait for nothing.
const LEAD_LEASE: Duration = Duration::ZERO;

/// How often `node lead` looks whether the previous leader's lease has run out.
const LEASE_POLL: Duration = Duration::from_millis(250);

const RESTART: &str = "Restart the node (`skein run`) for the change to take effect.";

/// What `node remove` says about a removed node that still runs.
const STILL_RUNNING: &str = "A removed node that still runs registers itself again at its next heartbeat: stop it first (`skein service stop` on it, or kill it).";

const WS: &[&str] = &["ws", "wss"];
const HTTP: &[&str] = &["http", "https"];

/// `skein node ...`
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  skein node setup --cluster-listen ws://localhost:5344 --internal-api http://localhost --peer-cluster ws://seq002.example.local:5344 --peer-internal-api http://seq002.example.local -k \"<cluster authentication key>\" --node-name seq001.example.local\n  skein node lead\n  skein node demote --wait\n  skein node remove seq003.example.local\n  skein node status"
)]
pub enum NodeCommand {
    /// Configure this node's cluster URIs, its peers and the cluster key
    #[command(
        after_help = "Examples:\n  skein node setup \\\n    --cluster-listen ws://localhost:5344 \\\n    --internal-api http://localhost \\\n    --peer-cluster ws://seq002.example.local:5344 \\\n    --peer-internal-api http://seq002.example.local \\\n    -k \"<cluster authentication key>\" \\\n    --node-name seq001.example.local\n\nWith more nodes, give --peer-cluster and --peer-internal-api once per other node, paired in order.\nFrom two peers on (three nodes), a follower takes over automatically when the leader's lease runs\nout, unless `skein config set -k cluster.autoFailover -v false`.\n\nThe key is stored encrypted (secret cluster.authenticationKey), so storage.secretKey must be set.\nA node that is set up follows unless `skein node lead` makes it the leader.\nThe peer connects to the cluster listener and the internal API, so a host of `localhost`\nthere (as above) binds every interface (0.0.0.0 and [::]), not loopback only; use\n127.0.0.1 to keep one on loopback. (`localhost` in api.listenUris stays loopback only.)"
    )]
    Setup(SetupArgs),
    /// Make this node the leader (and take leadership in the shared metastore)
    #[command(
        after_help = "Examples:\n  skein node lead\n\nSets cluster.role = leader; when metastore.postgres.connectionString is set and the\ndatabase is reachable, also takes leadership there now, in a new term."
    )]
    Lead,
    /// Make this node a follower of the cluster's leader
    #[command(
        after_help = "Examples:\n  skein node follow\n  skein node follow --url http://seq001.example.local\n\nA running leader hands leadership to its follower first (as `skein node demote --wait`).\nA stopped node that the shared metastore names as leader would lead again when started:\nthe command refuses (start it and run `skein node follow`, or run `skein node lead` on the\nother node) unless --force."
    )]
    Follow(FollowArgs),
    /// Hand a running leader's leadership to its follower (graceful fail-over)
    #[command(
        after_help = "Examples:\n  skein node demote --url http://seq001.example.local --wait\n\nThe leader stops accepting writes, waits for the follower to reach its generation,\nhands leadership over in the next term and follows the new leader."
    )]
    Demote(super::node_demote::DemoteArgs),
    /// Remove a node from the cluster's membership in the shared metastore
    #[command(
        after_help = "Examples:\n  skein node remove seq003.example.local\n\nDeletes the node's row in the shared metastore (metastore.postgres.connectionString); the other\nnodes keep running. Refused for the node the metastore names as leader (hand leadership over\nfirst: `skein node demote`) and for a name the cluster does not know.\nA removed node that still runs registers itself again at its next heartbeat: stop it first\n(`skein service stop` on it, or kill it)."
    )]
    Remove(RemoveArgs),
    /// Show this node's cluster configuration and the cluster's leadership
    #[command(after_help = "Examples:\n  skein node status")]
    Status,
}

/// `node setup` arguments.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The URI on which to listen for intra-cluster messages (ws:// or wss://; host localhost binds every interface)
    #[arg(long, value_name = "URI")]
    pub cluster_listen: String,
    /// The URI on which to listen for API requests proxied by the peer (http:// or https://; host localhost binds every interface)
    #[arg(long, value_name = "URI")]
    pub internal_api: String,
    /// The URI on which another node listens for intra-cluster messages (once per peer)
    #[arg(long, value_name = "URI", action = ArgAction::Append, required = true)]
    pub peer_cluster: Vec<String>,
    /// The URI on which another node listens for API requests (once per peer, in --peer-cluster's order)
    #[arg(long, value_name = "URI", action = ArgAction::Append, required = true)]
    pub peer_internal_api: Vec<String>,
    /// The cluster authentication key, shared by every node of the cluster
    #[arg(
        short = 'k',
        long = "key",
        value_name = "KEY",
        allow_hyphen_values = true
    )]
    pub key: String,
    /// An informational name identifying this node
    #[arg(long, value_name = "NAME")]
    pub node_name: String,
}

/// `node remove` arguments.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The node's name (its cluster.nodeName, as `skein node status` lists it)
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `node follow` arguments.
#[derive(Debug, Args)]
pub struct FollowArgs {
    /// Where this node's API is, when it runs
    #[command(flatten)]
    pub node: super::node_demote::NodeApiArgs,
    /// Only set cluster.role = follower, even when the shared metastore names this stopped node as leader
    #[arg(long)]
    pub force: bool,
}

/// Executes a `node` command.
pub fn execute(ctx: &Context, cmd: NodeCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        NodeCommand::Setup(args) => setup(ctx, &args, out),
        NodeCommand::Lead => lead(ctx, out),
        NodeCommand::Follow(args) => follow(ctx, args, out),
        NodeCommand::Demote(args) => super::node_demote::execute(ctx, args, out),
        NodeCommand::Remove(args) => remove(ctx, &args, out),
        NodeCommand::Status => super::node_status::print(ctx, out),
    }
}

fn setup(ctx: &Context, args: &SetupArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let own_cluster = check_uri("--cluster-listen", &args.cluster_listen, WS)?;
    let own_api = check_uri("--internal-api", &args.internal_api, HTTP)?;
    check_peers(args, &own_cluster, &own_api)?;
    if args.key.trim().is_empty() {
        bail!("-k (the cluster authentication key) must not be empty");
    }
    let name = args.node_name.trim();
    if name.is_empty() {
        bail!("--node-name must not be empty");
    }
    let role = match ctx.runtime()?.cluster.role {
        crate::settings::NodeRole::Leader => "leader",
        _ => "follower",
    };
    let (peer_cluster, peer_api) = (
        json_list(&args.peer_cluster)?,
        json_list(&args.peer_internal_api)?,
    );
    let pairs = [
        ("cluster.role", role),
        ("cluster.nodeName", name),
        ("cluster.listenUri", args.cluster_listen.as_str()),
        ("cluster.internalApiUri", args.internal_api.as_str()),
        ("cluster.peerClusterUri", peer_cluster.as_str()),
        ("cluster.peerInternalApiUri", peer_api.as_str()),
    ];
    // Check the configuration and the secret key before changing anything.
    let text = rendered(ctx, &pairs)?;
    if ctx.runtime()?.secret_key.is_none() {
        bail!("storage.secretKey is not set: the cluster key is stored encrypted with it (see `skein show-key --generate` and `skein config set -k storage.secretKey`)");
    }
    ctx.secrets()?
        .set(CLUSTER_KEY_SECRET, &args.key)
        .context("cannot store the cluster authentication key")?;
    ctx.root.ensure()?;
    write_private_file(&ctx.root.config_file(), text.as_bytes())?;
    writeln!(out, "Configured node {name} ({role}):")?;
    for (key, value) in &pairs[2..4] {
        writeln!(out, "  {key} = {value}")?;
    }
    let (peers, apis) = (&args.peer_cluster, &args.peer_internal_api);
    writeln!(out, "  cluster.peerClusterUri = {}", peers.join(", "))?;
    writeln!(out, "  cluster.peerInternalApiUri = {}", apis.join(", "))?;
    writeln!(out, "  {CLUSTER_KEY_SECRET} stored as an encrypted secret")?;
    if role == "follower" {
        writeln!(out, "Run `skein node lead` if this node is to lead.")?;
    }
    writeln!(out, "{RESTART}")?;
    Ok(())
}

/// Refuses `setup`'s peers when the two options are not given as often,
/// when a URI is not a peer's, or when one is listed twice or is this
/// node's own (`own_cluster`, `own_api`).
fn check_peers(args: &SetupArgs, own_cluster: &Url, own_api: &Url) -> anyhow::Result<()> {
    let (cluster, api) = (&args.peer_cluster, &args.peer_internal_api);
    if cluster.len() != api.len() {
        bail!(
            "--peer-cluster is given {} time(s) but --peer-internal-api {} time(s): give both once per peer, in the same order",
            cluster.len(),
            api.len()
        );
    }
    let peers = cluster
        .iter()
        .zip(api)
        .map(|(c, a)| {
            Ok(Peer {
                cluster_uri: check_uri("--peer-cluster", c, WS)?,
                internal_api_uri: check_uri("--peer-internal-api", a, HTTP)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match peer_conflict(&peers, Some(own_cluster), Some(own_api)) {
        Some(c) if c.key == CLUSTER_PEERS => bail!("--peer-cluster: {}", c.detail),
        Some(c) => bail!("--peer-internal-api: {}", c.detail),
        None => Ok(()),
    }
}

/// `values` as a JSON array, as a list key's value is written.
fn json_list(values: &[String]) -> anyhow::Result<String> {
    Ok(serde_json::to_string(values)?)
}

/// `node remove`: deletes node `args.name`'s row in the shared metastore.
fn remove(ctx: &Context, args: &RemoveArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let name = args.name.trim();
    let secrets = ctx.secrets()?;
    if !secrets.contains(POSTGRES_SECRET)? {
        bail!("no shared metastore is configured ({POSTGRES_SECRET} is not set): the cluster's membership is kept there");
    }
    let url = metastore_url(&ctx.root, &secrets)?;
    block_on(remove_node(&url, name))??;
    writeln!(out, "Removed node {name} from the cluster's membership.")?;
    writeln!(out, "{STILL_RUNNING}")?;
    Ok(())
}

async fn remove_node(url: &str, name: &str) -> Result<(), skein_actors::metastore::MetastoreError> {
    let ms = Metastore::open(url).await?;
    let removed = ms.remove_node(name).await;
    let _ = ms.close().await;
    removed
}

fn lead(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let text = rendered(ctx, &[("cluster.role", "leader")])?;
    let name = ctx.runtime()?.cluster.node_name.unwrap_or_default();
    if name.trim().is_empty() {
        bail!("this node has no cluster.nodeName: run `skein node setup` first");
    }
    let secrets = ctx.secrets()?;
    let shared = secrets.contains(POSTGRES_SECRET)?;
    let mut term = None;
    if shared {
        let url = metastore_url(&ctx.root, &secrets)?;
        match block_on(take(&url, &name, out))? {
            Ok(t) => term = Some(t),
            Err(TakeError::Unreachable(e)) => writeln!(
                out,
                "Warning: cannot reach the shared metastore ({}); leadership will be taken when the node starts.",
                super::error_message(&e.into())
            )?,
            Err(TakeError::Lost(e)) => return Err(e),
        }
    }
    ctx.root.ensure()?;
    write_private_file(&ctx.root.config_file(), text.as_bytes())?;
    match term {
        Some(term) => {
            writeln!(out, "Node {name} leads the cluster in term {term}.")?;
            // The running node's coordinator sees the new term at its next
            // heartbeat; a stopped one leads when it starts.
            writeln!(
                out,
                "A running node takes over within a heartbeat; a stopped one leads when started."
            )?;
        }
        None if !shared => {
            writeln!(
                out,
                "Node {name} is configured to lead, but no shared metastore is configured: `skein run` refuses a clustered node without one (set {POSTGRES_SECRET})."
            )?;
            writeln!(out, "{RESTART}")?;
        }
        None => {
            writeln!(out, "Node {name} is configured to lead.")?;
            writeln!(out, "{RESTART}")?;
        }
    }
    Ok(())
}

/// `node follow`: a running leader is demoted gracefully (through its
/// API); a stopped one the metastore names as leader is refused unless
/// `--force`; then `cluster.role = follower` is written.
fn follow(ctx: &Context, args: FollowArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    rendered(ctx, &[("cluster.role", "follower")])?;
    let name = ctx.runtime()?.cluster.node_name.unwrap_or_default();
    let secrets = ctx.secrets()?;
    let named = match secrets.contains(POSTGRES_SECRET)? && !name.trim().is_empty() {
        true => {
            let url = metastore_url(&ctx.root, &secrets)?;
            block_on(leadership(&url))?
                .ok()
                .filter(|l| l.leader_node.as_deref() == Some(name.as_str()))
        }
        false => None,
    };
    if let Some(now) = &named {
        if leads_here(ctx, &args.node) {
            let demote = super::node_demote::DemoteArgs {
                node: args.node,
                wait: true,
                to: None,
                force: false,
            };
            super::node_demote::execute(ctx, demote, out)?;
        } else if !args.force {
            let tried = args
                .node
                .endpoint(ctx)
                .map_or_else(|e| e.to_string(), |e| e.base().to_owned());
            bail!(
                "the shared metastore names this node ({name}) the leader in term {}, so it would lead again when started, \
                 and no running leader answered at {tried} (pass --url if it runs elsewhere). \
                 Start it (`skein run`) and run `skein node follow` again to hand leadership over gracefully, \
                 or run `skein node lead` on the other node; --force only sets cluster.role",
                now.term
            );
        } else {
            writeln!(
                out,
                "Warning: the shared metastore still names this node the leader in term {}: it leads again when started unless another node takes leadership (`skein node lead` there).",
                now.term
            )?;
        }
    }
    write_keys(ctx, &[("cluster.role", "follower")])?;
    writeln!(out, "This node will follow the cluster's leader.")?;
    if named.is_none() {
        writeln!(out, "{RESTART}")?;
    }
    Ok(())
}

/// The leadership row, or why the metastore could not be read.
async fn leadership(
    url: &str,
) -> Result<skein_actors::metastore::cluster::Leadership, skein_actors::metastore::MetastoreError> {
    let ms = Metastore::open(url).await?;
    let now = ms.current_leadership().await;
    let _ = ms.close().await;
    now
}

/// Whether this node's running API (`node`) answers and reports it leader.
fn leads_here(ctx: &Context, node: &super::node_demote::NodeApiArgs) -> bool {
    let Ok(endpoint) = node.endpoint(ctx) else {
        return false;
    };
    let client = crate::client::HttpClient::new(endpoint);
    crate::client::block_on(client.get("/health", &[]))
        .ok()
        .and_then(|body| serde_json::from_slice::<Value>(&body).ok())
        .is_some_and(|h| h["role"] == "Leader")
}

enum TakeError {
    Unreachable(skein_actors::metastore::MetastoreError),
    Lost(anyhow::Error),
}

/// Takes leadership for `me` in the next term (keeping the current term
/// when `me` already leads in it), then — when the previous leader's lease
/// still runs, so it may still be accepting writes — waits, saying so on
/// `out`, until it has run out and `me` may accept writes.
async fn take(url: &str, me: &str, out: &mut dyn Write) -> Result<u64, TakeError> {
    let ms = Metastore::open(url).await.map_err(TakeError::Unreachable)?;
    let result = match take_term(&ms, me).await {
        Ok(term) => wait_previous_lease(&ms, me, term, out).await.map(|_| term),
        Err(e) => Err(e),
    };
    let _ = ms.close().await;
    result
}

/// Waits until no previous leader's lease runs in `term`, which `me` leads.
async fn wait_previous_lease(
    ms: &Metastore,
    me: &str,
    term: u64,
    out: &mut dyn Write,
) -> Result<(), TakeError> {
    let lost = |e: anyhow::Error| TakeError::Lost(e);
    let mut said = false;
    loop {
        let now = ms.current_leadership().await.map_err(|e| lost(e.into()))?;
        if now.term != term || now.leader_node.as_deref() != Some(me) {
            return Err(lost(anyhow::anyhow!(
                "another node took leadership (term {}) while this one waited",
                now.term
            )));
        }
        let left = now.previous_lease_remaining;
        if left.is_zero() {
            if said {
                writeln!(out, "The previous leader's lease has run out.")
                    .map_err(|e| lost(e.into()))?;
            }
            return Ok(());
        }
        if !said {
            writeln!(
                out,
                "Node {me} leads in term {term}; waiting {:.0} s for the previous leader's lease to run out (until then it may still accept writes, so this node does not)...",
                left.as_secs_f64().ceil()
            )
            .map_err(|e| lost(e.into()))?;
            out.flush().map_err(|e| lost(e.into()))?;
            said = true;
        }
        tokio::time::sleep(left.min(LEASE_POLL)).await;
    }
}

/// Takes leadership for `me` in the next term, or keeps the current one
/// (without touching its lease) when `me` already leads in it.
async fn take_term(ms: &Metastore, me: &str) -> Result<u64, TakeError> {
    let lost = |e: skein_actors::metastore::MetastoreError| TakeError::Lost(e.into());
    let mut result = Err(TakeError::Lost(anyhow::anyhow!(
        "other nodes kept changing the leadership term; try again"
    )));
    for _ in 0..5 {
        let now = ms.current_leadership().await.map_err(lost)?;
        if now.leader_node.as_deref() == Some(me) {
            // A running leader's lease is its own: shortening it here
            // would let another node take over while it still writes.
            result = Ok(now.term);
            break;
        }
        if let Some(term) = ms
            .take_leadership(me, now.term, LEAD_LEASE)
            .await
            .map_err(lost)?
        {
            result = Ok(term);
            break;
        }
    }
    result
}

/// skein.json with `pairs` set, validated (nothing is written).
fn rendered(ctx: &Context, pairs: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut doc: Value = file_doc(ctx)?;
    for (key, raw) in pairs {
        let info = keys::find(key)?;
        keys::set_path(&mut doc, info.name, info.parse(raw)?)?;
    }
    validated(ctx, &doc)
}

/// Sets `pairs` in skein.json after validating the result.
fn write_keys(ctx: &Context, pairs: &[(&str, &str)]) -> anyhow::Result<()> {
    let text = rendered(ctx, pairs)?;
    ctx.root.ensure()?;
    write_private_file(&ctx.root.config_file(), text.as_bytes())?;
    Ok(())
}

/// `raw` parsed, refused unless it uses one of `schemes` and has a host.
fn check_uri(option: &str, raw: &str, schemes: &[&str]) -> anyhow::Result<Url> {
    let url =
        Url::parse(raw).map_err(|e| anyhow::anyhow!("{option}: `{raw}` is not a URI: {e}"))?;
    if !schemes.contains(&url.scheme()) {
        bail!("{option}: `{raw}` must use {}", schemes.join(" or "));
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("{option}: `{raw}` has no host");
    }
    Ok(url)
}
