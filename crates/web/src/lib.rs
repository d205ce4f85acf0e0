//! The web server: status page, health probes, and (in later work) the API,
//! Open311 and the UI. Only this crate knows HTTP.

#![forbid(unsafe_code)]

pub mod charts;
pub mod writer;

use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use casetrail_app::Ledger;

type Shared = Arc<Mutex<Ledger>>;

/// Builds the application's routes.
pub fn router(ledger: Ledger) -> Router {
    let shared: Shared = Arc::new(Mutex::new(ledger));
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/status", get(status_json))
        .with_state(shared)
}

/// Serves until interrupted (Ctrl-C).
pub fn serve(ledger: Ledger, listen: &str) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen}; is another program using the port? pass --listen 127.0.0.1:PORT")
        })?;
        let address = listener.local_addr()?;
        println!("casetrail is serving on http://{address}/  (Ctrl-C stops it)");
        axum::serve(listener, router(ledger))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped with an error")
    })
}

struct Status {
    backend: &'static str,
    events: u64,
    root: String,
    quarantine_open: u64,
}

async fn read_status(shared: Shared) -> Result<Status, Response> {
    tokio::task::spawn_blocking(move || {
        let mut ledger = shared.lock().map_err(|_| "the ledger lock is poisoned".to_owned())?;
        let store = ledger.store();
        let state = store.ledger_state().map_err(|error| error.to_string())?;
        let quarantine_open = store.quarantine_open_count().map_err(|error| error.to_string())?;
        Ok(Status {
            backend: store.backend(),
            events: state.size(),
            root: hex::encode(state.frontier.root()),
            quarantine_open,
        })
    })
    .await
    .map_err(|error| error.to_string())
    .and_then(|result| result)
    .map_err(|message: String| (StatusCode::SERVICE_UNAVAILABLE, message).into_response())
}

async fn readyz(State(shared): State<Shared>) -> Response {
    match read_status(shared).await {
        Ok(_) => "ready".into_response(),
        Err(response) => response,
    }
}

async fn status_json(State(shared): State<Shared>) -> Response {
    match read_status(shared).await {
        Ok(status) => (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({
                "backend": status.backend,
                "events": status.events,
                "root": status.root,
                "quarantine_open": status.quarantine_open,
            })
            .to_string(),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn status_page(State(shared): State<Shared>) -> Response {
    match read_status(shared).await {
        Ok(status) => Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>casetrail</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body>\
             <h1>casetrail</h1>\
             <p lang=\"kk\">Азаматтардың өтініштері мен әкімшілік айыппұлдардың бірыңғай есебі.</p>\
             <p lang=\"ru\">Единый учёт обращений граждан и административных штрафов.</p>\
             <p lang=\"en\">One accountable trail for every citizen appeal and administrative fine.</p>\
             <dl><dt>Ledger / Журнал / Тізілім</dt><dd>{events} events · {backend}</dd>\
             <dt>Tree root / Корень дерева / Ағаш түбірі</dt><dd><code>{root}</code></dd>\
             <dt>Quarantine / Карантин / Карантин</dt><dd>{quarantine}</dd></dl></body></html>",
            events = status.events,
            backend = status.backend,
            root = status.root,
            quarantine = status.quarantine_open,
        ))
        .into_response(),
        Err(response) => response,
    }
}
