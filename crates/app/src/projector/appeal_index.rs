//! Indexes kept beside the appeal documents (the officer's queue, the
//! Open311 request list): each is a function of one appeal's state, kept on
//! append by the appeal projector, and built from the appeal documents once
//! when a database written before it (or before its current definition) is
//! first opened, as the scorecard's tallies are.

use casetrail_domain::appeal::AppealState;
use casetrail_ledger::{ProjectionDoc, Tx};

use super::tallies::Marker;
use super::{kind, ProjectError};

const PAGE: usize = 5_000;

/// One index over the appeals.
pub struct AppealIndex {
    /// The document kind of its entries.
    pub kind: &'static str,
    /// The marker document (`meta/{marker}`) that says it is complete.
    pub marker: &'static str,
    /// Its definition; raise it when what is indexed changes.
    pub version: u32,
    /// The entry of one appeal, if it has one (see [`entry_doc`]).
    pub entry: fn(&AppealState) -> Result<Option<ProjectionDoc>, ProjectError>,
}

impl AppealIndex {
    /// Builds the index from the appeal documents when the database is not
    /// marked with the current version; returns the number of appeals read.
    /// `progress` hears how many appeals were read so far.
    pub fn ensure(&self, tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
        if self.current(tx.load_docs(kind::META, &[self.marker])?.first()) {
            return Ok(0);
        }
        // Whatever an older definition left.
        loop {
            let stale = tx.docs_after(self.kind, "", PAGE)?;
            if stale.is_empty() {
                break;
            }
            tx.delete_docs(self.kind, &stale.iter().map(|doc| doc.key.as_str()).collect::<Vec<_>>())?;
        }
        let mut after = String::new();
        let mut appeals = 0u64;
        loop {
            let page = tx.docs_after(kind::APPEAL, &after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.key.clone();
            let mut entries = Vec::with_capacity(page.len());
            for doc in &page {
                appeals += 1;
                let state: AppealState = serde_json::from_str(&doc.doc).map_err(|error| ProjectError::Corrupt {
                    kind: kind::APPEAL,
                    key: doc.key.clone(),
                    error: error.to_string(),
                })?;
                entries.extend((self.entry)(&state)?);
            }
            tx.store_docs(&entries)?;
            progress(appeals);
        }
        self.mark(tx)?;
        Ok(appeals)
    }

    /// Whether the store's index is complete at the current version.
    pub fn current(&self, marker: Option<&ProjectionDoc>) -> bool {
        marked_at(marker, self.version)
    }

    /// Marks the database as holding the complete index.
    pub fn mark(&self, tx: &mut dyn Tx) -> Result<(), ProjectError> {
        mark(tx, self.marker, self.version)
    }
}

/// Whether a marker document (`meta/...`) says `version`.
pub(super) fn marked_at(marker: Option<&ProjectionDoc>, version: u32) -> bool {
    marker.and_then(|doc| serde_json::from_str::<Marker>(&doc.doc).ok()).is_some_and(|marker| marker.version == version)
}

/// Writes the marker document `meta/{key}` saying `version`.
pub(super) fn mark(tx: &mut dyn Tx, key: &str, version: u32) -> Result<(), ProjectError> {
    let doc = entry_doc(kind::META, key.to_owned(), None, &Marker { version })?;
    tx.store_docs(&[doc])?;
    Ok(())
}

/// An index entry as the document the store keeps.
pub(super) fn entry_doc(
    kind: &'static str,
    key: String,
    agency: Option<String>,
    entry: &impl serde::Serialize,
) -> Result<ProjectionDoc, ProjectError> {
    let doc = serde_json::to_string(entry).map_err(|error| ProjectError::Corrupt {
        kind,
        key: key.clone(),
        error: error.to_string(),
    })?;
    Ok(ProjectionDoc { kind: kind.to_owned(), key, agency, doc })
}
