//! `/api/signals`: saved filters — list, read, create, update, remove.
//!
//! A signal's filter is checked with the store's filter language before it
//! is stored, so a saved signal always compiles.
//!
//! ```text
//! POST /api/signals {"Title":"Errors","Filter":"@Level = 'Error'","Shared":true}
//! → 201 {"Id":"signal-…","Title":"Errors","Filter":"@Level = 'Error'","Shared":true,
//!        "Links":{"Self":"api/signals/signal-…"}}
//! PUT /api/signals/signal-… {"Filter":"Status >"}
//! → 400 {"Error":"Filter: … (at character 7)"}
//! ```

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use skein_actors::metastore::{NewSignal, Signal};
use skein_store::query::Filter;

use super::admin::{self, clip, named, Body};
use super::error::ApiError;
use super::links::Links;
use super::AppState;

/// The longest title accepted.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest filter accepted.
pub const MAX_FILTER_CHARS: usize = 64 * 1024;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        admin::scope("/api/signals")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/", web::get().to(list))
            .route("/", web::post().to(create))
            .route("/{id}", web::get().to(get))
            .route("/{id}", web::put().to(update))
            .route("/{id}", web::delete().to(remove)),
    );
}

/// The body of `POST /api/signals` and `PUT /api/signals/{id}`; on `PUT`,
/// absent fields keep their current values.
#[derive(Debug, Default, Deserialize)]
pub struct SignalBody {
    /// The title shown in lists (required on `POST`).
    #[serde(rename = "Title", default, deserialize_with = "title")]
    pub title: Option<String>,
    /// The filter expression; empty matches every event.
    #[serde(rename = "Filter", default, deserialize_with = "filter")]
    pub filter: Option<String>,
    /// Whether every user sees it (default `false`).
    #[serde(rename = "Shared", default, deserialize_with = "shared")]
    pub shared: Option<bool>,
}

fn title<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    named("Title", d)
}

fn filter<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    named("Filter", d)
}

fn shared<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    named("Shared", d)
}

impl SignalBody {
    /// The signal this body describes, over `base` (an existing signal on
    /// `PUT`), after checking every field.
    pub fn validate(self, base: Option<&Signal>) -> Result<NewSignal, ApiError> {
        let title = self
            .title
            .or_else(|| base.map(|b| b.title.clone()))
            .unwrap_or_default();
        let title = title.trim();
        if title.is_empty() {
            return Err(ApiError::BadRequest("Title is required".into()));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ApiError::BadRequest(format!(
                "Title is longer than {MAX_TITLE_CHARS} characters"
            )));
        }
        let filter = self
            .filter
            .or_else(|| base.map(|b| b.filter.clone()))
            .unwrap_or_default();
        check_filter(&filter)?;
        Ok(NewSignal {
            title: title.to_owned(),
            filter,
            shared: self.shared.or(base.map(|b| b.shared)).unwrap_or(false),
            owner: base.and_then(|b| b.owner.clone()),
        })
    }
}

/// Checks that `text` is a filter the store can run.
pub fn check_filter(text: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_FILTER_CHARS {
        return Err(ApiError::BadRequest(format!(
            "Filter is longer than {MAX_FILTER_CHARS} characters"
        )));
    }
    Filter::parse(text)
        .map(drop)
        .map_err(|e| ApiError::BadRequest(format!("Filter: {e}")))
}

/// A signal as the API shows it.
pub fn entity(s: &Signal, links: &Links) -> Value {
    json!({
        "Id": s.id,
        "Title": s.title,
        "Filter": s.filter,
        "Shared": s.shared,
        "OwnerId": s.owner,
        "Links": links.entity("signals", &s.id),
    })
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let signals = state.credentials.metastore().list_signals().await?;
    Ok(HttpResponse::Ok().json(
        signals
            .iter()
            .map(|s| entity(s, &state.links()))
            .collect::<Vec<_>>(),
    ))
}

async fn get(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(entity(&find(&state, &id).await?, &state.links())))
}

async fn create(
    state: web::Data<AppState>,
    Body(body): Body<SignalBody>,
) -> Result<HttpResponse, ApiError> {
    let new = body.validate(None)?;
    let signal = state.credentials.metastore().create_signal(new).await?;
    log::info!("signal {} ({}) created", signal.id, signal.title);
    let links = state.links();
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, links.resource("signals", &signal.id)))
        .json(entity(&signal, &links)))
}

async fn update(
    state: web::Data<AppState>,
    id: web::Path<String>,
    Body(body): Body<SignalBody>,
) -> Result<HttpResponse, ApiError> {
    let existing = find(&state, &id).await?;
    let new = body.validate(Some(&existing))?;
    let signal = state
        .credentials
        .metastore()
        .update_signal(&existing.id, new)
        .await?;
    Ok(HttpResponse::Ok().json(entity(&signal, &state.links())))
}

async fn remove(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !state.credentials.metastore().remove_signal(&id).await? {
        return Err(not_found(&id));
    }
    log::info!("signal {id} removed");
    Ok(HttpResponse::NoContent().finish())
}

async fn find(state: &AppState, id: &str) -> Result<Signal, ApiError> {
    state
        .credentials
        .metastore()
        .signal(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no signal has the id `{}`", clip(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value, base: Option<&Signal>) -> Result<NewSignal, String> {
        serde_json::from_value::<SignalBody>(v)
            .map_err(|e| e.to_string())?
            .validate(base)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn filters_are_checked_and_put_keeps_absent_fields() {
        let s = body(json!({"Title":"E","Filter":"@Level = 'Error'"}), None).unwrap();
        assert_eq!((s.filter.as_str(), s.shared), ("@Level = 'Error'", false));
        let e = body(json!({"Title":"E","Filter":"Status >"}), None).unwrap_err();
        assert!(
            e.starts_with("Filter: ") && e.contains("at character"),
            "{e}"
        );
        assert_eq!(
            body(json!({"Filter":""}), None).unwrap_err(),
            "Title is required"
        );
        assert!(body(json!({"Title":"t","Shared":"yes"}), None)
            .unwrap_err()
            .starts_with("Shared: invalid type"));
        let base = Signal {
            id: "signal-1".into(),
            title: "Old".into(),
            filter: "A = 1".into(),
            shared: true,
            owner: None,
            created_at: Default::default(),
        };
        let s = body(json!({"Title":"New"}), Some(&base)).unwrap();
        assert_eq!(
            (s.title.as_str(), s.filter.as_str(), s.shared),
            ("New", "A = 1", true)
        );
    }
}
