//! The HTTP read path on SQLite and PostgreSQL: reads run on their own
//! connections, so a read made while the writer holds the ledger in the
//! middle of a transaction returns (with what was committed before it)
//! instead of waiting; and a request that appended and then reads sees its
//! own record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_exchange::parse_record;
use casetrail_ledger::ProjectionDoc;
use casetrail_web::writer::Outcome;
use casetrail_web::{AppState, WebConfig};
use chrono::{TimeZone, Utc};

const AGENCY: &str = r#"{"type":"agency.registered","id":"ag-1","at":"2026-03-02T09:00:00+05:00","agency":"akimat-astana","name":{"kk":"Әкімдік","ru":"Акимат","en":"Akimat"},"kind":"akimat"}"#;

async fn agency_doc(state: &AppState, key: &'static str) -> Option<String> {
    state.read(move |store| Ok(store.doc("agency", key)?.map(|doc| doc.doc))).await.expect("read")
}

async fn reads_do_not_wait_for_a_transaction_in_progress(state: AppState) {
    // The writer's side: the ledger locked, a transaction open and a
    // document written but not committed (as during a group commit).
    let (started, holding) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let ledger = state.ledger.clone();
    let writer = std::thread::spawn(move || {
        let mut ledger = ledger.lock().unwrap();
        let mut tx = ledger.store().begin().unwrap();
        let doc = ProjectionDoc {
            kind: "agency".into(),
            key: "uncommitted".into(),
            agency: None,
            doc: r#"{"agency":"uncommitted"}"#.into(),
        };
        tx.store_docs(&[doc]).unwrap();
        started.send(()).unwrap();
        released.recv().unwrap();
        tx.commit().unwrap();
    });
    holding.recv().unwrap();
    // Answered while the transaction is open: nothing uncommitted is seen.
    // (The bound only keeps a read that waits for the writer, which would
    // wait forever here, from hanging the suite.)
    let read = tokio::time::timeout(std::time::Duration::from_secs(120), agency_doc(&state, "uncommitted"));
    assert_eq!(read.await.expect("a read waited for the writer's open transaction"), None);
    let size = state.read(|store| Ok(store.ledger_state()?.size())).await.expect("read");
    assert_eq!(size, 0);
    release.send(()).unwrap();
    writer.join().unwrap();
    // Committed: the next read sees it.
    assert!(agency_doc(&state, "uncommitted").await.is_some(), "a read after the commit sees it");
}

async fn a_request_reads_its_own_write(state: AppState) {
    let record = parse_record(AGENCY.as_bytes()).unwrap().record;
    for round in 0..20 {
        let outcome = state.append("api", record.clone()).await.expect("append");
        assert!(matches!(outcome, Outcome::Appended { .. }), "round {round}: {outcome:?}");
        let doc = agency_doc(&state, "akimat-astana").await.expect("the appended agency is read back");
        assert!(doc.contains("Akimat"), "{doc}");
        let size = state.read(|store| Ok(store.ledger_state()?.size())).await.expect("read");
        assert_eq!(size, round + 1, "every committed event is seen by the next read");
    }
}

/// Runs a test on a runtime made here, with the ledger opened before it (a
/// synchronous PostgreSQL client must not block a runtime's thread).
fn run<F: std::future::Future<Output = ()>>(backend: Backend, test: impl FnOnce(AppState) -> F) {
    let (ledger, _guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).single().unwrap());
    let state = AppState::new(ledger, WebConfig::default()).expect("state");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(test(state));
}

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::run(super::sqlite(), super::$name) } )+ }
        mod on_postgres { $( #[test] fn $name() { super::run(super::postgres(), super::$name) } )+ }
    };
}

on_both!(reads_do_not_wait_for_a_transaction_in_progress, a_request_reads_its_own_write);

/// A PostgreSQL reader whose session the server ended (a restart, an
/// administrator) is replaced: the read that finds out fails, the ones
/// after it are answered.
#[test]
fn a_dropped_postgres_reader_is_replaced() {
    let (ledger, guard) = ledger_at(postgres(), Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).single().unwrap());
    let database = guard.downcast_ref::<casetrail_store_postgres::testing::TestDatabase>().expect("a PostgreSQL test");
    let name = database.url().rsplit('/').next().expect("a database name").to_owned();
    let config = WebConfig { read_connections: 2, ..WebConfig::default() };
    let state = AppState::new(ledger, config).expect("state");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let size = |state: &AppState| {
        let state = state.clone();
        runtime.block_on(async move { state.read(|store| Ok(store.ledger_state()?.size())).await })
    };
    assert_eq!(size(&state).expect("read"), 0);

    let ended: i64 = casetrail_store_postgres::testing::admin_client()
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
            &[&name, &casetrail_store_postgres::READER_APPLICATION_NAME],
        )
        .expect("ending the readers' sessions")
        .get(0);
    assert_eq!(ended, 2, "both readers' sessions ended");
    let failed = (0..6).filter(|_| size(&state).is_err()).count();
    assert!(failed <= 2, "at most one failed read per dropped reader, not {failed}");
    for _ in 0..6 {
        assert_eq!(size(&state).expect("answered on a new connection"), 0);
    }
}
