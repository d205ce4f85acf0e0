//! RFC 9162 proofs over the stored ledger: a [`NodeSource`] that reads the
//! leaf hash column in pages, so that a proof never loads the events.
//!
//! Cost: a proof for a tree of `n` leaves reads up to `n` leaf hashes (32
//! bytes each, in pages of [`PROOF_PAGE_LEAVES`]) and keeps one page in
//! memory. Storing the roots of complete, aligned subtrees as they close
//! would make it O(log n); see `docs/receipts.md`.

use std::cell::RefCell;

use casetrail_merkle::{Hash, NodeSource, ProofError};

use crate::store::{Store, StoreError};

/// Leaf hashes read per query while computing a proof (2 MiB).
pub const PROOF_PAGE_LEAVES: u64 = 65_536;

/// Why a proof could not be made from the store.
#[derive(Debug, thiserror::Error)]
pub enum ProofSourceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot make the proof: {0}")]
    Proof(#[from] ProofError),
}

/// The first `size` leaves of the ledger (leaf index `i` is event `seq = i + 1`).
pub struct StoredLeaves<'a> {
    store: RefCell<&'a mut dyn Store>,
    size: u64,
    /// The page read last: its first leaf index and its hashes.
    page: RefCell<(u64, Vec<Hash>)>,
}

impl<'a> StoredLeaves<'a> {
    /// The tree of events `1..=size`.
    pub fn new(store: &'a mut dyn Store, size: u64) -> Self {
        Self { store: RefCell::new(store), size, page: RefCell::new((0, Vec::new())) }
    }
}

impl NodeSource for StoredLeaves<'_> {
    type Error = ProofSourceError;

    fn size(&self) -> u64 {
        self.size
    }

    fn leaf(&self, i: u64) -> Result<Hash, ProofSourceError> {
        if i >= self.size {
            return Err(ProofError::IndexOutOfRange { index: i, size: self.size }.into());
        }
        let mut page = self.page.borrow_mut();
        let (start, hashes) = &mut *page;
        let cached = i >= *start && i - *start < hashes.len() as u64;
        if !cached {
            let last = i.saturating_add(PROOF_PAGE_LEAVES).min(self.size) - 1;
            let fresh = self.store.borrow_mut().leaf_hashes(i + 1, last + 1)?;
            if fresh.len() as u64 != last - i + 1 {
                return Err(StoreError::Corrupt(format!(
                    "events {}..={} should all exist, {} were found; run `casetrail verify`",
                    i + 1,
                    last + 1,
                    fresh.len()
                ))
                .into());
            }
            *start = i;
            *hashes = fresh;
        }
        usize::try_from(i - *start)
            .ok()
            .and_then(|offset| hashes.get(offset))
            .copied()
            .ok_or_else(|| ProofError::IndexOutOfRange { index: i, size: self.size }.into())
    }
}

/// The inclusion proof of event `seq` in the tree of events `1..=tree_size`.
pub fn inclusion_proof(store: &mut dyn Store, seq: u64, tree_size: u64) -> Result<Vec<Hash>, ProofSourceError> {
    let Some(index) = seq.checked_sub(1) else {
        return Err(ProofError::IndexOutOfRange { index: 0, size: tree_size }.into());
    };
    casetrail_merkle::inclusion_proof_from(&StoredLeaves::new(store, tree_size), index, tree_size)
}

/// The consistency proof from the tree of events `1..=old_size` to the tree
/// of events `1..=new_size`.
pub fn consistency_proof(store: &mut dyn Store, old_size: u64, new_size: u64) -> Result<Vec<Hash>, ProofSourceError> {
    casetrail_merkle::consistency_proof_from(&StoredLeaves::new(store, new_size), old_size, new_size)
}
