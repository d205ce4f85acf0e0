//! `POST /api/v1/payments/webhook/{provider}`: payment apps push one
//! payment per request, signed with their own secret
//! (`casetrail_connectors::webhook`, docs/connectors.md).
//!
//! Refused: an unknown provider (404), a missing, malformed or wrong
//! signature (401), a timestamp more than 5 minutes off (401: a captured
//! request cannot be replayed), a body that is not a payment (422). A
//! second delivery of the same (provider, payment) is a duplicate (200)
//! and changes nothing; a new one is appended (201). Nothing personal is
//! logged.
//!
//! The secrets come from a TOML file given at start (`provider = "secret"`,
//! mode 0600, `Secrets::load`): `casetrail serve --webhook-secrets FILE`
//! puts them in [`crate::WebConfig::webhook_secrets`]. Without them the
//! route answers 503 saying the webhook is not configured. A payment is
//! appended through the group-commit writer under the provider as source,
//! so it is matched to its charge like any `payment.received`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use casetrail_connectors::webhook::{self, SignatureError, SIGNATURE_HEADER};

use crate::state::AppState;
use crate::writer::Outcome;

/// The largest body accepted, in bytes.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

/// The webhook route; merged into [`crate::app`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments/webhook/{provider}", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
}

fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    (status, [("content-type", "application/json")], serde_json::json!({ "error": detail.into() }).to_string())
        .into_response()
}

#[allow(clippy::disallowed_methods)]
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

async fn receive(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secrets) = state.config.webhook_secrets.as_ref() else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the payment webhook is not configured on this server; start it with `casetrail serve --webhook-secrets FILE` (docs/connectors.md)",
        );
    };
    let Some(header) = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()) else {
        return problem(StatusCode::UNAUTHORIZED, format!("the {SIGNATURE_HEADER} header is missing"));
    };
    match webhook::verify(secrets, &provider, header, &body, unix_now()) {
        Ok(()) => {}
        Err(error @ SignatureError::UnknownProvider(_)) => return problem(StatusCode::NOT_FOUND, error.to_string()),
        Err(error) => return problem(StatusCode::UNAUTHORIZED, error.to_string()),
    }
    let event = match webhook::payment_event(&provider, &body) {
        Ok(event) => event,
        Err(error) => return problem(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    // The source is the provider: (provider, payment) is the key.
    let outcome = state.writer.append_event(&provider, event).await;
    if let Ok(outcome) = &outcome {
        state.metrics.count_import(outcome);
    }
    let json = |status: StatusCode, value: serde_json::Value| {
        (status, [("content-type", "application/json")], value.to_string()).into_response()
    };
    match outcome {
        Ok(Outcome::Appended { seq }) => json(StatusCode::CREATED, serde_json::json!({ "seq": seq })),
        Ok(Outcome::Duplicate { seq }) => json(StatusCode::OK, serde_json::json!({ "duplicate": true, "seq": seq })),
        Ok(Outcome::Quarantined { reason }) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, format!("the payment was quarantined and not appended: {reason}"))
        }
        Err(error) => problem(StatusCode::SERVICE_UNAVAILABLE, format!("{error}; send the payment again later")),
    }
}
