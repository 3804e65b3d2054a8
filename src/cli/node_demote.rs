//! `skein node demote [--url U] [--wait]`: graceful fail-over of a running
//! leader through its API (`POST /api/cluster/demote`). The leader stops
//! accepting writes, waits for the follower to reach its generation, hands
//! leadership over in the next term and follows; the command prints each
//! step and, with `--wait`, waits until the new leader reports itself.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use clap::Args;
use serde_json::Value;

use crate::client::{self, ClientError, HttpClient, ServerArgs};

/// How long `--wait` waits for the new leader.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// `node demote` arguments.
#[derive(Debug, Args)]
pub struct DemoteArgs {
    /// The running leader
    #[command(flatten)]
    pub server: ServerArgs,
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

/// Executes `skein node demote`.
pub fn execute(args: DemoteArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(to) = &args.to {
        query.push(("to", to));
    }
    if args.force {
        query.push(("force", "true"));
    }
    writeln!(out, "Demoting the leader at {} ...", args.server.url)?;
    let client = HttpClient::new(args.server.endpoint()?);
    let path = "/api/cluster/demote";
    let answer = client::block_on(client.post(path, &query, "application/json", Bytes::new()))
        .map_err(|e| match e {
            ClientError::Status { message, .. } => anyhow::anyhow!("demotion refused: {message}"),
            e => anyhow::Error::new(e).context("cannot reach the leader"),
        })?;
    let report: Value =
        serde_json::from_slice(&answer).context("unexpected answer: not a demotion report")?;
    for step in report["Steps"].as_array().into_iter().flatten() {
        writeln!(out, "  {}", step.as_str().unwrap_or_default())?;
    }
    let new_leader = report["NewLeader"].as_str().unwrap_or_default().to_string();
    let term = report["Term"].as_u64().unwrap_or_default();
    writeln!(out, "Leadership handed to {new_leader} in term {term}.")?;
    if !args.wait {
        return Ok(());
    }
    writeln!(out, "Waiting for {new_leader} to lead ...")?;
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
