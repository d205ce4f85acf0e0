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
//!
//! Where the store can separate a commit from its flush (SQLite's WAL), the
//! flush runs on a second thread ([`CommitSync`]): the writer commits a
//! batch, hands its answers to the flush thread and starts on the next
//! batch while the disk flushes; the flush thread answers the callers once
//! their commit is on disk. While a flush is in progress the writer keeps
//! its next transaction open and adds what arrives to it
//! ([`casetrail_app::OpenImport`]), committing once the disk is free: a
//! commit then carries as many records as the disk's pace allows, and its
//! fixed costs (the signed tree head, the WAL's hot pages) are shared by
//! all of them. A flush that fails answers nobody as recorded and
//! stops the writer: after a failed `fsync` the file's state is unknown.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use casetrail_app::{Incoming, Ledger, OpenImport};
use casetrail_exchange::{Event, RawLine, Record};
use casetrail_ledger::CommitSync;
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
    reply: Reply,
}

/// The handle: cheap to clone, one per route or per request.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Records this writer committed that change who is who (agencies,
    /// accounts, API keys): caches of them compare it to know they are stale.
    registry_changes: Arc<AtomicU64>,
    /// Why the writer takes nothing more (a flush failed), once it does not.
    stopped: Arc<OnceLock<String>>,
}

impl Writer {
    /// Starts the writer thread on a shared ledger (readers may keep using
    /// the same mutex). `max_batch` bounds the records per transaction.
    pub fn spawn(ledger: Arc<Mutex<Ledger>>, max_batch: usize) -> std::io::Result<Writer> {
        let sync = match ledger.lock() {
            Ok(mut ledger) => ledger.store().commit_sync().map_err(std::io::Error::other)?,
            Err(_) => return Err(std::io::Error::other("the ledger lock is poisoned")),
        };
        Self::spawn_with(ledger, max_batch, sync)
    }

    /// [`Writer::spawn`] with the flush given (`None`: every commit is
    /// durable when it returns).
    fn spawn_with(
        ledger: Arc<Mutex<Ledger>>,
        max_batch: usize,
        sync: Option<Box<dyn CommitSync>>,
    ) -> std::io::Result<Writer> {
        let (jobs, mut queue) = mpsc::channel::<Job>(max_batch.max(1) * 4);
        let max_batch = max_batch.max(1);
        let registry_changes = Arc::new(AtomicU64::new(0));
        let changed = registry_changes.clone();
        let stopped: Arc<OnceLock<String>> = Arc::default();
        let flusher = match sync {
            Some(sync) => Some(Flusher::spawn(sync, stopped.clone())?),
            None => None,
        };
        let stopped_reason = stopped.clone();
        std::thread::Builder::new().name("casetrail-writer".into()).spawn(move || {
            raise_priority();
            while let Some(first) = queue.blocking_recv() {
                let mut batch = vec![first];
                take_waiting(&mut queue, &mut batch, max_batch);
                if let Some(reason) = stopped.get() {
                    for job in batch {
                        let _ = job.reply.send(Err(WriteError(reason.clone())));
                    }
                    continue;
                }
                commit(&ledger, batch, &mut queue, max_batch, &changed, flusher.as_ref());
            }
        })?;
        Ok(Writer { jobs, registry_changes, stopped: stopped_reason })
    }

    /// Why the writer stopped taking records, if it did (`/readyz` says so:
    /// a server that cannot make writes durable is not ready).
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.get().map(String::as_str)
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

/// The nice value the writer asks for (the default is 0; lower runs first).
const WRITER_NICE: i32 = -10;

/// Asks the scheduler to run the calling thread (the writer) ahead of the
/// request threads.
///
/// The writer is the one serial stage: every write waits for it, while the
/// request threads share the cores. At equal priority the scheduler shares a
/// core between them evenly, and under load the writer waited for a core
/// about a quarter of its time (BENCHMARKS.md, "a seventh machine").
/// Raising a priority needs `CAP_SYS_NICE` (or a raised `RLIMIT_NICE`);
/// without it the writer keeps the default priority and works the same.
fn raise_priority() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if rustix::process::setpriority_process(Some(thread), WRITER_NICE).is_err() {
            tracing::debug!("the ledger writer keeps the default priority (no CAP_SYS_NICE)");
        }
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

/// Where one caller waits for its answer.
type Reply = oneshot::Sender<Result<Outcome, WriteError>>;

/// Answers waiting for their commit to reach the disk.
type Answers = Vec<(Reply, Result<Outcome, WriteError>)>;

/// The thread that flushes unsynced commits and then answers their callers.
struct Flusher {
    committed: std::sync::mpsc::Sender<Answers>,
    /// Commits handed over and not yet flushed, and a signal when that
    /// number falls.
    unflushed: Arc<(Mutex<usize>, Condvar)>,
}

impl Flusher {
    fn spawn(mut sync: Box<dyn CommitSync>, stopped: Arc<OnceLock<String>>) -> std::io::Result<Flusher> {
        let (committed, flushes) = std::sync::mpsc::channel::<Answers>();
        let unflushed: Arc<(Mutex<usize>, Condvar)> = Arc::default();
        let in_flight = unflushed.clone();
        std::thread::Builder::new().name("casetrail-flush".into()).spawn(move || {
            while let Ok(first) = flushes.recv() {
                // Every commit handed over so far shares this flush.
                let mut waiting = vec![first];
                waiting.extend(flushes.try_iter());
                let flushed = match stopped.get() {
                    Some(reason) => Err(reason.clone()),
                    None => sync.sync().map_err(|error| {
                        let reason = format!(
                            "the ledger could not make its writes durable ({error}); nothing more is accepted \
                             until casetrail is restarted"
                        );
                        stopped.get_or_init(|| reason).clone()
                    }),
                };
                let (count, lower) = &*in_flight;
                if let Ok(mut count) = count.lock() {
                    *count = count.saturating_sub(waiting.len());
                }
                lower.notify_all();
                for (reply, answer) in waiting.into_iter().flatten() {
                    let _ = reply.send(match &flushed {
                        Ok(()) => answer,
                        Err(reason) => Err(WriteError(reason.clone())),
                    });
                }
            }
        })?;
        Ok(Flusher { committed, unflushed })
    }

    /// Hands a commit's answers to the flush thread.
    fn hand_over(&self, answers: Answers) -> Result<(), std::sync::mpsc::SendError<Answers>> {
        if let Ok(mut count) = self.unflushed.0.lock() {
            *count += 1;
        }
        self.committed.send(answers).inspect_err(|_| {
            if let Ok(mut count) = self.unflushed.0.lock() {
                *count = count.saturating_sub(1);
            }
        })
    }

    /// While an earlier commit is still being flushed: the jobs queued (at
    /// least one, at most `limit`), waiting for one if none is; `None`
    /// once every commit handed over is flushed, or `limit` is 0.
    fn more_while_busy(&self, queue: &mut mpsc::Receiver<Job>, limit: usize) -> Option<Vec<Job>> {
        if limit == 0 {
            return None;
        }
        let (count, lower) = &*self.unflushed;
        let mut more = Vec::new();
        loop {
            let unflushed = count.lock().ok()?;
            if *unflushed == 0 {
                return None;
            }
            take_waiting(queue, &mut more, limit);
            if !more.is_empty() {
                return Some(more);
            }
            // A job does not wake this wait: look again shortly.
            let _ = lower.wait_timeout(unflushed, QUEUE_POLL).ok()?;
        }
    }
}

/// How often a writer waiting for a flush looks for new jobs.
const QUEUE_POLL: std::time::Duration = std::time::Duration::from_micros(100);

/// Moves the jobs already queued into `batch`, up to `max_batch` in all.
fn take_waiting(queue: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>, max_batch: usize) {
    while batch.len() < max_batch {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Commits `jobs` in one transaction and, while the disk is still busy
/// flushing the previous commit, the jobs that arrive meanwhile too: this
/// commit could not be flushed before that one anyway, and each commit's
/// fixed costs (the signed tree head, the WAL's hot pages) are then shared
/// by more records. At most `max_batch` records per transaction.
fn commit(
    ledger: &Mutex<Ledger>,
    mut jobs: Vec<Job>,
    queue: &mut mpsc::Receiver<Job>,
    max_batch: usize,
    registry_changes: &AtomicU64,
    flusher: Option<&Flusher>,
) {
    let replies_of = |jobs: Vec<Job>| jobs.into_iter().map(|job| job.reply);
    let Ok(mut ledger) = ledger.lock() else { return fail(replies_of(jobs), "the ledger lock is poisoned") };
    // A database server that restarted closed the connection: the batch
    // that found out failed; this one connects again.
    if let Err(error) = ledger.store().reconnect() {
        return fail(replies_of(jobs), &error.to_string());
    }
    let mut import = match ledger.begin_import(flusher.is_none()) {
        Ok(import) => import,
        Err(error) => return fail(replies_of(jobs), &error.to_string()),
    };
    let mut answers: Answers = Vec::with_capacity(jobs.len());
    let mut changes = 0;
    loop {
        changes += jobs.iter().filter(|job| changes_registry(&job.incoming)).count() as u64;
        // One round per source, in order of first appearance: idempotency
        // keys are per source.
        while !jobs.is_empty() {
            let source = jobs[0].source.clone();
            let (same, rest): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| job.source == source);
            jobs = rest;
            let mut incoming = Vec::with_capacity(same.len());
            let mut keys = Vec::with_capacity(same.len());
            let mut replies = Vec::with_capacity(same.len());
            for (i, mut job) in same.into_iter().enumerate() {
                job.incoming.line = Some(i as u64 + 1);
                incoming.push(job.incoming);
                keys.push(job.key);
                replies.push(job.reply);
            }
            match import_round(&mut import, &source, &incoming, &keys) {
                Ok(outcomes) => answers.extend(replies.into_iter().zip(outcomes.into_iter().map(Ok))),
                Err(error) => {
                    // Dropping the transaction keeps nothing of it.
                    registry_changes.fetch_add(changes, Ordering::Release);
                    let answered = answers.into_iter().map(|(reply, _)| reply);
                    return fail(answered.chain(replies).chain(replies_of(jobs)), &error.to_string());
                }
            }
        }
        let Some(flusher) = flusher else { break };
        match flusher.more_while_busy(queue, max_batch.saturating_sub(answers.len())) {
            Some(more) => jobs = more,
            None => break,
        }
    }
    let committed = import.commit();
    // Before anyone hears of the commit: a cache read before it is stale.
    if changes > 0 {
        registry_changes.fetch_add(changes, Ordering::Release);
    }
    if let Err(error) = committed {
        return fail(answers.into_iter().map(|(reply, _)| reply), &error.to_string());
    }
    match flusher {
        Some(flusher) => {
            if let Err(unsent) = flusher.hand_over(answers) {
                fail(unsent.0.into_iter().map(|(reply, _)| reply), "the ledger's flush thread has stopped");
            }
        }
        None => {
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
    }
}

/// Answers every caller that its record was not handled.
fn fail(replies: impl Iterator<Item = Reply>, message: &str) {
    for reply in replies {
        let _ = reply.send(Err(WriteError(message.to_owned())));
    }
}

/// Imports one source's records into the open transaction and tells what
/// became of each.
fn import_round(
    import: &mut OpenImport<'_>,
    source: &str,
    incoming: &[Incoming],
    keys: &[Result<String, String>],
) -> Result<Vec<Outcome>, casetrail_app::AppError> {
    let n = incoming.len();
    let first_seq = import.next_seq();
    let summary = import.batch(source, incoming)?;
    // The common case: every record appended, in order.
    if summary.accepted as usize == n && summary.sequences.len() == n {
        return Ok(summary.sequences.iter().map(|seq| Outcome::Appended { seq: *seq }).collect());
    }
    // Otherwise ask the ledger, record by record, where each one is.
    let lookup: Vec<(&str, &str)> =
        keys.iter().filter_map(|key| key.as_deref().ok()).map(|key| (source, key)).collect();
    let found = import.existing_keys(&lookup)?;
    let mut seen: HashSet<&str> = HashSet::new();
    // Lines are numbered 1.. in the batch (see `commit`).
    let refusal = |index: usize| {
        summary.refusals.iter().find(|(line, _)| *line == Some(index as u64 + 1)).map(|(_, reason)| reason.clone())
    };
    Ok(keys
        .iter()
        .enumerate()
        .map(|(index, key)| match key {
            Err(reason) => Outcome::Quarantined { reason: reason.clone() },
            Ok(key) => match found.get(&(source.to_owned(), key.clone())) {
                Some(seq) if *seq >= first_seq && seen.insert(key.as_str()) => Outcome::Appended { seq: *seq },
                Some(seq) => Outcome::Duplicate { seq: *seq },
                None => Outcome::Quarantined {
                    reason: refusal(index).unwrap_or_else(|| {
                        "the record breaks a rule of the ledger; see the quarantine for the reason".into()
                    }),
                },
            },
        })
        .collect())
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

    /// The nice values of this process's writer threads, from `/proc`.
    #[cfg(target_os = "linux")]
    fn writer_nice_values() -> Vec<i32> {
        let mut values = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap_or_default();
            let Some((name, rest)) = stat.split_once(" (").and_then(|(_, s)| s.rsplit_once(") ")) else { continue };
            // The kernel keeps 15 bytes of a thread's name.
            if name == "casetrail-write" {
                // After the name: state is field 3; nice is field 19.
                values.push(rest.split(' ').nth(16).unwrap().parse().unwrap());
            }
        }
        values
    }

    /// Whether this process may lower a thread's nice value to
    /// [`WRITER_NICE`]: `CAP_SYS_NICE` (bit 23 of the effective
    /// capabilities) or an `RLIMIT_NICE` that reaches it (20 - limit).
    #[cfg(target_os = "linux")]
    fn may_raise_priority() -> bool {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let caps = status.lines().find_map(|line| line.strip_prefix("CapEff:")).unwrap().trim();
        let caps = u64::from_str_radix(caps, 16).unwrap();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nice).current.unwrap_or(u64::MAX);
        caps & (1 << 23) != 0 || 20 - i64::try_from(limit).unwrap_or(i64::MAX).min(40) <= i64::from(WRITER_NICE)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_runs_ahead_of_request_threads_when_allowed() {
        let (shared, _dir) = ledger();
        let writer = Writer::spawn(shared, 8).unwrap();
        // The thread has started once it has answered.
        assert_eq!(writer.append("api", AGENCY.as_bytes().to_vec()).await.unwrap(), Outcome::Appended { seq: 1 });
        let values = writer_nice_values();
        assert!(!values.is_empty(), "no writer thread found");
        let expected = if may_raise_priority() { WRITER_NICE } else { 0 };
        assert!(values.iter().all(|nice| *nice == expected), "writer threads at nice {values:?}, expected {expected}");
    }

    /// A flush the test holds back, then lets pass or fail.
    struct HeldFlush {
        release: std::sync::mpsc::Receiver<Result<(), String>>,
        flushes: Arc<AtomicU64>,
    }

    impl CommitSync for HeldFlush {
        fn sync(&mut self) -> casetrail_ledger::StoreResult<()> {
            let verdict = self.release.recv().unwrap_or(Ok(()));
            self.flushes.fetch_add(1, Ordering::SeqCst);
            verdict.map_err(|message| casetrail_ledger::StoreError::database("syncing the WAL file", message))
        }
    }

    /// A writer whose flushes the test releases, after its first record
    /// (an agency) is committed and its flush held.
    struct HeldFirstCommit {
        shared: Arc<Mutex<Ledger>>,
        _dir: tempfile::TempDir,
        release: std::sync::mpsc::Sender<Result<(), String>>,
        flushes: Arc<AtomicU64>,
        writer: Writer,
        first: tokio::task::JoinHandle<Result<Outcome, WriteError>>,
    }

    async fn held_first_commit() -> HeldFirstCommit {
        let (shared, _dir) = ledger();
        let (release, held) = std::sync::mpsc::channel();
        let flushes = Arc::new(AtomicU64::new(0));
        let flush = HeldFlush { release: held, flushes: flushes.clone() };
        let writer = Writer::spawn_with(shared.clone(), 64, Some(Box::new(flush))).unwrap();
        let first = tokio::spawn({
            let writer = writer.clone();
            async move { writer.append("api", AGENCY.as_bytes().to_vec()).await }
        });
        let committed = async {
            while shared.lock().unwrap().store().ledger_state().unwrap().size() < 1 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), committed).await.expect("the first commit");
        HeldFirstCommit { shared, _dir, release, flushes, writer, first }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nobody_hears_of_a_commit_before_its_flush_and_a_failed_flush_stops_the_writer() {
        let HeldFirstCommit { shared, _dir, release, flushes, writer, first } = held_first_commit().await;
        // Committed (readers see it) but not flushed: no answer yet.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!first.is_finished(), "answered before the flush");
        release.send(Ok(())).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), Outcome::Appended { seq: 1 });
        assert_eq!(flushes.load(Ordering::SeqCst), 1);

        // The disk refuses the next flush: the caller is not told its record
        // is kept, and the writer takes nothing more.
        release.send(Err("EIO".into())).unwrap();
        let refused = writer.append("api", appeal("A-1")).await.unwrap_err();
        assert!(refused.0.contains("could not make its writes durable") && refused.0.contains("EIO"), "{refused}");
        let size = shared.lock().unwrap().store().ledger_state().unwrap().size();
        let later = writer.append("api", appeal("A-2")).await.unwrap_err();
        assert!(later.0.contains("restarted"), "{later}");
        assert!(writer.stopped().is_some_and(|reason| reason.contains("EIO")), "readiness can tell");
        assert_eq!(shared.lock().unwrap().store().ledger_state().unwrap().size(), size, "nothing appended after");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_arriving_during_a_flush_share_the_next_commit() {
        let HeldFirstCommit { shared, _dir, release, flushes, writer, first } = held_first_commit().await;
        // While its flush is held, three records arrive one after another.
        let mut later = Vec::new();
        for i in 0..3 {
            let writer = writer.clone();
            later.push(tokio::spawn(async move { writer.append("api", appeal(&format!("A-{i}"))).await }));
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        assert!(!first.is_finished() && later.iter().all(|task| !task.is_finished()), "answered before a flush");
        release.send(Ok(())).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), Outcome::Appended { seq: 1 });
        // The three were committed together once the disk was free, and
        // are answered after their own flush.
        release.send(Ok(())).unwrap();
        let mut seqs = Vec::new();
        for task in later {
            match task.await.unwrap().unwrap() {
                Outcome::Appended { seq } => seqs.push(seq),
                other => panic!("expected appended, got {other:?}"),
            }
        }
        assert_eq!(seqs, vec![2, 3, 4]);
        assert_eq!(flushes.load(Ordering::SeqCst), 2);
        let heads = shared.lock().unwrap().store().tree_heads().unwrap();
        assert_eq!(heads.len(), 2, "one signed tree head per commit: {heads:?}");
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
