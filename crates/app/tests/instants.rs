//! Instants finer than a microsecond (a client's clock, the server's own
//! `now`) are kept exactly in the record's bytes; the derived `at` column
//! holds microseconds. Verification agrees with both and cries tamper only
//! when the bytes and the column really disagree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::Incoming;
use casetrail_exchange::JsonLines;
use chrono::{TimeZone, Utc};

fn nanosecond_instants_verify(backend: Backend) {
    let (mut ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap());
    let lines = [
        r#"{"type":"agency.registered","id":"ag-1","at":"2026-03-02T09:00:00.123456789+05:00","agency":"akimat-astana","name":{"kk":"Әкімдік","ru":"Акимат","en":"Akimat"},"kind":"akimat"}"#,
        r#"{"type":"appeal.registered","id":"a-1","at":"2026-03-02T10:15:00.000000001+05:00","appeal":"A-1","agency":"akimat-astana","applicant":{"iin":"850808310738"},"channel":"portal","kind":"complaint","category":"roads"}"#,
    ]
    .join("\n");
    let incoming = JsonLines::new(lines.as_bytes()).map(|line| Incoming::from_raw(line.unwrap()));
    assert_eq!(ledger.import("api", incoming, |_| {}).unwrap().accepted, 2);
    let report = ledger.verify(|_| {}).unwrap_or_else(|failure| panic!("a valid ledger fails to verify: {failure}"));
    assert_eq!(report.events, 2);
}

#[test]
fn nanosecond_instants_verify_on_sqlite() {
    nanosecond_instants_verify(sqlite());
}

#[test]
fn nanosecond_instants_verify_on_postgres() {
    nanosecond_instants_verify(postgres());
}
