//! Appending: sequence numbers, leaf hashes and the incremental tree.

use casetrail_merkle::{leaf_hash, SignedTreeHead, TreeHead};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use crate::store::{LedgerState, StoreResult, StoredEvent, Tx};

/// The bytes a ledger entry's leaf hash covers: the RFC 8785 canonical JSON
/// of `{"key", "record", "recorded_at", "schema_version", "seq", "source"}`,
/// where `record` is the record's own canonical JSON. Binding the sequence
/// number, the source and the idempotency key into the leaf means that any
/// changed byte of a stored event, and any move of it, changes the tree.
pub fn entry_bytes(
    seq: u64,
    source: &str,
    idempotency_key: &str,
    recorded_at: &DateTime<Utc>,
    schema_version: u16,
    record: &[u8],
) -> Vec<u8> {
    use casetrail_exchange::jcs::write_string;
    // Members in RFC 8785 order (UTF-16 code units).
    let mut out = Vec::with_capacity(record.len() + 160);
    out.extend_from_slice(b"{\"key\":");
    write_string(&mut out, idempotency_key);
    out.extend_from_slice(b",\"record\":");
    out.extend_from_slice(record);
    out.extend_from_slice(b",\"recorded_at\":");
    write_string(&mut out, &recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    out.extend_from_slice(format!(",\"schema_version\":{schema_version},\"seq\":{seq},\"source\":").as_bytes());
    write_string(&mut out, source);
    out.push(b'}');
    out
}

fn truncate_to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    let micros = instant.nanosecond() / 1_000 * 1_000;
    instant.with_nanosecond(micros).unwrap_or(instant)
}

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
        // Both stores keep microseconds; the hashed instant must read back equal.
        let recorded_at = truncate_to_micros(recorded_at);
        let state = tx.ledger_state()?;
        Ok(Self { opened_size: state.size(), state, pending: Vec::new(), recorded_at })
    }

    /// Numbers and hashes one event; returns its sequence number.
    pub fn push(&mut self, event: NewEvent<'_>) -> u64 {
        let seq = self.state.frontier.size() + 1;
        let leaf = leaf_hash(&entry_bytes(
            seq,
            event.source,
            &event.idempotency_key,
            &self.recorded_at,
            event.schema_version,
            &event.canonical,
        ));
        self.state.frontier.push(leaf);
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

    /// Moves the instant the next events are recorded at to `now`, never
    /// back: a transaction that takes records over time records each at
    /// its arrival, and the signed head carries the last.
    pub fn advance_clock(&mut self, now: DateTime<Utc>) {
        self.recorded_at = self.recorded_at.max(truncate_to_micros(now));
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn entry_bytes_are_themselves_canonical_json() {
        let record = casetrail_exchange::jcs::canonicalize(
            br#"{"type":"fine.recalled","at":"2026-05-02T10:00:00+05:00","uin":"1","reason":"paid \"in full\""}"#,
        )
        .expect("json");
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).single().expect("instant");
        let entry = entry_bytes(42, "kaspi/ёж", "k-1", &at, 1, &record);
        assert_eq!(casetrail_exchange::jcs::canonicalize(&entry).expect("json"), entry);
        let value: serde_json::Value = serde_json::from_slice(&entry).expect("json");
        assert_eq!(value["seq"], 42);
        assert_eq!(value["record"]["reason"], "paid \"in full\"");
    }

    #[test]
    fn entry_bytes_are_pinned_byte_for_byte() {
        // Every leaf hash already in a ledger is over these bytes: a change
        // here would make every existing ledger fail `verify`.
        let at = Utc.timestamp_opt(1_764_324_000, 123_456_000).single().expect("instant");
        let entry = entry_bytes(18_446_744_073_709_551_615, "kaspi/ёж", "k-1", &at, 65_535, br#"{"a":1}"#);
        assert_eq!(
            String::from_utf8(entry).expect("utf-8"),
            r#"{"key":"k-1","record":{"a":1},"recorded_at":"2025-11-28T10:00:00.123456Z","schema_version":65535,"seq":18446744073709551615,"source":"kaspi/ёж"}"#
        );
    }

    #[test]
    fn recorded_at_keeps_microseconds_only() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).single().expect("instant");
        assert_eq!(truncate_to_micros(at).timestamp_subsec_nanos(), 123_456_000);
    }
}
