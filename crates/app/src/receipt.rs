//! Receipts a citizen can check offline (`docs/receipts.md`).
//!
//! A receipt carries one ledger entry (the record and the metadata its leaf
//! binds), a signed tree head and the RFC 9162 inclusion proof of the entry's
//! leaf in that tree. A *head statement* carries a later signed head and the
//! consistency proof from an earlier size, so that a receipt kept for years
//! can be checked against today's log: a changed record, or a log rewritten
//! after the receipt was issued, fails.
//!
//! Generation reads the store; verification ([`verify_receipt`]) is pure and
//! needs nothing but the files.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use casetrail_exchange::jcs;
use casetrail_ledger::proofs::{self, ProofSourceError};
use casetrail_ledger::{entry_bytes, Store, StoreError};
use casetrail_merkle::{hash_from_slice, leaf_hash, verify_consistency, verify_inclusion, Hash, SignedTreeHead};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `format` member of a receipt.
pub const RECEIPT_FORMAT: &str = "casetrail-receipt-v1";
/// The `format` member of a head statement.
pub const HEAD_FORMAT: &str = "casetrail-head-v1";

/// A receipt: one entry, a signed tree head that covers it and the proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    pub entry: ReceiptEntry,
    /// The signed head of the tree the entry is proved in (`size >= entry.seq`).
    pub tree_head: SignedTreeHead,
    /// RFC 9162 §2.1.3 inclusion path of leaf `entry.seq - 1` in the tree of
    /// `tree_head.size` leaves, bottom-up, each hash 64 lowercase hex digits.
    pub inclusion_proof: Vec<String>,
    /// The Ed25519 public key that signs tree heads, standard base64.
    pub public_key: String,
}

/// The members of a ledger entry, exactly as its leaf binds them: the leaf
/// is `SHA-256(0x00 ‖ JCS({key, record, recorded_at, schema_version, seq, source}))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    /// Global sequence number, 1-based; the leaf index is `seq - 1`.
    pub seq: u64,
    pub source: String,
    /// The idempotency key within the source.
    pub key: String,
    /// When casetrail recorded it: RFC 3339 UTC with microseconds, as hashed.
    pub recorded_at: String,
    pub schema_version: u16,
    /// The record itself (its RFC 8785 form is what the leaf covers).
    pub record: Value,
}

/// A signed tree head, with the consistency proof from an earlier size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadStatement {
    /// Always [`HEAD_FORMAT`].
    pub format: String,
    pub tree_head: SignedTreeHead,
    /// The earlier tree size the proof starts from, if one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_from: Option<u64>,
    /// RFC 9162 §2.1.4 consistency proof from `consistency_from` to
    /// `tree_head.size`, hex hashes.
    #[serde(default)]
    pub consistency_proof: Vec<String>,
    /// The Ed25519 public key that signs tree heads, standard base64.
    pub public_key: String,
}

/// Why a receipt could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {seq} does not exist (the ledger has {size} events)")]
    NoSuchEvent { seq: u64, size: u64 },
    #[error("no signed tree head of size {size} is stored; `casetrail receipt head` lists the current one")]
    NoSuchHead { size: u64 },
    #[error("the signed tree head of size {head} does not cover event {seq}; ask for a later head")]
    HeadTooSmall { head: u64, seq: u64 },
    #[error("the ledger has no signed tree head yet")]
    NoHead,
    #[error("cannot make the proof: {0}")]
    Proof(String),
    #[error("the stored ledger does not prove event {seq} in the signed head of size {size}: run `casetrail verify`")]
    Inconsistent { seq: u64, size: u64 },
    #[error("{0}")]
    NotFound(String),
    #[error("the projection of {0} does not name its event (made by an older version); run `casetrail rebuild`")]
    NoSequence(String),
    #[error("the projection of {what} is unreadable ({reason}); run `casetrail rebuild`")]
    Damaged { what: String, reason: String },
}

/// The event a business key's receipt is for, as the CLI names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptFor {
    /// The event with this sequence number.
    Seq(u64),
    /// The protocol of the charge with this UIN (a camera fine, which has no
    /// protocol: its `fine.imposed`).
    Uin(String),
    /// A payment: its `payment.received`.
    Payment { provider: String, payment: String },
}

/// What [`find_event`] found: the sequence number and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub seq: u64,
    pub what: String,
}

fn read_doc<T: serde::de::DeserializeOwned>(
    store: &mut dyn Store,
    kind: &str,
    key: &str,
    what: &str,
) -> Result<Option<T>, ReceiptError> {
    match store.doc(kind, key)? {
        None => Ok(None),
        Some(doc) => serde_json::from_str(&doc.doc)
            .map(Some)
            .map_err(|error| ReceiptError::Damaged { what: what.to_owned(), reason: error.to_string() }),
    }
}

/// The sequence number of the event a receipt is asked for, through the
/// projections (one or two document reads, never a scan of the ledger).
pub fn find_event(store: &mut dyn Store, target: &ReceiptFor) -> Result<Found, ReceiptError> {
    use crate::projector::{kind, PaymentState};
    use casetrail_domain::charge::ChargeState;
    use casetrail_domain::registry::ProtocolState;
    let known =
        |seq: u64, what: String| if seq == 0 { Err(ReceiptError::NoSequence(what)) } else { Ok(Found { seq, what }) };
    match target {
        ReceiptFor::Seq(seq) => Ok(Found { seq: *seq, what: "asked by its sequence number".to_owned() }),
        ReceiptFor::Payment { provider, payment } => {
            let key = format!("{provider}/{payment}");
            let what = format!("payment {payment} of {provider}");
            let Some(state) = read_doc::<PaymentState>(store, kind::PAYMENT, &key, &what)? else {
                return Err(ReceiptError::NotFound(format!(
                    "no payment {payment:?} of provider {provider:?} is known; give it as PROVIDER:PAYMENT_ID, as the provider reported it"
                )));
            };
            known(state.seq, what)
        }
        ReceiptFor::Uin(uin) => {
            let uin = casetrail_types::Uin::parse(uin.trim())
                .map_err(|error| ReceiptError::NotFound(format!("{uin:?} is not a UIN: {error}")))?
                .to_string();
            let what = format!("charge {uin}");
            let Some(charge) = read_doc::<ChargeState>(store, kind::CHARGE, &uin, &what)? else {
                return Err(ReceiptError::NotFound(format!("no charge with UIN {uin} is known")));
            };
            let what = format!("the protocol of case {} (charge {uin})", charge.case);
            match read_doc::<ProtocolState>(store, kind::PROTOCOL, &charge.case, &what)? {
                Some(protocol) => known(protocol.seq, what),
                None => {
                    known(charge.imposed_seq, format!("the decision imposing charge {uin} (it has no signed protocol)"))
                }
            }
        }
    }
}

impl From<ProofSourceError> for ReceiptError {
    fn from(error: ProofSourceError) -> Self {
        match error {
            ProofSourceError::Store(error) => ReceiptError::Store(error),
            ProofSourceError::Proof(error) => ReceiptError::Proof(error.to_string()),
        }
    }
}

/// What a receipt check found wrong. Each names the part that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptFailure {
    #[error("format: {0}")]
    Format(String),
    #[error("key: the receipt's public key is not the key you pinned")]
    KeyNotPinned,
    #[error("key: the tree head was signed by another key than the receipt's public key")]
    KeyMismatch,
    #[error("head signature: {0}")]
    HeadSignature(String),
    #[error("inclusion: the entry is not in the signed tree ({0}); the record or its metadata was altered, or the proof is wrong")]
    Inclusion(String),
    #[error("later head: signed by another key than the receipt's head")]
    LaterKeyMismatch,
    #[error("later head signature: {0}")]
    LaterHeadSignature(String),
    #[error("later head: its consistency proof starts at size {found:?}, the receipt's head has size {expected}; get one with `casetrail receipt head --from-size {expected}`")]
    LaterFromSize { expected: u64, found: Option<u64> },
    #[error("consistency: the later head does not extend the receipt's head ({0}); the log was rewritten (a fork)")]
    Consistency(String),
}

/// What a successful check established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub seq: u64,
    pub head_size: u64,
    pub root: Hash,
    /// The size of the later head the receipt was checked against, if any.
    pub later_size: Option<u64>,
}

/// Makes the receipt for event `seq`, proved in the stored signed head of
/// `head_size` leaves (the latest head when `None`).
pub fn make_receipt(store: &mut dyn Store, seq: u64, head_size: Option<u64>) -> Result<Receipt, ReceiptError> {
    let head = choose_head(store, head_size)?;
    let Some(event) = store.event(seq)? else {
        return Err(ReceiptError::NoSuchEvent { seq, size: store.ledger_state()?.size() });
    };
    if head.head.size < seq {
        return Err(ReceiptError::HeadTooSmall { head: head.head.size, seq });
    }
    let inconsistent = || ReceiptError::Inconsistent { seq, size: head.head.size };
    let leaf = leaf_hash(&entry_bytes(
        event.seq,
        &event.source,
        &event.idempotency_key,
        &event.recorded_at,
        event.schema_version,
        &event.canonical,
    ));
    if leaf != event.leaf_hash {
        return Err(inconsistent());
    }
    let proof = proofs::inclusion_proof(store, seq, head.head.size)?;
    // Never hand out a receipt that would not verify.
    verify_inclusion(&leaf, seq - 1, head.head.size, &proof, &head.head.root).map_err(|_| inconsistent())?;
    let record: Value = serde_json::from_slice(&event.canonical).map_err(|_| inconsistent())?;
    Ok(Receipt {
        format: RECEIPT_FORMAT.to_owned(),
        entry: ReceiptEntry {
            seq: event.seq,
            source: event.source,
            key: event.idempotency_key,
            recorded_at: event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            schema_version: event.schema_version,
            record,
        },
        tree_head: head,
        inclusion_proof: proof.iter().map(hex::encode).collect(),
        public_key: BASE64.encode(head.key_id),
    })
}

/// The latest signed head, with the consistency proof from `from_size` when
/// asked (`1 <= from_size <= size`).
pub fn head_statement(store: &mut dyn Store, from_size: Option<u64>) -> Result<HeadStatement, ReceiptError> {
    let head = choose_head(store, None)?;
    let consistency_proof = match from_size {
        Some(old_size) => proofs::consistency_proof(store, old_size, head.head.size)?,
        None => Vec::new(),
    };
    Ok(HeadStatement {
        format: HEAD_FORMAT.to_owned(),
        tree_head: head,
        consistency_from: from_size,
        consistency_proof: consistency_proof.iter().map(hex::encode).collect(),
        public_key: BASE64.encode(head.key_id),
    })
}

fn choose_head(store: &mut dyn Store, size: Option<u64>) -> Result<SignedTreeHead, ReceiptError> {
    let heads = store.tree_heads()?;
    match size {
        // Heads are ordered by size then time: the last one is the latest.
        None => heads.into_iter().last().ok_or(ReceiptError::NoHead),
        Some(size) => {
            heads.into_iter().rev().find(|head| head.head.size == size).ok_or(ReceiptError::NoSuchHead { size })
        }
    }
}

/// The bytes a receipt's leaf covers, rebuilt from the receipt alone:
/// RFC 8785 JSON of the entry's six members.
pub fn receipt_entry_bytes(entry: &ReceiptEntry) -> Vec<u8> {
    let object = serde_json::json!({
        "key": entry.key,
        "record": entry.record,
        "recorded_at": entry.recorded_at,
        "schema_version": entry.schema_version,
        "seq": entry.seq,
        "source": entry.source,
    });
    jcs::canonical_bytes(&object)
}

/// Checks a receipt offline: the head's signature (by the receipt's key, or
/// by `pinned_key` when given), the entry's leaf, its inclusion in the signed
/// tree and, with `later`, that the later signed head extends the receipt's.
pub fn verify_receipt(
    receipt: &Receipt,
    pinned_key: Option<&[u8; 32]>,
    later: Option<&HeadStatement>,
) -> Result<Verified, ReceiptFailure> {
    if receipt.format != RECEIPT_FORMAT {
        return Err(ReceiptFailure::Format(format!("expected {RECEIPT_FORMAT:?}, found {:?}", receipt.format)));
    }
    let key_bytes = decode_key(&receipt.public_key)?;
    if pinned_key.is_some_and(|pinned| *pinned != key_bytes) {
        return Err(ReceiptFailure::KeyNotPinned);
    }
    let key = VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| ReceiptFailure::Format("public_key is not a valid Ed25519 key".into()))?;
    let head = &receipt.tree_head;
    if head.key_id != key_bytes {
        return Err(ReceiptFailure::KeyMismatch);
    }
    head.verify(&key).map_err(|error| ReceiptFailure::HeadSignature(error.to_string()))?;

    let entry = &receipt.entry;
    let Some(index) = entry.seq.checked_sub(1) else {
        return Err(ReceiptFailure::Format("seq starts at 1".into()));
    };
    let proof = decode_hashes("inclusion_proof", &receipt.inclusion_proof)?;
    let leaf = leaf_hash(&receipt_entry_bytes(entry));
    verify_inclusion(&leaf, index, head.head.size, &proof, &head.head.root)
        .map_err(|error| ReceiptFailure::Inclusion(error.to_string()))?;

    let mut verified = Verified { seq: entry.seq, head_size: head.head.size, root: head.head.root, later_size: None };
    if let Some(later) = later {
        check_later(receipt, &key, later)?;
        verified.later_size = Some(later.tree_head.head.size);
    }
    Ok(verified)
}

fn check_later(receipt: &Receipt, key: &VerifyingKey, later: &HeadStatement) -> Result<(), ReceiptFailure> {
    if later.format != HEAD_FORMAT {
        return Err(ReceiptFailure::Format(format!("expected a {HEAD_FORMAT:?} head, found {:?}", later.format)));
    }
    let old = &receipt.tree_head.head;
    let new = &later.tree_head;
    if new.key_id != key.to_bytes() || decode_key(&later.public_key)? != key.to_bytes() {
        return Err(ReceiptFailure::LaterKeyMismatch);
    }
    new.verify(key).map_err(|error| ReceiptFailure::LaterHeadSignature(error.to_string()))?;
    if later.consistency_from != Some(old.size) {
        return Err(ReceiptFailure::LaterFromSize { expected: old.size, found: later.consistency_from });
    }
    let proof = decode_hashes("consistency_proof", &later.consistency_proof)?;
    verify_consistency(old.size, new.head.size, &old.root, &new.head.root, &proof)
        .map_err(|error| ReceiptFailure::Consistency(error.to_string()))
}

/// Parses a public key given as standard base64 or 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], ReceiptFailure> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        let bytes = hex::decode(text).map_err(|error| ReceiptFailure::Format(format!("key: {error}")))?;
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| ReceiptFailure::Format("a public key must be 32 bytes".into()));
    }
    decode_key(text)
}

fn decode_key(text: &str) -> Result<[u8; 32], ReceiptFailure> {
    BASE64
        .decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| ReceiptFailure::Format("public_key must be 32 bytes in standard base64".into()))
}

fn decode_hashes(field: &str, hashes: &[String]) -> Result<Vec<Hash>, ReceiptFailure> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, text)| {
            hex::decode(text)
                .ok()
                .and_then(|bytes| hash_from_slice(&bytes).ok())
                .ok_or_else(|| ReceiptFailure::Format(format!("{field}[{i}] is not 64 hex digits")))
        })
        .collect()
}
