//! How many alerts of each kind an agency got per day (`alert:{kind}`
//! counters), so that the prosecutor's alert list can say how many there
//! are in scope without reading every alert.
//!
//! Counted when an alert is raised; a database written before the counters
//! gets them from its alert documents when first opened.

use std::borrow::Cow;

use casetrail_ledger::Tx;

use super::appeal_index::{mark as set_mark, marked_at};
use super::{kind, metric, Alert, ProjectError, Projector};

/// The counters' definition; raise it when what is counted changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/alert_counts`).
pub const MARKER_KEY: &str = "alert_counts";

const PAGE: usize = 5_000;

impl Projector {
    /// Counts an alert for its agency on its Kazakhstan local day (an alert
    /// that names no agency is in nobody's scope and is not counted).
    pub(super) fn count_alert(&mut self, alert: &Alert) {
        if let Some(agency) = &alert.agency {
            let day = casetrail_types::time::local_date(alert.at);
            let name = format!("{}{}", metric::ALERT_PREFIX, alert.alert);
            *self.counters.entry((agency.clone(), day, Cow::Owned(name))).or_default() += 1;
        }
    }
}

/// Counts the alert documents when the database is not marked with the
/// current version; returns the number of alerts read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    if marked_at(tx.load_docs(kind::META, &[MARKER_KEY])?.first(), VERSION) {
        return Ok(0);
    }
    tx.clear_counters(metric::ALERT_PREFIX)?;
    let mut after = String::new();
    let mut alerts = 0u64;
    loop {
        let page = tx.docs_after(kind::ALERT, &after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.key.clone();
        let mut projector = Projector::default();
        for doc in &page {
            let alert: Alert = serde_json::from_str(&doc.doc).map_err(|error| ProjectError::Corrupt {
                kind: kind::ALERT,
                key: doc.key.clone(),
                error: error.to_string(),
            })?;
            projector.count_alert(&alert);
            alerts += 1;
        }
        projector.flush(tx)?;
        progress(alerts);
    }
    mark(tx)?;
    Ok(alerts)
}

/// Marks the database as holding complete alert counters.
pub fn mark(tx: &mut dyn Tx) -> Result<(), ProjectError> {
    set_mark(tx, MARKER_KEY, VERSION)
}
