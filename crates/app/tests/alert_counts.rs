//! The alerts' counters (`alert:{kind}` per agency and day) say exactly how
//! many alert documents there are, as kept on append; a database from
//! before them gets the same from its alert documents when opened.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use casetrail_app::projector::{alert_counts, kind, metric, tallies, Alert};
use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_ledger::ProjectionDoc;
use chrono::{NaiveDate, TimeZone, Utc};

/// (agency, kind) → alerts, from the documents.
fn from_documents(ledger: &mut Ledger) -> BTreeMap<(String, String), i64> {
    let mut counts = BTreeMap::new();
    for doc in ledger.store().docs(kind::ALERT, "", usize::MAX >> 1).unwrap() {
        let alert: Alert = serde_json::from_str(&doc.doc).unwrap();
        if let Some(agency) = alert.agency {
            *counts.entry((agency, alert.alert)).or_default() += 1;
        }
    }
    counts
}

/// (agency, kind) → alerts, from the counters.
fn from_counters(ledger: &mut Ledger) -> BTreeMap<(String, String), i64> {
    let (first, last) = (NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2100, 1, 1).unwrap());
    ledger
        .store()
        .counter_sums(metric::ALERT_PREFIX, first, last)
        .unwrap()
        .into_iter()
        .map(|(agency, name, count)| ((agency, name.strip_prefix(metric::ALERT_PREFIX).unwrap().to_owned()), count))
        .collect()
}

fn the_counters_count_the_alerts(backend: Backend) {
    let (mut ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 1, 20, 9, 0, 0).single().unwrap());
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 5);
    config.appeals_per_year = Some(3_000);
    config.fines_per_year = Some(1_000);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).unwrap();
    let lines = JsonLines::new(out.as_slice()).map(|line| Incoming::from_raw(line.unwrap()));
    ledger.import("sim", lines, |_| {}).unwrap();

    let expected = from_documents(&mut ledger);
    assert!(expected.len() > 5, "a simulated year raises alerts of several kinds: {expected:?}");
    assert_eq!(from_counters(&mut ledger), expected, "kept on append");

    // A database from before the counters: none of them, an older mark.
    let mut tx = ledger.store().begin().unwrap();
    tx.clear_counters(metric::ALERT_PREFIX).unwrap();
    let old = ProjectionDoc {
        kind: kind::META.into(),
        key: alert_counts::MARKER_KEY.into(),
        agency: None,
        doc: serde_json::to_string(&tallies::Marker { version: 0 }).unwrap(),
    };
    tx.store_docs(&[old]).unwrap();
    let mut heard = 0;
    let read = alert_counts::ensure(tx.as_mut(), &mut |so_far| heard = so_far).unwrap();
    assert!(read >= expected.values().sum::<i64>() as u64, "every alert read ({read})");
    assert_eq!(heard, read, "progress told as it went");
    assert_eq!(alert_counts::ensure(tx.as_mut(), &mut |_| {}).unwrap(), 0, "once only");
    tx.commit().unwrap();
    assert_eq!(from_counters(&mut ledger), expected, "counted from the documents");

    ledger.rebuild(|_| {}).unwrap();
    assert_eq!(from_counters(&mut ledger), expected, "rebuilt from the ledger");
}

#[test]
fn on_sqlite() {
    the_counters_count_the_alerts(sqlite());
}

#[test]
fn on_postgres() {
    the_counters_count_the_alerts(postgres());
}
