//! The PostgreSQL backend against a real server (see `casetrail_store_postgres::testing`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_ledger::{
    CounterDelta, LedgerState, NewQuarantine, ProjectionDoc, QuarantineStatus, Store, StoreError, StoredEvent,
};
use casetrail_merkle::{leaf_hash, Frontier, SignedTreeHead, TreeHead};
use casetrail_store_postgres::testing::{fresh_database, TestDatabase};
use casetrail_store_postgres::PgStore;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn instant(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap()
}

/// `count` events after `first - 1`, with microsecond timestamps and a
/// correct tree.
fn events(first: u64, count: u64, frontier: &mut Frontier) -> Vec<StoredEvent> {
    (first..first + count)
        .map(|seq| {
            let canonical = format!(r#"{{"id":"r{seq}","n":{seq}}}"#).into_bytes();
            let leaf = leaf_hash(&canonical);
            frontier.push(leaf);
            StoredEvent {
                seq,
                recorded_at: instant(1_700_000_000_123_456 + seq as i64),
                source: format!("source-{}", seq % 3),
                idempotency_key: format!("r{seq}"),
                record_type: "appeal".into(),
                schema_version: if seq.is_multiple_of(2) { 1 } else { u16::MAX },
                at: instant(1_600_000_000_000_001 - seq as i64 * 1_000_003),
                canonical,
                leaf_hash: leaf,
                tree_root: frontier.root(),
            }
        })
        .collect()
}

fn append(store: &mut PgStore, batch: &[StoredEvent], frontier: &Frontier) {
    let mut tx = store.begin().unwrap();
    tx.insert_events(batch).unwrap();
    tx.put_ledger_state(&LedgerState { frontier: frontier.clone() }).unwrap();
    tx.commit().unwrap();
}

#[test]
fn migrations_are_idempotent() {
    let (mut store, database) = fresh_database();
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.schema_version().unwrap(), 4);
    let mut again = database.store();
    assert_eq!(again.schema_version().unwrap(), 4);
    let mut client = database.client();
    let rows: i64 = client.query_one("SELECT count(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(rows, 4);
    // The stores still work after a second migration pass.
    assert_eq!(again.ledger_state().unwrap(), LedgerState::default());
}

#[test]
fn concurrent_migrations_are_serialised() {
    let database = TestDatabase::new();
    let url = database.url().to_owned();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::connect(&url).map(|mut store| store.schema_version().unwrap()))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().unwrap(), 4);
    }
    let versions: Vec<i64> = database
        .client()
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
}

#[test]
fn a_newer_schema_is_refused() {
    let (_store, database) = fresh_database();
    database.client().execute("INSERT INTO schema_migrations (version) VALUES (99)", &[]).unwrap();
    match PgStore::connect(database.url()) {
        Err(StoreError::SchemaTooNew { found: 99, supported: 4 }) => {}
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}

#[test]
fn events_round_trip_exactly() {
    let (mut store, _database) = fresh_database();
    let mut frontier = Frontier::new();
    let first = events(1, 700, &mut frontier);
    append(&mut store, &first, &frontier);
    let second = events(701, 5, &mut frontier);
    append(&mut store, &second, &frontier);

    let all: Vec<StoredEvent> = first.iter().chain(&second).cloned().collect();
    assert_eq!(store.events_after(0, usize::MAX).unwrap(), all);
    assert_eq!(store.events_after(698, 3).unwrap(), all[698..701].to_vec());
    assert_eq!(store.events_after(705, 10).unwrap(), Vec::new());
    assert_eq!(store.events_after(u64::MAX, 10).unwrap(), Vec::new());
    assert_eq!(store.event(42).unwrap().as_ref(), Some(&all[41]));
    assert_eq!(store.event(706).unwrap(), None);
    assert_eq!(store.event(u64::MAX).unwrap(), None);
    assert_eq!(store.ledger_state().unwrap().frontier, frontier);
    assert_eq!(store.ledger_state().unwrap().size(), 705);
}

#[test]
fn sub_microsecond_instants_are_truncated_like_sqlite() {
    let (mut store, _database) = fresh_database();
    let mut frontier = Frontier::new();
    let mut batch = events(1, 1, &mut frontier);
    let precise = Utc.timestamp_opt(1_700_000_000, 123_456_789).single().unwrap();
    batch[0].recorded_at = precise;
    append(&mut store, &batch, &frontier);
    let back = store.event(1).unwrap().unwrap();
    assert_eq!(back.recorded_at, Utc.timestamp_opt(1_700_000_000, 123_456_000).single().unwrap());
}

#[test]
fn events_are_append_only_by_trigger() {
    let (mut store, database) = fresh_database();
    let mut frontier = Frontier::new();
    append(&mut store, &events(1, 3, &mut frontier), &frontier);
    let mut client = database.client();
    for statement in [
        "UPDATE events SET record_type = 'forged' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 3",
        "TRUNCATE events",
    ] {
        let error = client.batch_execute(statement).expect_err(statement);
        let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
        assert!(message.starts_with("events are append-only: "), "{statement}: {message}");
    }
    assert_eq!(store.events_after(0, 10).unwrap().len(), 3);
}

#[test]
fn tree_heads_are_append_only_and_round_trip() {
    let (mut store, database) = fresh_database();
    let heads: Vec<SignedTreeHead> = (0..3u8)
        .map(|i| SignedTreeHead {
            head: TreeHead { size: u64::from(i) * 10, root: [i; 32], timestamp_ms: 1_700_000_000_000 + u64::from(i) },
            signature: [i + 100; 64],
            key_id: [7; 32],
        })
        .collect();
    let mut tx = store.begin().unwrap();
    for head in heads.iter().rev() {
        tx.insert_tree_head(head).unwrap();
    }
    tx.register_signing_key(&[7; 32], instant(1)).unwrap();
    tx.register_signing_key(&[7; 32], instant(2)).unwrap();
    tx.register_signing_key(&[3; 32], instant(3)).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.tree_heads().unwrap(), heads);
    assert_eq!(store.signing_keys().unwrap(), vec![[3; 32], [7; 32]]);

    let mut client = database.client();
    for statement in ["UPDATE tree_heads SET size = 1", "DELETE FROM tree_heads", "TRUNCATE tree_heads"] {
        let error = client.batch_execute(statement).expect_err(statement);
        let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
}

#[test]
fn the_writer_role_may_insert_but_not_change_events() {
    let (mut store, database) = fresh_database();
    let mut frontier = Frontier::new();
    let batch = events(1, 2, &mut frontier);
    append(&mut store, &batch[..1], &frontier);

    // The test connects as a superuser, which may SET ROLE to a NOLOGIN role.
    let mut client = database.client();
    client.batch_execute("SET ROLE casetrail_writer").unwrap();
    let who: String = client.query_one("SELECT current_user::text", &[]).unwrap().get(0);
    assert_eq!(who, "casetrail_writer");
    let event = &batch[1];
    client
        .execute(
            "INSERT INTO events (seq, recorded_at, source, idem_key, record_type, schema_version, at, canonical, leaf_hash, tree_root)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &(event.seq as i64),
                &event.recorded_at,
                &event.source,
                &event.idempotency_key,
                &event.record_type,
                &i32::from(event.schema_version),
                &event.at,
                &event.canonical,
                &event.leaf_hash.as_slice(),
                &event.tree_root.as_slice(),
            ],
        )
        .unwrap();
    for statement in [
        "UPDATE events SET record_type = 'forged'",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE tree_heads SET size = 1",
        "DROP TRIGGER events_refuse_change ON events",
    ] {
        let error = client.batch_execute(statement).expect_err(statement);
        let code = error.code().cloned();
        assert_eq!(
            code,
            Some(casetrail_store_postgres::postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {error}"
        );
    }
    assert_eq!(store.events_after(0, 10).unwrap(), batch);
}

#[test]
fn a_store_connected_as_the_writer_role_works() {
    let (_owner, database) = fresh_database();
    let url = format!("{}?options=-c%20role%3Dcasetrail_writer", database.url());
    let mut store = PgStore::connect(&url).unwrap();
    let who: String = store.client().query_one("SELECT current_user::text", &[]).unwrap().get(0);
    assert_eq!(who, "casetrail_writer");
    exercise_every_write(&mut store);
}

/// Every Tx method once, then every read.
fn exercise_every_write(store: &mut PgStore) {
    let mut frontier = Frontier::new();
    let batch = events(1, 3, &mut frontier);
    let mut tx = store.begin().unwrap();
    assert!(tx.existing_keys(&[("source-1", "r1")]).unwrap().is_empty());
    tx.insert_events(&batch).unwrap();
    tx.put_ledger_state(&LedgerState { frontier: frontier.clone() }).unwrap();
    tx.put_ledger_state(&LedgerState { frontier: frontier.clone() }).unwrap();
    tx.insert_tree_head(&SignedTreeHead {
        head: TreeHead { size: 3, root: frontier.root(), timestamp_ms: 5 },
        signature: [1; 64],
        key_id: [2; 32],
    })
    .unwrap();
    tx.register_signing_key(&[2; 32], instant(5)).unwrap();
    tx.store_docs(&[doc("appeal", "a", Some("x"), "{}")]).unwrap();
    tx.store_docs(&[doc("appeal", "a", Some("x"), "{\"v\":2}")]).unwrap();
    assert_eq!(tx.load_docs("appeal", &["a"]).unwrap().len(), 1);
    tx.add_counters(&[delta("x", 1, "m", 1), delta("x", 1, "m", 1)]).unwrap();
    tx.add_counters(&[delta("x", 1, "m", 1)]).unwrap();
    tx.insert_quarantine(&[quarantined("q", 1)]).unwrap();
    tx.resolve_quarantine(1, Some(2)).unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.existing_keys(&[("source-1", "r1")]).unwrap().len(), 1);
    tx.clear_projections().unwrap();
    tx.commit().unwrap();
    assert_eq!(store.events_after(0, 10).unwrap(), batch);
    assert_eq!(store.tree_heads().unwrap().len(), 1);
    assert_eq!(store.signing_keys().unwrap(), vec![[2; 32]]);
    assert_eq!(store.quarantine(false, 10).unwrap()[0].status, QuarantineStatus::Resolved);
    assert_eq!(store.docs("appeal", "", 10).unwrap(), Vec::new());
    assert_eq!(store.counters().unwrap(), Vec::new());
}

#[test]
fn existing_keys_are_found_in_one_call() {
    let (mut store, _database) = fresh_database();
    let mut frontier = Frontier::new();
    let batch = events(1, 10, &mut frontier);
    append(&mut store, &batch, &frontier);

    let mut tx = store.begin().unwrap();
    assert!(tx.existing_keys(&[]).unwrap().is_empty());
    let found = tx
        .existing_keys(&[
            ("source-1", "r1"),
            ("source-1", "r1"),
            ("source-2", "r1"),
            ("source-0", "r9"),
            ("source-1", "r10"),
            ("nope", "r4"),
        ])
        .unwrap();
    let mut found: Vec<_> = found.into_iter().collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (("source-0".to_owned(), "r9".to_owned()), 9),
            (("source-1".to_owned(), "r1".to_owned()), 1),
            (("source-1".to_owned(), "r10".to_owned()), 10)
        ]
    );

    // A duplicate key is refused by the unique constraint.
    let mut duplicate = events(11, 1, &mut frontier);
    duplicate[0].source = "source-1".into();
    duplicate[0].idempotency_key = "r1".into();
    let error = tx.insert_events(&duplicate).unwrap_err();
    match &error {
        StoreError::Database { action: "appending events", message } => {
            assert!(message.contains("events_source_idem_key") && message.contains("23505"), "{message}")
        }
        other => panic!("unexpected error: {other}"),
    }
}

fn doc(kind: &str, key: &str, agency: Option<&str>, body: &str) -> ProjectionDoc {
    ProjectionDoc { kind: kind.into(), key: key.into(), agency: agency.map(Into::into), doc: body.into() }
}

fn delta(agency: &str, day: u32, metric: &str, delta: i64) -> CounterDelta {
    CounterDelta {
        agency: agency.into(),
        day: NaiveDate::from_ymd_opt(2024, 2, day).unwrap(),
        metric: metric.into(),
        delta,
    }
}

#[test]
fn docs_are_upserted_in_batches() {
    let (mut store, _database) = fresh_database();
    let many: Vec<ProjectionDoc> =
        (0..25_000).map(|i| doc("charge", &format!("c{i:05}"), Some("agency-1"), &format!("{{\"n\":{i}}}"))).collect();
    let mut tx = store.begin().unwrap();
    tx.store_docs(&many).unwrap();
    tx.store_docs(&[
        doc("appeal", "b", None, "{\"v\":1}"),
        doc("appeal", "a", Some("x"), "{\"v\":1}"),
        doc("appeal", "b", Some("y"), "{\"v\":2}"),
    ])
    .unwrap();
    tx.store_docs(&[doc("appeal", "a", None, "{\"v\":3}")]).unwrap();
    assert_eq!(
        tx.load_docs("appeal", &["b", "zz", "a"]).unwrap(),
        vec![doc("appeal", "b", Some("y"), "{\"v\":2}"), doc("appeal", "a", None, "{\"v\":3}")]
    );
    assert_eq!(tx.load_docs("appeal", &[]).unwrap(), Vec::new());
    assert_eq!(tx.load_docs("charge", &["c00007", "c24999"]).unwrap(), vec![many[7].clone(), many[24_999].clone()]);
    tx.commit().unwrap();

    assert_eq!(store.doc("appeal", "a").unwrap(), Some(doc("appeal", "a", None, "{\"v\":3}")));
    assert_eq!(store.doc("appeal", "c").unwrap(), None);
    assert_eq!(store.docs("charge", "", 3).unwrap(), many[..3].to_vec());
    assert_eq!(store.docs("charge", "c24997", 10).unwrap(), many[24_998..].to_vec());
    assert_eq!(store.docs("charge", "", usize::MAX).unwrap().len(), 25_000);
}

#[test]
fn keys_order_bytewise_like_sqlite() {
    let (mut store, _database) = fresh_database();
    let mut tx = store.begin().unwrap();
    tx.store_docs(&[
        doc("k", "b", None, "{}"),
        doc("k", "B", None, "{}"),
        doc("k", "a", None, "{}"),
        doc("k", "é", None, "{}"),
    ])
    .unwrap();
    tx.commit().unwrap();
    let keys: Vec<String> = store.docs("k", "", 10).unwrap().into_iter().map(|d| d.key).collect();
    assert_eq!(keys, vec!["B", "a", "b", "é"]);
}

#[test]
fn counters_aggregate_duplicates_in_one_call() {
    let (mut store, _database) = fresh_database();
    let mut tx = store.begin().unwrap();
    tx.add_counters(&[]).unwrap();
    tx.add_counters(&[
        delta("a", 1, "filed", 1),
        delta("a", 1, "filed", 1),
        delta("b", 2, "filed", 5),
        delta("a", 1, "closed", 1),
    ])
    .unwrap();
    tx.add_counters(&[delta("a", 1, "filed", 3), delta("a", 1, "filed", -1), delta("a", 3, "filed", 1)]).unwrap();
    let many: Vec<CounterDelta> = (0..30_000).map(|i| delta("c", 1 + (i % 28) as u32, "m", 1)).collect();
    tx.add_counters(&many).unwrap();
    tx.commit().unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2024, 2, d).unwrap();
    let counters = store.counters().unwrap();
    assert_eq!(
        counters[..4].to_vec(),
        vec![
            ("a".to_owned(), day(1), "closed".to_owned(), 1),
            ("a".to_owned(), day(1), "filed".to_owned(), 4),
            ("a".to_owned(), day(3), "filed".to_owned(), 1),
            ("b".to_owned(), day(2), "filed".to_owned(), 5),
        ]
    );
    assert_eq!(counters.len(), 4 + 28);
    assert_eq!(counters[4..].iter().map(|c| c.3).sum::<i64>(), 30_000);

    let mut tx = store.begin().unwrap();
    let overflow = tx.add_counters(&[delta("a", 1, "m", i64::MAX), delta("a", 1, "m", 1)]).unwrap_err();
    assert!(matches!(overflow, StoreError::Database { .. }));
    drop(tx);

    let mut tx = store.begin().unwrap();
    tx.store_docs(&[doc("appeal", "a", None, "{}")]).unwrap();
    tx.clear_projections().unwrap();
    tx.commit().unwrap();
    assert_eq!(store.counters().unwrap(), Vec::new());
    assert_eq!(store.docs("appeal", "", 10).unwrap(), Vec::new());
}

fn quarantined(source: &str, n: u64) -> NewQuarantine {
    NewQuarantine {
        received_at: instant(1_700_000_000_000_000 + n as i64),
        source: source.into(),
        line: if n.is_multiple_of(2) { None } else { Some(n) },
        raw: vec![0, 0xff, n as u8],
        field: if n.is_multiple_of(3) { None } else { Some(format!("field{n}")) },
        reason: format!("reason {n}"),
    }
}

#[test]
fn quarantine_insert_list_resolve() {
    let (mut store, _database) = fresh_database();
    let entries: Vec<NewQuarantine> = (1..=6).map(|n| quarantined("file.jsonl", n)).collect();
    let mut tx = store.begin().unwrap();
    tx.insert_quarantine(&[]).unwrap();
    tx.insert_quarantine(&entries).unwrap();
    tx.commit().unwrap();

    let listed = store.quarantine(false, 100).unwrap();
    assert_eq!(listed.iter().map(|q| q.entry.clone()).collect::<Vec<_>>(), entries);
    assert_eq!(listed.iter().map(|q| q.id).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    assert!(listed.iter().all(|q| q.status == QuarantineStatus::Open && q.resolved_seq.is_none()));
    assert_eq!(store.quarantine_open_count().unwrap(), 6);

    let mut tx = store.begin().unwrap();
    tx.resolve_quarantine(2, Some(17)).unwrap();
    tx.resolve_quarantine(5, None).unwrap();
    tx.resolve_quarantine(99, None).unwrap();
    tx.commit().unwrap();

    assert_eq!(store.quarantine_open_count().unwrap(), 4);
    let open = store.quarantine(true, 100).unwrap();
    assert_eq!(open.iter().map(|q| q.id).collect::<Vec<_>>(), vec![1, 3, 4, 6]);
    assert_eq!(store.quarantine(true, 2).unwrap().len(), 2);
    let all = store.quarantine(false, 100).unwrap();
    assert_eq!((all[1].status, all[1].resolved_seq), (QuarantineStatus::Resolved, Some(17)));
    assert_eq!((all[4].status, all[4].resolved_seq), (QuarantineStatus::Resolved, None));
}

#[test]
fn a_dropped_transaction_leaves_nothing() {
    let (mut store, _database) = fresh_database();
    let mut frontier = Frontier::new();
    let batch = events(1, 5, &mut frontier);
    {
        let mut tx = store.begin().unwrap();
        tx.insert_events(&batch).unwrap();
        tx.put_ledger_state(&LedgerState { frontier: frontier.clone() }).unwrap();
        tx.insert_tree_head(&SignedTreeHead {
            head: TreeHead { size: 5, root: frontier.root(), timestamp_ms: 1 },
            signature: [0; 64],
            key_id: [0; 32],
        })
        .unwrap();
        tx.register_signing_key(&[0; 32], instant(0)).unwrap();
        tx.store_docs(&[doc("appeal", "a", None, "{}")]).unwrap();
        tx.add_counters(&[delta("a", 1, "m", 1)]).unwrap();
        tx.insert_quarantine(&[quarantined("s", 1)]).unwrap();
        assert_eq!(tx.ledger_state().unwrap().size(), 5);
        // dropped here, without commit
    }
    assert_eq!(store.events_after(0, 10).unwrap(), Vec::new());
    assert_eq!(store.ledger_state().unwrap(), LedgerState::default());
    assert_eq!(store.tree_heads().unwrap(), Vec::new());
    assert_eq!(store.signing_keys().unwrap(), Vec::<[u8; 32]>::new());
    assert_eq!(store.doc("appeal", "a").unwrap(), None);
    assert_eq!(store.counters().unwrap(), Vec::new());
    assert_eq!(store.quarantine(false, 10).unwrap(), Vec::new());

    // The connection is usable again.
    append(&mut store, &batch, &frontier);
    assert_eq!(store.events_after(0, 10).unwrap(), batch);
}

#[test]
fn writers_are_serialised_across_connections() {
    let (mut store, database) = fresh_database();
    let mut other = database.store();
    let mut tx = store.begin().unwrap();
    tx.put_ledger_state(&LedgerState { frontier: Frontier::from_leaves(&[[1; 32]]) }).unwrap();

    let (sender, receiver) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut tx = other.begin().unwrap();
        // Under the lock, the first writer's commit is visible.
        let size = tx.ledger_state().unwrap().size();
        sender.send(size).unwrap();
        tx.commit().unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(receiver.try_recv().is_err(), "the second writer did not wait for the lock");
    tx.commit().unwrap();
    assert_eq!(receiver.recv_timeout(std::time::Duration::from_secs(10)).unwrap(), 1);
    waiter.join().unwrap();
}

#[test]
fn documents_are_stored_compressed_and_plain_ones_from_before_still_read() {
    let (mut store, database) = fresh_database();
    let json = r#"{"appeal":"A-1","status":"open","holdings":[{"agency":"akimat-almaty","received_on":"2025-03-06","via":"registered","due":"2025-03-27","forward_by":"2025-03-11"}]}"#;
    let entry = r#"{"appeal":"A-1","due":"2025-03-27"}"#;
    assert!(entry.len() < casetrail_ledger::doc_codec::PLAIN_BELOW_BYTES && json.len() > 2 * entry.len());
    let mut tx = store.begin().unwrap();
    let doc =
        |kind: &str, doc: &str| ProjectionDoc { kind: kind.into(), key: "A-1".into(), agency: None, doc: doc.into() };
    tx.store_docs(&[doc("appeal", json), doc("held", entry)]).unwrap();
    tx.commit().unwrap();
    let mut client = database.client();
    let stored = |client: &mut postgres::Client, kind: &str| -> Vec<u8> {
        client.query_one("SELECT doc FROM projection_docs WHERE kind = $1 AND key = 'A-1'", &[&kind]).unwrap().get(0)
    };
    assert_ne!(stored(&mut client, "appeal"), json.as_bytes(), "stored as written, not compressed");
    assert_eq!(stored(&mut client, "held"), entry.as_bytes(), "a small entry is kept as its text");
    assert_eq!(store.doc("appeal", "A-1").unwrap().unwrap().doc, json);
    assert_eq!(store.doc("held", "A-1").unwrap().unwrap().doc, entry);
    // What migration 2 leaves of a document written before it: its JSON text's bytes.
    client
        .execute(
            "INSERT INTO projection_docs (kind, key, agency, doc) VALUES ('appeal', 'A-0', NULL, convert_to($1, 'UTF8'))",
            &[&json],
        )
        .unwrap();
    assert_eq!(store.doc("appeal", "A-0").unwrap().unwrap().doc, json);
}

#[test]
fn a_store_whose_server_ended_its_session_connects_again_and_writes() {
    let (_, database) = fresh_database();
    let mut writer = PgStore::connect(database.url()).unwrap();
    let mut reader = PgStore::connect_reader(database.url()).unwrap();
    assert!(!writer.reconnect().unwrap(), "a live connection is kept");
    for store in [&mut writer, &mut reader] {
        let pid: i32 = store.client().query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        database.client().execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
        // The first statement after a restart finds the session gone.
        assert!(store.ledger_state().is_err());
        assert!(store.is_closed());
        assert!(store.reconnect().unwrap(), "connected again");
    }
    let mut frontier = Frontier::default();
    append(&mut writer, &events(1, 3, &mut frontier), &frontier);
    assert_eq!(reader.ledger_state().unwrap().size(), 3, "the reader reads again");
    let refused = reader.client().batch_execute("CREATE TABLE intruder (x int)").unwrap_err();
    assert!(refused.to_string().contains("read-only") || format!("{refused:?}").contains("read-only"), "{refused:?}");
}
