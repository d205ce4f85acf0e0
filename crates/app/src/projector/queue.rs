//! The officer's queue: every open appeal under its holder
//! (`held/{holder}/{appeal}`, with the statutory due date), so that a body's
//! queue is a range read of its own entries, not a scan of every appeal.
//!
//! The appeal projector keeps it on every append; a database written before
//! it gets it from the appeal documents when first opened
//! ([`super::appeal_index`]).

use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_ledger::Tx;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::appeal_index::AppealIndex;
use super::build_once::to_doc;
use super::{kind, ProjectError, Projector};

/// The index's definition; raise it when what is indexed changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/held_index`).
pub const MARKER_KEY: &str = "held_index";

/// One open appeal in its holder's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub appeal: String,
    /// The statutory due date (an extension's `until` included).
    #[serde(serialize_with = "casetrail_types::iso_date::serialize")]
    pub due: NaiveDate,
}

/// The document key: the holder first, so a queue is one key range.
pub fn held_key(holder: &str, appeal: &str) -> String {
    [holder, "/", appeal].concat()
}

/// What every key of `holder`'s queue starts with: read `docs(HELD, prefix,
/// ..)` while the keys start with it.
pub fn queue_prefix(holder: &str) -> String {
    format!("{holder}/")
}

fn held(state: &AppealState) -> Option<(String, Held)> {
    (state.status == AppealStatus::Open).then(|| {
        (
            held_key(state.holder().as_str(), &state.appeal),
            Held { appeal: state.appeal.clone(), due: state.statutory_due() },
        )
    })
}

impl Projector {
    /// Moves an appeal between queues: out of the one it was in, into its
    /// holder's while it is open.
    pub(super) fn index_holder(
        &mut self,
        before: Option<&AppealState>,
        after: &AppealState,
    ) -> Result<(), ProjectError> {
        let was = before.and_then(held);
        let now = held(after);
        if let Some((key, _)) = &was {
            if now.as_ref().is_none_or(|(new_key, _)| new_key != key) {
                self.remove(kind::HELD, key);
            }
        }
        if let Some((key, entry)) = now.filter(|now| was.as_ref() != Some(now)) {
            self.put(kind::HELD, &key, Some(after.holder().as_str()), &entry)?;
        }
        Ok(())
    }
}

/// The queue index: built from the appeal documents once when missing.
pub const INDEX: AppealIndex = AppealIndex {
    kind: kind::HELD,
    marker: MARKER_KEY,
    version: VERSION,
    entry: |state| {
        held(state).map(|(key, entry)| to_doc(kind::HELD, key, Some(state.holder().to_string()), &entry)).transpose()
    },
};

/// Builds the queues from the appeal documents when the database is not
/// marked with the current version; returns the number of appeals read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    INDEX.ensure(tx, progress)
}
