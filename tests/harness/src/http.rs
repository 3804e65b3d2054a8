//! Raw HTTP/1.1 for the tests: one request a fresh connection
//! (`Connection: close`), answers parsed by hand (de-chunked), so a test
//! sees exactly what the node sent; CLEF ingestion; Prometheus samples.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The CLEF content type.
pub const CLEF: &str = "application/vnd.serilog.clef";

/// One HTTP/1.1 request on a fresh connection (`Connection: close`); the
/// status (0 when nothing answered) and the body.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let answer = exchange(port, method, path, headers, body);
    (answer.status, answer.body)
}

/// An HTTP answer: status (0 when nothing answered), head and body.
#[derive(Debug, Default)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    /// The body (de-chunked).
    pub body: String,
}

impl Answer {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as JSON; panics (with the answer) when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// [`request`], keeping the answer's headers.
pub fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Answer::default();
    };
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .is_err()
    {
        // The server may answer (413) before reading the whole body.
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_answer(&raw)
}

/// Status and body of a raw HTTP response (de-chunked when chunked).
pub fn parse_response(raw: &[u8]) -> (u16, String) {
    let answer = parse_answer(raw);
    (answer.status, answer.body)
}

/// A raw HTTP response's status, head and (de-chunked) body.
pub fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Answer {
            status,
            head: text.into_owned(),
            body: String::new(),
        };
    };
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Answer {
        status,
        head: head.to_owned(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// A chunked (`Transfer-Encoding: chunked`) body's content.
pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Posts `body` as CLEF to `/ingest/clef` on `port`; (status, answer).
pub fn ingest_clef(port: u16, body: &str) -> (u16, String) {
    let answer = ingest_clef_answer(port, body);
    (answer.status, answer.body)
}

/// [`ingest_clef`], keeping the answer's headers.
pub fn ingest_clef_answer(port: u16, body: &str) -> Answer {
    exchange(
        port,
        "POST",
        "/ingest/clef",
        &[("Content-Type", CLEF)],
        body.as_bytes(),
    )
}

/// Every sample of a Prometheus text (name with labels → value).
pub fn metric_samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}
