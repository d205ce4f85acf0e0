//! Incremental append state.

use crate::{empty_root, node_hash, FrontierError, Hash, TreeHead, HASH_LEN};

/// The compact state of an append-only tree: the roots of the perfect subtrees on
/// its right edge, plus the number of leaves.
///
/// A tree of `size` leaves decomposes into perfect subtrees, one for each 1-bit of
/// `size`, largest (leftmost) first. The frontier keeps exactly those roots, so it
/// holds `popcount(size)` hashes, at most 64. That is enough to append further
/// leaves ([`Frontier::push`]) and to compute the root ([`Frontier::root`]) without
/// the leaves themselves.
///
/// # Serialisation
///
/// [`Frontier::to_bytes`] gives `size` as a big-endian `u64` followed by the
/// `popcount(size)` subtree roots, 32 bytes each, leftmost (largest subtree)
/// first. [`Frontier::from_bytes`] checks that layout (the number of hashes must
/// be `popcount(size)`). It cannot detect a flipped bit inside a hash: a ledger
/// that restores a frontier should check it with [`Frontier::matches_head`]
/// against its last signed tree head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees, leftmost (largest) first.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the frontier of a tree holding `leaves`.
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut f = Self::new();
        for leaf in leaves {
            f.push(*leaf);
        }
        f
    }

    /// Appends a leaf hash (already hashed with [`crate::leaf_hash`]). O(log n) at
    /// worst, O(1) amortised.
    ///
    /// A tree of `2^64 - 1` leaves cannot grow (a limit never reached in practice);
    /// `push` then leaves the frontier unchanged. Use [`Frontier::try_push`] to see
    /// that case.
    pub fn push(&mut self, leaf: Hash) {
        let _ = self.try_push(leaf);
    }

    /// Appends a leaf hash, failing with [`FrontierError::Full`] at `2^64 - 1` leaves.
    pub fn try_push(&mut self, leaf: Hash) -> Result<(), FrontierError> {
        let new_size = self.size.checked_add(1).ok_or(FrontierError::Full)?;
        // Each trailing 1-bit of the old size is a perfect subtree of the same
        // height as the carry being built; merge them like a binary increment.
        let mut carry = leaf;
        for _ in 0..self.size.trailing_ones() {
            match self.hashes.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                // Unreachable while the invariant popcount(size) == hashes.len() holds.
                None => break,
            }
        }
        self.hashes.push(carry);
        self.size = new_size;
        Ok(())
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees on the right edge, leftmost (largest) first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The tree root `MTH(D[size])`: the subtree roots folded right to left, i.e.
    /// `node_hash(h0, node_hash(h1, ... node_hash(h_{k-2}, h_{k-1})))`, or
    /// [`empty_root`] for the empty tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        match iter.next() {
            None => empty_root(),
            Some(last) => iter.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }

    /// Whether this frontier describes the tree of `head`: same size and same root.
    ///
    /// Use it after [`Frontier::from_bytes`] to check a restored frontier against
    /// the last signed tree head; it catches corruption that the layout check
    /// cannot (a flipped bit inside a hash, or a size changed to another size with
    /// the same number of 1-bits).
    pub fn matches_head(&self, head: &TreeHead) -> bool {
        self.size == head.size && self.root() == head.root
    }

    /// Serialises as `size` (u64 big-endian) followed by the subtree roots.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + HASH_LEN * self.hashes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for h in &self.hashes {
            out.extend_from_slice(h);
        }
        out
    }

    /// Parses the output of [`Frontier::to_bytes`], checking that the number of
    /// hashes equals `popcount(size)`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FrontierError> {
        let (size_bytes, rest) = bytes.split_first_chunk::<8>().ok_or(FrontierError::TooShort { len: bytes.len() })?;
        let size = u64::from_be_bytes(*size_bytes);
        if rest.len() % HASH_LEN != 0 {
            return Err(FrontierError::Ragged { len: rest.len() });
        }
        let actual = rest.len() / HASH_LEN;
        let expected = size.count_ones();
        if actual != expected as usize {
            return Err(FrontierError::WrongHashCount { size, expected, actual });
        }
        let mut hashes = Vec::with_capacity(actual);
        for chunk in rest.chunks_exact(HASH_LEN) {
            let mut h = [0u8; HASH_LEN];
            h.copy_from_slice(chunk);
            hashes.push(h);
        }
        Ok(Self { size, hashes })
    }
}
