//! Appending: sequence numbers, leaf hashes and the incremental tree.

use casetrail_merkle::{leaf_hash, SignedTreeHead, TreeHead};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use crate::store::{LedgerState, StoreResult, StoredEvent, Tx};

/// Builds the events of one write transaction. The caller decides what is
/// appended (duplicates and rule violations are its business); the appender
/// numbers and hashes, then writes the events, the new tree state and one
/// signed tree head in the caller's transaction.
pub struct Appender {
    state: LedgerState,
    opened_size: u64,
    pending: Vec<StoredEvent>,
    recorded_at: DateTime<Utc>,
}

/// An event ready to append.
pub struct NewEvent<'a> {
    pub source: &'a str,
    pub idempotency_key: String,
    pub record_type: &'a str,
    pub schema_version: u16,
    pub at: DateTime<Utc>,
    pub canonical: Vec<u8>,
}

impl Appender {
    /// Reads the tree state under the transaction's writer lock.
    pub fn open(tx: &mut dyn Tx, recorded_at: DateTime<Utc>) -> StoreResult<Self> {
        let state = tx.ledger_state()?;
        Ok(Self { opened_size: state.size(), state, pending: Vec::new(), recorded_at })
    }

    /// Numbers and hashes one event; returns its sequence number.
    pub fn push(&mut self, event: NewEvent<'_>) -> u64 {
        let leaf = leaf_hash(&event.canonical);
        self.state.frontier.push(leaf);
        let seq = self.state.frontier.size();
        self.pending.push(StoredEvent {
            seq,
            recorded_at: self.recorded_at,
            source: event.source.to_owned(),
            idempotency_key: event.idempotency_key,
            record_type: event.record_type.to_owned(),
            schema_version: event.schema_version,
            at: event.at,
            canonical: event.canonical,
            leaf_hash: leaf,
            tree_root: self.state.frontier.root(),
        });
        seq
    }

    /// The sequence number the next pushed event will get.
    pub fn next_seq(&self) -> u64 {
        self.state.frontier.size() + 1
    }

    /// Number of events pushed and not yet written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Writes pushed events (call it every few thousand events to bound memory).
    pub fn flush(&mut self, tx: &mut dyn Tx) -> StoreResult<()> {
        if !self.pending.is_empty() {
            tx.insert_events(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes what is pending, the tree state and, when the tree grew, a
    /// signed head. Returns the new head, if any.
    pub fn finish(mut self, tx: &mut dyn Tx, key: &SigningKey) -> StoreResult<Option<SignedTreeHead>> {
        self.flush(tx)?;
        if self.state.size() == self.opened_size {
            return Ok(None);
        }
        tx.put_ledger_state(&self.state)?;
        let head = TreeHead {
            size: self.state.size(),
            root: self.state.frontier.root(),
            timestamp_ms: u64::try_from(self.recorded_at.timestamp_millis()).unwrap_or(0),
        };
        let signed = SignedTreeHead::sign(head, key);
        tx.insert_tree_head(&signed)?;
        Ok(Some(signed))
    }
}
