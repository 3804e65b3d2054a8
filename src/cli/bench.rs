//! `skein bench ingest`: a load generator to size machines and measure the
//! server. Request bodies are built before the clock starts (generated like
//! the shared dataset, or read from `--file`), then C connections post them;
//! it prints events/s, MB/s and p50/p99/max acknowledgement latency, and
//! fails if any request failed.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use crate::client::batch::{BatchReader, InputFormat};
use crate::client::dataset::{self, DEFAULT_SEED};
use crate::client::load::{self, LoadPlan, LoadReport};
use crate::client::progress::{self, megabytes, thousands};
use crate::client::{self, HttpClient, ServerArgs};

const INGEST_EXAMPLES: &str = "\
Examples:
  skein bench ingest --url http://localhost:5341
  skein bench ingest --events 1,000,000 --batch 1000 --connections 4
  skein bench ingest --events 1m --batch 10 --connections 16
  skein bench ingest --rate 75000 --events 2m
  skein bench ingest --file events.clef --batch 500

Without --file it posts synthetic events shaped like the shared benchmark
dataset (~290 bytes each, deterministic for a --seed). With --file the whole
file is sent once, or its first --events events. With --rate, batches are
due at a steady pace and latency counts from when each was due.";

/// `skein bench ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  skein bench ingest --url http://localhost:5341 --events 1m")]
pub enum BenchCommand {
    /// Measure ingestion: events/s, MB/s and acknowledgement latency
    #[command(after_help = INGEST_EXAMPLES)]
    Ingest(BenchIngestArgs),
}

/// `bench ingest` arguments.
#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// The server
    #[command(flatten)]
    pub server: ServerArgs,
    /// Events to post (1000000, 1,000,000, 1_000_000, 250k and 1m all work; default 1m, or the whole --file)
    #[arg(long, value_parser = parse_count)]
    pub events: Option<u64>,
    /// Events per request
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// Concurrent connections
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub connections: u64,
    /// Post the events of this CLEF (or JSON lines) file instead of generated ones
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Pace the load to this many events per second
    #[arg(long, value_name = "EVENTS_PER_SEC", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// The generated dataset's seed
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

/// Events generated when neither --events nor --file is given.
pub const DEFAULT_EVENTS: u64 = 1_000_000;

/// `1000`, `1,000`, `1_000`, `1k`, `2.5m`.
fn parse_count(text: &str) -> Result<u64, String> {
    let clean: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '_'))
        .collect();
    let (digits, factor) = match clean.to_ascii_lowercase().chars().last() {
        Some('k') => (&clean[..clean.len() - 1], 1e3),
        Some('m') => (&clean[..clean.len() - 1], 1e6),
        _ => (clean.as_str(), 1.0),
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a count like 1000, 1,000 or 1m"))?;
    let n = value * factor;
    if !(1.0..=1e12).contains(&n) || n.fract() != 0.0 {
        return Err(format!("`{text}`: expected a whole number from 1 to 10^12"));
    }
    Ok(n as u64)
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate = parse_count(text)
        .map(|n| n as f64)
        .or_else(|_| text.trim().parse::<f64>().map_err(|e| e.to_string()))?;
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format!(
            "`{text}`: expected a positive number of events per second"
        ))
    }
}

/// Executes `skein bench ...`.
pub fn execute(cmd: BenchCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Ingest(args) => ingest(args, out),
    }
}

fn ingest(args: BenchIngestArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let endpoint = args.server.endpoint()?;
    // Fail fast, before building hundreds of megabytes of bodies.
    client::block_on(async { HttpClient::new(endpoint.clone()).get("/health", &[]).await })
        .with_context(|| {
            format!(
                "the server at {} is not ready for a benchmark",
                endpoint.base()
            )
        })?;

    let plan = prepare(&args)?;
    let total_events: u64 = plan.events.iter().sum();
    let total_bytes: u64 = plan.bodies.iter().map(|b| b.len() as u64).sum();
    writeln!(
        out,
        "Posting {} events ({}) in {} requests of up to {} events over {} connections to {}{}",
        thousands(total_events),
        megabytes(total_bytes),
        thousands(plan.bodies.len() as u64),
        thousands(args.batch),
        args.connections,
        endpoint.base(),
        args.rate
            .map(|r| format!(", paced at {} events/s", thousands(r as u64)))
            .unwrap_or_default(),
    )?;
    out.flush()?;

    let bar = progress::bar(
        Some(total_events),
        "{spinner} [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} events, eta {eta}",
    );
    let on_ack = {
        let bar = bar.clone();
        move |events| bar.inc(events)
    };
    let report = client::block_on(load::run(&endpoint, plan, on_ack));
    bar.finish_and_clear();
    print_report(&report, out)?;
    if report.failed > 0 {
        bail!(
            "{} of {} requests failed{}; first failure: {}",
            thousands(report.failed),
            thousands(report.failed + report.acknowledged),
            if report.failed >= load::MAX_FAILURES {
                " (stopped early)"
            } else {
                ""
            },
            report.first_failure.as_deref().unwrap_or("unknown"),
        );
    }
    Ok(())
}

/// Builds the request bodies: generated, or read from `--file`.
fn prepare(args: &BenchIngestArgs) -> anyhow::Result<LoadPlan> {
    let batch = args.batch as usize;
    let spinner = progress::bar(None, "{spinner} preparing request bodies… {msg}");
    let (bodies, events, format) = match &args.file {
        None => {
            let n = args.events.unwrap_or(DEFAULT_EVENTS);
            let bodies = dataset::clef_bodies(n, batch, args.seed);
            let events = (0..bodies.len() as u64)
                .map(|k| (n - k * batch as u64).min(batch as u64))
                .collect();
            (bodies, events, InputFormat::Clef)
        }
        Some(path) => {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let mut reader = BatchReader::new(BufReader::with_capacity(1 << 20, f), None, batch);
            let limit = args.events.unwrap_or(u64::MAX);
            let (mut bodies, mut events, mut total) = (Vec::new(), Vec::new(), 0u64);
            while total < limit {
                reader.set_batch_size(batch.min((limit - total).min(usize::MAX as u64) as usize));
                let Some(b) = reader
                    .next_batch()
                    .with_context(|| format!("cannot read {}", path.display()))?
                else {
                    break;
                };
                total += b.events() as u64;
                events.push(b.events() as u64);
                bodies.push(b.body);
                spinner.set_message(format!("{} events", thousands(total)));
            }
            if total == 0 {
                bail!("{} holds no events", path.display());
            }
            let format = reader.format().unwrap_or(InputFormat::Clef);
            (bodies, events, format)
        }
    };
    spinner.finish_and_clear();
    Ok(LoadPlan {
        bodies,
        events,
        format,
        connections: args.connections as usize,
        rate: args.rate,
    })
}

fn print_report(r: &LoadReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let ms = |q: f64| r.latency.value_at_quantile(q) as f64 / 1000.0;
    writeln!(
        out,
        "events:     {} acknowledged in {} requests ({} failed)",
        thousands(r.events),
        thousands(r.acknowledged),
        thousands(r.failed)
    )?;
    writeln!(out, "elapsed:    {:.2} s", r.elapsed.as_secs_f64())?;
    writeln!(
        out,
        "throughput: {} events/s, {:.1} MB/s",
        thousands(r.events_per_sec() as u64),
        r.mb_per_sec()
    )?;
    if r.acknowledged > 0 {
        writeln!(
            out,
            "latency:    p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (acknowledgement)",
            ms(0.5),
            ms(0.99),
            r.latency.max() as f64 / 1000.0
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_like_people_write_them() {
        assert_eq!(parse_count("1000000"), Ok(1_000_000));
        assert_eq!(parse_count("1,000,000"), Ok(1_000_000));
        assert_eq!(parse_count("1_000"), Ok(1000));
        assert_eq!(parse_count("20k"), Ok(20_000));
        assert_eq!(parse_count("2.5M"), Ok(2_500_000));
        assert!(parse_count("0").is_err());
        assert!(parse_count("ten").is_err());
        assert!(parse_count("1.5").is_err());
        assert_eq!(parse_rate("75000"), Ok(75_000.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("inf").is_err());
    }
}
