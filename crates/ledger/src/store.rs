//! The storage contract. SQLite and PostgreSQL implement it; one conformance
//! suite (in `casetrail-app`'s tests) runs against both.

use std::collections::HashMap;

use casetrail_merkle::{Frontier, Hash, SignedTreeHead};
use chrono::{DateTime, NaiveDate, Utc};

/// An event as the ledger stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Global sequence number, 1-based, without gaps.
    pub seq: u64,
    /// When casetrail recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The source it came from (a connector, a file, an API client).
    pub source: String,
    /// Unique within the source: the record's `id` or its canonical hash.
    pub idempotency_key: String,
    pub record_type: String,
    pub schema_version: u16,
    /// The record's own instant (`at`), in UTC.
    pub at: DateTime<Utc>,
    /// RFC 8785 bytes of the record.
    pub canonical: Vec<u8>,
    /// `SHA-256(0x00 ‖ canonical)`.
    pub leaf_hash: Hash,
    /// Root of the tree of events `1..=seq`.
    pub tree_root: Hash,
}

/// The tree's compact state after the last committed event.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LedgerState {
    pub frontier: Frontier,
}

impl LedgerState {
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }
}

/// A line that could not become an event, kept with everything needed to
/// fix and replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuarantine {
    pub received_at: DateTime<Utc>,
    pub source: String,
    pub line: Option<u64>,
    pub raw: Vec<u8>,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuarantineStatus {
    /// Waiting for a fix or a replay.
    Open,
    /// Replayed and accepted (or found to be a duplicate).
    Resolved,
}

impl QuarantineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineStatus::Open => "open",
            QuarantineStatus::Resolved => "resolved",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub id: u64,
    pub entry: NewQuarantine,
    pub status: QuarantineStatus,
    /// The event the replay produced, if any.
    pub resolved_seq: Option<u64>,
}

/// One document of a projection (an appeal's current state, a charge's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionDoc {
    /// `appeal`, `charge`, `protocol`, `agency`, `device`, ...
    pub kind: String,
    pub key: String,
    /// The agency the document belongs to, for scoping and filtering.
    pub agency: Option<String>,
    /// JSON.
    pub doc: String,
}

/// A change to a per-agency daily counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CounterDelta {
    pub agency: String,
    pub day: NaiveDate,
    pub metric: String,
    pub delta: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {action}: {message}")]
    Database { action: &'static str, message: String },
    #[error("the database schema is version {found}, newer than this casetrail ({supported}); upgrade casetrail")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn database(action: &'static str, error: impl std::fmt::Display) -> Self {
        StoreError::Database { action, message: error.to_string() }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A storage backend.
pub trait Store: Send {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Starts a write transaction. Writers are serialised: at most one
    /// transaction that appends is open at a time, so the tree stays linear.
    fn begin(&mut self) -> StoreResult<Box<dyn Tx + '_>>;
    /// Starts a write transaction whose commit returns once it is visible,
    /// before it is on disk: a group-commit writer that answers callers
    /// only after [`CommitSync::sync`] overlaps the disk's flush with the
    /// next transaction. Other transactions of the connection stay durable
    /// at commit. A backend that cannot separate the two (PostgreSQL here)
    /// begins an ordinary transaction, and [`Store::commit_sync`] is `None`.
    fn begin_unsynced(&mut self) -> StoreResult<Box<dyn Tx + '_>> {
        self.begin()
    }
    /// What makes every commit of [`Store::begin_unsynced`] finished before
    /// its call durable, from another thread. `None` when unsynced commits
    /// are durable anyway.
    fn commit_sync(&self) -> StoreResult<Option<Box<dyn CommitSync>>> {
        Ok(None)
    }
    /// Events with `seq > after`, in sequence order, at most `limit`.
    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>>;
    /// One event by sequence number.
    fn event(&mut self, seq: u64) -> StoreResult<Option<StoredEvent>>;
    /// The leaf hashes of events `from_seq..=to_seq`, in sequence order (only
    /// the hash column: what proof generation reads). Fewer than asked when
    /// the ledger ends earlier.
    fn leaf_hashes(&mut self, from_seq: u64, to_seq: u64) -> StoreResult<Vec<Hash>>;
    /// Every stored signed tree head, smallest tree first.
    fn tree_heads(&mut self) -> StoreResult<Vec<SignedTreeHead>>;
    /// The committed tree state.
    fn ledger_state(&mut self) -> StoreResult<LedgerState>;
    /// Public keys that signed tree heads, by key id (the key itself).
    fn signing_keys(&mut self) -> StoreResult<Vec<[u8; 32]>>;
    /// Quarantined lines, oldest first; `open_only` hides resolved ones.
    fn quarantine(&mut self, open_only: bool, limit: usize) -> StoreResult<Vec<QuarantineEntry>>;
    /// Number of open quarantine entries.
    fn quarantine_open_count(&mut self) -> StoreResult<u64>;
    /// Projection documents of a kind, by key order, after `after_key`.
    fn docs(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>>;
    /// Projection documents of a kind, by key order from the last, before
    /// `before_key` (from the very last when `None`).
    fn docs_before(&mut self, kind: &str, before_key: Option<&str>, limit: usize) -> StoreResult<Vec<ProjectionDoc>>;
    /// One projection document.
    fn doc(&mut self, kind: &str, key: &str) -> StoreResult<Option<ProjectionDoc>>;
    /// Every counter row `(agency, day, metric, value)` not at zero, ordered.
    fn counters(&mut self) -> StoreResult<Vec<(String, NaiveDate, String, i64)>>;
    /// `(agency, metric, sum)` of the counters whose metric starts with
    /// `prefix` (ASCII), over the days `from..=to`: one indexed range read.
    fn counter_sums(&mut self, prefix: &str, from: NaiveDate, to: NaiveDate)
        -> StoreResult<Vec<(String, String, i64)>>;
    /// Another connection to the same database that only reads, so that
    /// reads run beside the writer instead of waiting for its commits
    /// (SQLite in WAL mode lets readers run during a commit; PostgreSQL
    /// sessions do anyway). Each read sees every transaction committed
    /// before it started. `None` when the backend cannot open one (an
    /// in-memory database, a store made from a bare client): read here.
    fn reader(&self) -> StoreResult<Option<Box<dyn Store>>> {
        Ok(None)
    }
    /// Bounds this connection's own page cache to about `bytes` (SQLite's
    /// `cache_size`; PostgreSQL's cache is the server's, and this does
    /// nothing). An import keeps its large batch's pages in a large cache;
    /// a server's writer commits small batches and needs only the pages it
    /// reads again. Below 1 GiB of file, SQLite also walks its whole cache
    /// at most commits (a page split renumbers pages through the page past
    /// 1 GiB), so a cache larger than the work costs every commit.
    fn limit_page_cache(&mut self, bytes: u64) -> StoreResult<()> {
        let _ = bytes;
        Ok(())
    }
    /// Connects again when the connection is gone for good
    /// ([`Store::is_closed`]) and the store knows where it connected: true
    /// when it did. The server's writer calls it before each batch, so that
    /// a restarted database server costs the batch that found out, not
    /// every write until casetrail is restarted.
    fn reconnect(&mut self) -> StoreResult<bool> {
        Ok(false)
    }
    /// Whether the connection is gone for good (the server restarted, the
    /// session was ended): it answers nothing more, and a reader should be
    /// replaced by a new one from [`Store::reader`].
    fn is_closed(&self) -> bool {
        false
    }
}

/// Makes unsynced commits durable (see [`Store::begin_unsynced`]).
pub trait CommitSync: Send {
    /// Returns once every commit that finished before the call is on disk.
    /// An error means they may not be: nothing may be acknowledged, and the
    /// writer should stop (a failed flush can leave pages that were never
    /// written marked clean).
    fn sync(&mut self) -> StoreResult<()>;
}

/// A write transaction. Dropping it without `commit` rolls back.
pub trait Tx {
    /// The tree state, read under the writer lock.
    fn ledger_state(&mut self) -> StoreResult<LedgerState>;
    fn put_ledger_state(&mut self, state: &LedgerState) -> StoreResult<()>;
    /// Events with `seq > after`, in sequence order, at most `limit` (used by
    /// rebuild, which reads the ledger inside its own transaction).
    fn events_after(&mut self, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>>;
    /// Which of `(source, idempotency_key)` are already stored, with their seq.
    fn existing_keys(&mut self, keys: &[(&str, &str)]) -> StoreResult<HashMap<(String, String), u64>>;
    /// Appends events (the bulk path: PostgreSQL uses COPY).
    fn insert_events(&mut self, events: &[StoredEvent]) -> StoreResult<()>;
    fn insert_tree_head(&mut self, head: &SignedTreeHead) -> StoreResult<()>;
    fn register_signing_key(&mut self, public_key: &[u8; 32], at: DateTime<Utc>) -> StoreResult<()>;
    fn load_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<Vec<ProjectionDoc>>;
    /// Up to `limit` documents of a kind with keys after `after_key`, in key
    /// order, as this transaction sees them.
    fn docs_after(&mut self, kind: &str, after_key: &str, limit: usize) -> StoreResult<Vec<ProjectionDoc>>;
    fn store_docs(&mut self, docs: &[ProjectionDoc]) -> StoreResult<()>;
    /// Deletes documents of a kind (absent ones are no error).
    fn delete_docs(&mut self, kind: &str, keys: &[&str]) -> StoreResult<()>;
    fn add_counters(&mut self, deltas: &[CounterDelta]) -> StoreResult<()>;
    /// Empties every projection (documents and counters) for a rebuild.
    fn clear_projections(&mut self) -> StoreResult<()>;
    /// Deletes the counters whose metric starts with `prefix` (ASCII).
    fn clear_counters(&mut self, prefix: &str) -> StoreResult<()>;
    fn insert_quarantine(&mut self, entries: &[NewQuarantine]) -> StoreResult<()>;
    fn resolve_quarantine(&mut self, id: u64, seq: Option<u64>) -> StoreResult<()>;
    fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// The first string after every string that starts with `prefix` (an ASCII
/// prefix not ending in DEL): `metric >= prefix AND metric < prefix_end`.
pub fn prefix_end(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last = last.saturating_add(1);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
