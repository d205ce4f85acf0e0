//! The web server: the REST API (`/api/v1/`, described at
//! `/api/openapi.json`), Open311 GeoReport v2 (`/open311/v2/`), the pages
//! (kk/ru/en), health probes and metrics. Only this crate knows HTTP.
//!
//! Modules: [`state`] (what handlers share), [`error`] (one error type, one
//! `IntoResponse`), [`auth`] (sessions, API keys, OpenID Connect tokens and
//! the one [`auth::authorize`]), [`i18n`], [`pages`], [`api`], [`open311`],
//! [`metrics`], [`writer`] (group commit), [`charts`].

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod charts;
pub mod config;
mod docs;
pub mod error;
pub mod i18n;
pub mod metrics;
pub mod open311;
pub mod pages;
pub mod state;
pub mod webhook;
pub mod writer;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use casetrail_app::Ledger;

pub use config::{OidcConfig, WebConfig};
pub use state::AppState;

/// Builds the application's routes with the default settings (cookies not
/// `Secure`, no OpenID Connect provider, the clock's today).
pub fn router(ledger: Ledger) -> Router {
    router_with(ledger, WebConfig::default())
}

/// Builds the application's routes. Without a writer thread the server
/// cannot start; that failure is reported by every write as an error.
pub fn router_with(ledger: Ledger, config: WebConfig) -> Router {
    match AppState::new(ledger, config) {
        Ok(state) => app(state),
        Err(error) => {
            let message = format!("cannot start the ledger writer: {error}");
            Router::new().fallback(move || {
                let message = message.clone();
                async move { (axum::http::StatusCode::SERVICE_UNAVAILABLE, message).into_response() }
            })
        }
    }
}

/// The routes on an existing state.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(api::routes())
        .merge(open311::routes())
        .merge(webhook::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), every_request))
        .with_state(state)
}

/// Serves until interrupted (Ctrl-C).
pub fn serve(ledger: Ledger, listen: &str, config: WebConfig) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen}; is another program using the port? pass --listen 127.0.0.1:PORT")
        })?;
        let address = listener.local_addr()?;
        let state = AppState::new(ledger, config).context("cannot start the ledger writer")?;
        println!("casetrail is serving on http://{address}/  (Ctrl-C stops it)");
        for warning in metrics::reference_data_warnings(state.today()) {
            eprintln!("{warning}");
        }
        axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped with an error")
    })
}

async fn readyz(State(state): State<AppState>) -> Response {
    if let Some(reason) = state.writer.stopped() {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, reason.to_owned()).into_response();
    }
    match state.read(|store| Ok(store.ledger_state()?.size())).await {
        Ok(_) => "ready".into_response(),
        Err(error) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}

/// The largest request body the server reads (forms, JSON, Open311).
const BODY_BYTES_MAX: usize = 2 * 1024 * 1024;

/// What every request goes through, in one layer (a layer of its own costs
/// each request a clone of a boxed service and a boxed future): it is
/// counted and timed by route, its body is read whole, and its answer gets
/// the security headers.
async fn every_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let timer = metrics::RequestTimer::start(&request);
    let response = match read_whole_body(request).await {
        Ok(request) => next.run(request).await,
        Err(refused) => refused,
    };
    timer.finish(&state, &response);
    with_security_headers(response)
}

/// Reads the request's body before the handler runs, so that a handler
/// that refuses early or needs no body still leaves the connection clean
/// for the client's next request (an unread body makes the server close a
/// keep-alive connection, and a client's next POST on it fails).
async fn read_whole_body(request: Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_BYTES_MAX).await {
        Ok(bytes) => Ok(Request::from_parts(parts, axum::body::Body::from(bytes))),
        Err(_) => Err((
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {BODY_BYTES_MAX} bytes or was cut off"),
        )
            .into_response()),
    }
}

/// Headers every answer carries: no framing, no sniffing, no referrer, and
/// nothing loaded from anywhere but this server.
fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
