//! `/api/settings`: the server-wide settings in the metastore — list, read,
//! set (validated per setting) and clear. A change has taken effect on this
//! node when the answer comes (its settings follower has read it again and
//! told the store writer), and takes effect on every other node within its
//! next read (about a second, `skein_actors::settings_follower`).
//!
//! ```text
//! PUT /api/settings/retention.period {"Value":"30d"}
//! → 200 {"Name":"retention.period","Value":"30d","Description":"…",
//!        "Links":{"Self":"api/settings/retention.period"}}
//! PUT /api/settings/retention.period {"Value":"forever"} → 400
//! ```

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use skein_actors::metastore::api_keys::parse_level;
use skein_actors::metastore::setting_names;
use skein_store::query::parse_duration;

use super::admin::{self, clip, Body};
use super::error::ApiError;
use super::links::Links;
use super::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        admin::scope("/api/settings")
            .route("", web::get().to(list))
            .route("/", web::get().to(list))
            .route("/{name}", web::get().to(get))
            .route("/{name}", web::put().to(put))
            .route("/{name}", web::delete().to(remove)),
    );
}

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A level name, stored as Serilog's name for its severity.
    Level,
    /// A duration such as `30d`, `12h`, `90m`; longer than zero.
    Duration,
}

/// A setting the server reads.
#[derive(Clone, Copy, Debug)]
pub struct KnownSetting {
    /// Its key in the metastore.
    pub name: &'static str,
    /// What values it takes.
    pub kind: Kind,
    /// What it does, for operators.
    pub description: &'static str,
}

/// Every setting this API manages.
pub const KNOWN: [KnownSetting; 3] = [
    KnownSetting {
        name: setting_names::REQUIRE_API_KEY_FOR_INGESTION,
        kind: Kind::Bool,
        description: "refuse ingestion without a valid API key (true or false)",
    },
    KnownSetting {
        name: setting_names::MINIMUM_LEVEL,
        kind: Kind::Level,
        description: "drop ingested events below this level (Verbose, Debug, Information, Warning, Error, Fatal)",
    },
    KnownSetting {
        name: setting_names::RETENTION_PERIOD,
        kind: Kind::Duration,
        description: "delete events older than this (a duration such as 30d or 12h); unset keeps everything",
    },
];

/// The setting called `name` (any case), if the API manages it.
pub fn known(name: &str) -> Result<&'static KnownSetting, ApiError> {
    KNOWN
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let names: Vec<&str> = KNOWN.iter().map(|k| k.name).collect();
            ApiError::NotFound(format!(
                "no setting is called `{}` (known settings: {})",
                clip(name),
                names.join(", ")
            ))
        })
}

/// The body of `PUT /api/settings/{name}`.
#[derive(Debug, Deserialize)]
pub struct SettingBody {
    /// The new value; `null` clears the setting, absent is an error.
    #[serde(rename = "Value", default, deserialize_with = "present")]
    pub value: Option<Value>,
}

/// Keeps an explicit `null` apart from an absent field.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl KnownSetting {
    /// The value to store for `value` (`None` clears), or why it is refused.
    pub fn validate(&self, value: &Value) -> Result<Option<Value>, ApiError> {
        let bad = |what: &str| ApiError::BadRequest(format!("{}: {what}", self.name));
        match (self.kind, value) {
            (_, Value::Null) => Ok(None),
            (Kind::Bool, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
            (Kind::Bool, other) => Err(bad(&format!("expected true or false, not {}", clip(&other.to_string())))),
            (Kind::Level, Value::String(s)) => match parse_level(s) {
                Some(level) => Ok(Some(Value::String(level.name().into()))),
                None => Err(bad(&format!(
                    "`{}` is not a level (Verbose, Debug, Information, Warning, Error or Fatal)",
                    clip(s)
                ))),
            },
            (Kind::Duration, Value::String(s)) => match parse_duration(s) {
                Some(d) if !d.is_zero() => Ok(Some(Value::String(s.trim().to_owned()))),
                Some(_) => Err(bad("the period must be longer than zero")),
                None => Err(bad(&format!(
                    "`{}` is not a duration (a number and a unit: 30d, 12h, 90m, 30s), or null to keep everything",
                    clip(s)
                ))),
            },
            (_, other) => Err(bad(&format!("expected a string, not {}", clip(&other.to_string())))),
        }
    }
}

fn entity(setting: &KnownSetting, value: Option<Value>, links: &Links) -> Value {
    json!({
        "Name": setting.name,
        "Value": value.unwrap_or(Value::Null),
        "Description": setting.description,
        "Links": links.entity("settings", setting.name),
    })
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let stored = state.credentials.metastore().settings().await?;
    let links = state.links();
    let all: Vec<Value> = KNOWN
        .iter()
        .map(|k| {
            let value = stored.iter().find(|(n, _)| n == k.name).map(|(_, v)| v);
            entity(k, value.cloned(), &links)
        })
        .collect();
    Ok(HttpResponse::Ok().json(all))
}

async fn get(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let setting = known(&name)?;
    let value = state.credentials.metastore().setting(setting.name).await?;
    Ok(HttpResponse::Ok().json(entity(setting, value, &state.links())))
}

async fn put(
    state: web::Data<AppState>,
    name: web::Path<String>,
    Body(body): Body<SettingBody>,
) -> Result<HttpResponse, ApiError> {
    let setting = known(&name)?;
    let value = body.value.ok_or_else(|| {
        ApiError::BadRequest("Value is required (null clears the setting)".into())
    })?;
    let value = setting.validate(&value)?;
    let metastore = state.credentials.metastore();
    match &value {
        Some(v) => metastore.set_setting(setting.name, v).await?,
        None => {
            metastore.remove_setting(setting.name).await?;
        }
    }
    applied(&state, setting, value.as_ref()).await?;
    Ok(HttpResponse::Ok().json(entity(setting, value, &state.links())))
}

async fn remove(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let setting = known(&name)?;
    state
        .credentials
        .metastore()
        .remove_setting(setting.name)
        .await?;
    applied(&state, setting, None).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a stored change take effect on this node before the answer.
async fn applied(
    state: &AppState,
    setting: &KnownSetting,
    value: Option<&Value>,
) -> Result<(), ApiError> {
    match value {
        Some(v) => log::info!("setting {} changed to {v}", setting.name),
        None => log::info!("setting {} cleared", setting.name),
    }
    state.credentials.refresh_settings().await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, v: Value) -> Result<Option<Value>, String> {
        known(name)
            .and_then(|k| k.validate(&v))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn values_are_checked_per_setting() {
        assert_eq!(
            check("ingestion.requireApiKey", json!(true)),
            Ok(Some(json!(true)))
        );
        assert!(check("ingestion.requireApiKey", json!("true")).is_err());
        assert_eq!(
            check("INGESTION.minimumlevel", json!("wrn")),
            Ok(Some(json!("Warning")))
        );
        assert!(check("ingestion.minimumLevel", json!("loud"))
            .unwrap_err()
            .contains("`loud` is not a level"));
        assert_eq!(
            check("retention.period", json!(" 30d ")),
            Ok(Some(json!("30d")))
        );
        assert!(check("retention.period", json!("forever"))
            .unwrap_err()
            .starts_with("retention.period: `forever` is not a duration"));
        assert!(check("retention.period", json!("0d")).is_err());
        assert!(check("retention.period", json!(30)).is_err());
        assert_eq!(check("retention.period", Value::Null), Ok(None));
        assert!(check("no.such", json!(1))
            .unwrap_err()
            .contains("no setting"));
        let b: SettingBody = serde_json::from_value(json!({"Value": null})).unwrap();
        assert_eq!(b.value, Some(Value::Null));
        let b: SettingBody = serde_json::from_value(json!({})).unwrap();
        assert_eq!(b.value, None);
    }
}
