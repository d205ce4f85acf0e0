//! A transaction that takes its records in many small batches (the web
//! writer's group commit: the requests that arrived while the disk flushed
//! previous commit) leaves the ledger and every projection exactly as the
//! same records imported in one batch do: the same events under the same
//! root, the same documents, the same counters. A record sent again, in a
//! later batch of the same transaction or in a later transaction, is
//! recognised as a duplicate and never appended twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use casetrail_app::projector::kind;
use casetrail_app::testing::{all_docs, ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::{JsonLines, RawLine};
use chrono::{NaiveDate, TimeZone, Utc};

/// What a reader of the ledger can see: its size and root, every
/// projection document by kind and key, and every counter.
#[derive(Debug, PartialEq)]
struct Seen {
    size: u64,
    root: [u8; 32],
    docs: BTreeMap<(String, String), (Option<String>, String)>,
    counters: Vec<(String, NaiveDate, String, i64)>,
}

fn seen(ledger: &mut Ledger) -> Seen {
    let state = ledger.store().ledger_state().unwrap();
    let mut docs = BTreeMap::new();
    for kind in kind::ALL {
        for doc in all_docs(ledger.store(), kind) {
            docs.insert((doc.kind, doc.key), (doc.agency, doc.doc));
        }
    }
    Seen { size: state.size(), root: state.frontier.root(), docs, counters: ledger.store().counters().unwrap() }
}

fn simulated_lines() -> Vec<RawLine> {
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 5);
    config.appeals_per_year = Some(1_500);
    config.fines_per_year = Some(300);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).unwrap();
    JsonLines::new(out.as_slice()).map(|line| line.unwrap()).collect()
}

fn incoming(lines: &[RawLine]) -> Vec<Incoming> {
    lines.iter().cloned().map(Incoming::from_raw).collect()
}

fn small_batches_are_one_batch(reference: Backend, grouped: Backend) {
    let now = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).single().unwrap();
    let lines = simulated_lines();

    let (mut one_batch, _reference_guard) = ledger_at(reference, now);
    let summary = one_batch.import_batch("sim", incoming(&lines)).unwrap();
    assert_eq!(summary.accepted as usize, lines.len(), "the simulated city is valid");

    // Transactions of ~60 records, each in batches of 1 to 7, with every
    // tenth record sent again in the transaction's next batch, and every
    // transaction's first record sent again in the next transaction.
    let (mut grouped_ledger, _grouped_guard) = ledger_at(grouped, now);
    let mut duplicates = 0;
    let mut previous_first: Option<RawLine> = None;
    for transaction in lines.chunks(60) {
        let mut import = grouped_ledger.begin_import(true).unwrap();
        let mut resend: Vec<RawLine> = previous_first.take().into_iter().collect();
        let mut rest = transaction;
        let mut size = 1;
        while !rest.is_empty() {
            let (batch, after) = rest.split_at(size.min(rest.len()));
            let mut records = std::mem::take(&mut resend);
            let sent_again = records.len();
            records.extend(batch.iter().cloned());
            let summary = import.batch("sim", &incoming(&records)).unwrap();
            assert_eq!(summary.duplicates as usize, sent_again, "a record sent again is a duplicate");
            assert_eq!(summary.quarantined, 0);
            duplicates += sent_again;
            resend = batch.iter().step_by(10).cloned().collect();
            rest = after;
            size = size % 7 + 1;
        }
        if !resend.is_empty() {
            let summary = import.batch("sim", &incoming(&resend)).unwrap();
            assert_eq!(summary.duplicates as usize, resend.len());
            duplicates += resend.len();
        }
        import.commit().unwrap();
        previous_first = transaction.first().cloned();
    }
    assert!(duplicates > lines.len() / 10, "the test sent records again: {duplicates}");

    let expected = seen(&mut one_batch);
    assert!(expected.docs.len() > 1_000 && !expected.counters.is_empty());
    assert_eq!(seen(&mut grouped_ledger), expected, "small batches leave what one batch leaves");
}

#[test]
fn on_sqlite() {
    small_batches_are_one_batch(sqlite(), sqlite());
}

#[test]
fn on_postgres() {
    small_batches_are_one_batch(postgres(), postgres());
}
