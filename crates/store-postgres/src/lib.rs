//! The PostgreSQL backend: the same contract and the same semantics as
//! `casetrail-store-sqlite`, over the synchronous `postgres` client.
//!
//! * Migrations are SQL files under `migrations/`, applied in order in one
//!   transaction under an advisory lock, and recorded in `schema_migrations`.
//! * Writers are serialised across processes by a transaction-scoped advisory
//!   lock taken in [`Store::begin`].
//! * Bulk paths are one round trip each: `COPY ... FROM STDIN (FORMAT binary)`
//!   for events, `unnest` arrays for lookups and upserts.
//!
//! Production should connect as a login role granted `casetrail_writer`, not
//! as the owner of the tables (see the migration for why).

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};

use casetrail_ledger::{
    doc_codec, prefix_end, CounterDelta, LedgerState, NewQuarantine, ProjectionDoc, QuarantineEntry, QuarantineStatus,
    Store, StoreError, StoreResult, StoredEvent, Tx,
};
use casetrail_merkle::{Frontier, SignedTreeHead, TreeHead};
use chrono::{DateTime, NaiveDate, Utc};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, GenericClient, IsolationLevel, NoTls, Row};

/// The `postgres` crate, re-exported for tests that talk to the database
/// directly.
pub use postgres;

pub mod testing;

/// How a read-only connection names itself to the server
/// (`pg_stat_activity.application_name`).
pub const READER_APPLICATION_NAME: &str = "casetrail-reader";

/// Migrations in order: `(version, SQL)`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_ledger.sql")),
    (2, include_str!("../migrations/0002_compressed_docs.sql")),
    (3, include_str!("../migrations/0003_counter_metric_index.sql")),
    (4, include_str!("../migrations/0004_counter_indexes.sql")),
];

/// The advisory lock held while migrating (`pg_advisory_xact_lock`). Advisory
/// locks are per database, so two casetrail databases on one server do not
/// contend. ASCII "casetrlM".
const MIGRATION_LOCK: i64 = 0x6361_7365_7472_6c4d;

/// The advisory lock every write transaction holds: at most one appender at a
/// time, across processes. ASCII "casetrlW".
const WRITER_LOCK: i64 = 0x6361_7365_7472_6c57;

/// Rows per statement on the batched upsert paths: bounds the size of one
/// message, not the number of round trips for ordinary batches.
const ROWS_PER_STATEMENT: usize = 10_000;

const SCHEMA_MIGRATIONS_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT      NOT NULL PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

const EVENT_COLUMNS: &str =
    "seq, recorded_at, source, idem_key, record_type, schema_version, at, canonical, leaf_hash, tree_root";

/// The column types of `EVENT_COLUMNS`, for binary COPY.
const EVENT_TYPES: &[Type] = &[
    Type::INT8,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT4,
    Type::TIMESTAMPTZ,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
];

/// A casetrail ledger in a PostgreSQL database.
pub struct PgStore {
    client: Client,
    /// Where it connected, to open readers beside it and to connect again
    /// (`None` for a store made from a bare client).
    url: Option<String>,
    /// A session that only reads ([`PgStore::connect_reader`]); so is the
    /// one it connects again.
    read_only: bool,
}

fn db(action: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |error| StoreError::database(action, describe(&error))
}

/// The whole error: `postgres::Error`'s own `Display` is only its kind ("db
/// error"), the server's message being its `source()`.
pub(crate) fn describe(error: &postgres::Error) -> String {
    use std::error::Error as _;
    if let Some(db_error) = error.as_db_error() {
        return format!("{db_error} (SQLSTATE {})", db_error.code().code());
    }
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The highest migration this build knows.
fn supported_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

impl PgStore {
    /// Connects (without TLS) and migrates the database. `url` is a
    /// `postgres://` URL or a libpq `key=value` string.
    pub fn connect(url: &str) -> StoreResult<Self> {
        let client = Client::connect(url, NoTls).map_err(db("connecting to PostgreSQL"))?;
        let mut store = Self::from_client(client)?;
        store.url = Some(url.to_owned());
        Ok(store)
    }

    /// Wraps a connected client and migrates the database.
    pub fn from_client(client: Client) -> StoreResult<Self> {
        let mut store = Self { client, url: None, read_only: false };
        store.migrate()?;
        Ok(store)
    }

    /// A session that only reads, beside the writer's (no migration: the
    /// writer's connection did it).
    pub fn connect_reader(url: &str) -> StoreResult<Self> {
        Ok(Self { client: reader_client(url)?, url: Some(url.to_owned()), read_only: true })
    }

    /// The raw client, for tests that play an attacker with the database.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The schema version recorded in `schema_migrations` (0 on an empty
    /// database).
    pub fn schema_version(&mut self) -> StoreResult<i64> {
        applied_version(&mut self.client)
    }

    fn migrate(&mut self) -> StoreResult<()> {
        let supported = supported_version();
        // Fast path, without DDL or lock: a database that is already current
        // (which also lets a connection as casetrail_writer, which may not
        // create tables, start).
        let applied = applied_version(&mut self.client)?;
        if applied > supported {
            return Err(StoreError::SchemaTooNew { found: applied, supported });
        }
        if applied == supported {
            return Ok(());
        }

        let mut tx = self.client.transaction().map_err(db("starting the migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(db("taking the migration lock"))?;
        tx.batch_execute(SCHEMA_MIGRATIONS_DDL).map_err(db("creating schema_migrations"))?;
        // Read again under the lock: another process may have migrated while
        // we waited.
        let applied = applied_version(&mut tx)?;
        if applied > supported {
            return Err(StoreError::SchemaTooNew { found: applied, supported });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
            tx.batch_execute(sql).map_err(db("migrating"))?;
            tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version])
                .map_err(db("recording a migration"))?;
        }
        tx.commit().map_err(db("committing the migration"))
    }
}

/// `max(version)` of `schema_migrations`, 0 when the table does not exist.
fn applied_version(client: &mut impl GenericClient) -> StoreResult<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .and_then(|row| row.try_get(0))
        .map_err(db("reading the schema version"))?;
    if !exists {
        return Ok(0);
    }
    client
        .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
        .and_then(|row| row.try_get(0))
        .map_err(db("reading the schema version"))
}

// ---------------------------------------------------------------------------
// Conversions between the contract's unsigned integers and PostgreSQL's
// signed ones: never wrap silently.

fn to_i64(value: u64, action: &'static str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::database(action, format!("{value} does not fit a BIGINT")))
}

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn from_i64(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative: {value}")))
}

fn hash32(bytes: Vec<u8>, what: &str) -> StoreResult<[u8; 32]> {
    let length = bytes.len();
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} has {length} bytes, not 32")))
}

fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize, action: &'static str) -> StoreResult<T> {
    row.try_get(index).map_err(db(action))
}

fn event_from_row(row: &Row) -> StoreResult<StoredEvent> {
    const ACTION: &str = "reading events";
    let schema_version: i32 = get(row, 5, ACTION)?;
    Ok(StoredEvent {
        seq: from_i64(get(row, 0, ACTION)?, "events.seq")?,
        recorded_at: get(row, 1, ACTION)?,
        source: get(row, 2, ACTION)?,
        idempotency_key: get(row, 3, ACTION)?,
        record_type: get(row, 4, ACTION)?,
        schema_version: u16::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("events.schema_version out of range: {schema_version}")))?,
        at: get(row, 6, ACTION)?,
        canonical: get(row, 7, ACTION)?,
        leaf_hash: hash32(get(row, 8, ACTION)?, "events.leaf_hash")?,
        tree_root: hash32(get(row, 9, ACTION)?, "events.tree_root")?,
    })
}

fn doc_from_row(row: &Row) -> StoreResult<ProjectionDoc> {
    const ACTION: &str = "reading projections";
    Ok(ProjectionDoc {
        kind: get(row, 0, ACTION)?,
        key: get(row, 1, ACTION)?,
        agency: get(row, 2, ACTION)?,
        doc: doc_codec::decode(get(row, 3, ACTION)?)?,
    })
}

fn read_state(client: &mut impl GenericClient) -> StoreResult<LedgerState> {
    let row = client
        .query_opt("SELECT frontier FROM ledger_state WHERE id = 1", &[])
        .map_err(db("reading the ledger state"))?;
    match row {
        None => Ok(LedgerState::default()),
        Some(row) => {
            let bytes: Vec<u8> = get(&row, 0, "reading the ledger state")?;
            Frontier::from_bytes(&bytes)
                .map(|frontier| LedgerState { frontier })
                .map_err(|error| StoreError::Corrupt(format!("ledger_state: {error}")))
        }
    }
}

fn read_events_after(client: &mut impl GenericClient, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
    // Past i64::MAX there is nothing to read.
    let Ok(after) = i64::try_from(after) else { return Ok(Vec::new()) };
    let rows = client
        .query(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&after, &limit_i64(limit)],
        )
        .map_err(db("reading events"))?;
    rows.iter().map(event_from_row).collect()
}

fn reader_client(url: &str) -> StoreResult<Client> {
    let mut client = Client::connect(url, NoTls).map_err(db("connecting a PostgreSQL reader"))?;
    client
        .batch_execute(&format!(
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SET application_name = '{READER_APPLICATION_NAME}'"
        ))
        .map_err(db("making a PostgreSQL reader read-only"))?;
    Ok(client)
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn reader(&self) -> StoreResult<Option<Box<dyn Store>>> {
        match &self.url {
            Some(url) => Ok(Some(Box::new(Self::connect_reader(url)?))),
            None => Ok(None),
        }
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn reconnect(&mut self) -> StoreResult<bool> {
        let Some(url) = self.url.as_deref().filter(|_| self.client.is_closed()) else { return Ok(false) };
        // The schema is there already: the first connection migrated it.
        self.client = if self.read_only {
            reader_client(url)?
        } else {
            Client::connect(url, NoTls).map_err(db("connecting to PostgreSQL again"))?
        };
        Ok(true)
    }

    fn begin(&mut self) -> StoreResult<Box<dyn Tx + '_>> {
        // READ COMMITTED on purpose, whatever the server's default: every
        // statement after the lock sees what the previous writer committed.
        // (Under REPEATABLE READ the snapshot would be taken by the lock
        // statement itself, before it waited, and be stale.)
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(db("starting a write transaction"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(db("taking the writer lock"))?;
        Ok(Box::new(PgTx { tx }))
    }

    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        read_events_after(&mut self.client, after, limit)
    }

    fn event(&mut self, seq: u64) -> StoreResult<Option<StoredEvent>> {
        let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
        self.client
            .query_opt(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = $1"), &[&seq])
            .map_err(db("reading an event"))?
            .as_ref()
            .map(event_from_row)
            .transpose()
    }

    fn leaf_hashes(&mut self, from_seq: u64, to_seq: u64) -> StoreResult<Vec<[u8; 32]>> {
        const ACTION: &str = "reading leaf hashes";
        let Ok(from) = i64::try_from(from_seq) else { return Ok(Vec::new()) };
        let to = i64::try_from(to_seq).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query("SELECT leaf_hash FROM events WHERE seq BETWEEN $1 AND $2 ORDER BY seq", &[&from, &to])
            .map_err(db(ACTION))?;
        rows.iter().map(|row| hash32(get(row, 0, ACTION)?, "events.leaf_hash")).collect()
    }

    fn tree_heads(&mut self) -> StoreResult<Vec<SignedTreeHead>> {
        const ACTION: &str = "reading tree heads";
        let rows = self
            .client
            .query(
                "SELECT size, root, timestamp_ms, signature, key_id FROM tree_heads ORDER BY size, timestamp_ms",
                &[],
            )
            .map_err(db(ACTION))?;
        rows.iter()
            .map(|row| {
                let signature: Vec<u8> = get(row, 3, ACTION)?;
                let length = signature.len();
                Ok(SignedTreeHead {
                    head: TreeHead {
                        size: from_i64(get(row, 0, ACTION)?, "tree_heads.size")?,
                        root: hash32(get(row, 1, ACTION)?, "tree_heads.root")?,
                        timestamp_ms: from_i64(get(row, 2, ACTION)?, "tree_heads.timestamp_ms")?,
                    },
                    signature: signature
                        .try_into()
                        .map_err(|_| StoreError::Corrupt(format!("tree_heads.signature has {length} bytes, not 64")))?,
                    key_id: hash32(get(row, 4, ACTION)?, "tree_heads.key_id")?,
                })
            })
            .collect()
    }

    fn ledger_state(&mut self) -> StoreResult<LedgerState> {
        read_state(&mut self.client)
    }

    fn signing_keys(&mut self) -> StoreResult<Vec<[u8; 32]>> {
        const ACTION: &str = "reading signing keys";
        let rows =
            self.client.query("SELECT public_key FROM signing_keys ORDER BY public_key", &[]).map_err(db(ACTION))?;
        rows.iter().map(|row| hash32(get(row, 0, ACTION)?, "signing_keys.public_key")).collect()
    }

    fn quarantine(&mut self, open_only: bool, limit: usize) -> StoreResult<Vec<QuarantineEntry>> {
        const ACTION: &str = "reading the quarantine";
        let rows = self
            .client
            .query(
                "SELECT id, received_at, source, line, raw, field, reason, status, resolved_seq FROM quarantine
                 WHERE (NOT $1 OR status = 'open') ORDER BY id LIMIT $2",
                &[&open_only, &limit_i64(limit)],
            )
            .map_err(db(ACTION))?;
        rows.iter()
            .map(|row| {
                let status: String = get(row, 7, ACTION)?;
                Ok(QuarantineEntry {
                    id: from_i64(get(row, 0, ACTION)?, "quarantine.id")?,
                    entry: NewQuarantine {
                        received_at: get(row, 1, ACTION)?,
                        source: get(row, 2, ACTION)?,
                        line: get::<Option<i64>>(row, 3, ACTION)?
                            .map(|line| from_i64(line, "quarantine.line"))
                            .transpose()?,
                        raw: get(row, 4, ACTION)?,
                        field: get(row, 5, ACTION)?,
                        reason: get(row, 6, ACTION)?,
                    },
                    status: QuarantineStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("quarantine.status is {status:?}")))?,
                    resolved_seq: get::<Option<i64>>(row, 8, ACTION)?
                        .map(|seq| from_i64(seq, "quarantine.resolved_seq"))
                        .transpose()?,
                })
            })
            .collect()
    }

    fn quarantine_open_count(&mut self) -> StoreResult<u64> {
        const ACTION: &str = "counting the quarantine";
        let row =
            self.client.query_one("SELECT count(*) FROM quarantine WHERE status = 'open'", &[]).map_err(db(ACTION))?;
        from_i64(get(&row, 0, ACTION)?, "quarantine count")
    }

    fn docs(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        self.client
            .query(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3",
                &[&kind, &after_key, &limit_i64(limit)],
            )
            .map_err(db("reading projections"))?
            .iter()
            .map(doc_from_row)
            .collect()
    }

    fn docs_before(&mut self, kind: &str, before_key: Option<&str>, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        let rows = match before_key {
            Some(before) => self.client.query(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = $1 AND key < $2 ORDER BY key DESC LIMIT $3",
                &[&kind, &before, &limit_i64(limit)],
            ),
            None => self.client.query(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = $1 ORDER BY key DESC LIMIT $2",
                &[&kind, &limit_i64(limit)],
            ),
        };
        rows.map_err(db("reading projections"))?.iter().map(doc_from_row).collect()
    }

    fn doc(&mut self, kind: &str, key: &str) -> StoreResult<Option<ProjectionDoc>> {
        self.client
            .query_opt(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
            .map_err(db("reading a projection"))?
            .as_ref()
            .map(doc_from_row)
            .transpose()
    }

    fn counter_sums(
        &mut self,
        prefix: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        const ACTION: &str = "summing counters";
        let rows = self
            .client
            .query(
                "SELECT agency, metric, SUM(value)::BIGINT FROM agency_day_counters
                 WHERE metric >= $1 AND metric < $2 AND day >= $3 AND day <= $4
                 GROUP BY metric, agency",
                &[&prefix, &prefix_end(prefix), &from, &to],
            )
            .map_err(db(ACTION))?;
        rows.iter().map(|row| Ok((get(row, 0, ACTION)?, get(row, 1, ACTION)?, get(row, 2, ACTION)?))).collect()
    }

    fn counters(&mut self) -> StoreResult<Vec<(String, NaiveDate, String, i64)>> {
        const ACTION: &str = "reading counters";
        let rows = self
            .client
            .query("SELECT agency, day, metric, value FROM agency_day_counters WHERE value <> 0 ORDER BY agency, day, metric", &[])
            .map_err(db(ACTION))?;
        rows.iter()
            .map(|row| Ok((get(row, 0, ACTION)?, get(row, 1, ACTION)?, get(row, 2, ACTION)?, get(row, 3, ACTION)?)))
            .collect()
    }
}

/// A write transaction holding the writer lock. Dropping it without
/// `commit` rolls back (the `postgres` transaction does so on drop).
struct PgTx<'a> {
    tx: postgres::Transaction<'a>,
}

impl Tx for PgTx<'_> {
    fn ledger_state(&mut self) -> StoreResult<LedgerState> {
        read_state(&mut self.tx)
    }

    fn put_ledger_state(&mut self, state: &LedgerState) -> StoreResult<()> {
        self.tx
            .execute(
                "INSERT INTO ledger_state (id, frontier) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE SET frontier = EXCLUDED.frontier",
                &[&state.frontier.to_bytes()],
            )
            .map(|_| ())
            .map_err(db("writing the ledger state"))
    }

    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        read_events_after(&mut self.tx, after, limit)
    }

    fn existing_keys(&mut self, keys: &[(&str, &str)]) -> StoreResult<HashMap<(String, String), u64>> {
        const ACTION: &str = "looking up idempotency keys";
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sources: Vec<&str> = keys.iter().map(|(source, _)| *source).collect();
        let idem_keys: Vec<&str> = keys.iter().map(|(_, key)| *key).collect();
        let rows = self
            .tx
            .query(
                "SELECT source, idem_key, seq FROM events
                 WHERE (source, idem_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
                &[&sources, &idem_keys],
            )
            .map_err(db(ACTION))?;
        rows.iter()
            .map(|row| {
                Ok(((get(row, 0, ACTION)?, get(row, 1, ACTION)?), from_i64(get(row, 2, ACTION)?, "events.seq")?))
            })
            .collect()
    }

    fn insert_events(&mut self, events: &[StoredEvent]) -> StoreResult<()> {
        const ACTION: &str = "appending events";
        if events.is_empty() {
            return Ok(());
        }
        let sink = self
            .tx
            .copy_in(&format!("COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)"))
            .map_err(db(ACTION))?;
        let mut writer = BinaryCopyInWriter::new(sink, EVENT_TYPES);
        for event in events {
            let seq = to_i64(event.seq, ACTION)?;
            let schema_version = i32::from(event.schema_version);
            writer
                .write(&[
                    &seq,
                    &event.recorded_at,
                    &event.source,
                    &event.idempotency_key,
                    &event.record_type,
                    &schema_version,
                    &event.at,
                    &event.canonical,
                    &event.leaf_hash.as_slice(),
                    &event.tree_root.as_slice(),
                ])
                .map_err(db(ACTION))?;
        }
        writer.finish().map(|_| ()).map_err(db(ACTION))
    }

    fn insert_tree_head(&mut self, head: &SignedTreeHead) -> StoreResult<()> {
        const ACTION: &str = "storing a tree head";
        self.tx
            .execute(
                "INSERT INTO tree_heads (size, root, timestamp_ms, signature, key_id) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &to_i64(head.head.size, ACTION)?,
                    &head.head.root.as_slice(),
                    &to_i64(head.head.timestamp_ms, ACTION)?,
                    &head.signature.as_slice(),
                    &head.key_id.as_slice(),
                ],
            )
            .map(|_| ())
            .map_err(db(ACTION))
    }

    fn register_signing_key(&mut self, public_key: &[u8; 32], at: DateTime<Utc>) -> StoreResult<()> {
        self.tx
            .execute(
                "INSERT INTO signing_keys (public_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&public_key.as_slice(), &at],
            )
            .map(|_| ())
            .map_err(db("registering the signing key"))
    }

    fn load_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<Vec<ProjectionDoc>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // In the order of `keys`, found ones only, as the SQLite backend.
        self.tx
            .query(
                "SELECT d.kind, d.key, d.agency, d.doc
                 FROM unnest($2::text[]) WITH ORDINALITY AS k(key, ord)
                 JOIN projection_docs d ON d.kind = $1 AND d.key = k.key
                 ORDER BY k.ord",
                &[&kind, &keys],
            )
            .map_err(db("reading projections"))?
            .iter()
            .map(doc_from_row)
            .collect()
    }

    fn docs_after(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        self.tx
            .query(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3",
                &[&kind, &after_key, &limit_i64(limit)],
            )
            .map_err(db("reading projections"))?
            .iter()
            .map(doc_from_row)
            .collect()
    }

    fn store_docs(&mut self, docs: &[ProjectionDoc]) -> StoreResult<()> {
        const ACTION: &str = "writing projections";
        // One statement cannot upsert the same row twice: keep the last
        // document of each (kind, key), as row-by-row upserts would.
        let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(docs.len());
        for (index, doc) in docs.iter().enumerate() {
            last.insert((doc.kind.as_str(), doc.key.as_str()), index);
        }
        let mut indices: Vec<usize> = last.into_values().collect();
        indices.sort_unstable();
        for chunk in indices.chunks(ROWS_PER_STATEMENT) {
            let kinds: Vec<&str> = chunk.iter().map(|&i| docs[i].kind.as_str()).collect();
            let keys: Vec<&str> = chunk.iter().map(|&i| docs[i].key.as_str()).collect();
            let agencies: Vec<Option<&str>> = chunk.iter().map(|&i| docs[i].agency.as_deref()).collect();
            let bodies: Vec<Vec<u8>> =
                chunk.iter().map(|&i| doc_codec::encode(&docs[i].doc)).collect::<StoreResult<_>>()?;
            self.tx
                .execute(
                    "INSERT INTO projection_docs (kind, key, agency, doc)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
                     ON CONFLICT (kind, key) DO UPDATE SET agency = EXCLUDED.agency, doc = EXCLUDED.doc",
                    &[&kinds, &keys, &agencies, &bodies],
                )
                .map_err(db(ACTION))?;
        }
        Ok(())
    }

    fn add_counters(&mut self, deltas: &[CounterDelta]) -> StoreResult<()> {
        const ACTION: &str = "updating counters";
        // ON CONFLICT cannot touch one row twice in a statement: sum the
        // deltas of each (agency, day, metric) first.
        let mut sums: BTreeMap<(&str, NaiveDate, &str), i64> = BTreeMap::new();
        for delta in deltas {
            let sum = sums.entry((delta.agency.as_str(), delta.day, delta.metric.as_str())).or_insert(0);
            *sum = sum.checked_add(delta.delta).ok_or_else(|| {
                StoreError::database(
                    ACTION,
                    format!("counter {}/{}/{} overflows", delta.agency, delta.day, delta.metric),
                )
            })?;
        }
        let sums: Vec<_> = sums.into_iter().collect();
        for chunk in sums.chunks(ROWS_PER_STATEMENT) {
            let agencies: Vec<&str> = chunk.iter().map(|((agency, _, _), _)| *agency).collect();
            let days: Vec<NaiveDate> = chunk.iter().map(|((_, day, _), _)| *day).collect();
            let metrics: Vec<&str> = chunk.iter().map(|((_, _, metric), _)| *metric).collect();
            let values: Vec<i64> = chunk.iter().map(|(_, value)| *value).collect();
            self.tx
                .execute(
                    "INSERT INTO agency_day_counters (agency, day, metric, value)
                     SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int8[])
                     ON CONFLICT (agency, day, metric)
                     DO UPDATE SET value = agency_day_counters.value + EXCLUDED.value",
                    &[&agencies, &days, &metrics, &values],
                )
                .map_err(db(ACTION))?;
        }
        Ok(())
    }

    fn clear_projections(&mut self) -> StoreResult<()> {
        // DELETE rather than TRUNCATE: the writer role needs no TRUNCATE
        // privilege, and readers keep an MVCC-consistent view meanwhile.
        self.tx
            .batch_execute("DELETE FROM projection_docs; DELETE FROM agency_day_counters;")
            .map_err(db("clearing projections"))
    }

    fn delete_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.tx
            .execute("DELETE FROM projection_docs WHERE kind = $1 AND key = ANY($2::text[])", &[&kind, &keys])
            .map(|_| ())
            .map_err(db("deleting projections"))
    }

    fn clear_counters(&mut self, prefix: &str) -> StoreResult<()> {
        self.tx
            .execute(
                "DELETE FROM agency_day_counters WHERE metric >= $1 AND metric < $2",
                &[&prefix, &prefix_end(prefix)],
            )
            .map(|_| ())
            .map_err(db("clearing counters"))
    }

    fn insert_quarantine(&mut self, entries: &[NewQuarantine]) -> StoreResult<()> {
        const ACTION: &str = "quarantining";
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let received: Vec<DateTime<Utc>> = chunk.iter().map(|entry| entry.received_at).collect();
            let sources: Vec<&str> = chunk.iter().map(|entry| entry.source.as_str()).collect();
            let lines: Vec<Option<i64>> = chunk
                .iter()
                .map(|entry| entry.line.map(|line| to_i64(line, ACTION)).transpose())
                .collect::<StoreResult<_>>()?;
            let raws: Vec<&[u8]> = chunk.iter().map(|entry| entry.raw.as_slice()).collect();
            let fields: Vec<Option<&str>> = chunk.iter().map(|entry| entry.field.as_deref()).collect();
            let reasons: Vec<&str> = chunk.iter().map(|entry| entry.reason.as_str()).collect();
            // ORDER BY ord: ids are given in the order of `entries`.
            self.tx
                .execute(
                    "INSERT INTO quarantine (received_at, source, line, raw, field, reason)
                     SELECT received_at, source, line, raw, field, reason
                     FROM unnest($1::timestamptz[], $2::text[], $3::int8[], $4::bytea[], $5::text[], $6::text[])
                          WITH ORDINALITY AS q(received_at, source, line, raw, field, reason, ord)
                     ORDER BY ord",
                    &[&received, &sources, &lines, &raws, &fields, &reasons],
                )
                .map_err(db(ACTION))?;
        }
        Ok(())
    }

    fn resolve_quarantine(&mut self, id: u64, seq: Option<u64>) -> StoreResult<()> {
        const ACTION: &str = "resolving a quarantine entry";
        // An id past i64::MAX names no row: nothing to update, as in SQLite.
        let Ok(id) = i64::try_from(id) else { return Ok(()) };
        let seq = seq.map(|seq| to_i64(seq, ACTION)).transpose()?;
        self.tx
            .execute("UPDATE quarantine SET status = 'resolved', resolved_seq = $2 WHERE id = $1", &[&id, &seq])
            .map(|_| ())
            .map_err(db(ACTION))
    }

    fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().map_err(db("committing"))
    }
}
