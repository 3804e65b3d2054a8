//! `/api/apikeys`: list, read, create and remove API keys.
//!
//! Keys are shown as Seq-like entities without secret material; the token
//! of a new key appears once, in the `201` answer to `POST`.
//!
//! ```text
//! POST /api/apikeys {"Title":"shop","Permissions":["Ingest"],"MinimumLevel":"Warning",
//!                    "AppliedProperties":[{"Name":"App","Value":"shop"}]}
//! → 201 {"Id":"ApiKey-…","Title":"shop","TokenPrefix":"Ab12Cd34","Permissions":["Ingest"],
//!        "MinimumLevel":"Warning","AppliedProperties":[{"Name":"App","Value":"shop"}],
//!        "CreatedUtc":"…Z","Links":{"Self":"api/apikeys/ApiKey-…"},"Token":"Ab12Cd34…"}
//! ```

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use skein_actors::metastore::api_keys::parse_level;
use skein_actors::metastore::{ApiKeyInfo, NewApiKey, Permissions};
use skein_store::event::format_timestamp;
use skein_store::Timestamp;

use super::admin::{self, clip, named, Body};
use super::error::ApiError;
use super::links::Links;
use super::AppState;

/// The permission names an API key may carry, in Seq's order.
pub const PERMISSION_NAMES: [&str; 5] = ["Ingest", "Read", "Write", "Project", "System"];
/// The longest title accepted.
pub const MAX_TITLE_CHARS: usize = 200;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        admin::scope("/api/apikeys")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/", web::get().to(list))
            .route("/", web::post().to(create))
            .route("/{id}", web::get().to(get))
            .route("/{id}", web::delete().to(remove)),
    );
}

/// The body of `POST /api/apikeys`.
#[derive(Debug, Deserialize)]
pub struct NewApiKeyBody {
    /// The operator's name for the key (required).
    #[serde(rename = "Title", default, deserialize_with = "title")]
    pub title: Option<String>,
    /// Permission names; `Ingest` alone when absent.
    #[serde(rename = "Permissions", default, deserialize_with = "permissions")]
    pub permissions: Option<Vec<String>>,
    /// Events below this level are dropped when ingested with the key.
    #[serde(rename = "MinimumLevel", default, deserialize_with = "minimum_level")]
    pub minimum_level: Option<String>,
    /// Properties set on every event ingested with the key.
    #[serde(rename = "AppliedProperties", default, deserialize_with = "applied")]
    pub applied_properties: Option<Vec<AppliedProperty>>,
}

/// One applied property as Seq writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedProperty {
    /// The property's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Its value (any JSON).
    #[serde(rename = "Value")]
    pub value: Value,
}

fn applied<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<AppliedProperty>>, D::Error> {
    named("AppliedProperties", d)
}

fn title<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    named("Title", d)
}

fn permissions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    named("Permissions", d)
}

fn minimum_level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    named("MinimumLevel", d)
}

impl NewApiKeyBody {
    /// Checks every field, naming the first that is wrong.
    pub fn validate(self) -> Result<NewApiKey, ApiError> {
        let title = self.title.as_deref().map(str::trim).unwrap_or("");
        if title.is_empty() {
            return Err(ApiError::BadRequest("Title is required".into()));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ApiError::BadRequest(format!(
                "Title is longer than {MAX_TITLE_CHARS} characters"
            )));
        }
        let permissions = match self.permissions {
            None => Permissions {
                ingest: true,
                ..Permissions::default()
            },
            Some(names) => parse_permissions(&names)?,
        };
        let minimum_level = match self.minimum_level.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(parse_level(name).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "MinimumLevel: `{}` is not a level (Verbose, Debug, Information, Warning, Error or Fatal)",
                    clip(name)
                ))
            })?),
        };
        Ok(NewApiKey {
            title: title.to_owned(),
            permissions,
            minimum_level,
            applied_properties: self
                .applied_properties
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.name, p.value))
                .collect(),
        })
    }
}

/// Parses permission names (any case; repeats are fine).
pub fn parse_permissions(names: &[String]) -> Result<Permissions, ApiError> {
    let mut p = Permissions::default();
    for name in names {
        let flag = match name.trim().to_ascii_lowercase().as_str() {
            "ingest" => &mut p.ingest,
            "read" => &mut p.read,
            "write" => &mut p.write,
            "project" => &mut p.project,
            "system" => &mut p.system,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "Permissions: `{}` is not a permission (expected {})",
                    clip(name),
                    PERMISSION_NAMES.join(", ")
                )))
            }
        };
        *flag = true;
    }
    Ok(p)
}

/// The names of the permissions a key holds, in Seq's order.
pub fn permission_names(p: Permissions) -> Vec<&'static str> {
    [p.ingest, p.read, p.write, p.project, p.system]
        .into_iter()
        .zip(PERMISSION_NAMES)
        .filter(|(on, _)| *on)
        .map(|(_, name)| name)
        .collect()
}

/// A key as the API shows it: never the token or its hash.
pub fn entity(key: &ApiKeyInfo, links: &Links) -> Value {
    json!({
        "Id": key.id,
        "Title": key.title,
        "TokenPrefix": key.token_prefix,
        "Permissions": permission_names(key.permissions),
        "MinimumLevel": key.minimum_level.map(|s| s.name()),
        "AppliedProperties": key
            .applied_properties
            .iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect::<Vec<_>>(),
        "CreatedUtc": key
            .created_at
            .timestamp_nanos_opt()
            .map(|n| format_timestamp(Timestamp(n))),
        "Links": links.entity("apikeys", &key.id),
    })
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys = state.credentials.metastore().list_api_keys().await?;
    Ok(HttpResponse::Ok().json(
        keys.iter()
            .map(|k| entity(k, &state.links()))
            .collect::<Vec<_>>(),
    ))
}

async fn get(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = find(&state, &id).await?;
    Ok(HttpResponse::Ok().json(entity(&key, &state.links())))
}

async fn create(
    state: web::Data<AppState>,
    Body(body): Body<NewApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let new = body.validate()?;
    let created = state.credentials.metastore().create_api_key(new).await?;
    state.credentials.invalidate();
    log::info!(
        "API key {} ({}) created with {}",
        created.info.id,
        created.info.title,
        created.info.permissions
    );
    let links = state.links();
    let mut out = entity(&created.info, &links);
    out["Token"] = Value::String(created.token);
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, links.resource("apikeys", &created.info.id)))
        .json(out))
}

async fn remove(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Look up by id first: the metastore's removal also matches titles.
    let key = find(&state, &id).await?;
    state
        .credentials
        .metastore()
        .remove_api_key(&key.id)
        .await?;
    state.credentials.invalidate();
    log::info!("API key {} ({}) removed", key.id, key.title);
    Ok(HttpResponse::NoContent().finish())
}

async fn find(state: &AppState, id: &str) -> Result<ApiKeyInfo, ApiError> {
    state
        .credentials
        .metastore()
        .api_key(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API key has the id `{}`", clip(id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Result<NewApiKey, String> {
        serde_json::from_value::<NewApiKeyBody>(v)
            .map_err(|e| e.to_string())?
            .validate()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bodies_are_validated_field_by_field() {
        let k = body(json!({"Title":" a ","Permissions":["read","Ingest"],"MinimumLevel":"wrn"}))
            .unwrap();
        assert_eq!(k.title, "a");
        assert_eq!(permission_names(k.permissions), ["Ingest", "Read"]);
        assert_eq!(k.minimum_level.map(|s| s.name()), Some("Warning"));
        assert_eq!(
            permission_names(body(json!({"Title":"t"})).unwrap().permissions),
            ["Ingest"]
        );
        assert_eq!(
            body(json!({"Permissions":[]})).unwrap_err(),
            "Title is required"
        );
        assert!(body(json!({"Title":"t","Permissions":["Admin"]}))
            .unwrap_err()
            .starts_with("Permissions: `Admin`"));
        assert!(body(json!({"Title":"t","Permissions":"Read"}))
            .unwrap_err()
            .starts_with("Permissions: invalid type"));
        assert!(body(json!({"Title":"t","MinimumLevel":"loud"}))
            .unwrap_err()
            .starts_with("MinimumLevel: `loud`"));
        let k = body(json!({"Title":"t","AppliedProperties":[{"Name":"App","Value":{"v":1}}]}))
            .unwrap();
        assert_eq!(
            k.applied_properties,
            vec![("App".to_string(), json!({"v":1}))]
        );
        assert!(
            body(json!({"Title":"t","AppliedProperties":[{"Name":"App"}]}))
                .unwrap_err()
                .starts_with("AppliedProperties:")
        );
        assert!(body(json!({"Title":"x".repeat(201)}))
            .unwrap_err()
            .contains("longer"));
    }
}
