//! Signed tree heads: layout, sign/verify, tampering, JSON form.
#![allow(clippy::unwrap_used, clippy::expect_used)] // panicking is how tests fail

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use casetrail_merkle::{leaf_hash, SignatureError, SignedTreeHead, TreeHead, TREE_HEAD_DOMAIN};
use ed25519_dalek::SigningKey;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn head() -> TreeHead {
    TreeHead { size: 0x0102_0304_0506_0708, root: leaf_hash(b"root"), timestamp_ms: 1_700_000_000_123 }
}

#[test]
fn signing_bytes_layout() {
    let h = head();
    let b = h.signing_bytes();
    assert_eq!(b.len(), TreeHead::SIGNING_BYTES_LEN);
    assert_eq!(b.len(), 71);
    assert_eq!(&b[..23], b"casetrail-tree-head-v1\n");
    assert_eq!(&b[..23], TREE_HEAD_DOMAIN);
    assert_eq!(&b[23..31], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&b[31..39], &1_700_000_000_123u64.to_be_bytes());
    assert_eq!(&b[39..], &h.root);
}

#[test]
fn sign_and_verify() {
    let k = key(1);
    let sth = SignedTreeHead::sign(head(), &k);
    assert_eq!(sth.key_id, k.verifying_key().to_bytes());
    assert_eq!(sth.verify(&k.verifying_key()), Ok(()));
    assert_eq!(head().sign(&k), sth);
    assert_eq!(sth.embedded_key(), Ok(k.verifying_key()));
}

#[test]
fn tampered_heads_fail() {
    let k = key(1);
    let vk = k.verifying_key();
    let sth = SignedTreeHead::sign(head(), &k);

    let mut t = sth;
    t.head.size += 1;
    assert_eq!(t.verify(&vk), Err(SignatureError::BadSignature));

    let mut t = sth;
    t.head.timestamp_ms -= 1;
    assert_eq!(t.verify(&vk), Err(SignatureError::BadSignature));

    for i in 0..32 {
        let mut t = sth;
        t.head.root[i] ^= 0x80;
        assert_eq!(t.verify(&vk), Err(SignatureError::BadSignature));
    }
    for i in 0..64 {
        let mut t = sth;
        t.signature[i] ^= 0x01;
        assert!(t.verify(&vk).is_err());
    }

    // Checked against another key.
    let other = key(2);
    assert_eq!(sth.verify(&other.verifying_key()), Err(SignatureError::KeyMismatch));
    // Key id swapped to the other key: the signature does not match it.
    let mut t = sth;
    t.key_id = other.verifying_key().to_bytes();
    assert_eq!(t.verify(&other.verifying_key()), Err(SignatureError::BadSignature));
}

#[test]
fn json_form() {
    let k = key(3);
    let sth = SignedTreeHead::sign(head(), &k);
    let json = serde_json::to_value(sth).expect("serialise");
    let obj = json.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["key", "root", "signature", "size", "timestamp_ms"]);
    assert_eq!(json["size"], 0x0102_0304_0506_0708u64);
    assert_eq!(json["timestamp_ms"], 1_700_000_000_123u64);
    assert_eq!(json["root"], hex::encode(head().root));
    assert_eq!(json["signature"], BASE64.encode(sth.signature));
    assert_eq!(json["key"], BASE64.encode(k.verifying_key().to_bytes()));

    let back: SignedTreeHead = serde_json::from_value(json.clone()).expect("parse");
    assert_eq!(back, sth);
    assert_eq!(back.verify(&k.verifying_key()), Ok(()));

    // Uppercase hex is accepted on input.
    let mut upper = json.clone();
    upper["root"] = hex::encode_upper(head().root).into();
    assert_eq!(serde_json::from_value::<SignedTreeHead>(upper).expect("parse"), sth);

    // Rejections: short root, bad base64, short signature, unknown member.
    for (field, value) in [
        ("root", serde_json::Value::from("abcd")),
        ("root", "zz".repeat(32).into()),
        ("signature", "not base64!".into()),
        ("signature", BASE64.encode([0u8; 63]).into()),
        ("key", BASE64.encode([0u8; 31]).into()),
        ("extra", 1.into()),
    ] {
        let mut bad = json.clone();
        bad[field] = value;
        assert!(serde_json::from_value::<SignedTreeHead>(bad).is_err(), "{field} accepted");
    }

    // The bare head.
    let j = serde_json::to_string(&head()).expect("serialise");
    assert_eq!(
        j,
        format!(r#"{{"size":72623859790382856,"root":"{}","timestamp_ms":1700000000123}}"#, hex::encode(head().root))
    );
    assert_eq!(serde_json::from_str::<TreeHead>(&j).expect("parse"), head());
}

/// Ed25519 is deterministic, so one signed head can be pinned. The signature and
/// key below were reproduced independently from the documented layout with
/// Python's `cryptography` package:
///
/// ```text
/// k = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
/// msg = b"casetrail-tree-head-v1\n" + (8).to_bytes(8, "big")
///       + (1000).to_bytes(8, "big") + bytes([0xab]) * 32
/// base64(k.sign(msg)), base64(raw public key)
/// ```
#[test]
fn pinned_json() {
    let sth = SignedTreeHead::sign(TreeHead { size: 8, root: [0xab; 32], timestamp_ms: 1_000 }, &key(9));
    let s = serde_json::to_string(&sth).expect("serialise");
    assert_eq!(s, PINNED);
}

const PINNED: &str = concat!(
    r#"{"size":8,"root":"abababababababababababababababababababababababababababababababab","#,
    r#""timestamp_ms":1000,"#,
    r#""signature":"Bp6LeojxuP1c6x7O4gpq8ZcIx3STcnh9UVPXoV5KmuEBLBzxgpwZb/7Gc4YHke4PoYITmM8OncZotIlrqpZqCw==","#,
    r#""key":"/RckOFqgx1tk+3jNYC+h2ZH96/drE8WO1wLqyDXp9hg="}"#
);
