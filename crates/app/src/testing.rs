//! Test support shared by every crate's test suites: the two backends the
//! conformance, report and web tests run against, and a ledger on one of
//! them with a fixed key and a fixed clock. Not used by the product.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use casetrail_ledger::{ProjectionDoc, Store};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use crate::Ledger;

/// A store under test and the guard that keeps its database alive (a
/// temporary directory, or a PostgreSQL database dropped on drop).
pub struct Backend {
    pub store: Box<dyn Store>,
    pub guard: Box<dyn std::any::Any>,
}

/// A fresh SQLite file in a temporary directory.
pub fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = casetrail_store_sqlite::SqliteStore::open(&dir.path().join("test.db")).expect("sqlite");
    Backend { store: Box::new(store), guard: Box::new(dir) }
}

/// A fresh PostgreSQL database (panics, never skips, when no server answers).
pub fn postgres() -> Backend {
    let (store, guard) = casetrail_store_postgres::testing::fresh_database();
    Backend { store: Box::new(store), guard: Box::new(guard) }
}

/// A ledger on `backend`, signing with a fixed key, whose clock reads `now`.
pub fn ledger_at(backend: Backend, now: DateTime<Utc>) -> (Ledger, Box<dyn std::any::Any>) {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let ledger = Ledger::with_parts(backend.store, key, Box::new(move || now)).expect("ledger");
    (ledger, backend.guard)
}

/// Every projection document of `kind`, in key order.
pub fn all_docs(store: &mut dyn Store, kind: &str) -> Vec<ProjectionDoc> {
    let mut docs = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.docs(kind, &after, 1_000).expect("reading projection documents");
        let Some(last) = page.last() else { return docs };
        after = last.key.clone();
        docs.extend(page);
    }
}

/// Every document of an index kind, parsed: key → (agency, entry).
pub fn index<T: serde::de::DeserializeOwned>(
    store: &mut dyn Store,
    kind: &str,
) -> BTreeMap<String, (Option<String>, T)> {
    all_docs(store, kind)
        .into_iter()
        .map(|doc| (doc.key, (doc.agency, serde_json::from_str(&doc.doc).expect("an index entry parses"))))
        .collect()
}
