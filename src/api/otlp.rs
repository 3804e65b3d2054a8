//! OpenTelemetry ingestion over HTTP, as Seq serves it:
//! `POST /ingest/otlp/v1/logs` (an `ExportLogsServiceRequest`) and
//! `POST /ingest/otlp/v1/traces` (an `ExportTraceServiceRequest`), in
//! protobuf (`application/x-protobuf`) or OTLP/JSON (`application/json`,
//! beyond Seq), gzip bodies accepted, API keys in `X-Seq-ApiKey` as for
//! CLEF. Records and spans become events as [`skein_otlp::logs`] and
//! [`skein_otlp::traces`] map them, stored durably before the answer, like
//! any batch; a request with any bad item stores nothing.
//!
//! Answers follow OTLP/HTTP, in the request's encoding: 200 with the
//! signal's export response (its `partial_success` counts items below the
//! API key's minimum level as rejected); errors carry a
//! `google.rpc.Status` with the HTTP status (400 malformed or a record
//! without time, 401/403 credentials, 413 too large, 415 another content
//! type — answered in JSON —, 503 retry later); in JSON the status also
//! carries `Error`, as every error of the API does.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use skein_actors::messages::IngestFormat;
use skein_otlp::{error_answer, export_answer, Encoding, Signal};

use super::error::ApiError;
use super::ingest::{content_type, name_the_acknowledgement, store_body};
use super::AppState;

/// Where OTLP/HTTP log exporters post (Seq's path).
pub const LOGS_PATH: &str = "/ingest/otlp/v1/logs";
/// Where OTLP/HTTP span exporters post (Seq's path).
pub const TRACES_PATH: &str = "/ingest/otlp/v1/traces";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(LOGS_PATH, web::post().to(logs))
        .route(TRACES_PATH, web::post().to(traces));
}

async fn logs(req: HttpRequest, body: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    export(Signal::Logs, req, body, state).await
}

async fn traces(req: HttpRequest, body: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    export(Signal::Traces, req, body, state).await
}

async fn export(
    signal: Signal,
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let content_type = content_type(&req);
    let Some(encoding) = Encoding::of_content_type(&content_type) else {
        // Credentials first, as for every other refusal: a caller without
        // them learns nothing about what the route takes.
        if let Err(e) = state.credentials.ingest_grant(&req).await {
            return error(Encoding::Json, &e);
        }
        let why = format!(
            "OTLP exports are application/x-protobuf or application/json, not `{}`",
            super::admin::clip(&content_type)
        );
        return error(Encoding::Json, &ApiError::UnsupportedMediaType(why));
    };
    match store_body(&req, body, &state, IngestFormat::Otlp(signal, encoding)).await {
        Ok((ingested, minimum_level)) => {
            let why = minimum_level.map_or_else(String::new, |min| {
                format!(
                    "{} item(s) below the minimum level {} were dropped",
                    ingested.dropped,
                    min.name()
                )
            });
            let mut answer = HttpResponse::Ok();
            name_the_acknowledgement(&mut answer, &ingested, &state);
            answer
                .content_type(encoding.content_type())
                .body(export_answer(signal, encoding, ingested.dropped, &why))
        }
        Err(e) => error(encoding, &e),
    }
}

/// `e` as an OTLP/HTTP error answer in `encoding`.
fn error(encoding: Encoding, e: &ApiError) -> HttpResponse {
    let status = e.status_code();
    HttpResponse::build(status)
        .content_type(encoding.content_type())
        .body(error_answer(encoding, status.as_u16(), &e.to_string()))
}
