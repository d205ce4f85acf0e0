//! The officer's queue: every open appeal under its holder
//! (`held/{holder}/{appeal}`, with the statutory due date), so that a body's
//! queue is a range read of its own entries, not a scan of every appeal.
//!
//! The appeal projector keeps it on every append; a database written before
//! it gets it from the appeal documents when first opened, as the
//! scorecard's tallies do.

use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_ledger::{ProjectionDoc, Tx};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::tallies::Marker;
use super::{kind, ProjectError, Projector};

/// The index's definition; raise it when what is indexed changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/held_index`).
pub const MARKER_KEY: &str = "held_index";

const PAGE: usize = 5_000;

/// One open appeal in its holder's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub appeal: String,
    /// The statutory due date (an extension's `until` included).
    pub due: NaiveDate,
}

/// The document key: the holder first, so a queue is one key range.
pub fn held_key(holder: &str, appeal: &str) -> String {
    format!("{holder}/{appeal}")
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

/// Builds the queues from the appeal documents when the database is not
/// marked with the current version; returns the number of appeals read.
pub fn ensure(tx: &mut dyn Tx) -> Result<u64, ProjectError> {
    if current(tx.load_docs(kind::META, &[MARKER_KEY])?.first()) {
        return Ok(0);
    }
    // Whatever an older definition left.
    loop {
        let stale = tx.docs_after(kind::HELD, "", PAGE)?;
        if stale.is_empty() {
            break;
        }
        tx.delete_docs(kind::HELD, &stale.iter().map(|doc| doc.key.as_str()).collect::<Vec<_>>())?;
    }
    let mut after = String::new();
    let mut appeals = 0u64;
    loop {
        let page = tx.docs_after(kind::APPEAL, &after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.key.clone();
        let mut entries = Vec::new();
        for doc in &page {
            appeals += 1;
            let state: AppealState =
                serde_json::from_str(&doc.doc).map_err(|error| corrupt(kind::APPEAL, &doc.key, error))?;
            if let Some((key, entry)) = held(&state) {
                let text = serde_json::to_string(&entry).map_err(|error| corrupt(kind::HELD, &key, error))?;
                entries.push(ProjectionDoc {
                    kind: kind::HELD.into(),
                    key,
                    agency: Some(state.holder().to_string()),
                    doc: text,
                });
            }
        }
        tx.store_docs(&entries)?;
    }
    mark(tx)?;
    Ok(appeals)
}

/// Whether the store's queues are complete at [`VERSION`].
pub fn current(marker: Option<&ProjectionDoc>) -> bool {
    marker.and_then(|doc| serde_json::from_str::<Marker>(&doc.doc).ok()).is_some_and(|marker| marker.version == VERSION)
}

/// Marks the database as holding complete queues at [`VERSION`].
pub fn mark(tx: &mut dyn Tx) -> Result<(), ProjectError> {
    let doc =
        serde_json::to_string(&Marker { version: VERSION }).map_err(|error| corrupt(kind::META, MARKER_KEY, error))?;
    tx.store_docs(&[ProjectionDoc { kind: kind::META.to_owned(), key: MARKER_KEY.to_owned(), agency: None, doc }])?;
    Ok(())
}

fn corrupt(kind: &'static str, key: &str, error: serde_json::Error) -> ProjectError {
    ProjectError::Corrupt { kind, key: key.to_owned(), error: error.to_string() }
}
