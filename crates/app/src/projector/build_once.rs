//! What the projections built once from older documents share (the
//! scorecard's tallies, the appeal indexes, the alert counters): a marker
//! document saying which definition the database holds, a reader of every
//! document of a kind a page at a time, and the conversions of documents
//! to and from their JSON text.

use casetrail_ledger::{ProjectionDoc, Tx};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{kind, ProjectError};

/// Documents read per page.
const PAGE: usize = 5_000;

/// A marker document (`meta/{key}`): the definition the database holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Marker {
    pub version: u32,
}

/// Whether a marker document says `version`.
pub(super) fn marked_at(marker: Option<&ProjectionDoc>, version: u32) -> bool {
    marker.and_then(|doc| serde_json::from_str::<Marker>(&doc.doc).ok()).is_some_and(|marker| marker.version == version)
}

/// Whether the database's marker `meta/{key}` says `version`.
pub(super) fn is_marked(tx: &mut dyn Tx, key: &str, version: u32) -> Result<bool, ProjectError> {
    Ok(marked_at(tx.load_docs(kind::META, &[key])?.first(), version))
}

/// Writes the marker document `meta/{key}` saying `version`.
pub(super) fn mark(tx: &mut dyn Tx, key: &str, version: u32) -> Result<(), ProjectError> {
    let doc = to_doc(kind::META, key.to_owned(), None, &Marker { version })?;
    tx.store_docs(&[doc])?;
    Ok(())
}

/// Every document of `kind`, parsed, a page at a time: `each` gets the page
/// as (key, value) and the transaction to write what it derives;
/// `progress` hears how many were read so far. Answers how many.
pub(super) fn for_each_page<T: DeserializeOwned>(
    tx: &mut dyn Tx,
    kind: &'static str,
    progress: &mut dyn FnMut(u64),
    mut each: impl FnMut(&mut dyn Tx, Vec<(String, T)>) -> Result<(), ProjectError>,
) -> Result<u64, ProjectError> {
    let mut after = String::new();
    let mut read = 0u64;
    loop {
        let page = tx.docs_after(kind, &after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.key.clone();
        let parsed = page
            .into_iter()
            .map(|doc| Ok((doc.key.clone(), parse(kind, &doc.key, &doc.doc)?)))
            .collect::<Result<Vec<_>, ProjectError>>()?;
        read += parsed.len() as u64;
        each(tx, parsed)?;
        progress(read);
    }
    Ok(read)
}

/// Deletes every document of `kind`.
pub(super) fn delete_all(tx: &mut dyn Tx, kind: &str) -> Result<(), ProjectError> {
    loop {
        let stale = tx.docs_after(kind, "", PAGE)?;
        if stale.is_empty() {
            return Ok(());
        }
        tx.delete_docs(kind, &stale.iter().map(|doc| doc.key.as_str()).collect::<Vec<_>>())?;
    }
}

/// A document's JSON text parsed, or why it cannot be.
pub(super) fn parse<T: DeserializeOwned>(kind: &'static str, key: &str, text: &str) -> Result<T, ProjectError> {
    serde_json::from_str(text).map_err(|error| ProjectError::Corrupt {
        kind,
        key: key.to_owned(),
        error: error.to_string(),
    })
}

/// A value as the document the store keeps.
pub(super) fn to_doc(
    kind: &'static str,
    key: String,
    agency: Option<String>,
    value: &impl Serialize,
) -> Result<ProjectionDoc, ProjectError> {
    let doc = serde_json::to_string(value).map_err(|error| ProjectError::Corrupt {
        kind,
        key: key.clone(),
        error: error.to_string(),
    })?;
    Ok(ProjectionDoc { kind: kind.to_owned(), key, agency, doc })
}
