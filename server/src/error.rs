//! Turning failures into answers.
//!
//! Business errors are [`AppError`]s, written for the user. Anything
//! unexpected (database, I/O, a panicked task) is logged here with its cause
//! and becomes a generic [`AppError::Internal`]: the details stay in the log,
//! where the request id ties them to the request. A storage fault (a full
//! disk, a foreign lock) is not a bug: it becomes a 503 with `Retry-After`
//! and closes the write gate (see [`crate::db::health`]).

use crate::db::{fault, health};
use app::model::AppError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Display;

pub trait ResultExt<T> {
    /// Logs the error with `what` was being done, and hides it from the caller.
    fn or_internal(self, what: &str) -> Result<T, AppError>;
}

impl<T, E: Display + 'static> ResultExt<T> for Result<T, E> {
    fn or_internal(self, what: &str) -> Result<T, AppError> {
        self.map_err(|error| {
            if let Some(fault) = fault::classify_any(&error) {
                tracing::warn!(%error, %fault, "{what} failed: the database cannot serve");
                health::report(fault);
                return health::unavailable(fault);
            }
            tracing::error!(%error, "{what} failed");
            AppError::internal("something went wrong on our side and it has been logged; please try again")
        })
    }
}

/// An [`AppError`] as an `/api/v1` response: the right status and
/// `{"error": {"code": …, "message": …}}`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(serde_json::json!({ "error": self.0 }))).into_response();
        if let Some(seconds) = self.0.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON error response for the HTTP layer's own refusals (size, CSRF, 404).
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message.into() } });
    (status, Json(body)).into_response()
}
