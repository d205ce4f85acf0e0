//! Known-answer tests: the RFC 6962 standard vectors and every inclusion and
//! consistency probe of transparency-dev/merkle's `testdata/` (see
//! `tests/vectors/PROVENANCE.md`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // panicking is how tests fail

mod common;

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use casetrail_merkle::{
    consistency_proof, empty_root, hash_from_slice, inclusion_proof, leaf_hash, node_hash, root_of, verify_consistency,
    verify_inclusion, Frontier, Hash, ProofError,
};
use serde_json::Value;

fn hex32(v: &Value) -> Hash {
    let s = v.as_str().expect("hex string");
    hash_from_slice(&hex::decode(s).expect("valid hex")).expect("32 bytes")
}

#[test]
fn rfc6962_standard_vectors() {
    let path = common::vectors_dir().join("rfc6962_standard_vectors.json");
    let text = std::fs::read_to_string(&path).expect("read standard vectors");
    let v: Value = serde_json::from_str(&text).expect("standard vectors are JSON");

    // Hasher vectors.
    let h = &v["hasher"];
    assert_eq!(empty_root(), hex32(&h["empty_tree_root"]));
    assert_eq!(leaf_hash(b""), hex32(&h["leaf_hash_of_empty_leaf"]));
    assert_eq!(leaf_hash(b"L123456"), hex32(&h["leaf_hash_of_ascii_L123456"]));
    {
        // The Go vector hashes the raw 4-byte strings "N123" and "N456" as node
        // children; our node_hash only takes 32-byte hashes, so check the same
        // construction SHA-256(0x01 || left || right) by hand here. The level-by-level
        // node hashes below check node_hash itself.
        use sha2::{Digest, Sha256};
        let mut d = Sha256::new();
        d.update([1u8]);
        d.update(b"N123");
        d.update(b"N456");
        let expected: Hash = d.finalize().into();
        assert_eq!(expected, hex32(&h["node_hash_of_ascii_N123_and_N456"]));
    }

    // Leaves.
    let leaves: Vec<Hash> = v["leaf_inputs_hex"]
        .as_array()
        .expect("leaf inputs")
        .iter()
        .map(|x| leaf_hash(&hex::decode(x.as_str().expect("hex")).expect("hex")))
        .collect();
    assert_eq!(leaves.len(), 8);

    // Node hashes level by level: level 0 are the leaf hashes, each next level the
    // node hashes of adjacent pairs.
    let levels = v["node_hashes_by_level"].as_array().expect("levels");
    assert_eq!(levels.len(), 4);
    let mut current = leaves.clone();
    for (depth, level) in levels.iter().enumerate() {
        let want: Vec<Hash> = level.as_array().expect("level").iter().map(hex32).collect();
        assert_eq!(current, want, "node hashes at level {depth}");
        if current.len() > 1 {
            current = current.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
    }

    // Root for every size 0..=8, by the recursive definition and by the frontier.
    let roots = v["root_hashes_by_tree_size"].as_object().expect("roots");
    assert_eq!(roots.len(), 9);
    for size in 0..=8usize {
        let want = hex32(&roots[&size.to_string()]);
        assert_eq!(root_of(&leaves[..size]), want, "root_of size {size}");
        assert_eq!(Frontier::from_leaves(&leaves[..size]).root(), want, "frontier size {size}");
    }

    // Inclusion proofs (0-based indexes): we generate exactly the listed proof and
    // it verifies.
    let incl = v["inclusion_proofs"].as_array().expect("inclusion proofs");
    assert_eq!(incl.len(), 5);
    for p in incl {
        let index = p["leaf_index_0based"].as_u64().expect("index");
        let size = p["tree_size"].as_u64().expect("size");
        let want: Vec<Hash> = p["proof"].as_array().expect("proof").iter().map(hex32).collect();
        let tree = &leaves[..size as usize];
        let got = inclusion_proof(tree, index).expect("generate inclusion proof");
        assert_eq!(got, want, "inclusion proof index {index} size {size}");
        let root = hex32(&roots[&size.to_string()]);
        verify_inclusion(&leaves[index as usize], index, size, &want, &root).expect("listed inclusion proof verifies");
    }

    // Consistency proofs.
    let cons = v["consistency_proofs"].as_array().expect("consistency proofs");
    assert_eq!(cons.len(), 5);
    for p in cons {
        let size1 = p["size1"].as_u64().expect("size1");
        let size2 = p["size2"].as_u64().expect("size2");
        let want: Vec<Hash> = p["proof"].as_array().expect("proof").iter().map(hex32).collect();
        let got = consistency_proof(&leaves[..size2 as usize], size1).expect("generate");
        assert_eq!(got, want, "consistency proof {size1} -> {size2}");
        let r1 = hex32(&roots[&size1.to_string()]);
        let r2 = hex32(&roots[&size2.to_string()]);
        verify_consistency(size1, size2, &r1, &r2, &want).expect("listed proof verifies");
    }
}

/// Files whose expected outcome we deliberately do not follow, with the reason.
/// Each entry is still run and must give exactly the error named here; the test
/// also fails if an entry no longer exists or no longer disagrees with `wantErr`,
/// so this list cannot silently go stale.
const DELIBERATE_DEVIATIONS: &[(&str, &str)] = &[(
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    // Both roots are the 12-byte string "don't care 2". Upstream's Go verifier
    // compares them byte-wise without a length check and succeeds. Our policy
    // (shared with the rest of the probes) is that every hash is exactly 32 bytes,
    // so we reject it with WrongHashLength { len: 12 }. The same probe with equal
    // 32-byte roots is checked to succeed in `equal_sizes_with_valid_roots`.
    "wrong hash length 12",
)];

/// Decodes a base64 string member; anything else is a shape we do not know.
fn b64(file: &Path, v: &Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().unwrap_or_else(|| panic!("{}: `{key}` is not a string", file.display()));
    BASE64.decode(s).unwrap_or_else(|e| panic!("{}: `{key}` is not base64: {e}", file.display()))
}

fn u64_member(file: &Path, v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{}: `{key}` is not a u64", file.display()))
}

/// `proof` is null (Go's nil slice) or an array of base64 strings.
fn proof_member(file: &Path, v: &Value) -> Vec<Vec<u8>> {
    match &v["proof"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let s = item.as_str().unwrap_or_else(|| panic!("{}: proof item not a string", file.display()));
                BASE64.decode(s).unwrap_or_else(|e| panic!("{}: proof item not base64: {e}", file.display()))
            })
            .collect(),
        other => panic!("{}: `proof` has unexpected shape {other}", file.display()),
    }
}

fn check_keys(file: &Path, v: &Value, want: &[&str]) {
    let obj = v.as_object().unwrap_or_else(|| panic!("{}: not a JSON object", file.display()));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = want.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "{}: unexpected members", file.display());
}

fn hashes(bytes: &[Vec<u8>]) -> Result<Vec<Hash>, ProofError> {
    bytes.iter().map(|b| hash_from_slice(b)).collect()
}

fn run_inclusion(file: &Path, v: &Value) -> Result<(), ProofError> {
    check_keys(file, v, &["leafIdx", "treeSize", "root", "leafHash", "proof", "desc", "wantErr"]);
    let index = u64_member(file, v, "leafIdx");
    let size = u64_member(file, v, "treeSize");
    let root = b64(file, v, "root");
    let leaf = b64(file, v, "leafHash");
    let proof = proof_member(file, v);
    // Turning received bytes into hashes is part of verification: a hash that is
    // not 32 bytes makes the proof invalid.
    let root = hash_from_slice(&root)?;
    let leaf = hash_from_slice(&leaf)?;
    let proof = hashes(&proof)?;
    verify_inclusion(&leaf, index, size, &proof, &root)
}

fn run_consistency(file: &Path, v: &Value) -> Result<(), ProofError> {
    check_keys(file, v, &["size1", "size2", "root1", "root2", "proof", "desc", "wantErr"]);
    let size1 = u64_member(file, v, "size1");
    let size2 = u64_member(file, v, "size2");
    let root1 = b64(file, v, "root1");
    let root2 = b64(file, v, "root2");
    let proof = proof_member(file, v);
    let root1 = hash_from_slice(&root1)?;
    let root2 = hash_from_slice(&root2)?;
    let proof = hashes(&proof)?;
    verify_consistency(size1, size2, &root1, &root2, &proof)
}

/// Runs every file under `testdata/<kind>/`; returns how many ran.
fn run_kind(kind: &str, run: fn(&Path, &Value) -> Result<(), ProofError>) -> usize {
    let base = common::vectors_dir().join("transparency-dev-merkle/testdata");
    let files = common::all_files(&base.join(kind));
    let mut failures = Vec::new();
    let mut deviations_seen = 0;
    for file in &files {
        let rel = file.strip_prefix(&base).expect("under base").to_string_lossy().replace('\\', "/");
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("json"), "{rel}: not a JSON file");
        let text = std::fs::read_to_string(file).expect("read vector");
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: invalid JSON: {e}"));
        let want_err = v["wantErr"].as_bool().unwrap_or_else(|| panic!("{rel}: `wantErr` is not a bool"));
        let desc = v["desc"].as_str().unwrap_or_else(|| panic!("{rel}: no desc"));
        let outcome = run(file, &v);

        if let Some((_, reason)) = DELIBERATE_DEVIATIONS.iter().find(|(p, _)| *p == rel) {
            deviations_seen += 1;
            assert!(
                !want_err,
                "{rel}: listed as a deviation but now expects an error; remove it from DELIBERATE_DEVIATIONS"
            );
            assert_eq!(
                outcome,
                Err(ProofError::WrongHashLength { len: 12 }),
                "{rel}: deviation ({reason}) no longer behaves as documented"
            );
            continue;
        }
        if outcome.is_err() != want_err {
            failures.push(format!("{rel} ({desc}): wantErr={want_err}, got {outcome:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {kind} vectors disagree:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    let expected_deviations = DELIBERATE_DEVIATIONS.iter().filter(|(p, _)| p.starts_with(&format!("{kind}/"))).count();
    assert_eq!(deviations_seen, expected_deviations, "a listed deviation file is missing");
    files.len()
}

#[test]
fn transparency_dev_inclusion_vectors() {
    let n = run_kind("inclusion", run_inclusion);
    // Every file of the copied set ran (98 at the pinned commit).
    assert_eq!(n, 98);
}

#[test]
fn transparency_dev_consistency_vectors() {
    let n = run_kind("consistency", run_consistency);
    assert_eq!(n, 98);
}

/// The intent of the deviating probe, with valid 32-byte roots: equal sizes,
/// empty proof and equal roots verify; a non-empty proof or different roots fail.
#[test]
fn equal_sizes_with_valid_roots() {
    let r = leaf_hash(b"x");
    let other = leaf_hash(b"y");
    assert_eq!(verify_consistency(1, 1, &r, &r, &[]), Ok(()));
    assert_eq!(verify_consistency(7, 7, &r, &r, &[]), Ok(()));
    assert!(verify_consistency(1, 1, &r, &other, &[]).is_err());
    assert!(verify_consistency(1, 1, &r, &r, &[r]).is_err());
    // Policy: from size 0 is always rejected, even 0 -> 0.
    assert_eq!(verify_consistency(0, 0, &empty_root(), &empty_root(), &[]), Err(ProofError::ConsistencyFromEmptyTree));
}

/// The copies under tests/vectors must equal the shared originals when those are
/// present (the repository sits next to `shared/`, in CI too).
#[test]
fn copies_match_shared_originals() {
    let shared = common::shared_dir();
    if !shared.is_dir() {
        eprintln!("note: {} not present; testing the in-crate copies only", shared.display());
        return;
    }
    let ours = common::vectors_dir();
    let mut pairs = vec![("rfc6962_standard_vectors.json".to_string(), ())];
    for kind in ["inclusion", "consistency"] {
        let base = shared.join("transparency-dev-merkle/testdata");
        for f in common::all_files(&base.join(kind)) {
            let rel = f.strip_prefix(&shared).expect("under shared");
            pairs.push((rel.to_string_lossy().into_owned(), ()));
        }
    }
    for (rel, ()) in &pairs {
        let a = std::fs::read(shared.join(rel)).expect("read shared");
        let b = std::fs::read(ours.join(rel)).unwrap_or_else(|e| panic!("copy of {rel} missing: {e}"));
        assert_eq!(a, b, "{rel}: copy differs from shared original");
    }
    // And the copy has nothing extra.
    let copied = common::all_files(&ours.join("transparency-dev-merkle/testdata")).len();
    assert_eq!(copied + 1, pairs.len(), "tests/vectors holds files not in shared/");
}
