//! Group commit for records arriving over HTTP.
//!
//! A durable commit costs an `fsync` (SQLite `synchronous=FULL`, PostgreSQL
//! WAL flush): one transaction per request caps registrations at the disk's
//! flush rate, whatever the CPU. The [`Writer`] owns the write path on one
//! thread: requests queue up while a commit is in progress and the next
//! transaction takes all of them (up to a bound), so one flush covers many
//! requests. Every caller still gets its own answer, only after the commit
//! that holds its record: nothing is acknowledged that is not on disk.
//!
//! Records from different sources go into different transactions (the
//! idempotency key is per source); order within a source is kept.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::{Event, RawLine, Record};
use tokio::sync::{mpsc, oneshot};

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Appended as event `seq`.
    Appended { seq: u64 },
    /// Already in the ledger (same source and idempotency key) as `seq`;
    /// nothing was appended.
    Duplicate { seq: u64 },
    /// Not appended: the record does not parse or breaks a rule. It is in
    /// the quarantine with its raw bytes and this reason.
    Quarantined { reason: String },
}

/// Why a record could not be handled at all (the ledger failed, or the
/// writer stopped): nothing about the record itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError(pub String);

impl std::error::Error for WriteError {}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

struct Job {
    source: String,
    /// Parsed by the caller's task, so that the writer thread only writes.
    incoming: Incoming,
    /// The idempotency key, or why the record does not parse.
    key: Result<String, String>,
    reply: oneshot::Sender<Result<Outcome, WriteError>>,
}

/// The handle: cheap to clone, one per route or per request.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Records this writer committed that change who is who (agencies,
    /// accounts, API keys): caches of them compare it to know they are stale.
    registry_changes: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on a shared ledger (readers may keep using
    /// the same mutex). `max_batch` bounds the records per transaction.
    pub fn spawn(ledger: Arc<Mutex<Ledger>>, max_batch: usize) -> std::io::Result<Writer> {
        let (jobs, mut queue) = mpsc::channel::<Job>(max_batch.max(1) * 4);
        let max_batch = max_batch.max(1);
        let registry_changes = Arc::new(AtomicU64::new(0));
        let changed = registry_changes.clone();
        std::thread::Builder::new().name("casetrail-writer".into()).spawn(move || {
            while let Some(first) = queue.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                commit(&ledger, batch, &changed);
            }
        })?;
        Ok(Writer { jobs, registry_changes })
    }

    /// How many records changing agencies, accounts or API keys this writer
    /// has committed (or tried to): a cache read before a change is stale.
    pub fn registry_changes(&self) -> u64 {
        self.registry_changes.load(Ordering::Acquire)
    }

    /// Appends one record (a JSON line of the exchange format) from
    /// `source`, durably; answers after the commit.
    pub async fn append(&self, source: &str, raw: Vec<u8>) -> Result<Outcome, WriteError> {
        self.send(source, Incoming::from_raw(RawLine { line: 1, bytes: raw })).await
    }

    /// Appends an event built here from typed parts (a form, an API body):
    /// the same as [`Writer::append`] of its canonical bytes, without
    /// parsing them again.
    pub async fn append_event(&self, source: &str, event: Event) -> Result<Outcome, WriteError> {
        self.send(source, Incoming::from_event(event)).await
    }

    async fn send(&self, source: &str, incoming: Incoming) -> Result<Outcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        let key = match &incoming.parsed {
            Ok(event) => Ok(event.idempotency_key()),
            Err(error) => Err(match &error.field {
                Some(field) => format!("{field}: {}", error.reason),
                None => error.reason.clone(),
            }),
        };
        self.jobs
            .send(Job { source: source.to_owned(), incoming, key, reply })
            .await
            .map_err(|_| WriteError("the ledger writer has stopped".into()))?;
        answer.await.map_err(|_| WriteError("the ledger writer stopped before answering".into()))?
    }
}

fn changes_registry(incoming: &Incoming) -> bool {
    matches!(
        &incoming.parsed,
        Ok(event) if matches!(
            event.record,
            Record::AgencyRegistered(_)
                | Record::AccountCreated(_)
                | Record::AccountDisabled(_)
                | Record::ApiKeyIssued(_)
                | Record::ApiKeyRevoked(_)
        )
    )
}

fn commit(ledger: &Mutex<Ledger>, mut jobs: Vec<Job>, registry_changes: &AtomicU64) {
    // One transaction per source, in order of first appearance.
    while !jobs.is_empty() {
        let source = jobs[0].source.clone();
        let (same, rest): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| job.source == source);
        jobs = rest;
        let mut incoming = Vec::with_capacity(same.len());
        let mut keys = Vec::with_capacity(same.len());
        let mut replies = Vec::with_capacity(same.len());
        let changes = same.iter().filter(|job| changes_registry(&job.incoming)).count() as u64;
        for (i, mut job) in same.into_iter().enumerate() {
            job.incoming.line = Some(i as u64 + 1);
            incoming.push(job.incoming);
            keys.push(job.key);
            replies.push(job.reply);
        }
        let answers = commit_source(ledger, &source, incoming, &keys);
        // Before anyone hears of the commit: a cache read before it is stale.
        if changes > 0 {
            registry_changes.fetch_add(changes, Ordering::Release);
        }
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

fn commit_source(
    ledger: &Mutex<Ledger>,
    source: &str,
    incoming: Vec<Incoming>,
    keys: &[Result<String, String>],
) -> Vec<Result<Outcome, WriteError>> {
    let fail = |message: String| keys.iter().map(|_| Err(WriteError(message.clone()))).collect();
    let n = incoming.len();
    let Ok(mut ledger) = ledger.lock() else { return fail("the ledger lock is poisoned".into()) };
    let size_before = match ledger.store().ledger_state() {
        Ok(state) => state.size(),
        Err(error) => return fail(error.to_string()),
    };
    let summary = match ledger.import_batch(source, incoming) {
        Ok(summary) => summary,
        Err(error) => return fail(error.to_string()),
    };
    // The common case: every record appended, in order.
    if summary.accepted as usize == n && summary.sequences.len() == n {
        return summary.sequences.iter().map(|seq| Ok(Outcome::Appended { seq: *seq })).collect();
    }
    // Otherwise ask the ledger, record by record, where each one is.
    let lookup: Vec<(&str, &str)> =
        keys.iter().filter_map(|key| key.as_deref().ok()).map(|key| (source, key)).collect();
    let found = {
        let store = ledger.store();
        let result = store.begin().and_then(|mut tx| tx.existing_keys(&lookup));
        match result {
            Ok(found) => found,
            Err(error) => return fail(error.to_string()),
        }
    };
    let mut seen: HashSet<&str> = HashSet::new();
    // Lines are numbered 1.. in the batch (see `commit`).
    let refusal = |index: usize| {
        summary.refusals.iter().find(|(line, _)| *line == Some(index as u64 + 1)).map(|(_, reason)| reason.clone())
    };
    keys.iter()
        .enumerate()
        .map(|(index, key)| match key {
            Err(reason) => Ok(Outcome::Quarantined { reason: reason.clone() }),
            Ok(key) => match found.get(&(source.to_owned(), key.clone())) {
                Some(seq) if *seq > size_before && seen.insert(key.as_str()) => Ok(Outcome::Appended { seq: *seq }),
                Some(seq) => Ok(Outcome::Duplicate { seq: *seq }),
                None => Ok(Outcome::Quarantined {
                    reason: refusal(index).unwrap_or_else(|| {
                        "the record breaks a rule of the ledger; see the quarantine for the reason".into()
                    }),
                }),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use casetrail_app::DbLocation;

    fn ledger() -> (Arc<Mutex<Ledger>>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let ledger = Ledger::open(&DbLocation::parse(&db.to_string_lossy()), Some(&dir.path().join("k"))).unwrap();
        (Arc::new(Mutex::new(ledger)), dir)
    }

    const AGENCY: &str = r#"{"type":"agency.registered","id":"ag-1","at":"2026-03-02T09:00:00+05:00","agency":"akimat-astana","name":{"kk":"Әкімдік","ru":"Акимат","en":"Akimat"},"kind":"akimat"}"#;

    fn appeal(number: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"appeal.registered","id":"{number}","at":"2026-03-02T10:15:00+05:00","appeal":"{number}","agency":"akimat-astana","applicant":{{"iin":"850808310738"}},"channel":"portal","kind":"complaint","category":"roads"}}"#
        )
        .into_bytes()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_each_get_their_own_answer() {
        let (shared, _dir) = ledger();
        let writer = Writer::spawn(shared.clone(), 64).unwrap();
        assert_eq!(writer.append("api", AGENCY.as_bytes().to_vec()).await.unwrap(), Outcome::Appended { seq: 1 });
        let mut tasks = Vec::new();
        for i in 0..200 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move { writer.append("api", appeal(&format!("A-{i}"))).await }));
        }
        let mut seqs = Vec::new();
        for task in tasks {
            match task.await.unwrap().unwrap() {
                Outcome::Appended { seq } => seqs.push(seq),
                other => panic!("expected appended, got {other:?}"),
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (2..=201).collect::<Vec<_>>(), "every record appended once, no gaps");
        let mut ledger = shared.lock().unwrap();
        assert_eq!(ledger.store().ledger_state().unwrap().size(), 201);
        // One signed tree head per transaction: fewer heads than records
        // means requests shared commits.
        let heads = ledger.store().tree_heads().unwrap().len();
        assert!(heads < 150, "{heads} transactions for 201 records: no group commit");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicates_and_bad_records_are_told_apart_within_one_batch() {
        let (shared, _dir) = ledger();
        let writer = Writer::spawn(shared.clone(), 64).unwrap();
        writer.append("api", AGENCY.as_bytes().to_vec()).await.unwrap();
        assert_eq!(writer.append("api", appeal("A-1")).await.unwrap(), Outcome::Appended { seq: 2 });
        let records = vec![appeal("A-1"), appeal("A-2"), b"{not json".to_vec(), appeal("A-2"), appeal("A-3")];
        let tasks: Vec<_> = records
            .into_iter()
            .map(|raw| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.append("api", raw).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert_eq!(outcomes[0], Outcome::Duplicate { seq: 2 });
        assert!(matches!(outcomes[2], Outcome::Quarantined { .. }), "{:?}", outcomes[2]);
        let appended: Vec<&Outcome> = outcomes.iter().filter(|o| matches!(o, Outcome::Appended { .. })).collect();
        assert_eq!(appended.len(), 2, "A-2 once and A-3: {outcomes:?}");
        let size = shared.lock().unwrap().store().ledger_state().unwrap().size();
        assert_eq!(size, 4);
    }
}
