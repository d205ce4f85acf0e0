//! The bailiffs' recall lists (`recalled/{bailiff}/{newest-first instant}/…`)
//! hold, as kept on append, exactly the recalled referrals the charge
//! documents show, each with why it was recalled; a database from before
//! them gets the same from its charge documents when opened, and a rebuild
//! from the ledger makes them again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use casetrail_app::projector::recalls::{self, RecallReason, Recalled};
use casetrail_app::projector::{kind, tallies};
use casetrail_app::testing::{all_docs, index, ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_domain::charge::ChargeState;
use casetrail_exchange::JsonLines;
use casetrail_ledger::ProjectionDoc;
use chrono::{TimeZone, Utc};

fn lists(ledger: &mut Ledger) -> BTreeMap<String, (Option<String>, Recalled)> {
    index(ledger.store(), kind::RECALLED)
}

fn the_lists_are_what_the_charges_say(backend: Backend) {
    let (mut ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2027, 1, 20, 9, 0, 0).single().unwrap());
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 5);
    config.appeals_per_year = Some(200);
    config.fines_per_year = Some(6_000);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).unwrap();
    let lines = JsonLines::new(out.as_slice()).map(|line| Incoming::from_raw(line.unwrap()));
    ledger.import("sim", lines, |_| {}).unwrap();

    // What the final charge documents say, each charge read on its own.
    let mut expected: Vec<(String, Recalled)> = Vec::new();
    for doc in all_docs(ledger.store(), kind::CHARGE) {
        let charge: ChargeState = serde_json::from_str(&doc.doc).unwrap();
        expected.extend(recalls::entries(&charge).into_iter().map(|(_, bailiff, entry)| (bailiff, entry)));
    }
    assert!(
        expected.iter().any(|(_, entry)| entry.why == RecallReason::Paid),
        "a simulated year refers some paid fines, and casetrail recalls them"
    );
    let kept = lists(&mut ledger);
    let mut listed: Vec<(String, Recalled)> =
        kept.values().map(|(bailiff, entry)| (bailiff.clone().unwrap(), entry.clone())).collect();
    let order = |(bailiff, entry): &(String, Recalled)| (bailiff.clone(), entry.uin.clone(), entry.document.clone());
    expected.sort_by_key(order);
    listed.sort_by_key(order);
    assert_eq!(listed, expected, "the lists kept on append");

    // Each chamber's keys read newest recall first.
    for (bailiff, _) in &expected {
        let prefix = recalls::bailiff_prefix(bailiff);
        let instants: Vec<_> = kept
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(_, e)| e.1.recalled_at)
            .collect();
        assert!(instants.windows(2).all(|pair| pair[0] >= pair[1]), "{bailiff}: {instants:?}");
    }

    // A database from before the lists: none of them, an older mark.
    let mut tx = ledger.store().begin().unwrap();
    tx.delete_docs(kind::RECALLED, &kept.keys().map(String::as_str).collect::<Vec<_>>()).unwrap();
    let old = ProjectionDoc {
        kind: kind::META.into(),
        key: recalls::MARKER_KEY.into(),
        agency: None,
        doc: serde_json::to_string(&tallies::Marker { version: 0 }).unwrap(),
    };
    tx.store_docs(&[old]).unwrap();
    let read = recalls::ensure(tx.as_mut(), &mut |_| {}).unwrap();
    assert!(read > 1_000, "every charge is read: {read}");
    tx.commit().unwrap();
    assert_eq!(lists(&mut ledger), kept, "the lists built from the charge documents");

    ledger.rebuild(|_| {}).unwrap();
    assert_eq!(lists(&mut ledger), kept, "the lists rebuilt from the ledger");
}

#[test]
fn on_sqlite() {
    the_lists_are_what_the_charges_say(sqlite());
}

#[test]
fn on_postgres() {
    the_lists_are_what_the_charges_say(postgres());
}
