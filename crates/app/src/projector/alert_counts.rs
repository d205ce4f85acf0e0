//! How many alerts of each kind an agency got per day (`alert:{kind}`
//! counters), so that the prosecutor's alert list can say how many there
//! are in scope without reading every alert.
//!
//! Counted when an alert is raised; a database written before the counters
//! gets them from its alert documents when first opened.

use std::borrow::Cow;

use casetrail_ledger::Tx;

use super::build_once::{for_each_page, is_marked, mark as set_mark};
use super::{kind, metric, Alert, ProjectError, Projector};

/// The counters' definition; raise it when what is counted changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/alert_counts`).
pub const MARKER_KEY: &str = "alert_counts";

impl Projector {
    /// Counts an alert for its agency on its Kazakhstan local day (an alert
    /// that names no agency is in nobody's scope and is not counted).
    pub(super) fn count_alert(&mut self, alert: &Alert) {
        if let Some(agency) = &alert.agency {
            let day = casetrail_types::time::local_date(alert.at);
            let kind = Cow::Owned(alert.alert.clone());
            *self.counters.entry((agency.clone(), day, metric::ALERT_PREFIX, kind)).or_default() += 1;
        }
    }
}

/// Counts the alert documents when the database is not marked with the
/// current version; returns the number of alerts read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    if is_marked(tx, MARKER_KEY, VERSION)? {
        return Ok(0);
    }
    tx.clear_counters(metric::ALERT_PREFIX)?;
    let alerts = for_each_page(tx, kind::ALERT, progress, |tx, page: Vec<(String, Alert)>| {
        let mut projector = Projector::default();
        for (_, alert) in &page {
            projector.count_alert(alert);
        }
        projector.flush(tx)
    })?;
    mark(tx)?;
    Ok(alerts)
}

/// Marks the database as holding complete alert counters.
pub fn mark(tx: &mut dyn Tx) -> Result<(), ProjectError> {
    set_mark(tx, MARKER_KEY, VERSION)
}
