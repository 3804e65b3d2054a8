//! The client side of the CLI: what `skein ingest`, `skein search` and
//! `skein bench ingest` share to talk to a server over HTTP.
//!
//! - [`ServerArgs`]: `--url` and `--api-key`, flattened into each command.
//! - [`Endpoint`]: a validated base URL (a path prefix is kept, for servers
//!   behind a reverse proxy) and the API key, sent as `X-Seq-ApiKey`.
//! - [`HttpClient`]: one awc client holding one keep-alive connection. awc
//!   clients are tied to their thread: make one per connection task, inside
//!   [`block_on`].
//! - [`ClientError`]: transport failures and error answers; an answer's
//!   `{"Error": "…"}` body becomes its message ([`error_message`]).
//! - [`RetryPolicy`]: retries of 5xx answers and transport failures with
//!   exponential backoff.
//! - [`batch`]: CLEF / JSON lines read into request bodies of N events.
//! - [`dataset`]: the deterministic synthetic dataset of the benchmarks
//!   (the store crate's generator, which its benches use too).
//! - [`load`]: concurrent, optionally paced posting of pre-built bodies with
//!   an acknowledgement-latency histogram.
//! - [`progress`]: progress bars on stderr and number formatting.

pub mod batch;
pub mod load;
pub mod progress;

pub use skein_store::dataset;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

/// The header that carries an API key.
pub const API_KEY_HEADER: &str = "X-Seq-ApiKey";
/// The CLEF content type.
pub const CLEF_CONTENT_TYPE: &str = "application/vnd.serilog.clef";
/// The largest answer body read (a search page can be large).
pub const MAX_ANSWER_BYTES: usize = 256 << 20;
/// How long one request may take, connection to last byte of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the server is: shared by every client command.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The server's base URL
    #[arg(long, env = "SKEIN_URL", default_value = "http://localhost:5341")]
    pub url: String,
    /// The API key to send
    #[command(flatten)]
    pub key: ApiKeyArg,
}

/// `--api-key` (or `SKEIN_API_KEY`): shared by every client command.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiKeyArg {
    /// An API key, sent in the X-Seq-ApiKey header
    #[arg(
        long,
        env = "SKEIN_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
}

impl ServerArgs {
    /// The validated endpoint these arguments name.
    pub fn endpoint(&self) -> Result<Endpoint, ClientError> {
        Endpoint::new(&self.url, self.key.api_key.as_deref())
    }
}

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// `--url` is not an http:// URL with a host.
    #[error("invalid server url `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No answer: connection refused or reset, timeout.
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("the server answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The answer's `Error` text (or its body, or the status's reason).
        message: String,
    },
    /// The answer's body could not be read or decoded.
    #[error("unexpected answer from the server: {0}")]
    BadAnswer(String),
}

impl ClientError {
    /// Whether trying again may help: transport failures and 5xx answers
    /// (and 408/429, the server asking to slow down).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Status { status, .. } => *status >= 500 || matches!(status, 408 | 429),
            ClientError::BadUrl { .. } | ClientError::BadAnswer(_) => false,
        }
    }
}

/// A server's base URL and API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: String,
    api_key: Option<String>,
}

impl Endpoint {
    /// Validates `url` (http:// with a host; a path prefix is kept, a query
    /// or fragment refused) and keeps `api_key` if it is not blank.
    pub fn new(url: &str, api_key: Option<&str>) -> Result<Endpoint, ClientError> {
        let bad = |reason: &str| ClientError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| bad(&format!("{e} (expected http://host[:port])")))?;
        match parsed.scheme() {
            "http" => {}
            "https" => {
                return Err(bad(
                    "https is not supported by this client yet; use http://",
                ))
            }
            _ => return Err(bad("expected http://host[:port]")),
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("a base url has no query or fragment"));
        }
        let api_key = api_key.map(str::trim).filter(|k| !k.is_empty());
        Ok(Endpoint {
            base: parsed.as_str().trim_end_matches('/').to_owned(),
            api_key: api_key.map(str::to_owned),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (which starts with `/`) with `query` encoded;
    /// a pair with an empty value is sent as a bare flag (`?clef`).
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = format!("{}{path}", self.base);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.extend(url::form_urlencoded::byte_serialize(k.as_bytes()));
            if !v.is_empty() {
                url.push('=');
                url.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
            }
        }
        url
    }
}

/// The message of an error answer: the `Error` field of a JSON body, else
/// the body's text (cut short), else the status's reason.
pub fn error_message(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "Error")]
        error: String,
    }
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
        return e.error;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() {
        return text.chars().take(500).collect();
    }
    awc::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("no reason given")
        .to_owned()
}

/// One awc client with one keep-alive connection to an [`Endpoint`].
/// Not `Send`: make one per task, on the thread that uses it.
pub struct HttpClient {
    endpoint: Endpoint,
    client: awc::Client,
}

impl HttpClient {
    /// A client for `endpoint` (one connection, [`REQUEST_TIMEOUT`]).
    pub fn new(endpoint: Endpoint) -> HttpClient {
        let connector = awc::Connector::new()
            .limit(1)
            .timeout(Duration::from_secs(10));
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(REQUEST_TIMEOUT)
            .disable_redirects()
            .finish();
        HttpClient { endpoint, client }
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `POST path` with a body; the answer's body on success.
    pub async fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, ClientError> {
        let url = self.endpoint.url(path, query);
        let request = self
            .with_key(self.client.post(&url))
            .content_type(content_type);
        let sent = request.send_body(body).await;
        answer(&url, sent).await
    }

    /// `GET path`; the answer's body on success.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Bytes, ClientError> {
        let url = self.endpoint.url(path, query);
        let sent = self.with_key(self.client.get(&url)).send().await;
        answer(&url, sent).await
    }

    /// `POST path` with an empty body, asking for `accept`, reading the
    /// answer line by line as it arrives: `on_line` gets each complete line
    /// (without its newline) of a 2xx answer; other statuses are errors as
    /// for [`HttpClient::post`]. `timeout` bounds the whole exchange.
    pub async fn post_lines(
        &self,
        (path, query): (&str, &[(&str, &str)]),
        accept: &str,
        timeout: Duration,
        on_line: &mut dyn FnMut(&[u8]) -> Result<(), ClientError>,
    ) -> Result<(), ClientError> {
        use futures_util::StreamExt as _;
        let url = self.endpoint.url(path, query);
        let request = self
            .with_key(self.client.post(&url))
            .insert_header((awc::http::header::ACCEPT, accept))
            .timeout(timeout);
        let sent = request.send().await;
        let broke = |e: awc::error::PayloadError| ClientError::Unreachable {
            url: url.clone(),
            reason: format!("the answer broke off: {e}"),
        };
        let mut response = match sent {
            Ok(r) if r.status().is_success() => r,
            other => return answer(&url, other).await.map(drop),
        };
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = response.next().await {
            pending.extend_from_slice(&chunk.map_err(broke)?);
            if pending.len() > MAX_ANSWER_BYTES {
                return Err(ClientError::BadAnswer(format!(
                    "an answer line is over {MAX_ANSWER_BYTES} bytes"
                )));
            }
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                on_line(&line[..end])?;
            }
        }
        if !pending.is_empty() {
            on_line(&pending)?;
        }
        Ok(())
    }

    fn with_key(&self, request: awc::ClientRequest) -> awc::ClientRequest {
        match &self.endpoint.api_key {
            Some(key) => request.insert_header((API_KEY_HEADER, key.as_str())),
            None => request,
        }
    }
}

/// Reads an answer: its body on 2xx, else a [`ClientError::Status`].
async fn answer<S>(
    url: &str,
    sent: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
) -> Result<Bytes, ClientError>
where
    S: futures_util::Stream<Item = Result<Bytes, awc::error::PayloadError>>,
{
    let mut response = sent.map_err(|e| ClientError::Unreachable {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let status = response.status();
    let body =
        response
            .body()
            .limit(MAX_ANSWER_BYTES)
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.to_owned(),
                reason: format!("the answer broke off: {e}"),
            })?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(ClientError::Status {
            status: status.as_u16(),
            message: error_message(status.as_u16(), &body),
        })
    }
}

/// How often, and how patiently, to retry a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; each later wait doubles.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts over about three seconds.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Runs `op` until it succeeds, fails with an error that is not
    /// retryable, or has been tried `attempts` times; `on_retry` hears of
    /// each failure that is retried (with the attempt number and the wait).
    pub async fn run<T, F, Fut>(
        &self,
        mut op: F,
        mut on_retry: impl FnMut(&ClientError, u32, Duration),
    ) -> Result<T, RetryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && attempt < self.attempts.max(1) => {
                    let wait = self.delay(attempt);
                    on_retry(&e, attempt, wait);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(last) => {
                    return Err(RetryError {
                        attempts: attempt,
                        last,
                    })
                }
            }
        }
    }
}

/// A request that failed for good, after `attempts` tries.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{last}{}", if *.attempts > 1 { format!(" (gave up after {} attempts)", .attempts) } else { String::new() })]
pub struct RetryError {
    /// How many times it was tried.
    pub attempts: u32,
    /// The last failure.
    #[source]
    pub last: ClientError,
}

/// Runs `future` on a fresh actix system (a single-threaded runtime, where
/// awc clients live).
pub fn block_on<F: Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

#[cfg(test)]
mod tests;
