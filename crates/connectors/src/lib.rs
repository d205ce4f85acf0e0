//! Connectors: foreign formats turned into exchange-format events
//! (DESIGN.md §4), each failure carrying where it happened (a line, or an
//! XML element path), the field and the reason.
//!
//! - [`camt`]: ISO 20022 bank-to-customer notifications and statements
//!   (camt.054, camt.053, camt.052), streamed with `quick-xml`;
//! - [`csv`]: payment registers from terminals and post offices;
//! - [`webhook`]: the signature of payment apps' webhooks (pure).
//!
//! A connector knows the exchange format and Kazakhstan's primitives, and
//! nothing of storage: it hands [`Item`]s to whoever imports them.

#![forbid(unsafe_code)]

pub mod camt;
pub mod csv;
pub mod decimal;
pub mod webhook;

use casetrail_exchange::{Event, RecordError};

/// One unit of input on its way to the ledger: a parsed event, or the raw
/// bytes that failed with where and why.
#[derive(Debug)]
pub struct Item {
    /// 1-based line in the input (for XML: the line where the element starts).
    pub line: Option<u64>,
    /// For an event: its canonical JSON line (so a quarantined rule failure
    /// can be replayed); for a failure: the input's own bytes.
    pub raw: Vec<u8>,
    pub parsed: Result<Event, RecordError>,
}

impl Item {
    /// An event, carrying its canonical bytes as raw.
    pub fn event(line: Option<u64>, event: Event) -> Self {
        Item { line, raw: event.canonical.clone(), parsed: Ok(event) }
    }

    /// A failure with the input's bytes.
    pub fn failure(line: Option<u64>, raw: Vec<u8>, field: Option<&str>, reason: impl Into<String>) -> Self {
        Item { line, raw, parsed: Err(RecordError::new(field, reason)) }
    }
}
