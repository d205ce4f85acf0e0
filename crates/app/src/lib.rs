//! The application: opening a ledger, importing records (validate, dedupe,
//! append, project, quarantine — one transaction per batch), rebuilding
//! projections and replaying the quarantine.
//!
//! Connectors, the web server and the CLI call this crate; it is the only
//! place that knows both the ledger and the projections.

#![forbid(unsafe_code)]

pub mod field;
pub mod projector;
pub mod receipt;
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;

use casetrail_exchange::{parse_record, Event, JsonLines, RawLine, RecordError, SCHEMA_VERSION};
use casetrail_ledger::{keys, Appender, NewQuarantine, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use projector::{ProjectError, Projector};

pub use casetrail_ledger::{verify, VerifyFailure, VerifyReport};

/// Records per write transaction on the import path.
pub const IMPORT_BATCH_RECORDS: usize = 20_000;
/// Lines per chunk handed from the parsing thread to the writer, and chunks
/// the parser may run ahead (`Ledger::import_json_lines`).
const PARSED_CHUNK_LINES: usize = 1024;
const PARSED_CHUNKS_AHEAD: usize = 32;
/// Events read per page by rebuild.
const REBUILD_PAGE_EVENTS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error("{0}")]
    Projection(String),
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

impl From<ProjectError> for AppError {
    fn from(error: ProjectError) -> Self {
        match error {
            ProjectError::Store(error) => AppError::Store(error),
            other => AppError::Projection(other.to_string()),
        }
    }
}

/// Where the data lives: a SQLite file or a PostgreSQL URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbLocation {
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            DbLocation::Postgres(text.to_owned())
        } else {
            DbLocation::Sqlite(PathBuf::from(text.strip_prefix("sqlite://").unwrap_or(text)))
        }
    }

    /// Where the tree-head signing key is kept unless a path is given: next
    /// to a SQLite file; in the working directory for PostgreSQL.
    pub fn default_key_path(&self) -> PathBuf {
        match self {
            DbLocation::Sqlite(path) => {
                let mut name = path.as_os_str().to_owned();
                name.push(".signing-key");
                PathBuf::from(name)
            }
            DbLocation::Postgres(_) => PathBuf::from("casetrail-signing.key"),
        }
    }

    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            DbLocation::Sqlite(path) => Box::new(casetrail_store_sqlite::SqliteStore::open(path)?),
            DbLocation::Postgres(url) => Box::new(casetrail_store_postgres::PgStore::connect(url)?),
        })
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub accepted: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// The sequence number of each accepted line, in input order (only
    /// kept when asked, for the API).
    pub sequences: Vec<u64>,
    /// Why each quarantined input line was refused: (its line, the reason),
    /// so that a caller can answer with the reason at once.
    pub refusals: Vec<(Option<u64>, String)>,
}

impl ImportSummary {
    fn add(&mut self, other: ImportSummary) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
        self.sequences.extend(other.sequences);
        self.refusals.extend(other.refusals);
    }
}

/// A write transaction open for batches: each batch is checked, applied
/// and appended as [`Ledger::import_batch`] does, and all of them are
/// committed together, under one signed tree head.
///
/// The batches share one [`Projector`]: a document that several batches
/// touch is loaded once and written once, and their counter deltas are
/// summed, all at [`OpenImport::commit`]. The web writer's commits are
/// many small batches (the requests that arrived while the disk flushed),
/// which would otherwise each write the same counters and queue documents.
pub struct OpenImport<'a> {
    tx: Box<dyn Tx + 'a>,
    appender: Appender,
    projector: Projector,
    key: &'a SigningKey,
    clock: &'a (dyn Fn() -> DateTime<Utc> + Send),
}

impl OpenImport<'_> {
    /// Imports one batch into the open transaction: every line is
    /// accepted, recognised as a duplicate (of the ledger or of an earlier
    /// batch of this transaction), or quarantined with its reason.
    pub fn batch(&mut self, source: &str, batch: &[Incoming]) -> Result<ImportSummary, AppError> {
        let OpenImport { tx, appender, projector, clock, .. } = self;
        let now = clock();
        appender.advance_clock(now);
        let keys: Vec<Option<String>> =
            batch.iter().map(|incoming| incoming.parsed.as_ref().ok().map(Event::idempotency_key)).collect();
        let lookup: Vec<(&str, &str)> = keys.iter().filter_map(|key| key.as_deref().map(|key| (source, key))).collect();
        let existing = tx.existing_keys(&lookup)?;
        projector.preload(tx.as_mut(), batch.iter().filter_map(|incoming| incoming.parsed.as_ref().ok()))?;

        let mut summary = ImportSummary::default();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut quarantine = Vec::new();
        for (incoming, key) in batch.iter().zip(&keys) {
            let event = match &incoming.parsed {
                Ok(event) => event,
                Err(error) => {
                    summary.refusals.push((incoming.line, refusal(error.field.as_deref(), &error.reason)));
                    quarantine.push(quarantined(now, source, incoming, error.field.clone(), error.reason.clone()));
                    continue;
                }
            };
            let key = key.as_deref().unwrap_or_default();
            if let Some(seq) = existing.get(&(source.to_owned(), key.to_owned())) {
                summary.duplicates += 1;
                summary.sequences.push(*seq);
                continue;
            }
            if !seen.insert(key) {
                summary.duplicates += 1;
                continue;
            }
            match projector.apply(event, appender.next_seq()) {
                Ok(()) => {
                    let seq = push(appender, source, key.to_owned(), event);
                    summary.accepted += 1;
                    summary.sequences.push(seq);
                    Ledger::append_follow_ups(tx.as_mut(), projector, appender, now, &mut quarantine)?;
                }
                Err(ProjectError::Rule(violation)) => {
                    seen.remove(key);
                    summary.refusals.push((incoming.line, refusal(violation.field, &violation.reason)));
                    quarantine.push(quarantined(
                        now,
                        source,
                        incoming,
                        violation.field.map(str::to_owned),
                        violation.reason,
                    ));
                }
                Err(other) => return Err(other.into()),
            }
        }
        summary.quarantined = quarantine.len() as u64;
        appender.flush(tx.as_mut())?;
        tx.insert_quarantine(&quarantine)?;
        Ok(summary)
    }

    /// The sequence number the next appended event will get.
    pub fn next_seq(&self) -> u64 {
        self.appender.next_seq()
    }

    /// Where each `(source, idempotency key)` is in the ledger, this
    /// transaction's batches included.
    pub fn existing_keys(&mut self, keys: &[(&str, &str)]) -> Result<HashMap<(String, String), u64>, AppError> {
        Ok(self.tx.existing_keys(keys)?)
    }

    /// Writes the batches' projection changes, signs the new tree head and
    /// commits every batch.
    pub fn commit(mut self) -> Result<(), AppError> {
        self.projector.flush(self.tx.as_mut())?;
        self.appender.finish(self.tx.as_mut(), self.key)?;
        self.tx.commit()?;
        Ok(())
    }
}

/// One input line on its way in.
pub struct Incoming {
    pub line: Option<u64>,
    pub raw: Vec<u8>,
    pub parsed: Result<Event, RecordError>,
}

impl Incoming {
    pub fn from_raw(line: RawLine) -> Self {
        let parsed = parse_record(&line.bytes);
        Incoming { line: Some(line.line), raw: line.bytes, parsed }
    }

    /// An event built here from typed parts (`Event::new` validated it):
    /// its canonical bytes are the line, and parsing them again would give
    /// the same event (casetrail-exchange's round-trip test), so it is not
    /// parsed again. A line longer than the format allows still goes
    /// through the parser, which refuses it.
    pub fn from_event(event: Event) -> Self {
        if event.canonical.len() > casetrail_exchange::LINE_BYTES_MAX {
            return Self::from_raw(RawLine { line: 1, bytes: event.canonical });
        }
        Incoming { line: Some(1), raw: event.canonical.clone(), parsed: Ok(event) }
    }
}

/// A projection a database from before it gets when first opened, built
/// from the documents it derives from (appeals, alerts, charges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// The scorecard's tallies (`projector::tallies`).
    Tallies,
    /// The officers' queues (`projector::queue`).
    Queues,
    /// The Open311 request list (`projector::requested`).
    RequestList,
    /// The alerts' counters by kind (`projector::alert_counts`).
    AlertCounts,
    /// The bailiffs' recall lists (`projector::recalls`).
    RecallLists,
}

impl Upgrade {
    pub const ALL: [Upgrade; 5] =
        [Upgrade::Tallies, Upgrade::Queues, Upgrade::RequestList, Upgrade::AlertCounts, Upgrade::RecallLists];

    /// Builds it unless the database has it; answers the documents read.
    fn ensure(self, tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
        match self {
            Upgrade::Tallies => projector::tallies::ensure(tx, progress),
            Upgrade::Queues => projector::queue::ensure(tx, progress),
            Upgrade::RequestList => projector::requested::ensure(tx, progress),
            Upgrade::AlertCounts => projector::alert_counts::ensure(tx, progress),
            Upgrade::RecallLists => projector::recalls::ensure(tx, progress),
        }
    }

    /// Marks the database as having it (after a rebuild made it).
    fn mark(self, tx: &mut dyn Tx) -> Result<(), ProjectError> {
        match self {
            Upgrade::Tallies => projector::tallies::mark(tx),
            Upgrade::Queues => projector::queue::INDEX.mark(tx),
            Upgrade::RequestList => projector::requested::INDEX.mark(tx),
            Upgrade::AlertCounts => projector::alert_counts::mark(tx),
            Upgrade::RecallLists => projector::recalls::mark_complete(tx),
        }
    }

    /// What is being built, for a progress line.
    pub fn describe(self) -> &'static str {
        match self {
            Upgrade::Tallies => "the scorecard's tallies",
            Upgrade::Queues => "the officers' queues",
            Upgrade::RequestList => "the Open311 request list",
            Upgrade::AlertCounts => "the alerts' counters",
            Upgrade::RecallLists => "the bailiffs' recall lists",
        }
    }
}

/// The ledger with its projections: the application's one entry point.
pub struct Ledger {
    store: Box<dyn Store>,
    key: SigningKey,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
}

#[allow(clippy::disallowed_methods)]
fn system_clock() -> DateTime<Utc> {
    Utc::now()
}

impl Ledger {
    /// Opens the store and the signing key (created on first start).
    pub fn open(location: &DbLocation, key_path: Option<&Path>) -> Result<Self, AppError> {
        Self::open_reporting(location, key_path, &mut |_, _| {})
    }

    /// Opens as [`Ledger::open`] does, telling `progress` how far it is when
    /// a database from before some projection must first get it (minutes
    /// for millions of appeals).
    pub fn open_reporting(
        location: &DbLocation,
        key_path: Option<&Path>,
        progress: &mut dyn FnMut(Upgrade, u64),
    ) -> Result<Self, AppError> {
        let store = location.open()?;
        let key_path = key_path.map(Path::to_path_buf).unwrap_or_else(|| location.default_key_path());
        let key = keys::load_or_create(&key_path)?;
        Self::assemble(store, key, Box::new(system_clock), progress)
    }

    /// Assembles a ledger from parts (tests pass a fixed clock).
    pub fn with_parts(
        store: Box<dyn Store>,
        key: SigningKey,
        clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
    ) -> Result<Self, AppError> {
        Self::assemble(store, key, clock, &mut |_, _| {})
    }

    fn assemble(
        mut store: Box<dyn Store>,
        key: SigningKey,
        clock: Box<dyn Fn() -> DateTime<Utc> + Send>,
        progress: &mut dyn FnMut(Upgrade, u64),
    ) -> Result<Self, AppError> {
        let mut tx = store.begin()?;
        tx.register_signing_key(&key.verifying_key().to_bytes(), clock())?;
        // A database from before one of them gets it, once.
        for upgrade in Upgrade::ALL {
            upgrade.ensure(tx.as_mut(), &mut |read| progress(upgrade, read))?;
        }
        tx.commit()?;
        Ok(Self { store, key, clock })
    }

    pub fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Imports lines from `source` in batches; `progress` is called after
    /// each batch with the running summary.
    pub fn import(
        &mut self,
        source: &str,
        lines: impl Iterator<Item = Incoming>,
        mut progress: impl FnMut(&ImportSummary),
    ) -> Result<ImportSummary, AppError> {
        let mut total = ImportSummary::default();
        let mut batch = Vec::with_capacity(IMPORT_BATCH_RECORDS);
        for incoming in lines {
            batch.push(incoming);
            if batch.len() == IMPORT_BATCH_RECORDS {
                total.add(self.import_batch(source, std::mem::take(&mut batch))?);
                progress(&total);
            }
        }
        if !batch.is_empty() {
            total.add(self.import_batch(source, batch)?);
            progress(&total);
        }
        Ok(total)
    }

    /// Imports JSON lines from `reader`. Reading and parsing run on a thread
    /// of their own, a bounded number of chunks ahead of this one, which
    /// writes (parsing and canonical JSON are ~6 % of an import's CPU, off
    /// the writer's critical path). Answers the import's result and the read
    /// error that ended the input early, if any.
    pub fn import_json_lines(
        &mut self,
        source: &str,
        reader: impl std::io::BufRead + Send,
        progress: impl FnMut(&ImportSummary),
    ) -> (Result<ImportSummary, AppError>, Option<std::io::Error>) {
        std::thread::scope(|scope| {
            let (chunks, parsed) = std::sync::mpsc::sync_channel::<Vec<Incoming>>(PARSED_CHUNKS_AHEAD);
            let parser = scope.spawn(move || parse_lines(reader, &chunks));
            let summary = self.import(source, parsed.into_iter().flatten(), progress);
            // The writer stopped (at the end, or on an error): the parser
            // stops at its next send.
            let read_error =
                parser.join().unwrap_or_else(|_| Some(std::io::Error::other("the parsing thread panicked")));
            (summary, read_error)
        })
    }

    /// Imports one batch in one transaction: every line is accepted,
    /// recognised as a duplicate, or quarantined with its reason.
    pub fn import_batch(&mut self, source: &str, batch: Vec<Incoming>) -> Result<ImportSummary, AppError> {
        self.import_batch_with(source, batch, true)
    }

    /// [`Ledger::import_batch`] whose commit returns before it is on disk
    /// ([`casetrail_ledger::Store::begin_unsynced`]): the caller must have
    /// [`casetrail_ledger::CommitSync::sync`] return before it tells anyone
    /// the batch was recorded.
    pub fn import_batch_unsynced(&mut self, source: &str, batch: Vec<Incoming>) -> Result<ImportSummary, AppError> {
        self.import_batch_with(source, batch, false)
    }

    fn import_batch_with(
        &mut self,
        source: &str,
        batch: Vec<Incoming>,
        synced: bool,
    ) -> Result<ImportSummary, AppError> {
        let mut import = self.begin_import(synced)?;
        let summary = import.batch(source, &batch)?;
        import.commit()?;
        Ok(summary)
    }

    /// Opens one write transaction that takes batches
    /// ([`OpenImport::batch`]) until [`OpenImport::commit`]; dropped
    /// without it, nothing of it is kept. `synced`: the commit is on disk
    /// when it returns; otherwise as [`Ledger::import_batch_unsynced`].
    pub fn begin_import(&mut self, synced: bool) -> Result<OpenImport<'_>, AppError> {
        let now = (self.clock)();
        let mut tx = if synced { self.store.begin()? } else { self.store.begin_unsynced()? };
        let appender = Appender::open(tx.as_mut(), now)?;
        Ok(OpenImport { tx, appender, projector: Projector::default(), key: &self.key, clock: self.clock.as_ref() })
    }

    /// Appends what casetrail itself must append after an event (a recall
    /// when a paid fine was referred, ...), under its own source.
    fn append_follow_ups(
        tx: &mut dyn casetrail_ledger::Tx,
        projector: &mut Projector,
        appender: &mut Appender,
        now: DateTime<Utc>,
        quarantine: &mut Vec<NewQuarantine>,
    ) -> Result<(), AppError> {
        let mut pending = projector.take_follow_ups();
        while !pending.is_empty() {
            for event in pending {
                let key = event.idempotency_key();
                if !tx.existing_keys(&[(projector::OWN_SOURCE, key.as_str())])?.is_empty() {
                    continue;
                }
                projector.preload(tx, std::iter::once(&event))?;
                match projector.apply(&event, appender.next_seq()) {
                    Ok(()) => {
                        push(appender, projector::OWN_SOURCE, key, &event);
                    }
                    Err(ProjectError::Rule(violation)) => {
                        let incoming = Incoming { line: None, raw: event.canonical.clone(), parsed: Ok(event.clone()) };
                        let reason = format!("casetrail's own follow-up was refused: {}", violation.reason);
                        quarantine.push(quarantined(
                            now,
                            projector::OWN_SOURCE,
                            &incoming,
                            violation.field.map(str::to_owned),
                            reason,
                        ));
                    }
                    Err(other) => return Err(other.into()),
                }
            }
            pending = projector.take_follow_ups();
        }
        Ok(())
    }

    /// Recomputes every projection from the ledger, in one transaction.
    pub fn rebuild(&mut self, mut progress: impl FnMut(u64)) -> Result<u64, AppError> {
        let mut tx = self.store.begin()?;
        tx.clear_projections()?;
        let mut done = 0u64;
        loop {
            let page = tx.events_after(done, REBUILD_PAGE_EVENTS)?;
            let Some(last) = page.last().map(|event| event.seq) else { break };
            let events: Vec<Event> = page
                .iter()
                .map(|stored| {
                    parse_record(&stored.canonical).map_err(|error| {
                        AppError::Store(StoreError::Corrupt(format!(
                            "event {} no longer parses: {error}; run `casetrail verify`",
                            stored.seq
                        )))
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut projector = Projector::default();
            projector.preload(tx.as_mut(), events.iter())?;
            for (event, stored) in events.iter().zip(&page) {
                // Follow-ups were appended as events of their own; a rebuild
                // replays those and must not ask for them again.
                projector.apply(event, stored.seq).map_err(|error| {
                    AppError::Projection(format!("event {} cannot be applied during rebuild: {error}", stored.seq))
                })?;
                projector.take_follow_ups();
            }
            projector.flush(tx.as_mut())?;
            done = last;
            progress(done);
        }
        for upgrade in Upgrade::ALL {
            upgrade.mark(tx.as_mut())?;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Replays every open quarantine entry; those that now pass are appended
    /// and marked resolved, the others stay open (with their first reason).
    pub fn replay_quarantine(&mut self) -> Result<ImportSummary, AppError> {
        let entries = self.store.quarantine(true, usize::MAX)?;
        let mut total = ImportSummary::default();
        for entry in entries {
            let incoming = Incoming {
                line: entry.entry.line,
                raw: entry.entry.raw.clone(),
                parsed: parse_record(&entry.entry.raw),
            };
            // A replayed line that fails again must not be quarantined twice.
            let result = self.replay_one(&entry.entry.source, incoming, entry.id)?;
            total.add(result);
        }
        Ok(total)
    }

    fn replay_one(&mut self, source: &str, incoming: Incoming, id: u64) -> Result<ImportSummary, AppError> {
        if incoming.parsed.is_err() {
            return Ok(ImportSummary { quarantined: 1, ..Default::default() });
        }
        // Try the line in a batch of its own; on a rule failure, roll back.
        let now = (self.clock)();
        let mut tx = self.store.begin()?;
        let Ok(event) = &incoming.parsed else { return Ok(ImportSummary::default()) };
        let key = event.idempotency_key();
        let existing = tx.existing_keys(&[(source, key.as_str())])?;
        if let Some(seq) = existing.values().next() {
            tx.resolve_quarantine(id, Some(*seq))?;
            tx.commit()?;
            return Ok(ImportSummary { duplicates: 1, sequences: vec![*seq], ..Default::default() });
        }
        let mut appender = Appender::open(tx.as_mut(), now)?;
        let mut projector = Projector::default();
        projector.preload(tx.as_mut(), std::iter::once(event))?;
        match projector.apply(event, appender.next_seq()) {
            Ok(()) => {}
            Err(ProjectError::Rule(_)) => return Ok(ImportSummary { quarantined: 1, ..Default::default() }),
            Err(other) => return Err(other.into()),
        }
        let seq = push(&mut appender, source, key, event);
        let mut follow_up_quarantine = Vec::new();
        Self::append_follow_ups(tx.as_mut(), &mut projector, &mut appender, now, &mut follow_up_quarantine)?;
        tx.insert_quarantine(&follow_up_quarantine)?;
        appender.flush(tx.as_mut())?;
        projector.flush(tx.as_mut())?;
        tx.resolve_quarantine(id, Some(seq))?;
        appender.finish(tx.as_mut(), &self.key)?;
        tx.commit()?;
        Ok(ImportSummary { accepted: 1, sequences: vec![seq], ..Default::default() })
    }

    /// Verifies the whole log.
    pub fn verify(&mut self, progress: impl FnMut(u64)) -> Result<VerifyReport, VerifyFailure> {
        verify(self.store.as_mut(), progress)
    }
}

/// Reads and parses JSON lines into chunks for the writer; answers the read
/// error that ended the input early, if any (the lines before it are sent).
fn parse_lines(reader: impl std::io::BufRead, chunks: &SyncSender<Vec<Incoming>>) -> Option<std::io::Error> {
    let mut chunk = Vec::with_capacity(PARSED_CHUNK_LINES);
    for line in JsonLines::new(reader) {
        match line {
            Ok(line) => chunk.push(Incoming::from_raw(line)),
            Err(error) => {
                let _ = chunks.send(chunk);
                return Some(error);
            }
        }
        if chunk.len() == PARSED_CHUNK_LINES
            && chunks.send(std::mem::replace(&mut chunk, Vec::with_capacity(PARSED_CHUNK_LINES))).is_err()
        {
            return None;
        }
    }
    let _ = chunks.send(chunk);
    None
}

fn quarantined(
    now: DateTime<Utc>,
    source: &str,
    incoming: &Incoming,
    field: Option<String>,
    reason: String,
) -> NewQuarantine {
    NewQuarantine {
        received_at: now,
        source: source.to_owned(),
        line: incoming.line,
        raw: incoming.raw.clone(),
        field,
        reason,
    }
}

fn push(appender: &mut Appender, source: &str, idempotency_key: String, event: &Event) -> u64 {
    appender.push(casetrail_ledger::NewEvent {
        source,
        idempotency_key,
        record_type: event.record_type(),
        schema_version: SCHEMA_VERSION,
        at: event.at_utc(),
        canonical: event.canonical.clone(),
    })
}

/// A refusal as callers show it: `field: reason`.
fn refusal(field: Option<&str>, reason: &str) -> String {
    match field {
        Some(field) => format!("{field}: {reason}"),
        None => reason.to_owned(),
    }
}
