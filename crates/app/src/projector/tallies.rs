//! The scorecard's tallies (`casetrail_domain::appeal::tally`) kept as
//! counters, so that a scorecard for any period is a sum of counter rows.
//!
//! The appeal projector keeps them on every append. This module computes
//! them for a database written before they existed (or before their
//! definition last changed), from the appeal documents, and marks the
//! database with the version it holds; reports trust the counters only when
//! the mark is the current version.

use std::collections::{HashMap, HashSet};

use casetrail_domain::appeal::repeat::{self, ApplicantThread};
use casetrail_domain::appeal::tally::{self, TallyMetric};
use casetrail_domain::appeal::AppealState;
use casetrail_ledger::{ProjectionDoc, Tx};

use super::build_once::{for_each_page, parse, to_doc};
use super::{kind, metric, ProjectError, Projector};

/// The tallies' definition; raise it when `tally::contribution` changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/scorecard_tallies`).
pub const MARKER_KEY: &str = "scorecard_tallies";

pub use super::build_once::Marker;

/// Whether the store's tallies are complete at [`VERSION`].
pub fn current(marker: Option<&ProjectionDoc>) -> bool {
    super::build_once::marked_at(marker, VERSION)
}

/// Computes the tallies from the appeal documents when the database is not
/// marked with the current version; returns the number of appeals read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    if current(tx.load_docs(kind::META, &[MARKER_KEY])?.first()) {
        return Ok(0);
    }
    let appeals = derive(tx, progress)?;
    mark(tx)?;
    Ok(appeals)
}

/// Marks the database as holding complete tallies at [`VERSION`].
pub fn mark(tx: &mut dyn Tx) -> Result<(), ProjectError> {
    super::build_once::mark(tx, MARKER_KEY, VERSION)
}

/// Replaces every tally counter with the sum of the appeals' contributions,
/// and marks in the applicants' threads which answered appeals have a repeat.
fn derive(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    tx.clear_counters(metric::TALLY_DAY_PREFIX)?;
    tx.clear_counters(metric::TALLY_MONTH_PREFIX)?;
    let mut projector = Projector::default();
    let mut repeated: HashSet<String> = HashSet::new();
    for_each_page(tx, kind::APPEAL, progress, |tx, page: Vec<(String, AppealState)>| {
        let mut threads: HashMap<String, Vec<repeat::RepeatLink>> = HashMap::new();
        for (key, state) in &page {
            let calendar = |error: casetrail_types::CalendarError| ProjectError::Corrupt {
                kind: kind::APPEAL,
                key: key.clone(),
                error: error.to_string(),
            };
            for (agency, receipt_day, metric) in tally::contribution(state, None).map_err(calendar)? {
                projector.count_tally(&agency, receipt_day, metric, 1);
            }
            if let Some(link) = &state.repeat_of {
                if repeated.insert(link.appeal.clone()) {
                    projector.count_tally(&link.agency, link.answer_turn_received_on, TallyMetric::Repeated, 1);
                    if let Some(key) = repeat::thread_key(state.applicant.as_deref(), &state.category) {
                        threads.entry(key).or_default().push(link.clone());
                    }
                }
            }
        }
        // The threads learn which of their answered appeals were repeated,
        // so that a later repeat of the same appeal is not counted again.
        let keys: Vec<&str> = threads.keys().map(String::as_str).collect();
        let mut marked = Vec::with_capacity(keys.len());
        for doc in tx.load_docs(kind::APPEAL_THREAD, &keys)? {
            let mut thread: ApplicantThread = parse(kind::APPEAL_THREAD, &doc.key, &doc.doc)?;
            for link in threads.get(&doc.key).into_iter().flatten() {
                thread.mark_repeated(link);
            }
            marked.push(to_doc(kind::APPEAL_THREAD, doc.key, doc.agency, &thread)?);
        }
        tx.store_docs(&marked)?;
        projector.flush(tx)
    })
}
