//! What the admin endpoints ([`super::apikeys`], [`super::signals`],
//! [`super::settings`]) share: their scope with JSON body extraction (errors
//! as [`ApiError`]), field-naming deserializers, and Seq's [`Permission`]s.
//!
//! Who may call a route is decided in one place for the whole API: the
//! permission table in [`super::auth`], enforced by its middleware.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::ApiError;

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

/// An admin scope at `path`: JSON bodies limited to [`MAX_BODY_BYTES`], with
/// errors as [`ApiError`].
pub fn scope(path: &str) -> actix_web::Scope {
    web::scope(path).app_data(json_config())
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
    fn echoed_input_is_clipped() {
        assert_eq!(clip("short"), "short");
        assert_eq!(clip(&"é".repeat(500)).chars().count(), 81);
    }
}
