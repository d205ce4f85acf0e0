//! The RFC 9162 hashing rules.

use sha2::{Digest, Sha256};

use crate::ProofError;

/// A SHA-256 Merkle tree hash (leaf, interior node or root).
pub type Hash = [u8; 32];

/// Length in bytes of every [`Hash`](type@crate::Hash).
pub const HASH_LEN: usize = 32;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Converts bytes received from outside (JSON, a database, ...) into a [`Hash`](type@crate::Hash).
///
/// Fails with [`ProofError::WrongHashLength`] unless `bytes` is exactly 32 bytes long.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::WrongHashLength { len: bytes.len() })
}

/// The largest power of two strictly smaller than `n`. Requires `n >= 2`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash `MTH(D[n])` of RFC 9162 §2.1.1, computed by its recursive
/// definition. This is the reference the other computations are tested against.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let n = leaves.len();
            // Largest power of two strictly smaller than n (n >= 2 here).
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let (left, right) = leaves.split_at(k);
            node_hash(&root_of(left), &root_of(right))
        }
    }
}
