//! `skein ingest [FILE|-]`: posts CLEF or JSON lines to a server in
//! batches, with a progress bar and a closing summary. Stops at the first
//! refused batch (4xx) with the server's reason and the input line it names;
//! retries 5xx answers and connection failures with backoff, then fails.
//! Batches before a failure stay ingested; a retried batch whose first
//! acknowledgement was lost may be stored twice (at-least-once).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context as _};
use clap::Args;
use indicatif::ProgressBar;

use crate::client::batch::{Batch, BatchReader, InputFormat};
use crate::client::progress::{self, megabytes, thousands};
use crate::client::{self, ClientError, HttpClient, RetryPolicy, ServerArgs};

const EXAMPLES: &str = "\
Examples:
  skein ingest events.clef --url http://localhost:5341
  skein ingest app.log --url http://logs:5341 --api-key 0123456789abcdef
  gzip -dc events.clef.gz | skein ingest - --batch 5000
  skein ingest legacy.json --format json

The format is detected from the first line unless --format is given: a line
starting with {\"Events\" is Seq's legacy JSON, anything else CLEF. Each line
is checked before it is sent; the first malformed line or refused batch
stops the command (batches before it stay ingested).";

/// `skein ingest` arguments.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct IngestArgs {
    /// The file to read (`-` or nothing: standard input)
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// The server
    #[command(flatten)]
    pub server: ServerArgs,
    /// Events per request
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// The input format (default: detected from the first line)
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
}

/// What was ingested.
#[derive(Debug, Default)]
struct Totals {
    events: u64,
    bytes: u64,
    requests: u64,
    minimum_level: Option<String>,
}

/// Executes `skein ingest`.
pub fn execute(args: IngestArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let endpoint = args.server.endpoint()?;
    let (input, size, name) = open(args.file.as_deref())?;
    let bar = progress::bar(
        size,
        match size {
            Some(_) => "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {msg}",
            None => "{spinner} [{elapsed_precise}] {bytes} read {msg}",
        },
    );
    let mut reader = BatchReader::new(input, args.format, args.batch as usize);
    let started = Instant::now();
    let mut totals = Totals::default();
    let result = client::block_on(async {
        let client = HttpClient::new(endpoint);
        post_all(&client, &mut reader, &bar, &mut totals).await
    });
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if let Err(e) = result {
        let done = match totals.events {
            0 => "no events were ingested".to_owned(),
            n => format!("{} events before it were ingested", thousands(n)),
        };
        return Err(e.context(format!("ingesting {name} stopped ({done})")));
    }
    writeln!(
        out,
        "Ingested {} events ({}) from {name} in {} requests, {seconds:.2} s: {} events/s",
        thousands(totals.events),
        megabytes(totals.bytes),
        thousands(totals.requests),
        thousands((totals.events as f64 / seconds.max(1e-9)) as u64),
    )?;
    if let Some(level) = totals.minimum_level {
        writeln!(
            out,
            "The server accepts events at level {level} and above; it dropped the others."
        )?;
    }
    Ok(())
}

/// The input, its size when it is a regular file, and its name.
fn open(file: Option<&std::path::Path>) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>, String)> {
    match file {
        None => Ok((
            Box::new(std::io::stdin().lock()),
            None,
            "standard input".into(),
        )),
        Some(p) if p.as_os_str() == "-" => Ok((
            Box::new(std::io::stdin().lock()),
            None,
            "standard input".into(),
        )),
        Some(path) => {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let meta = f
                .metadata()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if meta.is_dir() {
                anyhow::bail!("{} is a directory, not a file of events", path.display());
            }
            let size = meta.is_file().then_some(meta.len());
            let reader = BufReader::with_capacity(1 << 20, f);
            Ok((Box::new(reader), size, path.display().to_string()))
        }
    }
}

async fn post_all<R: BufRead>(
    client: &HttpClient,
    reader: &mut BatchReader<R>,
    bar: &ProgressBar,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let policy = RetryPolicy::default();
    while let Some(batch) = reader.next_batch()? {
        let answer = policy
            .run(
                || {
                    let f = batch.format;
                    client.post(
                        "/api/events/raw",
                        f.query(),
                        f.content_type(),
                        batch.body.clone(),
                    )
                },
                |e, attempt, wait| {
                    bar.suspend(|| {
                        eprintln!(
                            "warning: {e}; retrying in {:.1} s (attempt {} of {})",
                            wait.as_secs_f64(),
                            attempt + 1,
                            policy.attempts
                        )
                    })
                },
            )
            .await
            .map_err(|e| refused(&batch, e))?;
        totals.events += batch.events() as u64;
        totals.bytes += batch.body.len() as u64;
        totals.requests += 1;
        totals.minimum_level = minimum_level(&answer);
        bar.set_position(reader.bytes_read());
        bar.set_message(format!("{} events", thousands(totals.events)));
    }
    Ok(())
}

/// The error for a batch that failed for good, naming its input lines.
fn refused(batch: &Batch, e: client::RetryError) -> anyhow::Error {
    let (first, last) = batch.line_range();
    match &e.last {
        ClientError::Status { status, message } if (400..500).contains(status) => {
            let hint = match status {
                413 => " (try a smaller --batch)",
                401 | 403 => " (check --api-key)",
                _ => "",
            };
            anyhow!(
                "the server refused the batch of input lines {first}-{last} ({status}): {}{hint}",
                batch.explain(message)
            )
        }
        _ => anyhow!(e).context(format!("cannot post input lines {first}-{last}")),
    }
}

/// `MinimumLevelAccepted` of a 201 answer.
fn minimum_level(answer: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Accepted {
        #[serde(rename = "MinimumLevelAccepted")]
        minimum_level: Option<String>,
    }
    serde_json::from_slice::<Accepted>(answer)
        .ok()
        .and_then(|a| a.minimum_level)
}
