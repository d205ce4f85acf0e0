//! The payment webhook over real HTTP, on the application's own router:
//! signed, replay-safe, idempotent, matched to its charge; a server started
//! without secrets says the webhook is not configured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use casetrail_app::{DbLocation, Incoming, Ledger};
use casetrail_connectors::webhook::{sign, Secrets};
use casetrail_exchange::JsonLines;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "kaspi-secret-0123456789";

async fn post(address: std::net::SocketAddr, provider: &str, signature: Option<String>, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let header = signature.map(|s| format!("X-Casetrail-Signature: {s}\r\n")).unwrap_or_default();
    let request = format!(
        "POST /api/v1/payments/webhook/{provider} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A camera fine (no protocol needed), in force, owing 20,000 tenge.
const CHARGE: &str = r#"{"type":"fine.imposed","id":"i-14","at":"2026-03-02T10:20:00+05:00","case":"CAM-14","uin":"20260000000000000140","amount_kzt":"20000.00","in_force_at":"2026-03-12","short_procedure":false}"#;

fn ledger(dir: &std::path::Path) -> Ledger {
    let mut ledger = Ledger::open(&DbLocation::Sqlite(dir.join("t.db")), Some(&dir.join("t.key"))).unwrap();
    let lines = JsonLines::new(CHARGE.as_bytes()).map(|line| Incoming::from_raw(line.unwrap()));
    assert_eq!(ledger.import("fines", lines, |_| {}).unwrap().accepted, 1);
    ledger
}

async fn serve(ledger: Ledger, secrets: Option<Secrets>) -> std::net::SocketAddr {
    let config = casetrail_web::WebConfig { webhook_secrets: secrets, ..Default::default() };
    let app = casetrail_web::router_with(ledger, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    address
}

fn charge(dir: &std::path::Path) -> serde_json::Value {
    let mut store = DbLocation::Sqlite(dir.join("t.db")).open().unwrap();
    serde_json::from_str(&store.doc("charge", "20260000000000000140").unwrap().unwrap().doc).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_payments_land_once_and_everything_else_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::new([("kaspi".to_owned(), SECRET.to_owned())]);
    let address = serve(ledger(dir.path()), Some(secrets)).await;

    let body = r#"{"payment":"K-1","at":"2026-03-20T10:15:00+05:00","amount_kzt":"20000.00","uin":"20260000000000000140","payer":"850808310738"}"#;
    let signed = |t: i64, secret: &str| Some(sign(secret.as_bytes(), t, body.as_bytes()));
    let (status, response) = post(address, "kaspi", signed(now(), SECRET), body).await;
    assert_eq!(status, 201, "{response}");
    let paid = charge(dir.path());
    assert_eq!(paid["status"], "paid", "the payment is matched to its charge by UIN: {paid}");
    assert_eq!(paid["payments"].as_array().map(Vec::len), Some(1), "{paid}");
    let (status, response) = post(address, "kaspi", signed(now(), SECRET), body).await;
    assert_eq!(status, 200, "a second delivery is a duplicate: {response}");
    assert!(response.contains("\"duplicate\":true"), "{response}");
    assert_eq!(charge(dir.path())["payments"], paid["payments"], "a replay changes nothing");
    let (status, _) = post(address, "kaspi", signed(now(), "another-secret-0123456"), body).await;
    assert_eq!(status, 401, "bad signature");
    let (status, response) = post(address, "kaspi", signed(now() - 600, SECRET), body).await;
    assert_eq!(status, 401, "stale");
    assert!(response.contains("old"), "{response}");
    let (status, _) = post(address, "kaspi", signed(now() + 600, SECRET), body).await;
    assert_eq!(status, 401, "future");
    let (status, _) = post(address, "halyk", signed(now(), SECRET), body).await;
    assert_eq!(status, 404, "unknown provider");
    let (status, _) = post(address, "kaspi", None, body).await;
    assert_eq!(status, 401, "unsigned");
    let bad = r#"{"payment":"K-2","at":"yesterday","amount_kzt":"1"}"#;
    let (status, _) = post(address, "kaspi", Some(sign(SECRET.as_bytes(), now(), bad.as_bytes())), bad).await;
    assert_eq!(status, 422, "not a payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_secrets_the_webhook_says_it_is_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve(ledger(dir.path()), None).await;
    let body = r#"{"payment":"K-1","at":"2026-03-20T10:15:00+05:00","amount_kzt":"20000.00"}"#;
    let (status, response) = post(address, "kaspi", Some(sign(SECRET.as_bytes(), now(), body.as_bytes())), body).await;
    assert_eq!(status, 503, "{response}");
    assert!(response.contains("--webhook-secrets"), "the answer says how to configure it: {response}");
    assert_eq!(charge(dir.path())["payments"], serde_json::json!([]), "nothing was appended");
}
