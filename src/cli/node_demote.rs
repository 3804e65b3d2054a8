//! `skein node demote [--url U] [--wait]`: graceful fail-over of a running
//! leader through its API (`POST /api/cluster/demote`). The leader stops
//! accepting writes, waits for the follower to reach its generation, hands
//! leadership over in the next term and follows; the command prints each
//! step and, with `--wait`, waits until the new leader reports itself.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::Value;
use url::Url;

use super::Context;
use crate::client::{self, ClientError, Endpoint, HttpClient};
use crate::settings::runtime::RuntimeConfig;

/// How long `--wait` waits for the new leader.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);
/// How long the demotion itself may take (drain, catch-up, hand-over).
pub const DEMOTE_LIMIT: Duration = Duration::from_secs(120);
/// The media type the leader streams the demotion's steps in.
pub const NDJSON: &str = "application/x-ndjson";

/// How to reach this node's running API (`node demote`, `node follow`).
#[derive(Debug, Clone, Args)]
pub struct NodeApiArgs {
    /// The running node's base URL (default: this node's first api.listenUris
    /// entry, or its internal API, from the local configuration)
    #[arg(long, env = "SKEIN_URL")]
    pub url: Option<String>,
    /// The API key to send
    #[command(flatten)]
    pub key: crate::client::ApiKeyArg,
}

impl NodeApiArgs {
    /// The node's endpoint: `--url`, else [`local_url`] of the local
    /// configuration.
    pub fn endpoint(&self, ctx: &Context) -> anyhow::Result<Endpoint> {
        let url = match &self.url {
            Some(url) => url.clone(),
            None => local_url(&ctx.runtime()?)?,
        };
        Ok(Endpoint::new(&url, self.key.api_key.as_deref())?)
    }
}

/// `node demote` arguments.
#[derive(Debug, Args)]
pub struct DemoteArgs {
    /// Where the running leader's API is
    #[command(flatten)]
    pub node: NodeApiArgs,
    /// Wait until the new leader has taken over
    #[arg(long)]
    pub wait: bool,
    /// The follower to hand leadership to (default: the most recently seen follower)
    #[arg(long, value_name = "NODE")]
    pub to: Option<String>,
    /// Hand over even when the follower has not caught up in time
    #[arg(long)]
    pub force: bool,
}

/// Where this node's API is reached from the machine it runs on: its first
/// `api.listenUris` entry (an all-interfaces host read as loopback), else
/// its internal API URI.
pub fn local_url(config: &RuntimeConfig) -> anyhow::Result<String> {
    let uri = config
        .listen_uris
        .first()
        .or(config.cluster.internal_api_uri.as_ref())
        .context("the local configuration names no API address: pass --url")?;
    let mut uri: Url = uri.clone();
    let host = match uri.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_unspecified() => Some("127.0.0.1"),
        Some(url::Host::Ipv6(ip)) if ip.is_unspecified() => Some("[::1]"),
        _ => None,
    };
    if let Some(host) = host {
        uri.set_host(Some(host))
            .with_context(|| format!("{uri}: cannot address it locally"))?;
    }
    Ok(uri.as_str().trim_end_matches('/').to_owned())
}

/// Executes `skein node demote`: prints each step as the leader reports it.
pub fn execute(ctx: &Context, args: DemoteArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let endpoint = args.node.endpoint(ctx)?;
    writeln!(out, "Demoting the leader at {} ...", endpoint.base())?;
    out.flush()?;
    let client = HttpClient::new(endpoint);
    let (new_leader, term) = client::block_on(demote(&client, &args, &mut |step| {
        writeln!(out, "  {step}")?;
        out.flush()
    }))?;
    writeln!(out, "Leadership handed to {new_leader} in term {term}.")?;
    if !args.wait {
        return Ok(());
    }
    writeln!(out, "Waiting for {new_leader} to lead ...")?;
    out.flush()?;
    let started = Instant::now();
    while started.elapsed() < WAIT_LIMIT {
        if let Ok(body) = client::block_on(client.get("/api/cluster", &[])) {
            if leads(&body, &new_leader, term) {
                writeln!(out, "{new_leader} leads in term {term}.")?;
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("{new_leader} did not report itself as leader within {WAIT_LIMIT:?}")
}

/// Asks the leader behind `client` to demote itself, handing each step to
/// `on_step` as it happens; the new leader and its term.
pub async fn demote(
    client: &HttpClient,
    args: &DemoteArgs,
    on_step: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> anyhow::Result<(String, u64)> {
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(to) = &args.to {
        query.push(("to", to));
    }
    if args.force {
        query.push(("force", "true"));
    }
    let mut result: Option<Result<(String, u64), String>> = None;
    let mut on_line = |line: &[u8]| {
        let line: Value = serde_json::from_slice(line)
            .map_err(|e| ClientError::BadAnswer(format!("not a demotion step: {e}")))?;
        if let Some(step) = line["Step"].as_str() {
            on_step(step).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        } else if let Some(error) = line["Error"].as_str() {
            result = Some(Err(error.to_owned()));
        } else {
            let leader = line["NewLeader"].as_str().unwrap_or_default().to_owned();
            result = Some(Ok((leader, line["Term"].as_u64().unwrap_or_default())));
        }
        Ok(())
    };
    let path = ("/api/cluster/demote", query.as_slice());
    client
        .post_lines(path, NDJSON, DEMOTE_LIMIT, &mut on_line)
        .await
        .map_err(|e| match e {
            ClientError::Status { message, .. } => anyhow::anyhow!("demotion refused: {message}"),
            e => anyhow::Error::new(e).context("cannot reach the leader"),
        })?;
    match result {
        Some(Ok(done)) => Ok(done),
        Some(Err(error)) => bail!("demotion refused: {error}"),
        None => bail!("the leader's answer ended before the demotion's result"),
    }
}

/// Whether `/api/cluster`'s answer shows `name` leading in `term` or later.
fn leads(body: &[u8], name: &str, term: u64) -> bool {
    let Ok(cluster) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    cluster["Nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n["Name"] == name && n["Role"] == "Leader" && n["Term"].as_u64() >= Some(term))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_leader_is_recognised_in_the_cluster_answer() {
        let body = br#"{"Nodes":[{"Name":"a","Role":"Follower","Term":2},{"Name":"b","Role":"Leader","Term":2}]}"#;
        assert!(leads(body, "b", 2));
        assert!(!leads(body, "a", 2));
        assert!(!leads(body, "b", 3));
        assert!(!leads(b"not json", "b", 2));
    }
}
