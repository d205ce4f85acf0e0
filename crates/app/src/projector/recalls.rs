//! The bailiffs' recall lists: one entry per recalled referral, under the
//! chamber it was addressed to, newest recall first
//! (`recalled/{bailiff}/{newest-first instant}/{uin}/{referral}`), with what
//! the list shows. Kept whenever a charge document changes, and built from
//! the charge documents once when a database from before it is opened, so
//! that a chamber's list reads its own entries, not every charge.

use casetrail_domain::charge::ChargeState;
use casetrail_ledger::{ProjectionDoc, Tx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::build_once::{delete_all, for_each_page, is_marked, mark, to_doc};
use super::requested::newest_first;
use super::{kind, ProjectError, Projector};

/// The index's definition; raise it when what is indexed changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/recall_index`).
pub const MARKER_KEY: &str = "recall_index";

/// Why a referral was recalled, as of its recall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecallReason {
    /// The charge was cancelled.
    Cancelled,
    /// Payments made by then covered it.
    Paid,
    Other,
}

/// One recalled referral in its chamber's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recalled {
    pub uin: String,
    pub case: String,
    pub document: String,
    pub referred_at: DateTime<Utc>,
    pub recalled_at: DateTime<Utc>,
    pub why: RecallReason,
}

/// What every key of `bailiff`'s list starts with.
pub fn bailiff_prefix(bailiff: &str) -> String {
    format!("{bailiff}/")
}

/// The entries a charge gives: (key, bailiff, entry), one per recalled
/// referral.
pub fn entries(charge: &ChargeState) -> Vec<(String, String, Recalled)> {
    charge
        .referrals
        .iter()
        .enumerate()
        .filter_map(|(position, referral)| {
            let recalled_at = referral.recalled_at?;
            let why = if charge.cancelled_at.is_some_and(|at| at <= recalled_at) {
                RecallReason::Cancelled
            } else if charge.covered_at(recalled_at) {
                RecallReason::Paid
            } else {
                RecallReason::Other
            };
            let key =
                format!("{}{}/{}/{position}", bailiff_prefix(&referral.bailiff), newest_first(recalled_at), charge.uin);
            let entry = Recalled {
                uin: charge.uin.clone(),
                case: charge.case.clone(),
                document: referral.document.clone(),
                referred_at: referral.at,
                recalled_at,
                why,
            };
            Some((key, referral.bailiff.clone(), entry))
        })
        .collect()
}

impl Projector {
    /// Writes a charge document and keeps its recall entries: those it no
    /// longer gives go, the others are written.
    pub(super) fn put_charge(&mut self, before: Option<&ChargeState>, next: &ChargeState) -> Result<(), ProjectError> {
        let old = before.map(entries).unwrap_or_default();
        let new = entries(next);
        for (key, _, _) in &old {
            if !new.iter().any(|(kept, _, _)| kept == key) {
                self.remove(kind::RECALLED, key);
            }
        }
        for (key, bailiff, entry) in &new {
            if !old.iter().any(|(was, _, before)| was == key && before == entry) {
                self.put(kind::RECALLED, key, Some(bailiff), entry)?;
            }
        }
        self.put(kind::CHARGE, &next.uin, next.agency.as_deref(), next)
    }
}

/// Builds the lists from the charge documents when the database is not
/// marked with the current version; returns the number of charges read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    if is_marked(tx, MARKER_KEY, VERSION)? {
        return Ok(0);
    }
    delete_all(tx, kind::RECALLED)?;
    let charges = for_each_page(tx, kind::CHARGE, progress, |tx, page: Vec<(String, ChargeState)>| {
        let mut docs: Vec<ProjectionDoc> = Vec::new();
        for (_, charge) in &page {
            for (key, bailiff, entry) in entries(charge) {
                docs.push(to_doc(kind::RECALLED, key, Some(bailiff), &entry)?);
            }
        }
        Ok(tx.store_docs(&docs)?)
    })?;
    mark(tx, MARKER_KEY, VERSION)?;
    Ok(charges)
}

/// Marks the database as holding the complete lists (after a rebuild).
pub fn mark_complete(tx: &mut dyn Tx) -> Result<(), ProjectError> {
    mark(tx, MARKER_KEY, VERSION)
}
