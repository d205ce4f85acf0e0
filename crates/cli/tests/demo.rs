//! The README's first command, as a newcomer runs it: `casetrail demo`
//! simulates the city, loads it, adds the present, prints one account per
//! role and serves the story page; stopped and started again, it verifies
//! the ledger it left, keeps the accounts and adds nothing twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_casetrail");

/// The demo, stopped when dropped.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo; returns it, its address and the printed account lines.
fn start(dir: &Path) -> (Demo, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["demo", "--dir", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .env_remove("CASETRAIL_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start casetrail demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let demo = Demo(child);
    let mut accounts = Vec::new();
    let address = loop {
        let line = lines.next().expect("the demo printed its address (see its errors above)").unwrap();
        if let Some(rest) = line.strip_prefix("casetrail is serving on http://") {
            break rest.split('/').next().unwrap().to_owned();
        }
        if line.starts_with("  ") && !line.contains("http") {
            accounts.push(line.trim().to_owned());
        }
    };
    (demo, address, accounts)
}

fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: demo\r\nAccept-Language: en\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

fn cli(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).env_remove("CASETRAIL_DB").output().unwrap();
    assert!(output.status.success(), "casetrail {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_demo_serves_its_story_prints_every_role_and_starts_again_on_its_own_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, address, accounts) = start(dir.path());
    for role in ["officer", "field_officer", "prosecutor", "analyst", "bailiff", "admin"] {
        assert!(accounts.iter().any(|line| line.split_whitespace().nth(2) == Some(role)), "no {role} in {accounts:?}");
    }
    let (status, page) = get(&address, "/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("How agencies answer") && page.contains("A receipt, verified"), "{page}");
    drop(demo);

    // Started again: the ledger verifies, the same accounts, nothing added twice.
    let db = dir.path().join("demo.db");
    let db = db.to_str().unwrap();
    let size = |report: &str| report.split_whitespace().nth(1).unwrap().to_owned();
    let before = size(&cli(&["verify", "--db", db]));
    let (demo, address, again) = start(dir.path());
    assert_eq!(again, accounts, "the demo accounts and their passwords are kept");
    assert_eq!(get(&address, "/healthz").0, 200);
    drop(demo);
    assert_eq!(size(&cli(&["verify", "--db", db])), before, "a second start appends nothing");

    // The present: appeals in a queue, charges of the demo tablet due for enforcement.
    let due = cli(&["report", "enforcement-due", "--db", db, "--format", "json"]);
    let due: Vec<serde_json::Value> = serde_json::from_str(&due).unwrap();
    assert!(due.iter().any(|row| row["uin"].as_str().unwrap().starts_with("999000001")), "{due:?}");
}
