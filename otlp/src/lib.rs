//! `skein-otlp`: OpenTelemetry's OTLP as Skein events, through the official
//! protobuf definitions (`opentelemetry-proto`, prost; OTLP/JSON through
//! their serde mapping). No runtime here, so the decoders are fuzzed alone
//! (`actors/fuzz`, `otlp`).
//!
//! - [`Signal`]: logs or traces, each with its decoder ([`decode`]) and its
//!   OTLP/HTTP success answer ([`export_answer`]); [`error_answer`] for
//!   refusals, [`Encoding`] from the content type.
//! - [`logs`]: log records → events; [`traces`]: spans → events.
//! - `properties`: what both share: attributes as nested JSON properties,
//!   the exception text, ids in hex.

pub mod logs;
mod properties;
pub mod traces;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use skein_store::Event;

/// What an OTLP/HTTP request exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `ExportLogsServiceRequest` (`/v1/logs`).
    Logs,
    /// `ExportTraceServiceRequest` (`/v1/traces`).
    Traces,
}

/// How an OTLP body is encoded (its `Content-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP/JSON: hex ids, 64-bit integers as strings).
    Json,
}

impl Encoding {
    /// The encoding of a `Content-Type` (parameters ignored), if OTLP has one.
    pub fn of_content_type(content_type: &str) -> Option<Encoding> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The content type answers in this encoding carry.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why an OTLP request was refused (nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// The body is not the signal's export request in its encoding.
    #[error("the body is not an OTLP {request} ({encoding}): {reason}")]
    Malformed {
        /// `ExportLogsServiceRequest` or `ExportTraceServiceRequest`.
        request: &'static str,
        /// `protobuf` or `JSON`.
        encoding: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// An item has no time (a log record neither `timeUnixNano` nor
    /// `observedTimeUnixNano`, a span no `startTimeUnixNano`).
    #[error("{item} of scope {scope} of resource {resource} has no {field}")]
    NoTime {
        /// `log record N` or `span N`.
        item: String,
        /// The scope's index.
        scope: usize,
        /// The resource's index.
        resource: usize,
        /// What is missing.
        field: &'static str,
    },
    /// A time beyond what a timestamp holds (after the year 2262).
    #[error("{item} of scope {scope} of resource {resource} has a time after 2262")]
    TimeOutOfRange {
        /// `log record N` or `span N`.
        item: String,
        /// The scope's index.
        scope: usize,
        /// The resource's index.
        resource: usize,
    },
}

/// Where an item sits in a request: (resource, scope, item) indexes.
pub(crate) type Place = (usize, usize, usize);

impl OtlpError {
    pub(crate) fn no_time(what: &str, (resource, scope, i): Place, field: &'static str) -> Self {
        OtlpError::NoTime {
            item: format!("{what} {i}"),
            scope,
            resource,
            field,
        }
    }

    pub(crate) fn out_of_range(what: &str, (resource, scope, i): Place) -> Self {
        OtlpError::TimeOutOfRange {
            item: format!("{what} {i}"),
            scope,
            resource,
        }
    }
}

/// Decodes a request body of `signal` into events, in request order.
pub fn decode(signal: Signal, body: &[u8], encoding: Encoding) -> Result<Vec<Event>, OtlpError> {
    match signal {
        Signal::Logs => logs::decode_logs(body, encoding),
        Signal::Traces => traces::decode_traces(body, encoding),
    }
}

/// Decodes `body` as the message `M` in `encoding`.
pub(crate) fn decode_message<M>(body: &[u8], encoding: Encoding) -> Result<M, OtlpError>
where
    M: Message + Default + serde::de::DeserializeOwned,
{
    let request = std::any::type_name::<M>()
        .rsplit("::")
        .next()
        .unwrap_or("request");
    match encoding {
        Encoding::Protobuf => M::decode(body).map_err(|e| OtlpError::Malformed {
            request,
            encoding: "protobuf",
            reason: e.to_string(),
        }),
        Encoding::Json => serde_json::from_slice(body).map_err(|e| OtlpError::Malformed {
            request,
            encoding: "JSON",
            reason: e.to_string(),
        }),
    }
}

/// The answer to an accepted request of `signal`, in `encoding`: empty, or
/// naming the items dropped (below the API key's minimum level) as rejected.
pub fn export_answer(signal: Signal, encoding: Encoding, dropped: usize, why: &str) -> Vec<u8> {
    let (rejected, why) = (dropped as i64, why.to_owned());
    match (encoding, dropped, signal) {
        (Encoding::Json, 0, _) => b"{}".to_vec(),
        (_, _, Signal::Logs) => encode_answer(
            encoding,
            &ExportLogsServiceResponse {
                partial_success: (dropped > 0).then_some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: why,
                }),
            },
        ),
        (_, _, Signal::Traces) => encode_answer(
            encoding,
            &ExportTraceServiceResponse {
                partial_success: (dropped > 0).then_some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: why,
                }),
            },
        ),
    }
}

fn encode_answer<M: Message + serde::Serialize>(encoding: Encoding, answer: &M) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => answer.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(answer).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The body of an OTLP/HTTP error answer (`google.rpc.Status` with the gRPC
/// `code` matching the HTTP status), in `encoding`; in JSON it also carries
/// the message as `Error`, as every error answer of Skein's API does.
pub fn error_answer(encoding: Encoding, http_status: u16, message: &str) -> Vec<u8> {
    // The gRPC codes OTLP/HTTP pairs with these statuses.
    let code = match http_status {
        400 | 413 | 415 => 3, // INVALID_ARGUMENT
        401 => 16,            // UNAUTHENTICATED
        403 => 7,             // PERMISSION_DENIED
        429 => 8,             // RESOURCE_EXHAUSTED
        503 => 14,            // UNAVAILABLE
        _ => 13,              // INTERNAL
    };
    match encoding {
        Encoding::Protobuf => Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        // `Error` repeats the message: every 4xx of Skein's API carries it.
        Encoding::Json => serde_json::to_vec(
            &serde_json::json!({ "code": code, "message": message, "Error": message }),
        )
        .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
