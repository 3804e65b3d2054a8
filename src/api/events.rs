//! Reading events: `GET /api/events` (newest first; `filter`, `count`,
//! `fromDateUtc`, `toDateUtc`, `afterId`, `startAtId`, `render`, `clef`;
//! or, with `fromArrival`, the events that arrived at or after an arrival
//! number, oldest arrival first — the live tail; every answer names the
//! next arrival number in `X-Skein-Next-Arrival`),
//! `GET /api/events/{id}` and `GET /api/data?q=…` (SQL-style queries:
//! `{"Columns":[…],"Rows":[[…]]}`; on a leader a large aggregating query
//! is split over its up-to-date followers, see [`crate::scale_out`]).
//! Searches run on blocking threads.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use skein_store::event::{parse_timestamp, write_clef};
use skein_store::query::{EvalContext, Filter, Query};
use skein_store::search::{
    events_since_arrival, next_arrival, run_query, search_events, ArrivalRequest, SearchError,
    SearchRequest, DEFAULT_COUNT,
};
use skein_store::{EventId, Timestamp};

use super::entity::EventEntity;
use super::error::ApiError;
use super::AppState;

/// The longest filter or query text accepted.
pub const MAX_FILTER_LEN: usize = 64 * 1024;
/// The CLEF content type.
const CLEF: &str = "application/vnd.serilog.clef";
/// The answer header naming the arrival number a tail reads from next.
pub const NEXT_ARRIVAL_HEADER: &str = "X-Skein-Next-Arrival";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/events", web::get().to(list))
        .route("/api/events/", web::get().to(list))
        .route("/api/events/{id}", web::get().to(one))
        .route("/api/data", web::get().to(data));
}

type Params = web::Query<HashMap<String, String>>;

/// A query-string parameter, by name in any case.
fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A boolean parameter: `true`/`1`/empty (present) or `false`/`0`; absent
/// is `false`; anything else is refused.
fn flag(p: &Params, name: &str) -> Result<bool, ApiError> {
    match param(p, name) {
        None => Ok(false),
        Some(v) if v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ApiError::BadRequest(format!(
            "{name}: `{}` is not true or false",
            super::admin::clip(v)
        ))),
    }
}

fn time_param(p: &Params, names: &[&str]) -> Result<Option<Timestamp>, ApiError> {
    let Some((name, v)) = names.iter().find_map(|n| param(p, n).map(|v| (n, v))) else {
        return Ok(None);
    };
    parse_timestamp(v)
        .map(Some)
        .map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
}

fn id_param(p: &Params, name: &str) -> Result<Option<EventId>, ApiError> {
    param(p, name)
        .map(|v| {
            v.parse::<EventId>()
                .map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
        })
        .transpose()
}

fn check_len(what: &str, text: &str) -> Result<(), ApiError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ApiError::BadRequest(format!(
            "the {what} is longer than {MAX_FILTER_LEN} bytes"
        )));
    }
    Ok(())
}

fn parse_filter(text: &str) -> Result<Filter, ApiError> {
    check_len("filter", text)?;
    Filter::parse(text).map_err(|e| {
        ApiError::BadRequest(format!(
            "filter: {} (at position {})",
            e.message, e.position
        ))
    })
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> ApiError {
        match e {
            SearchError::Store(s) => s.into(),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

async fn list(p: Params, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let filter = parse_filter(param(&p, "filter").unwrap_or(""))?;
    let count = match param(&p, "count") {
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("count: `{c}` is not a whole number")))?,
        None => DEFAULT_COUNT,
    };
    let since = param(&p, "fromArrival")
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "fromArrival: `{}` is not an arrival number",
                    super::admin::clip(v)
                ))
            })
        })
        .transpose()?;
    let req = SearchRequest {
        from: time_param(&p, &["fromDateUtc"])?,
        to: time_param(&p, &["toDateUtc"])?,
        count,
        after_id: id_param(&p, "afterId")?,
        start_at_id: id_param(&p, "startAtId")?,
        ..SearchRequest::default()
    };
    if since.is_some() && (req.after_id.is_some() || req.start_at_id.is_some()) {
        return Err(ApiError::BadRequest(
            "fromArrival reads in arrival order: it cannot be combined with afterId or startAtId"
                .into(),
        ));
    }
    let (render, clef) = (flag(&p, "render")?, flag(&p, "clef")?);
    let store = state.actors.store.clone();
    let (events, next) = web::block(move || {
        let ctx = EvalContext::system();
        match since {
            Some(since) => {
                let arrival = ArrivalRequest {
                    since,
                    from: req.from,
                    to: req.to,
                    count: req.count,
                };
                events_since_arrival(&store, &filter, &arrival, &ctx)
                    .map(|page| (page.events, page.next_arrival))
            }
            None => {
                // Read before searching: a tail starting here may repeat an
                // event of this page, never miss one.
                let next = next_arrival(&store);
                search_events(&store, &filter, &req, &ctx).map(|page| (page.events, next))
            }
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let mut answer = HttpResponse::Ok();
    answer.insert_header((NEXT_ARRIVAL_HEADER, next.to_string()));
    if clef {
        let mut out = Vec::new();
        for (_, e) in &events {
            write_clef(e, &mut out);
            out.push(b'\n');
        }
        return Ok(answer.content_type(CLEF).body(out));
    }
    let links = state.links();
    let entities: Vec<EventEntity> = events
        .iter()
        .map(|(id, e)| EventEntity::new(*id, e, render, &links))
        .collect();
    Ok(answer.json(entities))
}

async fn one(
    path: web::Path<String>,
    p: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: EventId = path
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no event `{path}`")))?;
    let req = SearchRequest {
        from: Some(id.timestamp),
        to: Some(Timestamp(id.timestamp.0.saturating_add(1))),
        count: 1,
        start_at_id: Some(id),
        ..SearchRequest::default()
    };
    let store = state.actors.store.clone();
    let page = web::block(move || {
        search_events(&store, &Filter::match_all(), &req, &EvalContext::system())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let render = flag(&p, "render")?;
    match page.events.first() {
        Some((found, e)) if *found == id => {
            Ok(HttpResponse::Ok().json(EventEntity::new(id, e, render, &state.links())))
        }
        _ => Err(ApiError::NotFound(format!("no event `{id}`"))),
    }
}

async fn data(p: Params, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text =
        param(&p, "q").ok_or_else(|| ApiError::BadRequest("q: a query is required".into()))?;
    check_len("query", text)?;
    let query = Query::parse(text).map_err(|e| {
        ApiError::BadRequest(format!("query: {} (at position {})", e.message, e.position))
    })?;
    let from = time_param(&p, &["rangeStartUtc", "fromDateUtc"])?;
    let to = time_param(&p, &["rangeEndUtc", "toDateUtc"])?;
    let ctx = EvalContext::system();
    let scaled_out = match &state.scale_out {
        Some(scale_out) => scale_out.run(&query, text, (from, to), ctx).await,
        None => None,
    };
    let result = match scaled_out {
        Some(result) => result?,
        None => {
            let store = state.actors.store.clone();
            web::block(move || run_query(&store, &query, from, to, &ctx))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??
        }
    };
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "Columns": result.columns, "Rows": result.rows })))
}
