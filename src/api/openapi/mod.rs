//! `GET /api/openapi.json`: an OpenAPI 3.1 document of the whole HTTP API,
//! built from the permission table so it cannot drift from the router.
//!
//! Each entry of [`ROUTES`] becomes one operation, and nothing else does.
//! From the entry come its path parameters (with 404), its security (API
//! key header `X-Seq-ApiKey`, `?apiKey=`, or the session cookie, per its
//! [`Requirement`]) with 401 and 403, and 503, which any route can answer
//! (a follower that cannot reach its leader, a store refusing writes, an
//! unreachable metastore). What the router cannot tell — summary, query
//! parameters, body, answers — is in [`operations`], one entry per route.
//!
//! The document is public like `/api`: it describes what every install
//! serves and holds nothing about this one. It is built once and served as
//! JSON like every other endpoint.

pub mod operations;

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use self::operations::{Answer, Body, Kind, Operation, OPERATIONS};
use super::auth::table::{Requirement, ROUTES};
use super::credentials::SESSION_COOKIE;
use super::ingest::CLEF_CONTENT_TYPE;
/// OTLP's protobuf content type.
const OTLP_PROTOBUF: &str = "application/x-protobuf";
use super::settings::KNOWN;

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(serve));
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}

/// The description of `method` on `path`, if [`OPERATIONS`] has one.
pub fn operation(method: &actix_web::http::Method, path: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.method == method.as_str() && o.path == path)
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, requirement) in ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method.as_str().to_ascii_lowercase()] =
            operation_object(path, *requirement, operation(method, path));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Skein HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A Seq-compatible structured-log server. Security applies when \
                `auth.required` is on; otherwise every route is open. Any request may get \
                503 (the node cannot serve it now: on a follower, the leader is unreachable), \
                and a follower refuses any body over the payload limit with 413. A method a \
                path does not list answers 405 with Allow. Errors are JSON: \
                {\"Error\": \"…\"}.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Seq-ApiKey"},
                "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "apiKey"},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["Error"],
                    "properties": {
                        "Error": {"type": "string"},
                        "AuthRequired": {"type": "boolean"},
                    },
                },
            },
        },
    })
}

/// One operation: the hand-written part (if any) and what `path` and
/// `requirement` say.
fn operation_object(path: &str, requirement: Requirement, op: Option<&Operation>) -> Value {
    let mut statuses: Vec<u16> = op.map(|o| o.statuses.to_vec()).unwrap_or_default();
    let mut parameters: Vec<Value> = path_parameters(path);
    if !parameters.is_empty() {
        statuses.push(404);
    }
    if let Some(op) = op {
        parameters.extend(op.query.iter().map(|p| {
            json!({
                "name": p.name,
                "in": "query",
                "required": p.required,
                "description": p.about,
                "schema": kind_schema(p.kind),
            })
        }));
    }
    let mut object = json!({
        "summary": op.map_or("", |o| o.summary),
        "parameters": parameters,
    });
    let security = match requirement {
        Requirement::Public => json!([]),
        Requirement::Ingest => {
            statuses.extend([401, 403]);
            json!([{}, {"apiKeyHeader": []}, {"apiKeyQuery": []}])
        }
        Requirement::Needs(p) => {
            statuses.extend([401, 403]);
            object["x-permission"] = json!(format!("{p:?}"));
            json!([{"apiKeyHeader": []}, {"apiKeyQuery": []}, {"session": []}])
        }
    };
    object["security"] = security;
    if let Some(body) = op.and_then(|o| request_body(o.body, &mut statuses)) {
        object["requestBody"] = body;
    }
    statuses.push(503);
    statuses.sort_unstable();
    statuses.dedup();
    let answer = op.map_or(Answer::Object, |o| o.answer);
    let responses: Map<String, Value> = statuses
        .iter()
        .map(|s| (s.to_string(), response(*s, answer)))
        .collect();
    object["responses"] = Value::Object(responses);
    object
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let mut schema = json!({"type": "string", "minLength": 1});
            // Values that exist on every install.
            let known: Vec<&str> = match (path, name) {
                (_, "file") => crate::ui::files().collect(),
                ("/api/settings/{name}", _) => KNOWN.iter().map(|k| k.name).collect(),
                _ => Vec::new(),
            };
            if !known.is_empty() {
                schema["examples"] = json!(known);
            }
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Text => json!({"type": "string"}),
        Kind::Whole => json!({"type": "integer", "minimum": 0}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Flag => json!({"enum": [true, false, "", "1", "0"]}),
        Kind::Time => json!({"type": "string", "format": "date-time"}),
        Kind::EventId => json!({"type": "string", "pattern": "^event-[0-9a-fA-F]{32}$"}),
    }
}

/// The request body, adding the statuses reading it can give.
fn request_body(body: Body, statuses: &mut Vec<u16>) -> Option<Value> {
    let content = match body {
        Body::None => return None,
        Body::Json(schema) => {
            statuses.extend([400, 413]);
            json!({"application/json": {"schema": schema()}})
        }
        Body::Events { legacy } => {
            let clef = json!({
                "schema": {"type": "string", "description": "one JSON object per line"},
                "example": "{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"Hello, {Name}\",\"Name\":\"world\"}\n",
            });
            let mut content = json!({ CLEF_CONTENT_TYPE: clef });
            if legacy {
                content["application/json"] = json!({"schema": operations::legacy_events()});
            }
            content
        }
        Body::Otlp => json!({
            OTLP_PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        }),
    };
    // Ingestion takes an empty body (Serilog's sink posts one to learn
    // the minimum level); admin bodies are required.
    let required = matches!(body, Body::Json(_));
    Some(json!({"required": required, "content": content}))
}

fn response(status: u16, answer: Answer) -> Value {
    let description = match status {
        200 | 201 => "done",
        204 => "done; no content",
        304 => "the browser's copy is current",
        400 => "the request is malformed",
        401 => "credentials are missing or unknown where they are required",
        403 => "the credentials do not allow this",
        404 => "no such resource",
        408 => "the body arrived too slowly",
        413 => "the body is over the limit",
        415 => "the body's encoding is not supported",
        429 => "too many failed logins; see Retry-After",
        503 if matches!(answer, Answer::Health) => "unhealthy (the same report)",
        503 => "the node cannot serve this now",
        _ => "an answer",
    };
    let content = match status {
        204 | 304 => None,
        200..=299 => success_content(answer),
        503 if matches!(answer, Answer::Health) => success_content(answer),
        _ if matches!(answer, Answer::Otlp) => Some(json!({
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
            OTLP_PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
        })),
        _ => Some(json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})),
    };
    let mut r = json!({ "description": description });
    if let Some(c) = content {
        r["content"] = c;
    }
    r
}

fn success_content(answer: Answer) -> Option<Value> {
    let object = json!({"schema": {"type": "object"}});
    let list = json!({"schema": {"type": "array", "items": {"type": "object"}}});
    let text = json!({"schema": {"type": "string"}});
    Some(match answer {
        Answer::Object | Answer::Health => json!({ "application/json": object }),
        Answer::List => json!({ "application/json": list }),
        Answer::Steps => json!({
            "application/json": object,
            crate::api::cluster::NDJSON: {"schema": {"type": "object"}},
        }),
        Answer::Events => json!({ "application/json": list, CLEF_CONTENT_TYPE: text }),
        Answer::Metrics => json!({ "application/openmetrics-text": text }),
        Answer::Ui => json!({
            "text/html": text, "text/css": text, "text/javascript": text, "image/svg+xml": text,
        }),
        Answer::Nothing => return None,
        Answer::Otlp => json!({
            "application/json": object,
            OTLP_PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
        }),
    })
}

#[cfg(test)]
mod tests;
