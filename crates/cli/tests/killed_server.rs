//! `casetrail serve` killed (SIGKILL) while payment apps push payments
//! through the webhook: every payment the server acknowledged (`201`) is in
//! the ledger afterwards, once, and the ledger verifies. The writer commits
//! without waiting for the disk and answers only after its flush thread has
//! synced the WAL; a kill between the two must lose nothing anyone heard of.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use casetrail_connectors::webhook::sign;

mod support;
use support::{serve, BIN};

const SECRET: &str = "demo-pay-secret-0123456789";
const SENDERS: usize = 8;

fn ok(args: &[&str], dir: &Path) -> String {
    let output =
        Command::new(BIN).args(args).current_dir(dir).env_remove("CASETRAIL_DB").output().expect("run casetrail");
    assert!(output.status.success(), "casetrail {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Posts one signed payment; the status, or `None` when the server is gone.
fn post(address: &str, payment: &str) -> Option<u16> {
    let body = format!(r#"{{"payment":"{payment}","at":"2026-03-20T10:15:00+05:00","amount_kzt":"1500.00"}}"#);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signature = sign(SECRET.as_bytes(), now, body.as_bytes());
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    let request = format!(
        "POST /api/v1/payments/webhook/demo-pay HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nX-Casetrail-Signature: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1).and_then(|status| status.parse().ok())
}

#[test]
fn a_killed_server_loses_no_payment_it_acknowledged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("k.db");
    let db = db.to_str().unwrap();
    let secrets = d.join("webhook-secrets.toml");
    std::fs::write(&secrets, format!("demo-pay = \"{SECRET}\"\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (server, address) = serve(db, &secrets, d);

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (address, acknowledged) = (address.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let payment = format!("KP-{sender}-{n:06}");
                    match post(&address, &payment) {
                        Some(201) => acknowledged.lock().unwrap().push(payment),
                        Some(status) => panic!("{payment}: the server answered {status} before it was killed"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    // Kill it in the middle of the stream, once it has answered a good many.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    for sender in senders {
        sender.join().unwrap();
    }
    let acknowledged: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    assert!(acknowledged.len() >= 300, "only {} payments acknowledged before the kill", acknowledged.len());

    // The ledger as the killed server left it: it verifies, and holds every
    // acknowledged payment exactly once.
    let verified = ok(&["verify", "--db", db], d);
    assert!(verified.starts_with("ok: "), "{verified}");
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut statement = connection.prepare("SELECT canonical FROM events WHERE source = 'demo-pay'").unwrap();
    let mut stored: Vec<String> = statement
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|canonical| {
            let record: serde_json::Value = serde_json::from_slice(&canonical.unwrap()).unwrap();
            record["payment"].as_str().unwrap().to_owned()
        })
        .collect();
    let count = stored.len();
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), count, "no payment is stored twice");
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged payments are not in the ledger: {lost:?}", lost.len());
}
