//! [`ApiError`]: every HTTP error is JSON `{"Error": "…"}` with the right
//! status. This is the one place errors map to statuses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use skein_actors::messages::{AppendError, IngestError};
use skein_actors::metastore::MetastoreError;
use skein_store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: credentials are missing or unknown where they are required.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the credentials do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, but not for this method; `allow` lists the
    /// methods it has (the `Allow` header).
    #[error("{message}")]
    MethodNotAllowed {
        /// What to tell the client.
        message: String,
        /// The methods the path has, comma-separated.
        allow: String,
    },
    /// 408: the client sent its body too slowly.
    #[error("{0}")]
    Timeout(String),
    /// 413: the body is over the payload limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body is in an encoding the server cannot decode.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the node cannot serve this now (store refusing writes, not leader, …).
    #[error("{0}")]
    Unavailable(String),
    /// 500: something failed that the client cannot fix.
    #[error("{0}")]
    Internal(String),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            log::error!("{self}");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            res.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
        }
        res.json(serde_json::json!({ "Error": self.to_string() }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::DiskFull { .. } | StoreError::Failed => {
                ApiError::Unavailable(e.to_string())
            }
            StoreError::InvalidBatch(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AppendError> for ApiError {
    fn from(e: AppendError) -> ApiError {
        match e {
            AppendError::Store(s) => s.into(),
            AppendError::NotLeader | AppendError::Unavailable | AppendError::NotReplicated(_) => {
                ApiError::Unavailable(e.to_string())
            }
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        match e {
            IngestError::BadPayload(p) => ApiError::BadRequest(format!("invalid payload: {p}")),
            IngestError::BadOtlp(o) => ApiError::BadRequest(o.to_string()),
            IngestError::Append(a) => a.into(),
            IngestError::Unavailable => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<MetastoreError> for ApiError {
    fn from(e: MetastoreError) -> ApiError {
        match e {
            MetastoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            MetastoreError::Invalid(m) | MetastoreError::Ambiguous(m) => ApiError::BadRequest(m),
            // An unreachable metastore is an outage the client may retry.
            e if e.is_unreachable() => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> ApiError {
        ApiError::Unavailable(format!("a node component is unavailable: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_actors::metastore::Metastore;

    /// Found by the chaos suite (metastore cut, seed 0x5eedc4a4): ingestion
    /// answered 500 "metastore query failed: Connection Error: …" while the
    /// leader's link to PostgreSQL was cut.
    #[actix_web::test]
    async fn a_metastore_that_cannot_be_reached_answers_503_not_500() {
        let dir = tempfile::tempdir().unwrap();
        let url = Metastore::sqlite_url(&dir.path().join("metastore.db"));
        let ms = Metastore::open(&url).await.unwrap();
        ms.clone().close().await.unwrap();
        let lost = ms
            .nodes()
            .await
            .expect_err("a closed metastore answers nothing");
        let e = ApiError::from(lost);
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{e}");
        // A read that timed out (the settings follower's) is an outage too,
        // not the client's mistake.
        let slow = MetastoreError::Unanswered(std::time::Duration::from_secs(5));
        assert_eq!(
            ApiError::from(slow).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let other = MetastoreError::Corrupt {
            key: "k".into(),
            detail: "bad".into(),
        };
        assert_eq!(
            ApiError::from(other).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
