//! `casetrail bench commit`: the web writer's commit path alone, in one
//! thread, in the shape of its group commits: COMMITS transactions, each
//! taking BATCHES batches of PER_BATCH appeal registrations
//! (`OpenImport::batch`, then `OpenImport::commit`), on the fresh ledger
//! `bench http` prepares.
//!
//! The registrations are the ones `bench http` sends, built as the web's
//! handler builds them (an event with an id, parsed before the writer takes
//! it), so the path counted is the writer's under load without HTTP, the
//! request threads or the timing of a flush. Its seconds move with the
//! machine; run it under callgrind to count its instructions, which do not
//! (BENCHMARKS.md, "one projector per transaction"):
//!
//! ```text
//! valgrind --tool=callgrind '--toggle-collect=*write_commits*' \
//!     target/release/casetrail bench commit --commits 100 --batches 5 --per-batch 12
//! ```
//!
//! and divide the instructions collected by the registrations it printed.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::RawLine;

use crate::bench_http::{applicants, prepare};

/// The shape of the commits to make.
pub struct CommitBenchOptions {
    pub commits: usize,
    pub batches: usize,
    pub per_batch: usize,
}

pub fn run_commit(options: &CommitBenchOptions) -> Result<ExitCode> {
    let work = tempfile::Builder::new()
        .prefix("casetrail-bench-commit")
        .tempdir()
        .context("cannot create a temporary directory")?;
    eprintln!("preparing a fresh SQLite ledger with the agencies of a simulated city …");
    let (mut ledger, template, _) = prepare(&work.path().join("bench.db"), &work.path().join("bench.key"))?;
    let applicants = applicants(20_000);
    let registration = |n: usize| -> Result<Incoming> {
        let body =
            template.replace("__APPEAL__", &format!("BC-{n:09}")).replace("__IIN__", &applicants[n % applicants.len()]);
        let mut record: serde_json::Value = serde_json::from_str(&body).context("the registration template")?;
        record["type"] = "appeal.registered".into();
        record["at"] = "2026-12-01T10:00:00+05:00".into();
        record["id"] = format!("bench-commit-{n}").into();
        Ok(Incoming::from_raw(RawLine { line: 1, bytes: record.to_string().into_bytes() }))
    };

    // Every registration is built (and parsed, as the web's request
    // threads do) before the clock starts.
    let mut n = 0;
    let mut commits = Vec::with_capacity(options.commits);
    for _ in 0..options.commits {
        let mut batches = Vec::with_capacity(options.batches);
        for _ in 0..options.batches {
            batches.push((n..n + options.per_batch).map(registration).collect::<Result<Vec<_>>>()?);
            n += options.per_batch;
        }
        commits.push(batches);
    }
    let registrations = n;
    let events_before = ledger.store().ledger_state()?.size();
    let started = Instant::now();
    write_commits(&mut ledger, &commits)?;
    let elapsed = started.elapsed();
    let appended = ledger.store().ledger_state()?.size() - events_before;
    if appended != registrations as u64 {
        bail!("the ledger gained {appended} events for {registrations} registrations");
    }
    println!(
        "writer's commit path: {registrations} registrations in {} commits of {} batches × {} records (unsynced)",
        options.commits, options.batches, options.per_batch
    );
    println!(
        "  {:.1} ms, {:.1} µs a registration",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / registrations.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}

/// The measured path: each transaction opened, its batches taken, then
/// committed. Not inlined, so that callgrind can count it alone
/// (`--toggle-collect='*write_commits*'`).
#[inline(never)]
fn write_commits(ledger: &mut Ledger, commits: &[Vec<Vec<Incoming>>]) -> Result<()> {
    for batches in commits {
        let mut import = ledger.begin_import(false)?;
        for batch in batches {
            let summary = import.batch("bench", batch)?;
            if summary.accepted as usize != batch.len() {
                bail!("registrations were refused: {:?}", summary.refusals);
            }
        }
        import.commit()?;
    }
    Ok(())
}
