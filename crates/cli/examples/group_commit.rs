//! The web writer's commit path in one thread, in the shape of its group
//! commits: COMMITS transactions of BATCHES batches of PER_BATCH appeal
//! registrations each (`OpenImport::batch`, then `OpenImport::commit`), on a
//! fresh SQLite ledger holding a small simulated city. Run it under
//! callgrind to count the instructions of that path alone, whatever the
//! machine is doing (BENCHMARKS.md, "one projector per transaction"):
//!
//! ```text
//! cargo build --release --example group_commit
//! valgrind --tool=callgrind '--toggle-collect=*OpenImport*' \
//!     target/release/examples/group_commit 100 5 12
//! ```
//!
//! and divide the instructions collected by COMMITS × BATCHES × PER_BATCH.
//! `casetrail bench http` reported ~4 batches of ~15 records a commit on an
//! Intel Xeon with 2 cores.

use anyhow::{bail, Context, Result};
use casetrail_app::{DbLocation, Incoming, Ledger};
use casetrail_exchange::{JsonLines, RawLine};
use casetrail_types::Iin;

fn main() -> Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).map(|arg| arg.parse()).collect::<Result<_, _>>()?;
    let [commits, batches, per_batch] = args[..] else {
        bail!("usage: group_commit COMMITS BATCHES PER_BATCH");
    };
    let dir = tempfile::tempdir()?;
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 7);
    config.appeals_per_year = Some(50);
    config.fines_per_year = Some(10);
    let mut lines = Vec::new();
    casetrail_sim::simulate(&config, &mut lines, &mut |_| {})?;
    let location = DbLocation::parse(&dir.path().join("ledger.db").to_string_lossy());
    let mut ledger = Ledger::open(&location, Some(&dir.path().join("ledger.key")))?;
    ledger.import("sim", JsonLines::new(&lines[..]).map_while(|line| line.ok().map(Incoming::from_raw)), |_| {})?;
    let registered = lines
        .split(|byte| *byte == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .find(|record| record["type"] == "appeal.registered")
        .context("the simulated city has no appeal to copy")?;
    let applicants: Vec<Iin> = (0..64u16)
        .filter_map(|i| {
            let born = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)? + chrono::Days::new(u64::from(i) * 97);
            Iin::from_parts(born, i % 2 == 1, 1000 + i)
        })
        .collect();
    let registration = |n: usize| {
        let record = serde_json::json!({
            "type": "appeal.registered",
            "at": "2026-12-01T10:00:00+05:00",
            "appeal": format!("GC-{n:09}"),
            "agency": registered["agency"],
            "category": registered["category"],
            "kind": "complaint",
            "channel": "portal",
            "applicant": { "iin": applicants[n % applicants.len()].to_string() },
            "text": "Benchmark appeal: the street light at the bus stop has not worked for a month.",
        });
        Incoming::from_raw(RawLine { line: 1, bytes: record.to_string().into_bytes() })
    };

    let started = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..commits {
        let mut import = ledger.begin_import(false)?;
        for _ in 0..batches {
            let batch: Vec<Incoming> = (n..n + per_batch).map(registration).collect();
            n += per_batch;
            let summary = import.batch("bench", &batch)?;
            if summary.accepted as usize != per_batch {
                bail!("registrations were refused: {:?}", summary.refusals);
            }
        }
        import.commit()?;
    }
    eprintln!("{n} registrations in {commits} commits, {:?}", started.elapsed());
    Ok(())
}
