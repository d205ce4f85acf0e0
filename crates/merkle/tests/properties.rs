//! Property-style tests over many tree sizes (deterministic pseudo-random choice).
#![allow(clippy::unwrap_used, clippy::expect_used)] // panicking is how tests fail

mod common;

use casetrail_merkle::{
    consistency_proof, consistency_proof_from, inclusion_proof, inclusion_proof_from, root_of, subtree_root,
    verify_consistency, verify_inclusion, Frontier, Hash, NodeSource, ProofError,
};
use common::{leaves, Rng};

/// Leaves for every test tree, and `prefix_roots()[k]` = root of the first k.
const MAX: u64 = 601;

fn prefix_roots(all: &[Hash]) -> Vec<Hash> {
    let mut f = Frontier::new();
    let mut roots = vec![f.root()];
    for leaf in all {
        f.push(*leaf);
        roots.push(f.root());
    }
    roots
}

/// Sizes 1..=40 exhaustively plus random sizes up to 300 (and the edges).
fn sizes(rng: &mut Rng) -> Vec<u64> {
    let mut s: Vec<u64> = (1..=40).collect();
    s.extend([63, 64, 65, 127, 128, 129, 255, 256, 257, 300]);
    for _ in 0..10 {
        s.push(rng.range(41, 300));
    }
    s
}

#[test]
fn frontier_root_equals_recursive_root() {
    let all = leaves(300);
    let mut f = Frontier::new();
    assert_eq!(f.root(), root_of(&[]));
    for (i, leaf) in all.iter().enumerate() {
        f.push(*leaf);
        let n = i + 1;
        assert_eq!(f.size(), n as u64);
        assert_eq!(f.hashes().len(), n.count_ones() as usize);
        assert_eq!(f.root(), root_of(&all[..n]), "size {n}");
        assert_eq!(subtree_root(all.as_slice(), 0, n as u64), Ok(root_of(&all[..n])));
    }
}

fn flip_each_byte(rng: &mut Rng, proof: &[Hash], mut check: impl FnMut(&[Hash])) {
    let mut tampered = proof.to_vec();
    for i in 0..proof.len() {
        for b in 0..32 {
            let mask = rng.nonzero_byte();
            tampered[i][b] ^= mask;
            check(&tampered);
            tampered[i][b] ^= mask;
        }
    }
}

/// Structural edits: drop, duplicate or add a hash at the front and the back.
fn structural_edits(proof: &[Hash], extra: Hash) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    if !proof.is_empty() {
        out.push(proof[1..].to_vec());
        out.push(proof[..proof.len() - 1].to_vec());
        let mut dup = proof.to_vec();
        dup.push(proof[proof.len() - 1]);
        out.push(dup);
    }
    let mut front = vec![extra];
    front.extend_from_slice(proof);
    out.push(front);
    let mut back = proof.to_vec();
    back.push(extra);
    out.push(back);
    out
}

#[test]
fn inclusion_proofs_verify_and_tampering_fails() {
    let mut rng = Rng::new(0x1234_5678);
    let all = leaves(MAX);
    let roots = prefix_roots(&all);
    for n in sizes(&mut rng) {
        let tree = &all[..n as usize];
        let root = roots[n as usize];
        assert_eq!(root, root_of(tree));
        for index in 0..n {
            let leaf = tree[index as usize];
            let proof = inclusion_proof(tree, index).expect("generate");
            assert_eq!(verify_inclusion(&leaf, index, n, &proof, &root), Ok(()), "index {index} size {n}");
            // The lazy variant against a longer source gives the same proof.
            assert_eq!(inclusion_proof_from(all.as_slice(), index, n), Ok(proof.clone()));

            // Exhaustive byte flips for small trees, a sample of leaves otherwise.
            if n <= 40 || index % 37 == 0 || index == n - 1 {
                flip_each_byte(&mut rng, &proof, |p| {
                    assert!(verify_inclusion(&leaf, index, n, p, &root).is_err());
                });
                let mut bad_leaf = leaf;
                bad_leaf[rng.range(0, 31) as usize] ^= rng.nonzero_byte();
                assert!(verify_inclusion(&bad_leaf, index, n, &proof, &root).is_err());
                let mut bad_root = root;
                bad_root[rng.range(0, 31) as usize] ^= rng.nonzero_byte();
                assert!(verify_inclusion(&leaf, index, n, &proof, &bad_root).is_err());
                for edited in structural_edits(&proof, all[MAX as usize - 1]) {
                    assert!(verify_inclusion(&leaf, index, n, &edited, &root).is_err());
                }
            }

            // Another index in the same tree (same root): always fails.
            for other in [index ^ 1, index + 1, index.wrapping_sub(1), index ^ 2, n, u64::MAX] {
                if other != index {
                    assert!(
                        verify_inclusion(&leaf, other, n, &proof, &root).is_err(),
                        "index {index} -> {other}, size {n}"
                    );
                }
            }
            // Another size, against that tree's true root: fails unless the proof
            // happens to be the genuine proof for that tree too.
            for other_n in [n + 1, n - 1, n * 2, n / 2, n + 7] {
                if other_n == n {
                    continue;
                }
                let other_root = roots[other_n as usize];
                let ok = verify_inclusion(&leaf, index, other_n, &proof, &other_root).is_ok();
                if ok {
                    assert_eq!(inclusion_proof(&all[..other_n as usize], index), Ok(proof.clone()));
                    assert_eq!(other_root, root, "size {n} -> {other_n}");
                }
            }
        }
    }
}

#[test]
fn consistency_proofs_verify_and_tampering_fails() {
    let mut rng = Rng::new(0x9abc_def0);
    let all = leaves(MAX);
    let roots = prefix_roots(&all);
    for n in sizes(&mut rng) {
        let tree = &all[..n as usize];
        let new_root = roots[n as usize];
        for m in 1..=n {
            let old_root = roots[m as usize];
            let proof = consistency_proof(tree, m).expect("generate");
            assert_eq!(verify_consistency(m, n, &old_root, &new_root, &proof), Ok(()), "{m} -> {n}");
            assert_eq!(consistency_proof_from(all.as_slice(), m, n), Ok(proof.clone()));
            if m == n {
                assert!(proof.is_empty());
            }

            if n <= 40 || m % 37 == 0 || m == n - 1 || m.is_power_of_two() {
                flip_each_byte(&mut rng, &proof, |p| {
                    assert!(verify_consistency(m, n, &old_root, &new_root, p).is_err());
                });
                let mut bad = old_root;
                bad[rng.range(0, 31) as usize] ^= rng.nonzero_byte();
                assert!(verify_consistency(m, n, &bad, &new_root, &proof).is_err());
                let mut bad = new_root;
                bad[rng.range(0, 31) as usize] ^= rng.nonzero_byte();
                assert!(verify_consistency(m, n, &old_root, &bad, &proof).is_err());
                for edited in structural_edits(&proof, all[MAX as usize - 1]) {
                    assert!(verify_consistency(m, n, &old_root, &new_root, &edited).is_err());
                }
            }

            // Other sizes, with the true roots of those trees: fails unless the
            // proof is the genuine proof for those sizes too.
            let candidates =
                [(m + 1, n), (m - 1, n), (m, n + 1), (m, n - 1), (m * 2, n), (m, n * 2), (m / 2, n), (m + 1, n + 1)];
            for (m2, n2) in candidates {
                if (m2, n2) == (m, n) {
                    continue;
                }
                let r1 = roots[m2 as usize];
                let r2 = roots[n2 as usize];
                if verify_consistency(m2, n2, &r1, &r2, &proof).is_ok() {
                    assert_eq!(
                        consistency_proof(&all[..n2 as usize], m2),
                        Ok(proof.clone()),
                        "{m} -> {n} verified as {m2} -> {n2}"
                    );
                }
            }
            // Same roots, swapped sizes: always fails.
            if m != n {
                assert!(verify_consistency(n, m, &old_root, &new_root, &proof).is_err());
            }
        }
    }
}

/// RFC 9162 verification binds a proof to a root, and the size only through the
/// shape of the path: the proof for leaf 0 of a 5-leaf tree also "verifies" as
/// leaf 0 of a 6-leaf tree with the *same* root, because both paths have the same
/// shape. This is why a size must only be trusted together with its root, as in a
/// signed tree head; against the true root of 6 leaves it fails.
#[test]
fn size_is_bound_through_the_root() {
    let all = leaves(6);
    let proof = inclusion_proof(&all[..5], 0).expect("proof");
    let root5 = root_of(&all[..5]);
    assert_eq!(verify_inclusion(&all[0], 0, 6, &proof, &root5), Ok(()));
    assert_eq!(verify_inclusion(&all[0], 0, 6, &proof, &root_of(&all)), Err(ProofError::RootMismatch));
}

#[test]
fn generation_rejects_bad_arguments() {
    let tree = leaves(5);
    assert_eq!(inclusion_proof(&tree, 5), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(inclusion_proof(&[], 0), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(
        inclusion_proof_from(tree.as_slice(), 0, 6),
        Err(ProofError::TreeTooLarge { requested: 6, available: 5 })
    );
    assert_eq!(consistency_proof(&tree, 0), Err(ProofError::ConsistencyFromEmptyTree));
    assert_eq!(consistency_proof(&tree, 6), Err(ProofError::OldTreeLarger { old_size: 6, new_size: 5 }));
    assert_eq!(consistency_proof(&tree, 5), Ok(vec![]));
    assert_eq!(subtree_root(tree.as_slice(), 3, 2), Err(ProofError::InvalidRange { start: 3, end: 2, size: 5 }));
    assert_eq!(subtree_root(tree.as_slice(), 0, 6), Err(ProofError::InvalidRange { start: 0, end: 6, size: 5 }));
}

#[test]
fn verification_rejects_bad_sizes() {
    let h = root_of(&leaves(1));
    assert_eq!(verify_inclusion(&h, 0, 0, &[], &h), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(verify_inclusion(&h, 0, 1, &[], &h), Ok(()));
    assert_eq!(verify_inclusion(&h, 0, 1, &[h], &h), Err(ProofError::ProofTooLong));
    assert_eq!(verify_inclusion(&h, 0, 2, &[], &h), Err(ProofError::ProofTooShort));
    assert_eq!(verify_consistency(0, 5, &h, &h, &[h]), Err(ProofError::ConsistencyFromEmptyTree));
    assert_eq!(verify_consistency(5, 4, &h, &h, &[h]), Err(ProofError::OldTreeLarger { old_size: 5, new_size: 4 }));
    assert_eq!(verify_consistency(1, 2, &h, &h, &[]), Err(ProofError::EmptyProof));
    // Sizes near u64::MAX must not overflow.
    assert!(verify_inclusion(&h, u64::MAX - 1, u64::MAX, &[h; 64], &h).is_err());
    assert!(verify_consistency(u64::MAX - 1, u64::MAX, &h, &h, &[h; 64]).is_err());
    // Messages are for people.
    let msg = ProofError::IndexOutOfRange { index: 9, size: 3 }.to_string();
    assert!(msg.contains("9") && msg.contains("3"), "{msg}");
}

/// A store-like source that counts leaf reads and fails past a limit.
struct CountingStore {
    leaves: Vec<Hash>,
    reads: std::cell::Cell<u64>,
}

#[derive(Debug, PartialEq)]
enum StoreError {
    Proof(ProofError),
    Missing(u64),
}

impl From<ProofError> for StoreError {
    fn from(e: ProofError) -> Self {
        StoreError::Proof(e)
    }
}

impl NodeSource for CountingStore {
    type Error = StoreError;
    fn size(&self) -> u64 {
        self.leaves.len() as u64
    }
    fn leaf(&self, i: u64) -> Result<Hash, StoreError> {
        self.reads.set(self.reads.get() + 1);
        self.leaves.get(i as usize).copied().ok_or(StoreError::Missing(i))
    }
}

#[test]
fn node_source_with_own_error_type() {
    let store = CountingStore { leaves: leaves(100), reads: std::cell::Cell::new(0) };
    let proof = inclusion_proof_from(&store, 42, 100).expect("proof");
    // Every leaf except the proven one is read exactly once.
    assert_eq!(store.reads.get(), 99);
    assert_eq!(proof, inclusion_proof(&store.leaves, 42).expect("proof"));
    assert_eq!(
        inclusion_proof_from(&store, 100, 100),
        Err(StoreError::Proof(ProofError::IndexOutOfRange { index: 100, size: 100 }))
    );
    let c = consistency_proof_from(&store, 30, 90).expect("proof");
    assert_eq!(c, consistency_proof(&store.leaves[..90], 30).expect("proof"));
}
