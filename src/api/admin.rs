//! What the admin endpoints ([`super::apikeys`], [`super::signals`],
//! [`super::settings`]) share: their scope with its access check, JSON body
//! extraction with errors as [`ApiError`], and field-naming deserializers.
//!
//! Access is decided in one place, [`authorize`]: every admin scope is built
//! by [`scope`], which runs it before any handler with the permission the
//! scope declares for reads (`GET`, `HEAD`) or for changes (anything else).
//! Until users and permissions arrive (issue 6) it allows everything.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::ApiError;
use super::AppState;

/// The largest JSON body an admin endpoint accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A permission a request may need (Seq's roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read events and metadata.
    Read,
    /// Change user-level objects such as signals.
    Write,
    /// Change project-wide settings.
    Project,
    /// Administer the server.
    System,
}

/// What a scope requires: one permission to read, one to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Needed by `GET` and `HEAD`.
    pub read: Permission,
    /// Needed by every other method.
    pub change: Permission,
}

impl Access {
    /// The permission a request with `method` needs.
    pub fn needed(self, method: &Method) -> Permission {
        if method == Method::GET || method == Method::HEAD {
            self.read
        } else {
            self.change
        }
    }
}

/// Decides whether `req` holds `needed`. The single permission check of the
/// admin API: every request reaching an admin handler has passed it.
pub fn authorize(req: &HttpRequest, needed: Permission) -> Result<(), ApiError> {
    // Users, sessions and key permissions arrive with issue 6; until then
    // the admin API is open, as the rest of the API is.
    let _ = (req.app_data::<web::Data<AppState>>(), needed);
    Ok(())
}

/// An admin scope at `path`: JSON bodies limited to [`MAX_BODY_BYTES`] with
/// errors as [`ApiError`], and [`authorize`] run before every handler.
pub fn scope(
    path: &str,
    access: Access,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(path).app_data(json_config()).wrap(from_fn(
        move |req: ServiceRequest, next: Next<BoxBody>| guard(req, next, access),
    ))
}

async fn guard(
    req: ServiceRequest,
    next: Next<BoxBody>,
    access: Access,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match authorize(req.request(), access.needed(req.method())) {
        Ok(()) => next.call(req).await,
        Err(e) => Ok(req.into_response(e.error_response())),
    }
}

/// JSON extraction for admin bodies: size limit, any content type, and
/// errors answered as `{"Error": …}`.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type_required(false)
        .error_handler(|e, _| json_error(e).into())
}

fn json_error(e: JsonPayloadError) -> ApiError {
    match e {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge(format!(
                "the request body is over the {MAX_BODY_BYTES}-byte limit of this endpoint"
            ))
        }
        JsonPayloadError::Deserialize(e) if e.is_eof() && e.line() == 1 && e.column() == 0 => {
            ApiError::BadRequest("the request body is empty: a JSON object is expected".into())
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))
        }
        other => ApiError::BadRequest(format!("cannot read the request body: {other}")),
    }
}

/// A JSON request body deserialized into `T`: syntax errors are reported with
/// their position, type errors with the field (see [`named`]).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(
                    ApiError::BadRequest("the request body must be a JSON object".into()).into(),
                );
            }
            serde_json::from_value(value)
                .map(Body)
                .map_err(|e| ApiError::BadRequest(e.to_string()).into())
        })
    }
}

/// Deserializes one field, prefixing any error with its name; use through
/// a one-line function per field with `#[serde(default, deserialize_with)]`.
pub fn named<'de, D, T>(name: &'static str, d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map_err(|e| D::Error::custom(format_args!("{name}: {e}")))
}

/// `text` cut to 80 characters, for echoing input in error messages.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// `{"Self": "api/<collection>/<id>"}`.
pub fn links(collection: &str, id: &str) -> Value {
    serde_json::json!({ "Self": format!("api/{collection}/{id}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "flag")]
        flag: Option<bool>,
    }

    fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        named("Flag", d)
    }

    #[test]
    fn type_errors_name_the_field() {
        let e = serde_json::from_value::<Probe>(serde_json::json!({"flag": "yes"}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("Flag: invalid type"), "{e}");
        let ok: Probe = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(ok.flag, None);
    }

    #[test]
    fn reads_and_changes_need_their_own_permission() {
        let a = Access {
            read: Permission::Read,
            change: Permission::Write,
        };
        assert_eq!(a.needed(&Method::GET), Permission::Read);
        assert_eq!(a.needed(&Method::DELETE), Permission::Write);
    }

    #[test]
    fn echoed_input_is_clipped() {
        assert_eq!(clip("short"), "short");
        assert_eq!(clip(&"é".repeat(500)).chars().count(), 81);
    }
}
