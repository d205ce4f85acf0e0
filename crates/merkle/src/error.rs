//! Error types.

use thiserror::Error;

/// Why a proof could not be generated or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// A hash received from outside does not have 32 bytes.
    #[error("a hash must be exactly 32 bytes long, this one has {len} bytes")]
    WrongHashLength {
        /// The length that was received.
        len: usize,
    },
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves (indexes are 0-based)")]
    IndexOutOfRange {
        /// The requested 0-based index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A proof was asked for a tree larger than the leaves available.
    #[error("a tree of {requested} leaves was asked for, but only {available} leaves exist")]
    TreeTooLarge {
        /// The requested tree size.
        requested: u64,
        /// The number of leaves available.
        available: u64,
    },
    /// A leaf range `[start, end)` that is reversed or reaches past the leaves.
    #[error("the leaf range [{start}, {end}) is not inside the {size} available leaves")]
    InvalidRange {
        /// First leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
        /// The number of leaves available.
        size: u64,
    },
    /// Consistency from the empty tree is meaningless and rejected by policy.
    #[error("a consistency proof from an empty tree (size 0) is meaningless and is rejected")]
    ConsistencyFromEmptyTree,
    /// The old tree is larger than the new one.
    #[error("the old tree ({old_size} leaves) is larger than the new tree ({new_size} leaves)")]
    OldTreeLarger {
        /// Size of the old tree.
        old_size: u64,
        /// Size of the new tree.
        new_size: u64,
    },
    /// Equal sizes need an empty consistency proof.
    #[error("both trees have {size} leaves, so the consistency proof must be empty, but it has {len} hashes")]
    ProofNotEmptyForEqualSizes {
        /// The common tree size.
        size: u64,
        /// The number of hashes in the proof.
        len: usize,
    },
    /// Trees of equal size must have the same root.
    #[error("both trees have {size} leaves but their roots differ")]
    RootsDifferForEqualSizes {
        /// The common tree size.
        size: u64,
    },
    /// The proof is empty where hashes are needed.
    #[error("the proof is empty but hashes are required for these sizes")]
    EmptyProof,
    /// The proof has more hashes than the tree shape allows.
    #[error("the proof has more hashes than a tree of this size allows")]
    ProofTooLong,
    /// The proof has fewer hashes than the tree shape requires.
    #[error("the proof has fewer hashes than a tree of this size requires")]
    ProofTooShort,
    /// The root computed from the proof is not the expected root.
    #[error("the root computed from the proof does not match the expected root")]
    RootMismatch,
    /// The old root computed from a consistency proof is not the expected old root.
    #[error("the old root computed from the consistency proof does not match the expected old root")]
    OldRootMismatch,
    /// The new root computed from a consistency proof is not the expected new root.
    #[error("the new root computed from the consistency proof does not match the expected new root")]
    NewRootMismatch,
}

/// Why a serialised [`crate::Frontier`] was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrontierError {
    /// Fewer than the 8 bytes of the size.
    #[error("a serialised frontier needs at least 8 bytes (the size), got {len}")]
    TooShort {
        /// Number of bytes received.
        len: usize,
    },
    /// The bytes after the size are not a whole number of hashes.
    #[error("after the 8-byte size, {len} bytes remain, which is not a multiple of 32")]
    Ragged {
        /// Number of bytes after the size.
        len: usize,
    },
    /// The number of hashes does not match the size.
    #[error("a tree of {size} leaves needs {expected} frontier hashes (one per 1-bit of the size), got {actual}")]
    WrongHashCount {
        /// The tree size.
        size: u64,
        /// popcount(size).
        expected: u32,
        /// Number of hashes present.
        actual: usize,
    },
    /// The frontier already holds the maximum number of leaves.
    #[error("the tree already holds 2^64 - 1 leaves and cannot grow")]
    Full,
}

/// Why a signed tree head was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The head was signed with another key than the one given.
    #[error("the tree head was signed by another key than the one it is checked against")]
    KeyMismatch,
    /// The embedded public key bytes are not a valid Ed25519 key.
    #[error("the embedded public key is not a valid Ed25519 key")]
    InvalidKey,
    /// The signature does not match the head.
    #[error("the signature does not match this tree head (tampered head or wrong key)")]
    BadSignature,
}
