//! Inclusion and consistency proofs, RFC 9162 §2.1.3 and §2.1.4.

use crate::hash::split_point;
use crate::{node_hash, Frontier, Hash, ProofError};

/// Something that can hand out the leaf hashes of a tree one at a time, so that
/// proofs can be generated without loading every leaf into memory.
///
/// `[Hash]` implements it; a store implements it over its persisted leaf hashes.
/// The proof functions read each needed leaf once: generating a proof for a tree of
/// `n` leaves reads up to `n` leaves and keeps O(log n) hashes in memory.
pub trait NodeSource {
    /// The error of the store; proof errors (bad index, bad sizes) convert into it.
    type Error: From<ProofError>;

    /// Number of leaves available.
    fn size(&self) -> u64;

    /// The leaf hash at 0-based index `i` (`i < self.size()`).
    fn leaf(&self, i: u64) -> Result<Hash, Self::Error>;
}

impl NodeSource for [Hash] {
    type Error = ProofError;

    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn leaf(&self, i: u64) -> Result<Hash, ProofError> {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(ProofError::IndexOutOfRange { index: i, size: self.len() as u64 })
    }
}

/// The Merkle Tree Hash of the leaves `[start, end)` of `src` (the empty-tree root
/// when `start == end`).
pub fn subtree_root<S: NodeSource + ?Sized>(src: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let size = src.size();
    if start > end || end > size {
        return Err(ProofError::InvalidRange { start, end, size }.into());
    }
    let mut frontier = Frontier::new();
    for i in start..end {
        frontier.push(src.leaf(i)?);
    }
    Ok(frontier.root())
}

fn check_tree_size<S: NodeSource + ?Sized>(src: &S, tree_size: u64) -> Result<(), ProofError> {
    let available = src.size();
    if tree_size > available {
        return Err(ProofError::TreeTooLarge { requested: tree_size, available });
    }
    Ok(())
}

/// The inclusion proof `PATH(index, D[tree_size])` (RFC 9162 §2.1.3.1) for the
/// leaf at 0-based `index` in the tree made of the first `tree_size` leaves of
/// `src`. `tree_size` may be smaller than `src.size()`, to prove against an older
/// tree head.
pub fn inclusion_proof_from<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, S::Error> {
    check_tree_size(src, tree_size)?;
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange { index, size: tree_size }.into());
    }
    // Walk down from the root, collecting the sibling of each subtree that holds
    // `index`; the proof lists them bottom-up.
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0u64, tree_size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            proof.push(subtree_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            proof.push(subtree_root(src, lo, lo + k)?);
            lo += k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The inclusion proof for the leaf at 0-based `index` in the tree of all `leaves`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    inclusion_proof_from(leaves, index, leaves.len() as u64)
}

/// The consistency proof `PROOF(old_size, D[new_size])` (RFC 9162 §2.1.4.1)
/// between the trees made of the first `old_size` and the first `new_size` leaves
/// of `src`.
///
/// `old_size == new_size` gives the empty proof. `old_size == 0` is rejected
/// ([`ProofError::ConsistencyFromEmptyTree`]), as is `old_size > new_size`.
pub fn consistency_proof_from<S: NodeSource + ?Sized>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, S::Error> {
    check_tree_size(src, new_size)?;
    if old_size == 0 {
        return Err(ProofError::ConsistencyFromEmptyTree.into());
    }
    if old_size > new_size {
        return Err(ProofError::OldTreeLarger { old_size, new_size }.into());
    }
    // SUBPROOF(m, D[lo:hi], complete), unrolled from the top; the proof lists the
    // collected hashes bottom-up.
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0u64, new_size);
    let mut m = old_size;
    let mut complete = true;
    loop {
        let n = hi - lo;
        if m == n {
            if !complete {
                proof.push(subtree_root(src, lo, hi)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(subtree_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            proof.push(subtree_root(src, lo, lo + k)?);
            lo += k;
            m -= k;
            complete = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof from the tree of the first `old_size` leaves to the tree
/// of all `leaves`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, ProofError> {
    consistency_proof_from(leaves, old_size, leaves.len() as u64)
}

/// Right-shifts `fn_` and `sn` together until the lowest bit of `fn_` is set or
/// `fn_` is 0.
fn shift_until_lsb_set(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Verifies that `leaf` is the leaf hash at 0-based `index` in the tree of `size`
/// leaves whose root is `root`, following RFC 9162 §2.1.3.2 step by step.
///
/// Rejects `index >= size` (so every proof against the empty tree fails).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // 2., 3.
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    // 4.
    for p in proof {
        if sn == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_until_lsb_set(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    if sn != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root`, following RFC 9162 §2.1.4.2.
///
/// Policies: `old_size == 0` is always rejected (even with `new_size == 0`);
/// `old_size > new_size` is rejected; equal sizes need an empty proof and equal
/// roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size == 0 {
        return Err(ProofError::ConsistencyFromEmptyTree);
    }
    if old_size > new_size {
        return Err(ProofError::OldTreeLarger { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::ProofNotEmptyForEqualSizes { size: old_size, len: proof.len() });
        }
        if old_root != new_root {
            return Err(ProofError::RootsDifferForEqualSizes { size: old_size });
        }
        return Ok(());
    }
    // 1. An empty path fails.
    let Some((head, tail)) = proof.split_first() else {
        return Err(ProofError::EmptyProof);
    };
    // 2. If first is an exact power of two, first_hash is prepended to the path.
    //    5. fr and sr start as the first value of the (possibly extended) path.
    let (start, rest) = if old_size.is_power_of_two() { (old_root, proof) } else { (head, tail) };
    // 3.
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    // 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let mut fr = *start;
    let mut sr = *start;
    // 6.
    for c in rest {
        if sn == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_until_lsb_set(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}
