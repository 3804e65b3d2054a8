//! What the router cannot tell about a route, written by hand: for every
//! entry of the permission table ([`ROUTES`](crate::api::auth::table::ROUTES)),
//! a summary, its query parameters, its request body, what it answers on
//! success and the statuses its handler gives. [`super`] adds what follows
//! from the route itself: path parameters (and their 404), a JSON body's
//! 400 and 413, the permission's 401 and 403, and 503.
//!
//! Optional body fields take `null` for absent, as the handlers read them.
//! A unit test fails when a table entry has no operation here or an
//! operation names no table entry.

use serde_json::{json, Value};

/// One route's hand-written description.
pub struct Operation {
    /// The method (`GET`, …), as in the permission table.
    pub method: &'static str,
    /// The route pattern, as in the permission table.
    pub path: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Its query parameters.
    pub query: &'static [Param],
    /// What it reads from the request body.
    pub body: Body,
    /// What a 2xx answer carries.
    pub answer: Answer,
    /// The statuses its handler answers, besides the derived ones.
    pub statuses: &'static [u16],
}

/// A query parameter.
pub struct Param {
    /// Its name (read in any case).
    pub name: &'static str,
    /// Its values.
    pub kind: Kind,
    /// Whether the request is refused without it.
    pub required: bool,
    /// What it does.
    pub about: &'static str,
}

/// The values a query parameter takes.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Any text.
    Text,
    /// A whole number, zero or more.
    Whole,
    /// `true` or `false`.
    Bool,
    /// A Seq flag: `true`/`1`/empty (present) or `false`/`0`.
    Flag,
    /// An ISO 8601 timestamp.
    Time,
    /// An event id, `event-` and 32 hex digits.
    EventId,
}

/// What a route reads from the request body.
#[derive(Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// A JSON object with this schema (admin bodies: at most 1 MiB).
    Json(fn() -> Value),
    /// Events: CLEF, and Seq's legacy JSON when `legacy` (the payload limit
    /// applies; gzip and deflate bodies are decoded).
    Events {
        /// Whether `application/json` legacy bodies are read too.
        legacy: bool,
    },
    /// An OTLP export request: protobuf or OTLP/JSON.
    Otlp,
}

/// What a 2xx answer carries (204 and 304 carry nothing).
#[derive(Clone, Copy)]
pub enum Answer {
    /// A JSON object.
    Object,
    /// A JSON array of objects.
    List,
    /// Events: a JSON array of event entities, or CLEF lines with `clef`.
    Events,
    /// A node's health report (also the body of its 503).
    Health,
    /// A JSON object, or with `Accept: application/x-ndjson` one JSON
    /// object per line as the work goes on (the last the result).
    Steps,
    /// OpenMetrics text.
    Metrics,
    /// A file of the web UI.
    Ui,
    /// Nothing (204).
    Nothing,
    /// An OTLP export response (and `google.rpc.Status` errors) in the
    /// request's encoding: protobuf or JSON.
    Otlp,
}

const GET: &str = "GET";
const POST: &str = "POST";
const PUT: &str = "PUT";
const DELETE: &str = "DELETE";

const fn op(
    method: &'static str,
    path: &'static str,
    answer: Answer,
    statuses: &'static [u16],
    summary: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        query: &[],
        body: Body::None,
        answer,
        statuses,
    }
}

impl Operation {
    /// With these query parameters.
    const fn query(self, query: &'static [Param]) -> Operation {
        Operation { query, ..self }
    }

    /// With a JSON body of this schema.
    const fn json(self, schema: fn() -> Value) -> Operation {
        Operation {
            body: Body::Json(schema),
            ..self
        }
    }

    /// With an OTLP export request body.
    const fn otlp(self) -> Operation {
        Operation {
            body: Body::Otlp,
            ..self
        }
    }

    /// With an events body.
    const fn events(self, legacy: bool) -> Operation {
        Operation {
            body: Body::Events { legacy },
            ..self
        }
    }
}

const fn param(name: &'static str, kind: Kind, about: &'static str) -> Param {
    Param {
        name,
        kind,
        required: false,
        about,
    }
}

const fn required(p: Param) -> Param {
    Param {
        required: true,
        ..p
    }
}

use Kind::{Bool, EventId, Flag, Text, Time, Whole};

#[rustfmt::skip]
const EVENT_QUERY: &[Param] = &[
    param("filter", Text, "a filter expression, or free text searched in messages"),
    param("count", Whole, "how many events at most (default 30)"),
    param("fromDateUtc", Time, "events at or after this time"),
    param("toDateUtc", Time, "events before this time"),
    param("afterId", EventId, "the next page: events after this one, in result order"),
    param("startAtId", EventId, "events from this one on, in result order"),
    param("render", Flag, "include each event's rendered message"),
    param("clef", Flag, "answer CLEF lines instead of JSON"),
    param("fromArrival", Whole, "events that ARRIVED at or after this arrival number, oldest arrival first (a live tail; pass the answer's X-Skein-Next-Arrival header next time)"),
];

const RENDER: &[Param] = &[param("render", Flag, "include the rendered message")];

#[rustfmt::skip]
const DATA_QUERY: &[Param] = &[
    required(param("q", Text, "the query: `select … from stream [where …] [group by …]`")),
    param("rangeStartUtc", Time, "the time range's start"),
    param("rangeEndUtc", Time, "the time range's end"),
    param("fromDateUtc", Time, "the time range's start, if rangeStartUtc is absent"),
    param("toDateUtc", Time, "the time range's end, if rangeEndUtc is absent"),
];

#[rustfmt::skip]
const RAW_QUERY: &[Param] = &[
    param("clef", Text, "present (with any value): the body is CLEF whatever its content type"),
];

#[rustfmt::skip]
const DEMOTE_QUERY: &[Param] = &[
    param("to", Text, "the follower to hand over to (default: the freshest)"),
    param("force", Bool, "hand over even if the follower has not caught up"),
    param("catchUpSeconds", Whole, "how long to wait for the follower (default 30)"),
];

use Answer::{Events, Health, List, Metrics, Nothing, Object, Steps, Ui};

/// Every route's description, in the permission table's order.
#[rustfmt::skip]
pub static OPERATIONS: &[Operation] = &[
    op(GET, "/health", Health, &[200, 503], "This node's health (never proxied)"),
    op(GET, "/health/cluster", Health, &[200, 503], "The cluster's health"),
    op(GET, "/api", Object, &[200], "The API root: product, version, links"),
    op(GET, "/api/", Object, &[200], "The API root: product, version, links"),
    op(GET, "/api/openapi.json", Object, &[200], "This document"),
    op(GET, "/metrics", Metrics, &[200], "Prometheus / OpenMetrics metrics"),
    op(GET, "/", Ui, &[200, 304], "The web UI's page"),
    op(GET, "/ui/{file}", Ui, &[200, 304], "A file of the web UI"),
    op(POST, "/api/users/login", Object, &[200, 401, 429], "Log in: sets the session cookie")
        .json(login),
    op(POST, "/api/users/logout", Nothing, &[204], "End the session, clear the cookie"),
    op(GET, "/api/users/current", Object, &[200, 401], "Who the caller is"),
    op(GET, "/api/users", List, &[200], "List users"),
    op(POST, "/api/users", Object, &[201], "Create a user").json(new_user),
    op(DELETE, "/api/users/{id}", Nothing, &[204], "Remove a user and end their sessions"),
    op(POST, "/api/events/raw", Object, INGEST, "Ingest events (CLEF or legacy JSON)")
        .events(true)
        .query(RAW_QUERY),
    op(POST, "/ingest/clef", Object, INGEST, "Ingest CLEF events").events(false),
    op(POST, "/ingest/otlp/v1/logs", Answer::Otlp, OTLP, "Ingest OpenTelemetry logs (OTLP/HTTP)").otlp(),
    op(POST, "/ingest/otlp/v1/traces", Answer::Otlp, OTLP, "Ingest OpenTelemetry spans (OTLP/HTTP)").otlp(),
    op(GET, "/api/events", Events, &[200, 400], "Search events, newest first").query(EVENT_QUERY),
    op(GET, "/api/events/", Events, &[200, 400], "Search events, newest first").query(EVENT_QUERY),
    op(GET, "/api/events/{id}", Object, &[200, 400], "One event").query(RENDER),
    op(GET, "/api/data", Object, &[200, 400], "Run a SQL-style query").query(DATA_QUERY),
    op(GET, "/api/apikeys", List, &[200], "List API keys (never their tokens)"),
    op(GET, "/api/apikeys/", List, &[200], "List API keys (never their tokens)"),
    op(POST, "/api/apikeys", Object, &[201], "Create an API key (its token is shown once)")
        .json(new_api_key),
    op(POST, "/api/apikeys/", Object, &[201], "Create an API key (its token is shown once)")
        .json(new_api_key),
    op(GET, "/api/apikeys/{id}", Object, &[200], "One API key"),
    op(DELETE, "/api/apikeys/{id}", Nothing, &[204], "Remove an API key"),
    op(GET, "/api/signals", List, &[200], "List signals"),
    op(GET, "/api/signals/", List, &[200], "List signals"),
    op(POST, "/api/signals", Object, &[201], "Create a signal").json(new_signal),
    op(POST, "/api/signals/", Object, &[201], "Create a signal").json(new_signal),
    op(GET, "/api/signals/{id}", Object, &[200], "One signal"),
    op(PUT, "/api/signals/{id}", Object, &[200], "Change a signal (absent fields are kept)")
        .json(signal_change),
    op(DELETE, "/api/signals/{id}", Nothing, &[204], "Remove a signal"),
    op(GET, "/api/settings", List, &[200], "List the server settings"),
    op(GET, "/api/settings/", List, &[200], "List the server settings"),
    op(GET, "/api/settings/{name}", Object, &[200], "One server setting"),
    op(PUT, "/api/settings/{name}", Object, &[200], "Set a server setting (null clears it)")
        .json(setting),
    op(DELETE, "/api/settings/{name}", Nothing, &[204], "Clear a server setting"),
    op(GET, "/api/cluster", Object, &[200], "The cluster's nodes and notifications"),
    op(POST, "/api/cluster/demote", Steps, &[200, 400], "Hand leadership to a follower")
        .query(DEMOTE_QUERY),
];

/// What ingestion answers (besides 401 and 403 for its key).
const INGEST: &[u16] = &[201, 400, 408, 413, 415];
const OTLP: &[u16] = &[200, 400, 408, 413, 415];

fn login() -> Value {
    json!({
        "type": "object",
        "required": ["Username", "Password"],
        "properties": {"Username": {"type": "string"}, "Password": {"type": "string"}},
    })
}

fn new_user() -> Value {
    json!({
        "type": "object",
        "required": ["Username", "Password"],
        "properties": {
            "Username": {"type": "string", "minLength": 1},
            "Password": {"type": "string", "minLength": 8},
            "Role": {"enum": ["Administrator", "User", "Reader", null], "default": "User"},
        },
    })
}

fn new_api_key() -> Value {
    json!({
        "type": "object",
        "required": ["Title"],
        "properties": {
            "Title": {"type": "string", "minLength": 1, "maxLength": 200},
            "Permissions": {
                "type": ["array", "null"],
                "items": {"enum": ["Ingest", "Read", "Write", "Project", "System"]},
            },
            "MinimumLevel": {"type": ["string", "null"], "examples": ["Warning"]},
            "AppliedProperties": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["Name", "Value"],
                    "additionalProperties": false,
                    "properties": {"Name": {"type": "string"}, "Value": {}},
                },
            },
        },
    })
}

/// A signal's fields; `title` is its title's type (`null` keeps it on `PUT`).
fn signal_fields(title: Value) -> Value {
    json!({
        "Title": {"type": title, "minLength": 1, "maxLength": 200},
        "Filter": {"type": ["string", "null"], "examples": ["@Level = 'Error'"]},
        "Shared": {"type": ["boolean", "null"]},
    })
}

fn new_signal() -> Value {
    json!({"type": "object", "required": ["Title"], "properties": signal_fields(json!("string"))})
}

fn signal_change() -> Value {
    json!({"type": "object", "properties": signal_fields(json!(["string", "null"]))})
}

fn setting() -> Value {
    json!({
        "type": "object",
        "required": ["Value"],
        "properties": {"Value": {
            "description": "per setting: true/false, a level name or a duration (30d); null clears",
        }},
    })
}

/// The schema of Seq's legacy ingestion body.
pub fn legacy_events() -> Value {
    json!({
        "type": "object",
        "required": ["Events"],
        "properties": {"Events": {"type": "array", "items": {
            "type": "object",
            "required": ["Timestamp"],
            "properties": {
                "Timestamp": {"type": "string", "format": "date-time"},
                "Level": {"type": "string", "examples": ["Information"]},
                "MessageTemplate": {"type": "string"},
                "RenderedMessage": {"type": "string"},
                "Properties": {"type": "object"},
                "Exception": {"type": "string"},
                "TraceId": {"type": "string"},
                "SpanId": {"type": "string"},
            },
        }}},
        "example": {"Events": [{
            "Timestamp": "2026-01-01T00:00:00Z",
            "Level": "Warning",
            "MessageTemplate": "Disk {Disk} is full",
            "Properties": {"Disk": "sda"},
        }]},
    })
}
