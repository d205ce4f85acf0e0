//! `verify`: recompute every leaf, the tree and every signed tree head.

use casetrail_exchange::jcs;
use casetrail_merkle::{leaf_hash, Frontier};
use ed25519_dalek::VerifyingKey;

use crate::append::entry_bytes;
use crate::store::{Store, StoreError};

/// Events read per page while verifying.
const VERIFY_PAGE_EVENTS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub tree_heads: u64,
    pub root: [u8; 32],
}

/// The first thing found wrong, naming the entry.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    #[error("event {seq} is missing (the next stored event is {found}): events were deleted or renumbered")]
    Missing { seq: u64, found: u64 },
    #[error("event {seq}: its stored leaf hash does not match its bytes, source, key or position: the event was altered or moved")]
    LeafMismatch { seq: u64 },
    #[error("event {seq}: its bytes are not canonical JSON (RFC 8785): the event was altered")]
    NotCanonical { seq: u64 },
    #[error("event {seq}: its type or instant column does not match its bytes: the event was altered")]
    ColumnMismatch { seq: u64 },
    #[error("event {seq}: the tree root after it does not match the stored one: events were altered, reordered or removed at or before {seq}")]
    RootMismatch { seq: u64 },
    #[error(
        "tree head for size {size} does not match the recomputed tree: an event in the range it covers was altered"
    )]
    HeadRootMismatch { size: u64 },
    #[error("tree head for size {size} claims more events than the ledger holds ({events}): events were deleted")]
    HeadBeyondLedger { size: u64, events: u64 },
    #[error("tree head for size {size} has a bad signature or an unknown key: {reason}")]
    HeadSignature { size: u64, reason: String },
    #[error("the ledger's recorded state says {expected} events and root {expected_root}, the events give {found}: the tail was truncated or altered")]
    StateMismatch { expected: u64, expected_root: String, found: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies the whole log; `progress` is told how many events are done.
pub fn verify(store: &mut dyn Store, mut progress: impl FnMut(u64)) -> Result<VerifyReport, VerifyFailure> {
    let keys: Vec<VerifyingKey> =
        store.signing_keys()?.iter().filter_map(|bytes| VerifyingKey::from_bytes(bytes).ok()).collect();
    let heads = store.tree_heads()?;
    let mut next_head = heads.iter().peekable();
    let mut frontier = Frontier::new();
    let mut expected_seq = 1u64;

    // A head for the empty tree (size 0) is checked before the first event.
    check_heads_at(&mut next_head, &frontier, &keys)?;
    loop {
        let page = store.events_after(expected_seq - 1, VERIFY_PAGE_EVENTS)?;
        if page.is_empty() {
            break;
        }
        for event in page {
            if event.seq != expected_seq {
                return Err(VerifyFailure::Missing { seq: expected_seq, found: event.seq });
            }
            let entry = entry_bytes(
                event.seq,
                &event.source,
                &event.idempotency_key,
                &event.recorded_at,
                event.schema_version,
                &event.canonical,
            );
            if leaf_hash(&entry) != event.leaf_hash {
                return Err(VerifyFailure::LeafMismatch { seq: event.seq });
            }
            check_record(&event)?;
            frontier.push(event.leaf_hash);
            if frontier.root() != event.tree_root {
                return Err(VerifyFailure::RootMismatch { seq: event.seq });
            }
            check_heads_at(&mut next_head, &frontier, &keys)?;
            expected_seq += 1;
        }
        progress(frontier.size());
    }
    if let Some(head) = next_head.next() {
        return Err(VerifyFailure::HeadBeyondLedger { size: head.head.size, events: frontier.size() });
    }
    let state = store.ledger_state()?;
    if state.frontier != frontier {
        return Err(VerifyFailure::StateMismatch {
            expected: state.size(),
            expected_root: hex::encode(state.frontier.root()),
            found: frontier.size(),
        });
    }
    Ok(VerifyReport { events: frontier.size(), tree_heads: heads.len() as u64, root: frontier.root() })
}

/// The record's bytes are canonical JSON, and the columns derived from them
/// (`record_type`, `at`) agree with them.
fn check_record(event: &crate::StoredEvent) -> Result<(), VerifyFailure> {
    let value: serde_json::Value =
        serde_json::from_slice(&event.canonical).map_err(|_| VerifyFailure::NotCanonical { seq: event.seq })?;
    if jcs::canonical_bytes(&value) != event.canonical {
        return Err(VerifyFailure::NotCanonical { seq: event.seq });
    }
    let record_type = value.get("type").and_then(serde_json::Value::as_str);
    let at = value
        .get("at")
        .and_then(serde_json::Value::as_str)
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&chrono::Utc));
    // The column keeps microseconds (PostgreSQL's precision); the bytes may
    // say more, and are the truth.
    let at = at.map(|at| chrono::SubsecRound::trunc_subsecs(at, 6));
    if record_type != Some(event.record_type.as_str()) || at != Some(chrono::SubsecRound::trunc_subsecs(event.at, 6)) {
        return Err(VerifyFailure::ColumnMismatch { seq: event.seq });
    }
    Ok(())
}

fn check_heads_at<'a>(
    heads: &mut std::iter::Peekable<impl Iterator<Item = &'a casetrail_merkle::SignedTreeHead>>,
    frontier: &Frontier,
    keys: &[VerifyingKey],
) -> Result<(), VerifyFailure> {
    while let Some(head) = heads.next_if(|head| head.head.size == frontier.size()) {
        if head.head.root != frontier.root() {
            return Err(VerifyFailure::HeadRootMismatch { size: head.head.size });
        }
        let key = keys.iter().find(|key| key.to_bytes() == head.key_id);
        let Some(key) = key else {
            return Err(VerifyFailure::HeadSignature {
                size: head.head.size,
                reason: "signed by a key the ledger does not know".into(),
            });
        };
        head.verify(key)
            .map_err(|error| VerifyFailure::HeadSignature { size: head.head.size, reason: error.to_string() })?;
    }
    Ok(())
}
