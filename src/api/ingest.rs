//! Ingestion endpoints, as Seq clients call them:
//! `POST /api/events/raw` (CLEF with `?clef` or the CLEF content type, else
//! legacy JSON) and `POST /ingest/clef`. Bodies may be gzip-compressed. The
//! answer, `201 {"MinimumLevelAccepted": …}`, comes only once the batch is
//! fsynced; a body with any bad event stores nothing.

use std::time::Duration;

use actix_web::http::header::HeaderValue;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::StreamExt;
use skein_actors::messages::{IngestBody, IngestFormat, Ingested};
use skein_store::event::ParseLimits;
use skein_store::Severity;

use super::error::ApiError;
use super::AppState;

/// The longest a client may take to send its body (slow-loris guard).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The CLEF content type.
pub const CLEF_CONTENT_TYPE: &str = "application/vnd.serilog.clef";
/// On a 201 that stored events: the leadership term they were stored in.
/// With [`ACKED_BY_HEADER`] it lets a client (or a fault campaign) check
/// that no two nodes ever acknowledged writes in the same term.
pub const ACKED_TERM_HEADER: &str = "x-skein-acked-term";
/// On a 201 that stored events: the name of the node that stored them
/// (the leader, also when a follower forwarded the request).
pub const ACKED_BY_HEADER: &str = "x-skein-acked-by";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/events/raw", web::post().to(raw))
        .route("/ingest/clef", web::post().to(clef));
}

async fn raw(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let wants_clef = req
        .query_string()
        .split('&')
        .any(|p| p.eq_ignore_ascii_case("clef") || p.starts_with("clef="))
        || content_type(&req).starts_with(CLEF_CONTENT_TYPE);
    let format = if wants_clef {
        IngestFormat::Clef
    } else {
        IngestFormat::Legacy
    };
    ingest(req, body, state, format).await
}

async fn clef(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    ingest(req, body, state, IngestFormat::Clef).await
}

/// The request's content type, trimmed and lower-cased ("" when absent).
pub fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn ingest(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    format: IngestFormat,
) -> Result<HttpResponse, ApiError> {
    let (ingested, minimum_level) = store_body(&req, body, &state, format).await?;
    let mut answer = HttpResponse::Created();
    name_the_acknowledgement(&mut answer, &ingested, &state);
    Ok(answer.json(serde_json::json!({
        "MinimumLevelAccepted": minimum_level.map(|s| s.name()),
    })))
}

/// Checks the caller's ingestion grant, reads the body and stores it
/// durably in `format`: what was stored and dropped, and the minimum level
/// the grant applied.
pub async fn store_body(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
    format: IngestFormat,
) -> Result<(Ingested, Option<Severity>), ApiError> {
    let grant = state.credentials.ingest_grant(req).await?;
    let body = read_body(req, body, state.max_payload_bytes).await?;
    let bytes = body.len();
    let ingested = state
        .actors
        .ingestor
        .send(IngestBody {
            body,
            format,
            minimum_level: grant.minimum_level,
            limits: ParseLimits::default(),
            applied_properties: grant.applied_properties,
        })
        .await??;
    state.metrics.ingested(ingested.stored as u64, bytes as u64);
    Ok((ingested, grant.minimum_level))
}

/// Names the term and node that stored the events ([`ACKED_TERM_HEADER`],
/// [`ACKED_BY_HEADER`]) on an answer that stored some.
pub fn name_the_acknowledgement(
    answer: &mut actix_web::HttpResponseBuilder,
    ingested: &Ingested,
    state: &AppState,
) {
    if let Some(term) = ingested.term {
        answer.insert_header((ACKED_TERM_HEADER, term));
        // A node name that is no valid header value is left out, not fatal.
        if let Ok(name) = HeaderValue::from_str(&state.instance_name) {
            answer.insert_header((ACKED_BY_HEADER, name));
        }
    }
}

/// Reads the (decompressed) body, refusing more than `limit` bytes and
/// bodies that trickle in slower than [`BODY_TIMEOUT`].
pub async fn read_body(
    req: &HttpRequest,
    body: web::Payload,
    limit: u64,
) -> Result<bytes::Bytes, ApiError> {
    // `Content-Encoding: gzip` (or deflate) bodies are decoded here; the
    // limit applies to the decoded bytes, so a compression bomb stops at it.
    // actix would pass any other encoding through undecoded: refuse it.
    if let Some(encoding) = req.headers().get(actix_web::http::header::CONTENT_ENCODING) {
        let encoding = String::from_utf8_lossy(encoding.as_bytes());
        let encoding = encoding.trim();
        if !["identity", "gzip", "deflate"]
            .iter()
            .any(|e| e.eq_ignore_ascii_case(encoding))
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "unsupported Content-Encoding `{encoding}` (send gzip, deflate or identity)"
            )));
        }
    }
    let mut body = actix_web::dev::Decompress::from_headers(body.into_inner(), req.headers());
    let read = async {
        let mut buf = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::BadRequest(format!("cannot read the request body: {e}")))?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the request body is larger than the limit of {limit} bytes (setting ingestion.maxPayloadBytes)"
                )));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .map_err(|_| {
            ApiError::Timeout(format!(
                "the request body took longer than {}s to arrive",
                BODY_TIMEOUT.as_secs()
            ))
        })?
}
