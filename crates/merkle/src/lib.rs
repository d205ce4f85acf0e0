//! RFC 9162 (Certificate Transparency v2) Merkle tree for casetrail.
//!
//! Pure computation, no I/O. Everything here follows RFC 9162 §2.1:
//!
//! * hash function: SHA-256, every hash is exactly 32 bytes ([`Hash`](type@crate::Hash));
//! * leaf hash: `SHA-256(0x00 || data)` ([`leaf_hash`]);
//! * interior node hash: `SHA-256(0x01 || left || right)` ([`node_hash`]);
//! * root of the empty tree: `SHA-256("")` ([`empty_root`]);
//! * the root of `n > 1` leaves is `node_hash(MTH(D[0:k]), MTH(D[k:n]))` where `k` is
//!   the largest power of two smaller than `n` ([`root_of`]).
//!
//! Parts:
//!
//! * [`Frontier`]: the compact state (at most 64 hashes plus the size) that lets a log
//!   append leaves one by one and compute its root without keeping the leaves.
//! * Proof generation ([`inclusion_proof`], [`consistency_proof`], and the
//!   [`NodeSource`] variants for stores that supply leaves lazily) and proof
//!   verification ([`verify_inclusion`], [`verify_consistency`]) per RFC 9162
//!   §2.1.3 and §2.1.4.
//! * Signed tree heads ([`TreeHead`], [`SignedTreeHead`]) with Ed25519.
//!
//! Leaf indexes are 0-based throughout.
//!
//! # Example
//!
//! ```
//! use casetrail_merkle::*;
//!
//! let leaves: Vec<Hash> = (0..5u8).map(|i| leaf_hash(&[i])).collect();
//! let mut frontier = Frontier::new();
//! for leaf in &leaves {
//!     frontier.push(*leaf);
//! }
//! assert_eq!(frontier.root(), root_of(&leaves));
//!
//! let proof = inclusion_proof(&leaves, 3).unwrap();
//! verify_inclusion(&leaves[3], 3, 5, &proof, &frontier.root()).unwrap();
//!
//! let old_root = root_of(&leaves[..2]);
//! let proof = consistency_proof(&leaves, 2).unwrap();
//! verify_consistency(2, 5, &old_root, &frontier.root(), &proof).unwrap();
//!
//! // Persist and restore the frontier.
//! let restored = Frontier::from_bytes(&frontier.to_bytes()).unwrap();
//! assert_eq!(restored, frontier);
//! ```
//!
//! # Verification policies
//!
//! * Every hash is exactly 32 bytes; bytes from outside go through
//!   [`hash_from_slice`], which rejects any other length.
//! * An inclusion proof needs `index < size` (nothing is in the empty tree).
//! * A consistency proof from size 0 is rejected, including `0 -> 0`.
//! * Equal sizes need an empty consistency proof and equal roots.
//! * The RFC algorithms bind a proof to a root, and to a size only through the
//!   shape of the path (the proof for leaf 0 of 5 leaves also fits 6 leaves with
//!   the same root). Trust a size only together with its root, as in a
//!   [`SignedTreeHead`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod frontier;
mod hash;
mod proof;
mod tree_head;

pub use error::{FrontierError, ProofError, SignatureError};
pub use frontier::Frontier;
pub use hash::{empty_root, hash_from_slice, leaf_hash, node_hash, root_of, Hash, HASH_LEN};
pub use proof::{
    consistency_proof, consistency_proof_from, inclusion_proof, inclusion_proof_from, subtree_root, verify_consistency,
    verify_inclusion, NodeSource,
};
pub use tree_head::{SignedTreeHead, TreeHead, TREE_HEAD_DOMAIN};
