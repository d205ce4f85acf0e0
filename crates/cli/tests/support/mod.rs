//! `casetrail serve` as an operator starts it, for the tests that drive the
//! real binary over HTTP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_casetrail");

/// The server, stopped (by its own handle) when dropped.
pub struct Server(Child);

impl Server {
    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        self.0.kill().expect("SIGKILL the server");
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `casetrail serve` on `db` with the payment webhook's `secrets`;
/// answers the server and the address it listens on.
pub fn serve(db: &str, secrets: &Path, dir: &Path) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0", "--webhook-secrets", secrets.to_str().unwrap()])
        .current_dir(dir)
        .env_remove("CASETRAIL_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start casetrail serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let server = Server(child);
    let address = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    (server, address)
}
