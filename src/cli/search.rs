//! `skein search --filter F`: prints the events a server holds that match a
//! filter, newest first, via `GET /api/events` — one readable line each
//! (timestamp, level, rendered message), or the server's CLEF with `--clef`.

use std::io::Write;

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;
use skein_store::event::{format_timestamp, parse_timestamp};

use crate::client::{self, ClientError, HttpClient, RetryPolicy, ServerArgs};

const EXAMPLES: &str = "\
Examples:
  skein search --filter \"@Level = 'Error'\" --url http://localhost:5341
  skein search --filter \"Application = 'checkout' and StatusCode >= 500\" --count 20
  skein search --filter \"@Message like '%timeout%'\" --from 2025-01-01T00:00:00Z --to 2025-01-02T00:00:00Z
  skein search --filter \"TraceId = '4bf92f3577b34da6a3ce929d0e0e4736'\" --clef > trace.clef

Without --filter every event matches. Times are ISO 8601 (UTC unless an
offset is given). Each line shows the timestamp, the level and the rendered
message; --clef prints the events as the server stores them.";

/// `skein search` arguments.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct SearchArgs {
    /// The filter, in Seq's filter language
    #[arg(long, short = 'f', default_value = "")]
    pub filter: String,
    /// The most events to print
    #[arg(long, short = 'n', default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// Only events at or after this time
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<String>,
    /// Only events before this time
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<String>,
    /// Print the events as CLEF lines
    #[arg(long)]
    pub clef: bool,
    /// The server
    #[command(flatten)]
    pub server: ServerArgs,
}

/// An ISO 8601 time, normalized to Seq's UTC form.
fn parse_time(text: &str) -> Result<String, String> {
    parse_timestamp(text.trim())
        .map(format_timestamp)
        .map_err(|e| format!("`{text}`: {e}"))
}

/// Executes `skein search`.
pub fn execute(args: SearchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let endpoint = args.server.endpoint()?;
    let count = args.count.to_string();
    let mut query: Vec<(&str, &str)> = vec![("count", &count)];
    if !args.filter.trim().is_empty() {
        query.push(("filter", &args.filter));
    }
    if let Some(from) = &args.from {
        query.push(("fromDateUtc", from));
    }
    if let Some(to) = &args.to {
        query.push(("toDateUtc", to));
    }
    query.push(if args.clef {
        ("clef", "")
    } else {
        ("render", "true")
    });
    let answer = client::block_on(async {
        let client = HttpClient::new(endpoint);
        RetryPolicy::default()
            .run(|| client.get("/api/events", &query), |_, _, _| {})
            .await
    });
    let answer = answer.map_err(|e| match e.last {
        ClientError::Status {
            status: 400,
            message,
        } => {
            anyhow::anyhow!("the server refused the search: {message}")
        }
        _ => anyhow::Error::new(e).context("search failed"),
    })?;
    if args.clef {
        out.write_all(&answer)?;
        if !answer.is_empty() && !answer.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    let events: Vec<Value> = serde_json::from_slice(&answer)
        .context("unexpected answer from the server: not a JSON array of events")?;
    if events.is_empty() {
        eprintln!("No matching events.");
    }
    for event in &events {
        writeln!(out, "{}", event_line(event))?;
    }
    Ok(())
}

/// One event entity as `timestamp [LVL] message`, on one line.
pub fn event_line(event: &Value) -> String {
    let timestamp = event["Timestamp"].as_str().unwrap_or("?");
    let level = level_abbreviation(event["Level"].as_str().unwrap_or("Information"));
    let message = match event["RenderedMessage"].as_str() {
        Some(m) => m.to_owned(),
        None => render_tokens(&event["MessageTemplateTokens"]),
    };
    let message: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{timestamp} [{level}] {message}")
}

/// Seq's three-letter level names; other levels are shown as they are.
fn level_abbreviation(level: &str) -> &str {
    match level {
        "Verbose" => "VRB",
        "Debug" => "DBG",
        "Information" => "INF",
        "Warning" => "WRN",
        "Error" => "ERR",
        "Fatal" => "FTL",
        other => other,
    }
}

/// The message from `MessageTemplateTokens` (text, or a property's
/// formatted value) when the server sent no `RenderedMessage`.
fn render_tokens(tokens: &Value) -> String {
    let Some(tokens) = tokens.as_array() else {
        return String::new();
    };
    tokens
        .iter()
        .map(|t| {
            if let Some(text) = t["Text"].as_str() {
                text.to_owned()
            } else if let Some(value) = t["FormattedValue"].as_str() {
                value.to_owned()
            } else {
                format!("{{{}}}", t["PropertyName"].as_str().unwrap_or("?"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_print_on_one_readable_line() {
        let e = json!({"Timestamp": "2025-01-01T00:00:00.0000000Z", "Level": "Error",
            "RenderedMessage": "Order 7\nfailed", "Properties": []});
        assert_eq!(
            event_line(&e),
            "2025-01-01T00:00:00.0000000Z [ERR] Order 7 failed"
        );
        let e = json!({"Timestamp": "t", "Level": "Notice", "MessageTemplateTokens": [
            {"Text": "User "}, {"PropertyName": "Id", "FormattedValue": "42"}, {"Text": " in"}, {"PropertyName": "X"}]});
        assert_eq!(event_line(&e), "t [Notice] User 42 in{X}");
    }

    #[test]
    fn times_are_checked_and_normalized() {
        assert_eq!(
            parse_time("2025-01-01T01:00:00+01:00").unwrap(),
            "2025-01-01T00:00:00.0000000Z"
        );
        assert!(parse_time("yesterday").unwrap_err().contains("yesterday"));
    }
}
