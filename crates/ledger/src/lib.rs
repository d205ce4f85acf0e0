//! The ledger: casetrail's source of truth.
//!
//! Every fact is an event, appended once, hashed into an RFC 9162 Merkle tree
//! whose heads are signed with Ed25519. This crate owns the append algorithm
//! (sequence numbers, leaf hashes, the incremental tree, signed heads), the
//! storage *contract* that every backend implements ([`Store`], [`Tx`]) and
//! `verify`. It knows no SQL: the backends do. It knows no projection: the
//! application does, and writes its projections through the same [`Tx`] so
//! that an event and its consequences commit together.

#![forbid(unsafe_code)]

mod append;
pub mod doc_codec;
pub mod keys;
pub mod proofs;
mod store;
mod verify;

pub use append::{entry_bytes, Appender, NewEvent};
pub use store::*;
pub use verify::{verify, VerifyFailure, VerifyReport};
