//! `casetrail bench scorecard`: the agencies' scorecard read from the
//! projections (exactly what `casetrail report scorecard` runs) next to the
//! same counts by one SQL `GROUP BY` over the raw events, in the same run on
//! an existing database. Nothing is imported.
//!
//! - **scorecard**: the registry's `scorecard` report, one warm-up and then
//!   `--rounds` timed runs (min / median / max).
//! - **SQL**: one statement over `events` (the record's canonical JSON),
//!   per agency: received = registrations at it + forwards to it +
//!   assignments to it; forwarded = forwards from it; answered = answers by
//!   it. Run once: it reads every event.
//!
//! Then the two are compared agency by agency on `received`, `forwarded` and
//! `answered`. Small differences are legitimate, so they are listed, not
//! fatal: an assignment to the agency that already holds the appeal, and a
//! forward refused after a competence assignment, are events but not turns.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use casetrail_app::DbLocation;
use casetrail_reports::{ReportParams, Table, REPORTS};

use crate::DbArgs;

/// received, forwarded, answered.
type Counts = [u64; 3];

const COLUMNS: [&str; 3] = ["received", "forwarded", "answered"];

/// The goal in the issue: the scorecard under this many milliseconds…
const GOAL_MS: f64 = 100.0;
/// …and at least this many times faster than the SQL.
const GOAL_RATIO: f64 = 100.0;

pub fn run(db: &DbArgs, rounds: u32, as_of: Option<chrono::NaiveDate>) -> Result<ExitCode> {
    #[allow(clippy::disallowed_methods)]
    let today = casetrail_types::time::local_date(chrono::Utc::now());
    let params = ReportParams { from: None, to: None, as_of: as_of.unwrap_or(today) };
    let report = REPORTS.iter().find(|report| report.name == "scorecard").context("no report named scorecard")?;
    let mut ledger = crate::commands::open(db)?;

    eprintln!("scorecard from projections: 1 warm-up + {rounds} rounds (as of {}) …", params.as_of);
    let table = (report.compute)(ledger.store(), &params)?;
    ensure!(!table.rows.is_empty(), "the scorecard has no rows: is there anything imported in {}?", db.db);
    let mut times_ms = Vec::new();
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        (report.compute)(ledger.store(), &params)?;
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times_ms.sort_by(f64::total_cmp);
    let median_ms = times_ms[times_ms.len() / 2];
    drop(ledger);

    eprintln!("the same counts by one SQL GROUP BY over the raw events (once: it reads every event) …");
    let started = Instant::now();
    let by_sql = match DbLocation::parse(&db.db) {
        DbLocation::Sqlite(path) => sqlite_counts(&path)?,
        DbLocation::Postgres(url) => postgres_counts(&url)?,
    };
    let sql_ms = started.elapsed().as_secs_f64() * 1000.0;
    let from_report = report_counts(&table)?;

    let agencies: BTreeSet<&String> = from_report.keys().chain(by_sql.keys()).collect();
    let differing: Vec<&String> =
        agencies.iter().copied().filter(|agency| from_report.get(*agency) != by_sql.get(*agency)).collect();
    let ratio = sql_ms / median_ms;
    println!("scorecard rows:             {}", table.rows.len());
    println!(
        "scorecard from projections: min {:.2} ms, median {median_ms:.2} ms, max {:.2} ms ({} rounds)",
        times_ms[0],
        times_ms[times_ms.len() - 1],
        times_ms.len()
    );
    println!("SQL GROUP BY over events:   {sql_ms:.2} ms (run once)");
    println!("scorecard from projections is {ratio:.0}× faster");
    println!(
        "goal (median under {GOAL_MS} ms and at least {GOAL_RATIO}× faster): median {}, ratio {}",
        if median_ms < GOAL_MS { "met" } else { "NOT met" },
        if ratio >= GOAL_RATIO { "met" } else { "NOT met" }
    );
    println!(
        "agreement on {}: {} of {} agencies",
        COLUMNS.join(", "),
        agencies.len() - differing.len(),
        agencies.len()
    );
    for agency in differing.iter().take(10) {
        let show = |counts: Option<&Counts>| counts.map_or_else(|| "absent".to_owned(), |c| format!("{c:?}"));
        println!(
            "  {agency}: scorecard {} vs SQL {} ({})",
            show(from_report.get(*agency)),
            show(by_sql.get(*agency)),
            COLUMNS.join(", ")
        );
    }
    if differing.len() > 10 {
        println!("  … and {} more", differing.len() - 10);
    }
    if !differing.is_empty() {
        println!("  (the SQL also counts assignments to the agency already holding the appeal and refused forwards)");
    }
    Ok(ExitCode::SUCCESS)
}

/// The scorecard's received, forwarded and answered columns by agency.
fn report_counts(table: &Table) -> Result<BTreeMap<String, Counts>> {
    let index = |name: &str| table.columns.iter().position(|column| *column == name);
    let agency = index("agency").context("the scorecard has no agency column")?;
    let mut columns = [0; 3];
    for (slot, name) in columns.iter_mut().zip(COLUMNS) {
        *slot = index(name).with_context(|| format!("the scorecard has no {name} column"))?;
    }
    let mut counts = BTreeMap::new();
    for row in &table.rows {
        let name = row[agency].as_str().unwrap_or_default().to_owned();
        counts.insert(name, columns.map(|column| row[column].as_u64().unwrap_or(0)));
    }
    Ok(counts)
}

/// The statement, given how to read one field of a record's canonical JSON.
fn group_by_sql(field: impl Fn(&str) -> String) -> String {
    format!(
        "SELECT agency, SUM(received), SUM(forwarded), SUM(answered) FROM (
           SELECT {agency} AS agency, 1 AS received, 0 AS forwarded, 0 AS answered
             FROM events WHERE record_type = 'appeal.registered'
           UNION ALL SELECT {to}, 1, 0, 0 FROM events
             WHERE record_type IN ('appeal.forwarded', 'appeal.assigned')
           UNION ALL SELECT {from}, 0, 1, 0 FROM events WHERE record_type = 'appeal.forwarded'
           UNION ALL SELECT {agency}, 0, 0, 1 FROM events WHERE record_type = 'appeal.answered'
         ) AS turns GROUP BY agency",
        agency = field("agency"),
        to = field("to"),
        from = field("from"),
    )
}

fn sqlite_counts(path: &std::path::Path) -> Result<BTreeMap<String, Counts>> {
    let store = casetrail_store_sqlite::SqliteStore::open(path)?;
    let sql = group_by_sql(|name| format!("json_extract(CAST(canonical AS TEXT), '$.{name}')"));
    let mut statement = store.connection().prepare(&sql)?;
    let rows = statement.query_map([], |row| {
        let counts: [i64; 3] = [row.get(1)?, row.get(2)?, row.get(3)?];
        Ok((row.get::<_, Option<String>>(0)?, counts))
    })?;
    let mut counts = BTreeMap::new();
    for row in rows {
        let (agency, sums) = row?;
        counts.insert(agency.unwrap_or_default(), sums.map(|sum| sum as u64));
    }
    Ok(counts)
}

fn postgres_counts(url: &str) -> Result<BTreeMap<String, Counts>> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).context("cannot connect to PostgreSQL")?;
    let sql = group_by_sql(|name| format!("(convert_from(canonical, 'UTF8')::jsonb ->> '{name}')"));
    let mut counts = BTreeMap::new();
    for row in client.query(&sql, &[])? {
        let sums: [i64; 3] = [row.try_get(1)?, row.try_get(2)?, row.try_get(3)?];
        counts.insert(row.try_get::<_, Option<String>>(0)?.unwrap_or_default(), sums.map(|sum| sum as u64));
    }
    Ok(counts)
}
