//! Indexes kept beside the appeal documents (the officer's queue, the
//! Open311 request list): each is a function of one appeal's state, kept on
//! append by the appeal projector, and built from the appeal documents once
//! when a database written before it (or before its current definition) is
//! first opened, as the scorecard's tallies are.

use casetrail_domain::appeal::AppealState;
use casetrail_ledger::{ProjectionDoc, Tx};

use super::build_once::{delete_all, for_each_page, is_marked, mark, marked_at};
use super::{kind, ProjectError};

/// One index over the appeals.
pub struct AppealIndex {
    /// The document kind of its entries.
    pub kind: &'static str,
    /// The marker document (`meta/{marker}`) that says it is complete.
    pub marker: &'static str,
    /// Its definition; raise it when what is indexed changes.
    pub version: u32,
    /// The entry of one appeal, if it has one (see [`super::build_once::to_doc`]).
    pub entry: fn(&AppealState) -> Result<Option<ProjectionDoc>, ProjectError>,
}

impl AppealIndex {
    /// Builds the index from the appeal documents when the database is not
    /// marked with the current version; returns the number of appeals read.
    /// `progress` hears how many appeals were read so far.
    pub fn ensure(&self, tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
        if is_marked(tx, self.marker, self.version)? {
            return Ok(0);
        }
        // Whatever an older definition left.
        delete_all(tx, self.kind)?;
        let appeals = for_each_page(tx, kind::APPEAL, progress, |tx, page: Vec<(String, AppealState)>| {
            let mut entries = Vec::with_capacity(page.len());
            for (_, state) in &page {
                entries.extend((self.entry)(state)?);
            }
            Ok(tx.store_docs(&entries)?)
        })?;
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
