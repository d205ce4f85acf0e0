//! `casetrail bench`: the import path against a bare insert of the same rows
//! into the same table, measured in the same run on the same machine.
//!
//! Both runs start from an empty database of the chosen backend. The
//! baseline reads the same file and inserts one row per line into `events`
//! in batches of the same size, with one commit per batch, but without
//! parsing, validation, deduplication, hashing, projections or signing.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use casetrail_app::{DbLocation, Incoming, Ledger, IMPORT_BATCH_RECORDS};
use casetrail_exchange::JsonLines;
use casetrail_ledger::{Store, StoredEvent};
use casetrail_sim::{Scale, SimConfig};

use crate::DbArgs;

pub fn run(db: &DbArgs, records: u64) -> Result<ExitCode> {
    let work =
        tempfile::Builder::new().prefix("casetrail-bench").tempdir().context("cannot create a temporary directory")?;
    let data = work.path().join("records.jsonl");
    eprintln!("simulating {records} records …");
    let written = simulate_records(&data, records)?;
    let location = DbLocation::parse(&db.db);
    let (baseline_db, import_db) = fresh_databases(&location, work.path())?;

    eprintln!("baseline: bare batched insert of {written} rows …");
    let started = Instant::now();
    bare_insert(baseline_db.location.open()?, &data)?;
    let baseline_secs = started.elapsed().as_secs_f64();

    eprintln!("casetrail import of the same {written} records …");
    let key_path = work.path().join("bench.key");
    let mut ledger = Ledger::open(&import_db.location, Some(&key_path))?;
    let started = Instant::now();
    let file = BufReader::with_capacity(1 << 20, File::open(&data)?);
    let lines = JsonLines::new(file).map_while(|line| line.ok().map(Incoming::from_raw));
    let summary = ledger.import("bench", lines, |_| {})?;
    let import_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(summary.accepted == written, "the import accepted {} of {written} records", summary.accepted);

    let baseline_rate = written as f64 / baseline_secs;
    let import_rate = written as f64 / import_secs;
    println!("backend:            {}", ledger.store().backend());
    println!("records:            {written}");
    println!("baseline (bare):    {baseline_rate:>10.0} records/s  ({baseline_secs:.1} s)");
    println!("casetrail import:   {import_rate:>10.0} records/s  ({import_secs:.1} s)");
    println!("ratio:              {:.2} of the baseline", import_rate / baseline_rate);
    if let Some(peak) = peak_rss_kib() {
        println!("peak RSS (process): {} MiB", peak / 1024);
    }
    drop(ledger);
    baseline_db.drop_database()?;
    import_db.drop_database()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes at least `records` simulated records (region scale, truncated).
fn simulate_records(path: &Path, records: u64) -> Result<u64> {
    let scale = if records <= 100_000 { Scale::City } else { Scale::Region };
    let config = SimConfig::new(scale, 42);
    let mut file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut limited = LimitedLines { out: &mut file, lines: 0, max: records };
    casetrail_sim::simulate(&config, &mut limited, &mut |_| {})?;
    let written = limited.lines;
    file.flush()?;
    Ok(written)
}

/// Keeps the first `max` lines and silently drops the rest.
struct LimitedLines<'a> {
    out: &'a mut dyn Write,
    lines: u64,
    max: u64,
}

impl Write for LimitedLines<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            if self.lines >= self.max {
                break;
            }
            self.out.write_all(chunk)?;
            if chunk.ends_with(b"\n") {
                self.lines += 1;
            }
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bare_insert(mut store: Box<dyn Store>, data: &Path) -> Result<()> {
    let file = BufReader::with_capacity(1 << 20, File::open(data)?);
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let mut batch = Vec::with_capacity(IMPORT_BATCH_RECORDS);
    let mut seq = 0u64;
    let mut flush = |batch: &mut Vec<StoredEvent>| -> Result<()> {
        let mut tx = store.begin()?;
        tx.insert_events(batch)?;
        tx.commit()?;
        batch.clear();
        Ok(())
    };
    for line in JsonLines::new(file) {
        let line = line?;
        seq += 1;
        batch.push(StoredEvent {
            seq,
            recorded_at: now,
            source: "bench".into(),
            idempotency_key: format!("b-{seq}"),
            record_type: "bench".into(),
            schema_version: 1,
            at: now,
            canonical: line.bytes,
            leaf_hash: [0; 32],
            tree_root: [0; 32],
        });
        if batch.len() == IMPORT_BATCH_RECORDS {
            flush(&mut batch)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch)?;
    }
    Ok(())
}

struct BenchDb {
    location: DbLocation,
    admin_url: Option<String>,
    name: String,
}

impl BenchDb {
    fn drop_database(self) -> Result<()> {
        if let Some(admin) = self.admin_url {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))?;
        }
        Ok(())
    }
}

/// Two empty databases of the backend `location` names: SQLite files in the
/// work directory, or new PostgreSQL databases on the same server.
fn fresh_databases(location: &DbLocation, work: &Path) -> Result<(BenchDb, BenchDb)> {
    let make = |name: &str| -> Result<BenchDb> {
        match location {
            DbLocation::Sqlite(_) => Ok(BenchDb {
                location: DbLocation::Sqlite(PathBuf::from(work).join(format!("{name}.db"))),
                admin_url: None,
                name: name.into(),
            }),
            DbLocation::Postgres(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls)
                    .with_context(|| "cannot connect to PostgreSQL to create the benchmark databases")?;
                let database = format!("casetrail_bench_{name}_{}", std::process::id());
                // Two statements: DROP/CREATE DATABASE cannot run in a transaction.
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))?;
                client.batch_execute(&format!("CREATE DATABASE {database}"))?;
                let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(url);
                Ok(BenchDb {
                    location: DbLocation::Postgres(format!("{base}/{database}")),
                    admin_url: Some(url.clone()),
                    name: database,
                })
            }
        }
    };
    Ok((make("baseline")?, make("import")?))
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
