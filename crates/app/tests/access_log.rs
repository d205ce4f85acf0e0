//! The access log as prosecutors browse it: one document per read of
//! personal data, newest first, rebuilt from the ledger exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::projector::{access_key, kind, AccessEntry};
use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::JsonLines;
use chrono::{TimeZone, Utc};

fn read(account: &str, subject: &str, minute: u32) -> String {
    format!(
        r#"{{"type":"access.logged","id":"read-{account}-{minute}","at":"2026-03-02T10:{minute:02}:00+05:00","account":"{account}","subject":"{subject}","fields":["iin"],"purpose":"officer queue"}}"#
    )
}

fn listed(ledger: &mut Ledger) -> Vec<AccessEntry> {
    let docs = ledger.store().docs(kind::ACCESS, "", 100).unwrap();
    docs.iter().map(|doc| serde_json::from_str(&doc.doc).unwrap()).collect()
}

fn newest_first_and_rebuilt(backend: Backend) {
    let (mut ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap());
    let lines =
        [read("officer-1", "appeal/A-1", 1), read("prosecutor-1", "appeal/A-2", 2), read("officer-1", "charge/1", 3)]
            .join("\n");
    let incoming = JsonLines::new(lines.as_bytes()).map(|line| Incoming::from_raw(line.unwrap()));
    let summary = ledger.import("web-access", incoming, |_| {}).unwrap();
    assert_eq!(summary.accepted, 3);

    let entries = listed(&mut ledger);
    let subjects: Vec<&str> = entries.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["charge/1", "appeal/A-2", "appeal/A-1"], "the newest read comes first");
    assert_eq!(entries[1].account, "prosecutor-1");
    assert_eq!(entries[0].fields, ["iin"]);
    let last = entries[0].seq;
    assert_eq!(ledger.store().doc(kind::ACCESS, &access_key(last)).unwrap().map(|d| d.key), Some(access_key(last)));

    ledger.rebuild(|_| {}).unwrap();
    assert_eq!(listed(&mut ledger), entries, "rebuild gives the same access log");
}

#[test]
fn access_log_lists_newest_first_and_survives_rebuild_on_sqlite() {
    newest_first_and_rebuilt(sqlite());
}

#[test]
fn access_log_lists_newest_first_and_survives_rebuild_on_postgres() {
    newest_first_and_rebuilt(postgres());
}
