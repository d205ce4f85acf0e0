//! The payment webhook over real HTTP: signed, replay-safe, idempotent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::{Arc, Mutex};

use casetrail_app::{DbLocation, Ledger};
use casetrail_connectors::webhook::{sign, Secrets};
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

#[tokio::test]
async fn signed_payments_land_once_and_everything_else_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&DbLocation::Sqlite(dir.path().join("t.db")), Some(&dir.path().join("t.key"))).unwrap();
    let secrets = Secrets::new([("kaspi".to_owned(), SECRET.to_owned())]);
    let app = casetrail_web::webhook::router(secrets, Arc::new(Mutex::new(ledger)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let body = r#"{"payment":"K-1","at":"2026-03-02T10:15:00+05:00","amount_kzt":"17300.00","uin":"10000000000000000014","payer":"850808310738"}"#;
    let signed = |t: i64, secret: &str| Some(sign(secret.as_bytes(), t, body.as_bytes()));
    let (status, response) = post(address, "kaspi", signed(now(), SECRET), body).await;
    assert_eq!(status, 201, "{response}");
    let (status, response) = post(address, "kaspi", signed(now(), SECRET), body).await;
    assert_eq!(status, 200, "a second delivery is a duplicate: {response}");
    assert!(response.contains("\"duplicate\":true"), "{response}");
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
