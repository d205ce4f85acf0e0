//! The one error type of the web layer and its one mapping to HTTP.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// What went wrong, as the client must hear it. A storage failure is never
/// turned into "not found".
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign in first (a session, an API key or a bearer token)")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; wait a few minutes and try again")]
    TooManyRequests,
    /// Details go to the log, not to the client.
    #[error("internal error; the server log has the details")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebError::Unauthenticated => "unauthenticated",
            WebError::Forbidden(_) => "forbidden",
            WebError::NotFound(_) => "not_found",
            WebError::BadRequest(_) => "bad_request",
            WebError::Conflict(_) => "conflict",
            WebError::TooManyRequests => "too_many_requests",
            WebError::Internal(_) => "internal",
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        WebError::Internal(error.to_string())
    }
}

impl From<casetrail_ledger::StoreError> for WebError {
    fn from(error: casetrail_ledger::StoreError) -> Self {
        WebError::internal(error)
    }
}

impl From<casetrail_app::AppError> for WebError {
    fn from(error: casetrail_app::AppError) -> Self {
        WebError::internal(error)
    }
}

/// The body of every error answer of the JSON API.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `unauthenticated`, `forbidden`, `not_found`, `bad_request`,
    /// `conflict`, `too_many_requests` or `internal`.
    pub error: String,
    pub message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(detail) = &self {
            // No personal data reaches this text: handlers pass store and
            // ledger errors, never request bodies.
            tracing::error!(%detail, "internal error");
        }
        let status = self.status();
        let body = ErrorBody { error: self.code().to_owned(), message: self.to_string() };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
