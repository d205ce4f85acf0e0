//! Signed tree heads (Ed25519).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Hash, SignatureError};

/// Domain separator that starts [`TreeHead::signing_bytes`]: the 23 ASCII bytes
/// `casetrail-tree-head-v1` followed by a line feed (0x0a).
pub const TREE_HEAD_DOMAIN: &[u8; 23] = b"casetrail-tree-head-v1\n";

/// A statement of the log's state: its size, its root, and when it was taken.
///
/// # JSON form
///
/// `{"size": 8, "root": "<64 lowercase hex digits>", "timestamp_ms": 1700000000000}`.
/// `size` and `timestamp_ms` are JSON integers (u64; milliseconds since the Unix
/// epoch for `timestamp_ms`). On input, hex digits of either case are accepted and
/// unknown members are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TreeHead {
    /// Number of leaves.
    pub size: u64,
    /// Root hash `MTH(D[size])`.
    pub root: Hash,
    /// When the head was made, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

impl TreeHead {
    /// Length of [`TreeHead::signing_bytes`]: 23 + 8 + 8 + 32 = 71 bytes.
    pub const SIGNING_BYTES_LEN: usize = 71;

    /// The exact bytes that are signed. Fixed length (71 bytes), no separators
    /// needed:
    ///
    /// | offset | length | content |
    /// |-------:|-------:|---------|
    /// | 0      | 23     | ASCII `casetrail-tree-head-v1` then `\n` (0x0a), see [`TREE_HEAD_DOMAIN`] |
    /// | 23     | 8      | `size`, unsigned 64-bit big-endian |
    /// | 31     | 8      | `timestamp_ms`, unsigned 64-bit big-endian |
    /// | 39     | 32     | `root`, the raw SHA-256 bytes |
    ///
    /// Example in Python:
    /// `b"casetrail-tree-head-v1\n" + size.to_bytes(8, "big") + ts.to_bytes(8, "big") + root`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::SIGNING_BYTES_LEN);
        out.extend_from_slice(TREE_HEAD_DOMAIN);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.root);
        out
    }

    /// Signs this head; same as [`SignedTreeHead::sign`].
    pub fn sign(&self, key: &SigningKey) -> SignedTreeHead {
        SignedTreeHead::sign(*self, key)
    }
}

/// A [`TreeHead`] with an Ed25519 signature over [`TreeHead::signing_bytes`].
///
/// # JSON form
///
/// A flat object:
/// `{"size": 8, "root": "<hex>", "timestamp_ms": 1700000000000,
///   "signature": "<base64>", "key": "<base64>"}`, where `root` is 64 lowercase hex
/// digits, `signature` the 64 signature bytes and `key` the 32 Ed25519 public key
/// bytes ([`SignedTreeHead::key_id`]), both in standard base64 with padding
/// (RFC 4648 §4). Unknown members are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedTreeHead {
    /// The signed statement.
    pub head: TreeHead,
    /// Ed25519 signature over `head.signing_bytes()`.
    pub signature: [u8; 64],
    /// The Ed25519 public key bytes of the signer.
    pub key_id: [u8; 32],
}

impl SignedTreeHead {
    /// Signs `head` with `key`.
    pub fn sign(head: TreeHead, key: &SigningKey) -> SignedTreeHead {
        let signature = key.sign(&head.signing_bytes()).to_bytes();
        SignedTreeHead { head, signature, key_id: key.verifying_key().to_bytes() }
    }

    /// Checks that the head was signed by `key`: the embedded key must be `key`
    /// and the signature must verify (strict Ed25519 verification).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), SignatureError> {
        if self.key_id != key.to_bytes() {
            return Err(SignatureError::KeyMismatch);
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&self.head.signing_bytes(), &signature).map_err(|_| SignatureError::BadSignature)
    }

    /// The embedded public key, parsed. Trusting it says nothing about who signed:
    /// compare it with a key you already trust, or use [`SignedTreeHead::verify`].
    pub fn embedded_key(&self) -> Result<VerifyingKey, SignatureError> {
        VerifyingKey::from_bytes(&self.key_id).map_err(|_| SignatureError::InvalidKey)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeHeadJson {
    size: u64,
    root: String,
    timestamp_ms: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedTreeHeadJson {
    size: u64,
    root: String,
    timestamp_ms: u64,
    signature: String,
    key: String,
}

fn decode_hex_32<E: serde::de::Error>(field: &str, s: &str) -> Result<[u8; 32], E> {
    let bytes = hex::decode(s).map_err(|e| E::custom(format!("`{field}` is not hex: {e}")))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| E::custom(format!("`{field}` must be 32 bytes (64 hex digits), got {} bytes", bytes.len())))
}

fn decode_base64_array<const N: usize, E: serde::de::Error>(field: &str, s: &str) -> Result<[u8; N], E> {
    let bytes = BASE64.decode(s).map_err(|e| E::custom(format!("`{field}` is not standard base64: {e}")))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| E::custom(format!("`{field}` must be {N} bytes, got {} bytes", bytes.len())))
}

impl Serialize for TreeHead {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TreeHeadJson { size: self.size, root: hex::encode(self.root), timestamp_ms: self.timestamp_ms }
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TreeHead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let j = TreeHeadJson::deserialize(deserializer)?;
        Ok(TreeHead { size: j.size, root: decode_hex_32("root", &j.root)?, timestamp_ms: j.timestamp_ms })
    }
}

impl Serialize for SignedTreeHead {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SignedTreeHeadJson {
            size: self.head.size,
            root: hex::encode(self.head.root),
            timestamp_ms: self.head.timestamp_ms,
            signature: BASE64.encode(self.signature),
            key: BASE64.encode(self.key_id),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SignedTreeHead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let j = SignedTreeHeadJson::deserialize(deserializer)?;
        Ok(SignedTreeHead {
            head: TreeHead { size: j.size, root: decode_hex_32("root", &j.root)?, timestamp_ms: j.timestamp_ms },
            signature: decode_base64_array::<64, _>("signature", &j.signature)?,
            key_id: decode_base64_array::<32, _>("key", &j.key)?,
        })
    }
}
