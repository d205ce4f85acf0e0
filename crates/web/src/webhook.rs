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
//! mode 0600, `Secrets::load`); `casetrail serve --webhook-secrets FILE`
//! merges this router into the application's (wiring left to the web
//! server's configuration).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use casetrail_app::{Incoming, Ledger};
use casetrail_connectors::webhook::{self, Secrets, SignatureError, SIGNATURE_HEADER};

/// The largest body accepted, in bytes.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

struct WebhookState {
    secrets: Secrets,
    ledger: Arc<Mutex<Ledger>>,
}

/// The webhook route over a shared ledger.
pub fn router(secrets: Secrets, ledger: Arc<Mutex<Ledger>>) -> Router {
    Router::new()
        .route("/api/v1/payments/webhook/{provider}", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(Arc::new(WebhookState { secrets, ledger }))
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
    State(state): State<Arc<WebhookState>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(header) = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()) else {
        return problem(StatusCode::UNAUTHORIZED, format!("the {SIGNATURE_HEADER} header is missing"));
    };
    match webhook::verify(&state.secrets, &provider, header, &body, unix_now()) {
        Ok(()) => {}
        Err(error @ SignatureError::UnknownProvider(_)) => return problem(StatusCode::NOT_FOUND, error.to_string()),
        Err(error) => return problem(StatusCode::UNAUTHORIZED, error.to_string()),
    }
    let event = match webhook::payment_event(&provider, &body) {
        Ok(event) => event,
        Err(error) => return problem(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    let shared = Arc::clone(&state.ledger);
    let raw = event.canonical.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut ledger = shared.lock().map_err(|_| "the ledger lock is poisoned".to_owned())?;
        // The source is the provider: (provider, payment) is the key.
        let incoming = Incoming { line: None, raw, parsed: Ok(event) };
        ledger.import_batch(&provider, vec![incoming]).map_err(|error| error.to_string())
    })
    .await;
    match result {
        Ok(Ok(summary)) if summary.accepted == 1 => (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            serde_json::json!({ "seq": summary.sequences.first() }).to_string(),
        )
            .into_response(),
        Ok(Ok(summary)) if summary.duplicates == 1 => (
            StatusCode::OK,
            [("content-type", "application/json")],
            serde_json::json!({ "duplicate": true, "seq": summary.sequences.first() }).to_string(),
        )
            .into_response(),
        Ok(Ok(_)) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the payment breaks a rule and was quarantined (e.g. the payment id was reported before under another body)",
        ),
        Ok(Err(error)) => problem(StatusCode::SERVICE_UNAVAILABLE, error),
        Err(error) => problem(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    }
}
