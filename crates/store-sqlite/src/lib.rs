//! The embedded default backend: one SQLite file, WAL, every pragma explicit.

// Unsafe code only where SQLite's C interface needs it (`wal_writes`).
#![deny(unsafe_code)]

mod checkpoint;
mod wal_writes;

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use casetrail_ledger::{
    doc_codec, prefix_end, CommitSync, CounterDelta, LedgerState, NewQuarantine, ProjectionDoc, QuarantineEntry,
    QuarantineStatus, Store, StoreError, StoreResult, StoredEvent, Tx,
};
use casetrail_merkle::{Frontier, SignedTreeHead, TreeHead};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

/// Migrations in order; `user_version` records how many were applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_ledger.sql"),
    include_str!("../migrations/0002_compressed_docs.sql"),
    include_str!("../migrations/0003_counter_metric_index.sql"),
    include_str!("../migrations/0004_counter_indexes.sql"),
];

/// Periods up to this many days are summed through the day index, longer
/// ones through the metric index (`counter_sums`).
const SHORT_PERIOD_DAYS: i64 = 62;

/// Rows per multi-row INSERT on the bulk path (SQLite's bound-parameter limit
/// is 32766; events have 10 columns).
const INSERT_ROWS_PER_STATEMENT: usize = 500;
/// Prepared statements kept per connection.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// Pragmas applied to every connection, in order. Durability first:
/// `synchronous = FULL` so that a committed import survives power loss.
const PRAGMAS: &[(&str, &str)] = &[
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "10000"),
    ("temp_store", "MEMORY"),
    // 1 GiB of page cache at most: projection documents are updated at
    // random keys, and a national import's batch dirties some 50,000 pages
    // (200 MB) that must stay in the cache until the commit instead of
    // spilling to the WAL and being written twice. Bounded, so memory stays
    // flat at any ledger size; a small ledger uses no more than its size.
    ("cache_size", "-1048576"),
    ("mmap_size", "0"),
    // The background checkpoint (`checkpoint.rs`) copies the WAL into the
    // file as it grows; the writer checkpoints itself only past 400 MB (a
    // national import's batch of 20,000 lines writes some 200 MB).
    ("wal_autocheckpoint", "100000"),
    ("trusted_schema", "OFF"),
];

/// Pragmas of a read-only connection beside the writer
/// ([`SqliteStore::open_reader`]): a smaller page cache each, and
/// `query_only` so that nothing can write through it.
const READER_PRAGMAS: &[(&str, &str)] = &[
    ("query_only", "ON"),
    ("busy_timeout", "10000"),
    ("temp_store", "MEMORY"),
    ("cache_size", "-32768"),
    ("mmap_size", "0"),
    ("trusted_schema", "OFF"),
];

pub struct SqliteStore {
    connection: Connection,
    /// `synchronous` as last set: `FULL`, or `NORMAL` while unsynced
    /// transactions run ([`Store::begin_unsynced`]).
    synchronous_full: bool,
    /// Only for a writer of a file; dropped after the connection, so that
    /// its connection is the last to close (and the one that cleans up).
    _checkpointer: Option<checkpoint::Checkpointer>,
}

fn db(action: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| StoreError::database(action, error)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        wal_writes::register().map_err(|reason| StoreError::database("opening the SQLite file", reason))?;
        let connection = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), wal_writes::VFS_NAME)
            .map_err(db("opening the SQLite file"))?;
        let mut store = Self::init(connection)?;
        store._checkpointer = Some(checkpoint::Checkpointer::start(path)?);
        Ok(store)
    }

    /// A read-only connection to a database file another connection has
    /// opened (and migrated) in WAL mode: it reads while that one commits.
    pub fn open_reader(path: &Path) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(db("opening a SQLite reader"))?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        for (name, value) in READER_PRAGMAS {
            connection.pragma_update(None, name, value).map_err(db("setting a reader's pragmas"))?;
        }
        Ok(Self { connection, synchronous_full: true, _checkpointer: None })
    }

    /// A private in-memory database (tests and benchmarks).
    pub fn in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory().map_err(db("opening an in-memory database"))?)
    }

    fn init(connection: Connection) -> StoreResult<Self> {
        // The write path uses some 30 distinct statements; rusqlite keeps 16
        // by default, and an evicted one is parsed and planned again on the
        // next transaction.
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        for (name, value) in PRAGMAS {
            connection.pragma_update(None, name, value).map_err(db("setting pragmas"))?;
        }
        let mut store = Self { connection, synchronous_full: true, _checkpointer: None };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> StoreResult<()> {
        let applied: i64 = self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(db("reading the schema version"))?;
        let supported = MIGRATIONS.len() as i64;
        if applied > supported {
            return Err(StoreError::SchemaTooNew { found: applied, supported });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
            let tx =
                self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("migrating"))?;
            tx.execute_batch(sql).map_err(db("migrating"))?;
            tx.pragma_update(None, "user_version", index as i64 + 1).map_err(db("migrating"))?;
            tx.commit().map_err(db("migrating"))?;
        }
        Ok(())
    }

    /// The raw connection, for tests that play an attacker with the file.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

/// Documents per upsert statement, largest first. A flush writes its
/// documents in as few statements as these sizes allow: a statement's own
/// work (its cursor, its step and reset) is shared by its rows, and only
/// these few statements are ever prepared.
const DOCS_PER_UPSERT: [usize; 3] = [64, 8, 1];

/// The upsert of each size of [`DOCS_PER_UPSERT`], in the same order.
static DOC_UPSERTS: LazyLock<[String; 3]> = LazyLock::new(|| {
    DOCS_PER_UPSERT.map(|rows| {
        format!(
            "INSERT INTO projection_docs (kind, key, agency, doc) VALUES {}
             ON CONFLICT (kind, key) DO UPDATE SET agency = excluded.agency, doc = excluded.doc",
            values_placeholders(4, rows)
        )
    })
});

/// Writes `docs`, whose stored bytes are `stored`, with `upsert`: the
/// entry of [`DOC_UPSERTS`] for `docs.len()`.
fn upsert_docs(tx: &Connection, upsert: &str, docs: &[ProjectionDoc], stored: &[Vec<u8>]) -> StoreResult<()> {
    let mut statement = tx.prepare_cached(upsert).map_err(db("writing projections"))?;
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(docs.len() * 4);
    for (doc, bytes) in docs.iter().zip(stored) {
        values.extend([&doc.kind as &dyn rusqlite::ToSql, &doc.key, &doc.agency, bytes]);
    }
    statement.execute(values.as_slice()).map_err(db("writing projections"))?;
    Ok(())
}

/// `(?,…,?),…` for `rows` rows of `columns` values.
fn values_placeholders(columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    vec![row; rows].join(",")
}

/// `INSERT INTO events` of `rows` rows.
fn insert_events_sql(rows: usize) -> String {
    format!("INSERT INTO events ({EVENT_COLUMNS}) VALUES {}", values_placeholders(10, rows))
}

fn ts(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|error| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error)))
}

fn hash32(bytes: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    bytes.try_into().map_err(|_| rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob))
}

const EVENT_COLUMNS: &str =
    "seq, recorded_at, source, idem_key, record_type, schema_version, at, canonical, leaf_hash, tree_root";

fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.get::<_, i64>(0)? as u64,
        recorded_at: parse_ts(&row.get::<_, String>(1)?)?,
        source: row.get(2)?,
        idempotency_key: row.get(3)?,
        record_type: row.get(4)?,
        schema_version: row.get::<_, i64>(5)? as u16,
        at: parse_ts(&row.get::<_, String>(6)?)?,
        canonical: row.get(7)?,
        leaf_hash: hash32(row.get(8)?)?,
        tree_root: hash32(row.get(9)?)?,
    })
}

fn read_events_after(connection: &Connection, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
        .map_err(db("reading events"))?;
    let rows =
        statement.query_map(params![after as i64, limit as i64], event_from_row).map_err(db("reading events"))?;
    rows.collect::<Result<_, _>>().map_err(db("reading events"))
}

fn read_state(connection: &Connection) -> StoreResult<LedgerState> {
    let bytes: Option<Vec<u8>> = connection
        .prepare_cached("SELECT frontier FROM ledger_state WHERE id = 1")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map_err(db("reading the ledger state"))?;
    match bytes {
        None => Ok(LedgerState::default()),
        Some(bytes) => Frontier::from_bytes(&bytes)
            .map(|frontier| LedgerState { frontier })
            .map_err(|error| StoreError::Corrupt(format!("ledger_state: {error}"))),
    }
}

/// A document row as stored; [`StoredDoc::decode`] decompresses it.
struct StoredDoc {
    kind: String,
    key: String,
    agency: Option<String>,
    doc: Vec<u8>,
}

impl StoredDoc {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self { kind: row.get(0)?, key: row.get(1)?, agency: row.get(2)?, doc: row.get(3)? })
    }

    fn decode(self) -> StoreResult<ProjectionDoc> {
        Ok(ProjectionDoc { kind: self.kind, key: self.key, agency: self.agency, doc: doc_codec::decode(self.doc)? })
    }
}

impl SqliteStore {
    fn set_synchronous_full(&mut self, full: bool) -> StoreResult<()> {
        if self.synchronous_full != full {
            let mode = if full { "FULL" } else { "NORMAL" };
            self.connection.pragma_update(None, "synchronous", mode).map_err(db("setting `synchronous`"))?;
            self.synchronous_full = full;
        }
        Ok(())
    }

    fn begin_immediate(&mut self) -> StoreResult<Box<dyn Tx + '_>> {
        // IMMEDIATE takes the write lock now: appends are serialised.
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("starting a write transaction"))?;
        Ok(Box::new(SqliteTx { tx }))
    }
}

/// Syncs the WAL file, which holds every commit not yet copied into the
/// database file (a checkpoint syncs what it copies; the WAL restarts from
/// its beginning only after everything in it was copied and synced).
struct WalSync {
    wal: std::path::PathBuf,
}

impl CommitSync for WalSync {
    fn sync(&mut self) -> StoreResult<()> {
        // Opened each time: one open per group commit, and never a stale
        // descriptor of a WAL file that was removed and made again.
        match std::fs::File::open(&self.wal) {
            Ok(file) => file.sync_data().map_err(|error| StoreError::database("syncing the WAL file", error)),
            // No WAL: everything is in the database file, synced by the
            // checkpoint that removed it.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(StoreError::database("opening the WAL file to sync it", error)),
        }
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn reader(&self) -> StoreResult<Option<Box<dyn Store>>> {
        match self.connection.path() {
            Some(path) if !path.is_empty() => Ok(Some(Box::new(Self::open_reader(Path::new(path))?))),
            _ => Ok(None),
        }
    }

    fn limit_page_cache(&mut self, bytes: u64) -> StoreResult<()> {
        // A negative `cache_size` is KiB.
        let kib = i64::try_from((bytes / 1024).max(1)).unwrap_or(i64::MAX);
        self.connection.pragma_update(None, "cache_size", -kib).map_err(db("setting `cache_size`"))
    }

    fn begin(&mut self) -> StoreResult<Box<dyn Tx + '_>> {
        self.set_synchronous_full(true)?;
        self.begin_immediate()
    }

    fn begin_unsynced(&mut self) -> StoreResult<Box<dyn Tx + '_>> {
        // In WAL mode `NORMAL` writes the commit's frames without syncing
        // them; a crash before the sync loses the commit whole (the frames'
        // checksums chain), never corrupts the file.
        self.set_synchronous_full(false)?;
        self.begin_immediate()
    }

    fn commit_sync(&self) -> StoreResult<Option<Box<dyn CommitSync>>> {
        match self.connection.path() {
            Some(path) if !path.is_empty() => Ok(Some(Box::new(WalSync { wal: format!("{path}-wal").into() }))),
            _ => Ok(None),
        }
    }

    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        read_events_after(&self.connection, after, limit)
    }

    fn event(&mut self, seq: u64) -> StoreResult<Option<StoredEvent>> {
        self.connection
            .query_row(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"), [seq as i64], event_from_row)
            .optional()
            .map_err(db("reading an event"))
    }

    fn leaf_hashes(&mut self, from_seq: u64, to_seq: u64) -> StoreResult<Vec<[u8; 32]>> {
        let Ok(from) = i64::try_from(from_seq) else { return Ok(Vec::new()) };
        let to = i64::try_from(to_seq).unwrap_or(i64::MAX);
        let mut statement = self
            .connection
            .prepare_cached("SELECT leaf_hash FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")
            .map_err(db("reading leaf hashes"))?;
        let rows =
            statement.query_map(params![from, to], |row| hash32(row.get(0)?)).map_err(db("reading leaf hashes"))?;
        rows.collect::<Result<_, _>>().map_err(db("reading leaf hashes"))
    }

    fn tree_heads(&mut self) -> StoreResult<Vec<SignedTreeHead>> {
        let mut statement = self
            .connection
            .prepare("SELECT size, root, timestamp_ms, signature, key_id FROM tree_heads ORDER BY size, timestamp_ms")
            .map_err(db("reading tree heads"))?;
        let rows = statement
            .query_map([], |row| {
                let signature: Vec<u8> = row.get(3)?;
                Ok(SignedTreeHead {
                    head: TreeHead {
                        size: row.get::<_, i64>(0)? as u64,
                        root: hash32(row.get(1)?)?,
                        timestamp_ms: row.get::<_, i64>(2)? as u64,
                    },
                    signature: signature.try_into().map_err(|_| {
                        rusqlite::Error::InvalidColumnType(3, "signature".into(), rusqlite::types::Type::Blob)
                    })?,
                    key_id: hash32(row.get(4)?)?,
                })
            })
            .map_err(db("reading tree heads"))?;
        rows.collect::<Result<_, _>>().map_err(db("reading tree heads"))
    }

    fn ledger_state(&mut self) -> StoreResult<LedgerState> {
        read_state(&self.connection)
    }

    fn signing_keys(&mut self) -> StoreResult<Vec<[u8; 32]>> {
        let mut statement =
            self.connection.prepare("SELECT public_key FROM signing_keys").map_err(db("reading signing keys"))?;
        let rows = statement.query_map([], |row| hash32(row.get(0)?)).map_err(db("reading signing keys"))?;
        rows.collect::<Result<_, _>>().map_err(db("reading signing keys"))
    }

    fn quarantine(&mut self, open_only: bool, limit: usize) -> StoreResult<Vec<QuarantineEntry>> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, received_at, source, line, raw, field, reason, status, resolved_seq FROM quarantine
                 WHERE (?1 = 0 OR status = 'open') ORDER BY id LIMIT ?2",
            )
            .map_err(db("reading the quarantine"))?;
        let rows = statement
            .query_map(params![open_only as i64, limit as i64], |row| {
                let status: String = row.get(7)?;
                Ok(QuarantineEntry {
                    id: row.get::<_, i64>(0)? as u64,
                    entry: NewQuarantine {
                        received_at: parse_ts(&row.get::<_, String>(1)?)?,
                        source: row.get(2)?,
                        line: row.get::<_, Option<i64>>(3)?.map(|line| line as u64),
                        raw: row.get(4)?,
                        field: row.get(5)?,
                        reason: row.get(6)?,
                    },
                    status: QuarantineStatus::parse(&status).unwrap_or(QuarantineStatus::Open),
                    resolved_seq: row.get::<_, Option<i64>>(8)?.map(|seq| seq as u64),
                })
            })
            .map_err(db("reading the quarantine"))?;
        rows.collect::<Result<_, _>>().map_err(db("reading the quarantine"))
    }

    fn quarantine_open_count(&mut self) -> StoreResult<u64> {
        self.connection
            .query_row("SELECT count(*) FROM quarantine WHERE status = 'open'", [], |row| row.get::<_, i64>(0))
            .map(|count| count as u64)
            .map_err(db("counting the quarantine"))
    }

    fn docs(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            )
            .map_err(db("reading projections"))?;
        let rows = statement
            .query_map(params![kind, after_key, limit as i64], StoredDoc::from_row)
            .map_err(db("reading projections"))?;
        rows.map(|row| row.map_err(db("reading projections")).and_then(StoredDoc::decode)).collect()
    }

    fn docs_before(&mut self, kind: &str, before_key: Option<&str>, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        // Two statements, so that each is one range read of the key index.
        let sql = match before_key {
            Some(_) => "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 AND key < ?2 ORDER BY key DESC LIMIT ?3",
            None => "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 ORDER BY key DESC LIMIT ?3",
        };
        let mut statement = self.connection.prepare_cached(sql).map_err(db("reading projections"))?;
        let rows = statement
            .query_map(params![kind, before_key.unwrap_or_default(), limit as i64], StoredDoc::from_row)
            .map_err(db("reading projections"))?;
        rows.map(|row| row.map_err(db("reading projections")).and_then(StoredDoc::decode)).collect()
    }

    fn doc(&mut self, kind: &str, key: &str) -> StoreResult<Option<ProjectionDoc>> {
        // Cached: the web server reads documents one by one, per request.
        self.connection
            .prepare_cached("SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 AND key = ?2")
            .and_then(|mut statement| statement.query_row(params![kind, key], StoredDoc::from_row).optional())
            .map_err(db("reading a projection"))?
            .map(StoredDoc::decode)
            .transpose()
    }

    fn counter_sums(
        &mut self,
        prefix: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        // The index is chosen here, not left to the planner: without
        // statistics it cannot tell a few days of every metric (the day
        // index) from every day of a few metrics (the metric index, whose
        // order also groups the sums).
        let index = if (to - from).num_days() <= SHORT_PERIOD_DAYS {
            "agency_day_counters_day"
        } else {
            "agency_day_counters_metric"
        };
        let sql = format!(
            "SELECT agency, metric, SUM(value) FROM agency_day_counters INDEXED BY {index}
             WHERE metric >= ?1 AND metric < ?2 AND day >= ?3 AND day <= ?4
             GROUP BY metric, agency"
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(db("summing counters"))?;
        let day = |day: NaiveDate| day.format("%Y-%m-%d").to_string();
        let rows = statement
            .query_map(params![prefix, prefix_end(prefix), day(from), day(to)], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(db("summing counters"))?;
        rows.collect::<Result<_, _>>().map_err(db("summing counters"))
    }

    fn counters(&mut self) -> StoreResult<Vec<(String, NaiveDate, String, i64)>> {
        let mut statement = self
            .connection
            .prepare("SELECT agency, day, metric, value FROM agency_day_counters WHERE value <> 0 ORDER BY agency, day, metric")
            .map_err(db("reading counters"))?;
        let rows = statement
            .query_map([], |row| {
                let day: String = row.get(1)?;
                let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|error| {
                    rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(error))
                })?;
                Ok((row.get(0)?, day, row.get(2)?, row.get(3)?))
            })
            .map_err(db("reading counters"))?;
        rows.collect::<Result<_, _>>().map_err(db("reading counters"))
    }
}

struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Tx for SqliteTx<'_> {
    fn ledger_state(&mut self) -> StoreResult<LedgerState> {
        read_state(&self.tx)
    }

    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        read_events_after(&self.tx, after, limit)
    }

    fn put_ledger_state(&mut self, state: &LedgerState) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO ledger_state (id, frontier) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET frontier = excluded.frontier",
            )
            .and_then(|mut statement| statement.execute([state.frontier.to_bytes()]))
            .map(|_| ())
            .map_err(db("writing the ledger state"))
    }

    fn existing_keys(&mut self, keys: &[(&str, &str)]) -> StoreResult<HashMap<(String, String), u64>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT seq FROM events WHERE source = ?1 AND idem_key = ?2")
            .map_err(db("looking up idempotency keys"))?;
        let mut found = HashMap::new();
        for (source, key) in keys {
            if let Some(seq) = statement
                .query_row(params![source, key], |row| row.get::<_, i64>(0))
                .optional()
                .map_err(db("looking up idempotency keys"))?
            {
                found.insert(((*source).to_owned(), (*key).to_owned()), seq as u64);
            }
        }
        Ok(found)
    }

    fn insert_events(&mut self, events: &[StoredEvent]) -> StoreResult<()> {
        // Full chunks share one multi-row statement; the rest go one row at
        // a time, so that a small batch (a group commit of the web server)
        // never prepares a statement of its own length. Both statements'
        // text is made once, and the rows' values are bound where they lie
        // (SQLite copies them once, as it binds).
        static ONE_ROW: LazyLock<String> = LazyLock::new(|| insert_events_sql(1));
        static FULL_CHUNK: LazyLock<String> = LazyLock::new(|| insert_events_sql(INSERT_ROWS_PER_STATEMENT));
        let full = events.len() - events.len() % INSERT_ROWS_PER_STATEMENT;
        let (bulk, rest) = events.split_at(full);
        for chunk in bulk.chunks(INSERT_ROWS_PER_STATEMENT).chain(rest.chunks(1)) {
            let sql = if chunk.len() == 1 { &ONE_ROW } else { &FULL_CHUNK };
            let mut statement = self.tx.prepare_cached(sql).map_err(db("appending events"))?;
            // The columns stored in another form than the event holds them.
            let converted: Vec<(i64, String, i64, String)> = chunk
                .iter()
                .map(|event| (event.seq as i64, ts(&event.recorded_at), i64::from(event.schema_version), ts(&event.at)))
                .collect();
            let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 10);
            for (event, (seq, recorded_at, schema_version, at)) in chunk.iter().zip(&converted) {
                values.extend([
                    seq as &dyn rusqlite::ToSql,
                    recorded_at,
                    &event.source,
                    &event.idempotency_key,
                    &event.record_type,
                    schema_version,
                    at,
                    &event.canonical,
                    &event.leaf_hash,
                    &event.tree_root,
                ]);
            }
            statement.execute(values.as_slice()).map_err(db("appending events"))?;
        }
        Ok(())
    }

    fn insert_tree_head(&mut self, head: &SignedTreeHead) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO tree_heads (size, root, timestamp_ms, signature, key_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    head.head.size as i64,
                    head.head.root.to_vec(),
                    head.head.timestamp_ms as i64,
                    head.signature.to_vec(),
                    head.key_id.to_vec()
                ])
            })
            .map(|_| ())
            .map_err(db("storing a tree head"))
    }

    fn register_signing_key(&mut self, public_key: &[u8; 32], at: DateTime<Utc>) -> StoreResult<()> {
        self.tx
            .execute(
                "INSERT INTO signing_keys (public_key, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![public_key.to_vec(), ts(&at)],
            )
            .map(|_| ())
            .map_err(db("registering the signing key"))
    }

    fn load_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<Vec<ProjectionDoc>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 AND key = ?2")
            .map_err(db("reading projections"))?;
        let mut docs = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(doc) = statement
                .query_row(params![kind, key], StoredDoc::from_row)
                .optional()
                .map_err(db("reading projections"))?
            {
                docs.push(doc.decode()?);
            }
        }
        Ok(docs)
    }

    fn docs_after(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>> {
        let mut statement = self
            .tx
            .prepare_cached(
                "SELECT kind, key, agency, doc FROM projection_docs WHERE kind = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            )
            .map_err(db("reading projections"))?;
        let rows = statement
            .query_map(params![kind, after_key, limit as i64], StoredDoc::from_row)
            .map_err(db("reading projections"))?;
        rows.map(|row| row.map_err(db("reading projections")).and_then(StoredDoc::decode)).collect()
    }

    fn store_docs(&mut self, docs: &[ProjectionDoc]) -> StoreResult<()> {
        // The largest statements are written as their documents come out of
        // the codec (which may compress on a second thread meanwhile); what
        // is left goes in the smaller ones.
        let largest = DOCS_PER_UPSERT[0];
        let tx: &Connection = &self.tx;
        let mut stored: Vec<Vec<u8>> = Vec::with_capacity(largest.min(docs.len()));
        let mut written = 0;
        doc_codec::encode_each(docs, |_, bytes| {
            stored.push(bytes);
            if stored.len() == largest {
                upsert_docs(tx, &DOC_UPSERTS[0], &docs[written..written + largest], &stored)?;
                written += largest;
                stored.clear();
            }
            Ok(())
        })?;
        let (mut docs, mut stored) = (&docs[written..], &stored[..]);
        for (size, upsert) in DOCS_PER_UPSERT.into_iter().zip(DOC_UPSERTS.iter()) {
            while docs.len() >= size {
                upsert_docs(tx, upsert, &docs[..size], &stored[..size])?;
                (docs, stored) = (&docs[size..], &stored[size..]);
            }
        }
        Ok(())
    }

    fn add_counters(&mut self, deltas: &[CounterDelta]) -> StoreResult<()> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT INTO agency_day_counters (agency, day, metric, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (agency, day, metric) DO UPDATE SET value = value + excluded.value",
            )
            .map_err(db("updating counters"))?;
        for delta in deltas {
            statement
                .execute(params![delta.agency, delta.day.format("%Y-%m-%d").to_string(), delta.metric, delta.delta])
                .map_err(db("updating counters"))?;
        }
        Ok(())
    }

    fn clear_projections(&mut self) -> StoreResult<()> {
        self.tx
            .execute_batch("DELETE FROM projection_docs; DELETE FROM agency_day_counters;")
            .map_err(db("clearing projections"))
    }

    fn delete_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<()> {
        let mut statement = self
            .tx
            .prepare_cached("DELETE FROM projection_docs WHERE kind = ?1 AND key = ?2")
            .map_err(db("deleting projections"))?;
        for key in keys {
            statement.execute(params![kind, key]).map_err(db("deleting projections"))?;
        }
        Ok(())
    }

    fn clear_counters(&mut self, prefix: &str) -> StoreResult<()> {
        self.tx
            .execute(
                "DELETE FROM agency_day_counters WHERE metric >= ?1 AND metric < ?2",
                params![prefix, prefix_end(prefix)],
            )
            .map(|_| ())
            .map_err(db("clearing counters"))
    }

    fn insert_quarantine(&mut self, entries: &[NewQuarantine]) -> StoreResult<()> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT INTO quarantine (received_at, source, line, raw, field, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db("quarantining"))?;
        for entry in entries {
            statement
                .execute(params![
                    ts(&entry.received_at),
                    entry.source,
                    entry.line.map(|line| line as i64),
                    entry.raw,
                    entry.field,
                    entry.reason
                ])
                .map_err(db("quarantining"))?;
        }
        Ok(())
    }

    fn resolve_quarantine(&mut self, id: u64, seq: Option<u64>) -> StoreResult<()> {
        self.tx
            .execute(
                "UPDATE quarantine SET status = 'resolved', resolved_seq = ?2 WHERE id = ?1",
                params![id as i64, seq.map(|seq| seq as i64)],
            )
            .map(|_| ())
            .map_err(db("resolving a quarantine entry"))
    }

    fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().map_err(db("committing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An appeal's document, long enough to be compressed
    /// ([`doc_codec::PLAIN_BELOW_BYTES`]).
    const JSON: &str = r#"{"appeal":"A-1","status":"open","holdings":[{"agency":"akimat-almaty","received_on":"2025-03-06","via":"registered","due":"2025-03-27","forward_by":"2025-03-11"}]}"#;

    #[test]
    fn a_database_from_before_compression_migrates_and_its_documents_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // The schema and a document exactly as casetrail wrote them before migration 2.
            let old = Connection::open(&path).unwrap();
            old.execute_batch(MIGRATIONS[0]).unwrap();
            old.pragma_update(None, "user_version", 1).unwrap();
            old.execute(
                "INSERT INTO projection_docs (kind, key, agency, doc) VALUES ('appeal', 'A-1', NULL, ?1)",
                [JSON],
            )
            .unwrap();
        }
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.doc("appeal", "A-1").unwrap().unwrap().doc, JSON);

        let mut tx = store.begin().unwrap();
        let doc = ProjectionDoc { kind: "appeal".into(), key: "A-2".into(), agency: None, doc: JSON.into() };
        tx.store_docs(&[doc]).unwrap();
        tx.commit().unwrap();
        let stored: Vec<u8> = store
            .connection()
            .query_row("SELECT doc FROM projection_docs WHERE key = 'A-2'", [], |row| row.get(0))
            .unwrap();
        assert!(stored.len() < JSON.len(), "a new document is stored compressed");
        assert_eq!(store.doc("appeal", "A-2").unwrap().unwrap().doc, JSON);
    }

    #[test]
    fn documents_written_in_statements_of_every_size_read_back_and_the_last_write_wins() {
        let mut store = SqliteStore::in_memory().unwrap();
        let doc = |key: usize, text: &str| ProjectionDoc {
            kind: "appeal".into(),
            key: format!("A-{key:03}"),
            agency: key.is_multiple_of(2).then(|| "akimat-almaty".to_owned()),
            doc: JSON.replace("A-1", text),
        };
        // 64 + 8 + 3: one statement of each size; then 9 of them again,
        // one twice in the same call.
        let first: Vec<ProjectionDoc> = (0..75).map(|key| doc(key, &format!("first-{key}"))).collect();
        let mut second: Vec<ProjectionDoc> = (0..9).map(|key| doc(key * 8, &format!("second-{key}"))).collect();
        second.push(doc(0, "third"));
        let mut tx = store.begin().unwrap();
        tx.store_docs(&first).unwrap();
        tx.store_docs(&second).unwrap();
        tx.commit().unwrap();

        let count: i64 =
            store.connection().query_row("SELECT count(*) FROM projection_docs", [], |row| row.get(0)).unwrap();
        assert_eq!(count, 75);
        for key in 0..75_usize {
            let read = store.doc("appeal", &format!("A-{key:03}")).unwrap().unwrap();
            let expected = match key {
                0 => doc(0, "third"),
                key if key.is_multiple_of(8) && key / 8 < 9 => doc(key, &format!("second-{}", key / 8)),
                key => doc(key, &format!("first-{key}")),
            };
            assert_eq!(read, expected, "document {key}");
        }
    }

    fn synchronous(store: &SqliteStore) -> i64 {
        store.connection().query_row("PRAGMA synchronous", [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn an_unsynced_commit_is_visible_at_once_and_only_it_skips_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unsynced.db");
        let mut store = SqliteStore::open(&path).unwrap();
        let mut reader = SqliteStore::open_reader(&path).unwrap();
        let doc = |key: &str| ProjectionDoc { kind: "appeal".into(), key: key.into(), agency: None, doc: JSON.into() };

        let mut tx = store.begin_unsynced().unwrap();
        tx.store_docs(&[doc("A-1")]).unwrap();
        tx.commit().unwrap();
        assert_eq!(synchronous(&store), 1, "NORMAL while unsynced transactions run");
        assert_eq!(reader.doc("appeal", "A-1").unwrap().unwrap().doc, JSON, "committed is visible");
        let mut sync = store.commit_sync().unwrap().expect("a file database can flush later");
        sync.sync().unwrap();

        // Every other transaction is durable at its commit again.
        let mut tx = store.begin().unwrap();
        tx.store_docs(&[doc("A-2")]).unwrap();
        tx.commit().unwrap();
        assert_eq!(synchronous(&store), 2, "FULL for an ordinary transaction");
        assert_eq!(reader.doc("appeal", "A-2").unwrap().unwrap().doc, JSON);

        store.limit_page_cache(64 << 20).unwrap();
        let cache: i64 = store.connection().query_row("PRAGMA cache_size", [], |row| row.get(0)).unwrap();
        assert_eq!(cache, -65536, "64 MiB, in KiB");

        // An in-memory database has nothing to flush.
        assert!(SqliteStore::in_memory().unwrap().commit_sync().unwrap().is_none());
    }

    /// The options `.cargo/config.toml` builds the bundled SQLite with: no
    /// global mutex taken for every allocation and every page a connection
    /// reads (see that file).
    #[test]
    fn the_bundled_sqlite_takes_no_global_mutex_per_page_or_allocation() {
        let store = SqliteStore::in_memory().unwrap();
        let mut statement = store.connection().prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> =
            statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        assert!(options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|option| option == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|option| option == "THREADSAFE=1"), "{options:?}");
    }
}
