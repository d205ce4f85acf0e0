//! The scorecard read from the counters the projector keeps agrees with the
//! scorecard computed from every appeal document, for whole years, months,
//! odd periods and as-of days, on the scenario with known truth and on a
//! simulated year; a database from before the counters gets them on open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::projector::{metric, tallies};
use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_ledger::{CounterDelta, ProjectionDoc};
use casetrail_reports::appeals::scorecard_by_scan;
use casetrail_reports::{run, ReportParams, Table};
use chrono::{NaiveDate, TimeZone, Utc};

const SCENARIO: &str = include_str!("data/appeals-scenario.jsonl");

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn loaded(backend: Backend, lines: &str) -> (Ledger, Box<dyn std::any::Any>) {
    let (mut ledger, guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).single().expect("instant"));
    let incoming = JsonLines::new(lines.as_bytes()).map(|line| Incoming::from_raw(line.expect("line")));
    let summary = ledger.import("test", incoming, |_| {}).expect("import");
    assert_eq!(summary.quarantined, 0);
    (ledger, guard)
}

fn scorecard(ledger: &mut Ledger, params: &ReportParams) -> Table {
    run("scorecard", ledger.store(), params).expect("scorecard")
}

fn scan(ledger: &mut Ledger, params: &ReportParams) -> Table {
    scorecard_by_scan(ledger.store(), params).expect("scan")
}

/// Every period × as-of day: the scorecard equals the scan.
fn assert_agree(ledger: &mut Ledger, periods: &[(Option<&str>, Option<&str>)], as_of_days: &[&str]) {
    for as_of in as_of_days {
        for (from, to) in periods {
            let params = ReportParams { from: from.map(day), to: to.map(day), as_of: day(as_of) };
            assert_eq!(scorecard(ledger, &params), scan(ledger, &params), "{from:?}..{to:?} as of {as_of}");
        }
    }
}

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::$name(super::sqlite()) } )+ }
        mod on_postgres { $( #[test] fn $name() { super::$name(super::postgres()) } )+ }
    };
}

on_both_backends!(scenario_counters_agree_with_the_documents, an_old_database_gets_its_counters_on_open);

fn scenario_counters_agree_with_the_documents(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend, SCENARIO);
    let periods = [
        (None, None),
        (Some("2026-03-01"), Some("2026-04-30")),
        (Some("2026-03-15"), Some("2026-04-10")),
        (Some("2026-02-01"), Some("2026-03-31")),
        (Some("2026-04-01"), None),
        (None, Some("2026-03-09")),
        (Some("2024-01-01"), Some("2024-12-31")),
    ];
    // Before the last change (the scan answers), at it, and long after
    // (the counters answer, overdue turns counted as of that day).
    assert_agree(&mut ledger, &periods, &["2026-03-20", "2026-04-30", "2026-05-04", "2027-01-31"]);

    // The counters are what answers after the last change: a counter changed
    // by hand shows in the scorecard and not in the scan.
    let params = ReportParams { from: None, to: None, as_of: day("2027-01-31") };
    let honest = scorecard(&mut ledger, &params);
    let mut tx = ledger.store().begin().unwrap();
    let agency = honest.rows[0][0].as_str().unwrap().to_owned();
    let forged = CounterDelta {
        agency,
        day: day("2026-03-01"),
        metric: format!("{}received", metric::TALLY_MONTH_PREFIX),
        delta: 100,
    };
    tx.add_counters(&[forged]).unwrap();
    tx.commit().unwrap();
    assert_ne!(scorecard(&mut ledger, &params), honest);
    assert_eq!(scan(&mut ledger, &params), honest);
}

fn an_old_database_gets_its_counters_on_open(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend, &simulated_year());
    let kept = tally_counters(&mut ledger);
    assert!(kept.len() > 1_000, "a simulated year leaves many tally counters: {}", kept.len());

    // What a database written before the counters looks like: no tally
    // counters, no mark (an older mark here). Opening computes them.
    let mut tx = ledger.store().begin().unwrap();
    tx.clear_counters(metric::TALLY_DAY_PREFIX).unwrap();
    tx.clear_counters(metric::TALLY_MONTH_PREFIX).unwrap();
    let old = ProjectionDoc {
        kind: casetrail_app::projector::kind::META.into(),
        key: tallies::MARKER_KEY.into(),
        agency: None,
        doc: r#"{"version":0}"#.into(),
    };
    tx.store_docs(&[old]).unwrap();
    assert!(tallies::ensure(tx.as_mut(), &mut |_| {}).unwrap() > 1_000, "every appeal document is read");
    tx.commit().unwrap();
    assert_eq!(tally_counters(&mut ledger), kept, "computed from the documents = kept on append");

    let mut tx = ledger.store().begin().unwrap();
    assert_eq!(tallies::ensure(tx.as_mut(), &mut |_| {}).unwrap(), 0, "once only");
    tx.commit().unwrap();
}

#[test]
fn simulated_year_counters_agree_with_the_documents() {
    let (mut ledger, _guard) = loaded(sqlite(), &simulated_year());
    let periods = [
        (None, None),
        (Some("2025-01-01"), Some("2025-12-31")),
        (Some("2025-02-01"), Some("2025-02-28")),
        (Some("2025-03-17"), Some("2025-06-03")),
        (Some("2025-12-31"), None),
        (None, Some("2025-01-01")),
    ];
    assert_agree(&mut ledger, &periods, &["2026-06-30"]);
}

fn tally_counters(ledger: &mut Ledger) -> Vec<(String, NaiveDate, String, i64)> {
    let counters = ledger.store().counters().unwrap();
    counters.into_iter().filter(|(_, _, metric, _)| metric.starts_with("tally")).collect()
}

fn simulated_year() -> String {
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 5);
    config.appeals_per_year = Some(4_000);
    config.fines_per_year = Some(200);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).expect("simulate");
    String::from_utf8(out).expect("utf-8")
}
