//! `casetrail serve --webhook-secrets FILE` as an operator runs it: the real
//! binary serves the payment webhook; a signed payment is accepted and
//! matched to its charge (which leaves the enforcement list), a replay is a
//! duplicate, a bad signature is refused, and a secrets file others can
//! read is refused at start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use casetrail_connectors::webhook::sign;

mod support;
use support::{serve, BIN};

const SECRET: &str = "demo-pay-secret-0123456789";
const UIN: &str = "20260000000000000140";
/// A camera fine (no protocol needed), in force on 12 March, 20,000 tenge.
const CHARGE: &str = r#"{"type":"fine.imposed","id":"i-14","at":"2026-03-02T10:20:00+05:00","case":"CAM-14","uin":"20260000000000000140","amount_kzt":"20000.00","in_force_at":"2026-03-12","short_procedure":false}"#;

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN).args(args).current_dir(dir).env_remove("CASETRAIL_DB").output().expect("run casetrail")
}

fn ok(args: &[&str], dir: &Path) -> String {
    let output = run(args, dir);
    assert!(output.status.success(), "casetrail {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn post(address: &str, provider: &str, signature: &str, body: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let request = format!(
        "POST /api/v1/payments/webhook/{provider} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nX-Casetrail-Signature: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn due(db: &str, dir: &Path) -> String {
    ok(&["report", "enforcement-due", "--db", db, "--as-of", "2026-05-01", "--format", "json"], dir)
}

#[test]
fn the_served_webhook_takes_a_signed_payment_once_and_refuses_a_bad_signature() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("t.db");
    let db = db.to_str().unwrap();
    let charge = d.join("charge.jsonl");
    std::fs::write(&charge, format!("{CHARGE}\n")).unwrap();
    ok(&["import", "--db", db, "--source", "fines", charge.to_str().unwrap()], d);
    assert!(due(db, d).contains(UIN), "unpaid, the charge is due for enforcement");

    let secrets = d.join("webhook-secrets.toml");
    std::fs::write(&secrets, format!("demo-pay = \"{SECRET}\"\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused =
        run(&["serve", "--db", db, "--listen", "127.0.0.1:0", "--webhook-secrets", secrets.to_str().unwrap()], d);
    assert!(!refused.status.success(), "a secrets file others can read is refused");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("chmod 600"), "the refusal says what to do: {message}");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (server, address) = serve(db, &secrets, d);
    let body =
        r#"{"payment":"DP-1","at":"2026-03-20T10:15:00+05:00","amount_kzt":"20000.00","uin":"20260000000000000140"}"#;
    let (status, response) = post(&address, "demo-pay", &sign(SECRET.as_bytes(), now(), body.as_bytes()), body);
    assert_eq!(status, 201, "{response}");
    let (status, response) = post(&address, "demo-pay", &sign(SECRET.as_bytes(), now(), body.as_bytes()), body);
    assert_eq!(status, 200, "a replay is a duplicate: {response}");
    assert!(response.contains("\"duplicate\":true"), "{response}");
    let forged = sign(b"not-the-secret-0123456789", now(), body.as_bytes());
    let (status, response) = post(&address, "demo-pay", &forged, body);
    assert_eq!(status, 401, "{response}");
    drop(server);

    assert!(!due(db, d).contains(UIN), "paid in full by the webhook's payment, the charge is not due");
    let verified = ok(&["verify", "--db", db], d);
    assert!(verified.starts_with("ok: 2 events,"), "the charge and one payment, once: {verified}");
}
