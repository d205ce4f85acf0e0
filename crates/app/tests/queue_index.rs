//! The officer's queue index (`held/{holder}/{appeal}`) holds exactly the
//! open appeals under their holders, with their due dates, as kept on
//! append; a database from before the index gets the same from its appeal
//! documents when opened.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use casetrail_app::projector::queue::{self, Held};
use casetrail_app::projector::{kind, tallies};
use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_exchange::JsonLines;
use casetrail_ledger::{ProjectionDoc, Store};
use chrono::{TimeZone, Utc};

fn all_docs(store: &mut dyn Store, kind: &str) -> Vec<ProjectionDoc> {
    let mut docs = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.docs(kind, &after, 1_000).unwrap();
        let Some(last) = page.last() else { return docs };
        after = last.key.clone();
        docs.extend(page);
    }
}

/// key → (holder, entry)
fn index(ledger: &mut Ledger) -> BTreeMap<String, (Option<String>, Held)> {
    all_docs(ledger.store(), kind::HELD)
        .into_iter()
        .map(|doc| (doc.key, (doc.agency, serde_json::from_str(&doc.doc).unwrap())))
        .collect()
}

fn the_queue_index_is_the_open_appeals_by_holder(backend: Backend) {
    let (mut ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 1, 20, 9, 0, 0).single().unwrap());
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 11);
    config.appeals_per_year = Some(3_000);
    config.fines_per_year = Some(100);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).unwrap();
    // The year cut in the middle: many appeals still open, some forwarded.
    let lines: Vec<_> = JsonLines::new(out.as_slice()).map(|line| Incoming::from_raw(line.unwrap())).collect();
    let half = lines.len() / 2;
    ledger.import("sim", lines.into_iter().take(half), |_| {}).unwrap();

    let mut expected = BTreeMap::new();
    for doc in all_docs(ledger.store(), kind::APPEAL) {
        let state: AppealState = serde_json::from_str(&doc.doc).unwrap();
        if state.status == AppealStatus::Open {
            let holder = state.holder().to_string();
            let entry = Held { appeal: state.appeal.clone(), due: state.statutory_due() };
            expected.insert(queue::held_key(&holder, &state.appeal), (Some(holder), entry));
        }
    }
    assert!(expected.len() > 10, "a simulated year ends with open appeals: {}", expected.len());
    let kept = index(&mut ledger);
    assert_eq!(kept, expected, "kept on append");

    // A database from before the index: none of it, an older mark.
    let mut tx = ledger.store().begin().unwrap();
    let keys: Vec<&str> = kept.keys().map(String::as_str).collect();
    tx.delete_docs(kind::HELD, &keys).unwrap();
    let old = ProjectionDoc {
        kind: kind::META.into(),
        key: queue::MARKER_KEY.into(),
        agency: None,
        doc: serde_json::to_string(&tallies::Marker { version: 0 }).unwrap(),
    };
    tx.store_docs(&[old]).unwrap();
    assert!(queue::ensure(tx.as_mut()).unwrap() > 1_000, "every appeal is read");
    tx.commit().unwrap();
    assert_eq!(index(&mut ledger), expected, "built from the documents");

    ledger.rebuild(|_| {}).unwrap();
    assert_eq!(index(&mut ledger), expected, "rebuilt from the ledger");
}

#[test]
fn on_sqlite() {
    the_queue_index_is_the_open_appeals_by_holder(sqlite());
}

#[test]
fn on_postgres() {
    the_queue_index_is_the_open_appeals_by_holder(postgres());
}
