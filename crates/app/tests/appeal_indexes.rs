//! The indexes beside the appeal documents hold, as kept on append, exactly
//! what the appeals say: the officer's queue (`held/{holder}/{appeal}`) the
//! open appeals under their holders with their due dates, the request list
//! (`requested/{newest-first instant}/{appeal}`) every appeal under its
//! first registration; a database from before them gets the same from its
//! appeal documents when opened. An applicant's thread (repeat appeals)
//! holds their answered appeals, and nothing unanswered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use casetrail_app::projector::appeal_index::AppealIndex;
use casetrail_app::projector::queue::{self, Held};
use casetrail_app::projector::requested::{self, Requested};
use casetrail_app::projector::{kind, tallies};
use casetrail_app::testing::{all_docs, index, ledger_at, postgres, sqlite, Backend};
use casetrail_app::Incoming;
use casetrail_domain::appeal::repeat::{self, ApplicantThread};
use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_exchange::JsonLines;
use casetrail_ledger::ProjectionDoc;
use chrono::{TimeZone, Utc};

fn the_indexes_are_what_the_appeals_say(backend: Backend) {
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

    let mut held = BTreeMap::new();
    let mut listed = BTreeMap::new();
    let mut answered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for doc in all_docs(ledger.store(), kind::APPEAL) {
        let state: AppealState = serde_json::from_str(&doc.doc).unwrap();
        if let (AppealStatus::Answered, Some(thread)) =
            (state.status, repeat::thread_key(state.applicant.as_deref(), &state.category))
        {
            answered.entry(thread).or_default().insert(state.appeal.clone());
        }
        if state.status == AppealStatus::Open {
            let holder = state.holder().to_string();
            let entry = Held { appeal: state.appeal.clone(), due: state.statutory_due() };
            held.insert(queue::held_key(&holder, &state.appeal), (Some(holder), entry));
        }
        let entry = Requested { appeal: state.appeal.clone(), category: state.category.clone() };
        listed.insert(
            requested::requested_key(state.first().received_at, &state.appeal),
            (Some(state.first().agency.to_string()), entry),
        );
    }
    assert!(held.len() > 10, "a simulated year ends with open appeals: {}", held.len());
    assert!(listed.len() > held.len());
    assert_eq!(index::<Held>(ledger.store(), kind::HELD), held, "queues kept on append");
    assert_eq!(index::<Requested>(ledger.store(), kind::REQUESTED), listed, "request list kept on append");
    let threads: BTreeMap<String, ApplicantThread> = index::<ApplicantThread>(ledger.store(), kind::APPEAL_THREAD)
        .into_iter()
        .map(|(key, (_, thread))| (key, thread))
        .collect();
    assert!(answered.len() > 10, "a simulated half year answers appeals: {}", answered.len());
    for (key, appeals) in &answered {
        let kept: BTreeSet<String> =
            threads.get(key).into_iter().flat_map(|thread| &thread.appeals).map(|e| e.appeal.clone()).collect();
        assert!(kept.is_superset(appeals), "thread {key} keeps its answered appeals {appeals:?}: {kept:?}");
    }
    let unanswered: Vec<&str> = threads
        .values()
        .flat_map(|thread| &thread.appeals)
        .filter(|entry| entry.answered.is_none())
        .map(|entry| entry.appeal.as_str())
        .collect();
    assert!(unanswered.is_empty(), "threads keep no unanswered appeal: {unanswered:?}");

    // A database from before the indexes: none of them, older marks.
    let mut tx = ledger.store().begin().unwrap();
    let old_marks: [(&AppealIndex, Vec<String>); 2] =
        [(&queue::INDEX, held.keys().cloned().collect()), (&requested::INDEX, listed.keys().cloned().collect())];
    for (index, keys) in &old_marks {
        tx.delete_docs(index.kind, &keys.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        let old = ProjectionDoc {
            kind: kind::META.into(),
            key: index.marker.into(),
            agency: None,
            doc: serde_json::to_string(&tallies::Marker { version: 0 }).unwrap(),
        };
        tx.store_docs(&[old]).unwrap();
    }
    for ensure in [queue::ensure, requested::ensure] {
        let mut heard = 0;
        let read = ensure(tx.as_mut(), &mut |so_far| heard = so_far).unwrap();
        assert!(read > 1_000, "every appeal is read");
        assert_eq!(heard, read, "progress told as it went");
    }
    tx.commit().unwrap();
    assert_eq!(index::<Held>(ledger.store(), kind::HELD), held, "queues built from the documents");
    assert_eq!(index::<Requested>(ledger.store(), kind::REQUESTED), listed, "request list built from the documents");

    ledger.rebuild(|_| {}).unwrap();
    assert_eq!(index::<Held>(ledger.store(), kind::HELD), held, "queues rebuilt from the ledger");
    assert_eq!(index::<Requested>(ledger.store(), kind::REQUESTED), listed, "request list rebuilt from the ledger");
}

#[test]
fn on_sqlite() {
    the_indexes_are_what_the_appeals_say(sqlite());
}

#[test]
fn on_postgres() {
    the_indexes_are_what_the_appeals_say(postgres());
}
