//! Events read from CLEF or JSON lines and gathered into request bodies of
//! at most N events ([`BatchReader`]), for `skein ingest` and
//! `skein bench ingest --file`.
//!
//! Each line is checked to be one JSON object before it is sent, so a
//! malformed line is reported with its line number in the input and nothing
//! after it is posted. Every [`Batch`] remembers the input line of each of
//! its events, so an error the server names by line or event index within
//! the body can be traced back to the input ([`Batch::explain`]).

use std::collections::VecDeque;
use std::io::BufRead;

use bytes::Bytes;
use serde_json::value::RawValue;

/// The largest body built (the server's default limit is 10 MB).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// How the input is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Compact log event format: one JSON object with `@t` per line.
    Clef,
    /// Seq's legacy JSON: `{"Events":[…]}` documents, or one legacy event
    /// (`Timestamp`, `Level`, `MessageTemplate`, `Properties`) per line.
    Json,
}

impl InputFormat {
    /// The format a first line suggests: a line starting with `{"Events"`
    /// is legacy JSON, anything else CLEF.
    pub fn detect(first_line: &[u8]) -> InputFormat {
        let compact: Vec<u8> = first_line
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .take(9)
            .collect();
        if compact.starts_with(b"{\"Events\"") {
            InputFormat::Json
        } else {
            InputFormat::Clef
        }
    }

    /// The query that selects this format on `POST /api/events/raw`.
    pub fn query(self) -> &'static [(&'static str, &'static str)] {
        match self {
            InputFormat::Clef => &[("clef", "")],
            InputFormat::Json => &[],
        }
    }

    /// The body's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            InputFormat::Clef => super::CLEF_CONTENT_TYPE,
            InputFormat::Json => "application/json",
        }
    }
}

/// Why the input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input could not be read.
    #[error("cannot read line {line} of the input: {source}")]
    Read {
        /// The 1-based line being read.
        line: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a JSON object (or a legacy `Events` document).
    #[error("line {line}{}: {reason}", .column.map(|c| format!(", column {c}")).unwrap_or_default())]
    Malformed {
        /// The 1-based line of the input.
        line: u64,
        /// The 1-based column, when the JSON parser names one.
        column: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

/// One request body and the input lines its events came from.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The request body.
    pub body: Bytes,
    /// How the body is written.
    pub format: InputFormat,
    lines: Vec<u64>,
}

impl Batch {
    /// Events in the body.
    pub fn events(&self) -> usize {
        self.lines.len()
    }

    /// The input lines the batch spans, first and last.
    pub fn line_range(&self) -> (u64, u64) {
        (
            self.lines.first().copied().unwrap_or(0),
            self.lines.last().copied().unwrap_or(0),
        )
    }

    /// A server error about this body, with the line or event index it
    /// names within the body (`line 2: …`, `event 3 (line 1): …`) replaced
    /// by the input line of that event; other messages are kept as they are.
    pub fn explain(&self, message: &str) -> String {
        let found = match self.format {
            InputFormat::Clef => {
                number_after(message, "line ").map(|(n, span)| (n.checked_sub(1), span))
            }
            InputFormat::Json => number_after(message, "event ").map(|(n, (s, mut e))| {
                if let Some((_, (ls, le))) = number_after(&message[e..], " (line ") {
                    if ls == 0 && message[e + le..].starts_with(')') {
                        e += le + 1;
                    }
                }
                (Some(n), (s, e))
            }),
        };
        match found {
            Some((Some(i), (s, e))) if i < self.lines.len() => {
                let what = match self.format {
                    InputFormat::Clef => "line",
                    InputFormat::Json => "the event on line",
                };
                format!("{}{what} {}{}", &message[..s], self.lines[i], &message[e..])
            }
            _ => message.to_owned(),
        }
    }
}

/// The number after the first `prefix` in `text`, and the byte span of
/// prefix and number.
fn number_after(text: &str, prefix: &str) -> Option<(usize, (usize, usize))> {
    let start = text.find(prefix)?;
    let digits_at = start + prefix.len();
    let len = text[digits_at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let n = text[digits_at..digits_at + len].parse().ok()?;
    Some((n, (start, digits_at + len)))
}

/// Reads lines and yields [`Batch`]es of at most `batch_size` events.
pub struct BatchReader<R> {
    input: R,
    format: Option<InputFormat>,
    batch_size: usize,
    line: u64,
    bytes_read: u64,
    buf: Vec<u8>,
    pending: VecDeque<(Box<RawValue>, u64)>,
    done: bool,
}

impl<R: BufRead> BatchReader<R> {
    /// A reader of `input`; `format` `None` detects it from the first line.
    pub fn new(input: R, format: Option<InputFormat>, batch_size: usize) -> BatchReader<R> {
        BatchReader {
            input,
            format,
            batch_size: batch_size.max(1),
            line: 0,
            bytes_read: 0,
            buf: Vec::new(),
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// Changes the number of events in the batches still to come.
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Bytes of input consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The input's format, once known.
    pub fn format(&self) -> Option<InputFormat> {
        self.format
    }

    /// The next batch, `None` at the end of the input.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, BatchError> {
        let mut body = Vec::new();
        let mut lines = Vec::new();
        while lines.len() < self.batch_size && body.len() < MAX_BODY_BYTES {
            if let Some((event, line)) = self.pending.pop_front() {
                push_legacy(&mut body, &mut lines, event.get().as_bytes(), line);
                continue;
            }
            if !self.read_line()? {
                break;
            }
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let format = *self.format.get_or_insert_with(|| InputFormat::detect(text));
            let line = self.line;
            match format {
                InputFormat::Clef => {
                    check_object(text, line)?;
                    body.extend_from_slice(text);
                    body.push(b'\n');
                    lines.push(line);
                }
                InputFormat::Json if InputFormat::detect(text) == InputFormat::Json => {
                    let doc: EventsDocument = serde_json::from_slice(text)
                        .map_err(|e| malformed(line, &e, "expected {\"Events\":[…]}"))?;
                    self.pending
                        .extend(doc.events.into_iter().map(|e| (e, line)));
                }
                InputFormat::Json => {
                    check_object(text, line)?;
                    push_legacy(&mut body, &mut lines, text, line);
                }
            }
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let format = self.format.unwrap_or(InputFormat::Clef);
        if format == InputFormat::Json {
            body.extend_from_slice(b"]}");
        }
        Ok(Some(Batch {
            body: Bytes::from(body),
            format,
            lines,
        }))
    }

    /// Reads the next line into `buf`; false at the end of the input.
    fn read_line(&mut self) -> Result<bool, BatchError> {
        if self.done {
            return Ok(false);
        }
        self.buf.clear();
        self.line += 1;
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| BatchError::Read {
                line: self.line,
                source,
            })?;
        self.bytes_read += n as u64;
        if n == 0 {
            self.done = true;
            return Ok(false);
        }
        if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        Ok(true)
    }
}

impl<R: BufRead> Iterator for BatchReader<R> {
    type Item = Result<Batch, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

#[derive(serde::Deserialize)]
struct EventsDocument {
    #[serde(rename = "Events")]
    events: Vec<Box<RawValue>>,
}

fn push_legacy(body: &mut Vec<u8>, lines: &mut Vec<u64>, event: &[u8], line: u64) {
    body.extend_from_slice(if lines.is_empty() {
        b"{\"Events\":["
    } else {
        b","
    });
    body.extend_from_slice(event);
    lines.push(line);
}

/// Checks that `text` is exactly one JSON object.
fn check_object(text: &[u8], line: u64) -> Result<(), BatchError> {
    let raw: &RawValue = serde_json::from_slice(text)
        .map_err(|e| malformed(line, &e, "expected one JSON object per line"))?;
    if raw.get().starts_with('{') {
        Ok(())
    } else {
        Err(BatchError::Malformed {
            line,
            column: None,
            reason: "not a JSON object".into(),
        })
    }
}

fn malformed(line: u64, e: &serde_json::Error, hint: &str) -> BatchError {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    let reason = if e.is_data() {
        format!("{what} ({hint})")
    } else {
        format!("malformed JSON: {what}")
    };
    BatchError::Malformed {
        line,
        column: (e.column() > 0).then_some(e.column()),
        reason,
    }
}

#[cfg(test)]
mod tests;
