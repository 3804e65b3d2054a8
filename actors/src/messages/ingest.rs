//! Ingestion: a raw request body to parse, filter and store.

use actix::Message;
use bytes::Bytes;
use skein_store::event::{ParseError, ParseLimits};
use skein_store::Severity;

use super::store::AppendError;

/// The body's wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestFormat {
    /// One JSON object per line.
    Clef,
    /// Seq's legacy `{"Events":[...]}` JSON.
    Legacy,
    /// An OpenTelemetry export request (OTLP/HTTP): logs or traces.
    Otlp(skein_otlp::Signal, skein_otlp::Encoding),
}

/// Parse, filter by level and durably store one request body.
#[derive(Debug)]
pub struct IngestBody {
    /// The (already decompressed) body.
    pub body: Bytes,
    /// How to read it.
    pub format: IngestFormat,
    /// Events below this severity are dropped (API key or server minimum level).
    pub minimum_level: Option<Severity>,
    /// Per-event limits.
    pub limits: ParseLimits,
    /// Properties set on every event (the API key's applied properties),
    /// replacing any the client sent under the same name.
    pub applied_properties: Vec<(String, serde_json::Value)>,
}

/// What an ingested body became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// Events stored.
    pub stored: usize,
    /// Events dropped by the minimum level.
    pub dropped: usize,
    /// The leadership term the events were stored in (None when every
    /// event was dropped and nothing was stored).
    pub term: Option<u64>,
}

/// Why a body was not stored. Nothing of it was stored in any case.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The body does not parse; names the line and reason.
    #[error("invalid payload: {0}")]
    BadPayload(#[from] ParseError),
    /// The OTLP request does not decode, or a record cannot be stored.
    #[error("{0}")]
    BadOtlp(#[from] skein_otlp::OtlpError),
    /// The store refused or failed the write.
    #[error(transparent)]
    Append(#[from] AppendError),
    /// The ingestor is not running (restarting or shutting down).
    #[error("the ingestor is unavailable")]
    Unavailable,
}

impl Message for IngestBody {
    type Result = Result<Ingested, IngestError>;
}
