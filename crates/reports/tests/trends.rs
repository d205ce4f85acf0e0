//! The `trends` report on the appeals scenario (`data/appeals-scenario.jsonl`):
//! appeals registered per month by category, region and agency, counted by
//! hand from the scenario's eleven registrations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, sqlite};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_reports::{run, ReportParams};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

const SCENARIO: &str = include_str!("data/appeals-scenario.jsonl");

fn loaded() -> (Ledger, Box<dyn std::any::Any>) {
    let (mut ledger, guard) = ledger_at(sqlite(), Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).single().unwrap());
    let lines = JsonLines::new(SCENARIO.as_bytes()).map(|line| Incoming::from_raw(line.unwrap()));
    let summary = ledger.import("scenario", lines, |_| {}).unwrap();
    assert_eq!(summary.quarantined, 0);
    (ledger, guard)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn trends(ledger: &mut Ledger, from: Option<&str>, to: Option<&str>, as_of: &str) -> Value {
    let params = ReportParams { from: from.map(day), to: to.map(day), as_of: day(as_of) };
    let table = run("trends", ledger.store(), &params).unwrap();
    assert_eq!(table.columns, ["month", "category", "region", "agency", "appeals", "forwarded", "wandering"]);
    Value::Array(table.objects().into_iter().map(Value::Object).collect())
}

/// `(appeals, forwarded, wandering)`.
fn row(month: &str, category: &str, agency: &str, (appeals, forwarded, wandering): (u64, u64, u64)) -> Value {
    // Every scenario agency is in Astana (710000000); A-06's own region
    // 711210000 (a district of Astana) counts as Astana too.
    json!({"month": month, "category": category, "region": "710000000", "agency": agency, "appeals": appeals,
           "forwarded": forwarded, "wandering": wandering})
}

#[test]
fn appeals_per_month_by_category_region_and_agency() {
    let (mut ledger, _guard) = loaded();
    assert_eq!(
        trends(&mut ledger, None, None, "2026-05-04"),
        json!([
            row("2021-06", "housing", "akimat-astana", (1, 0, 0)),
            // justice -> police -> akimat.
            row("2024-03", "notary", "justice-astana", (1, 1, 1)),
            // forwarded once (3 Apr).
            row("2026-03", "clinics", "health-astana", (2, 1, 0)),
            row("2026-03", "housing", "akimat-astana", (1, 0, 0)),
            // akimat -> police -> akimat (ping-pong).
            row("2026-03", "noise", "akimat-astana", (1, 1, 1)),
            row("2026-03", "notary", "justice-astana", (1, 0, 0)),
            row("2026-03", "parks", "akimat-astana", (1, 0, 0)),
            // forwarded once.
            row("2026-03", "roads", "akimat-astana", (1, 1, 0)),
            // four forwards.
            row("2026-03", "schools", "edu-astana", (1, 1, 1)),
            row("2026-04", "housing", "police-astana", (1, 0, 0)),
        ])
    );
}

#[test]
fn the_period_and_the_as_of_day_limit_the_registrations_counted() {
    let (mut ledger, _guard) = loaded();
    // A-03 (5 Mar), A-04 (6 Mar), A-05 (Saturday 7 Mar), A-08 (10 Mar).
    assert_eq!(
        trends(&mut ledger, Some("2026-03-05"), Some("2026-03-31"), "2026-05-04"),
        json!([
            row("2026-03", "clinics", "health-astana", (2, 1, 0)),
            row("2026-03", "notary", "justice-astana", (1, 0, 0)),
            row("2026-03", "parks", "akimat-astana", (1, 0, 0)),
        ])
    );
    // Nothing registered after the as-of day counts
    // (2 Mar) and A-02 (3 Mar) remain.
    assert_eq!(
        trends(&mut ledger, Some("2026-03-01"), None, "2026-03-03"),
        json!([
            // By the end of 3 March had been forwarded once
            // each (their second forwards came on the 4th); A-02 not yet.
            row("2026-03", "housing", "akimat-astana", (1, 0, 0)),
            row("2026-03", "noise", "akimat-astana", (1, 1, 0)),
            row("2026-03", "roads", "akimat-astana", (1, 0, 0)),
            row("2026-03", "schools", "edu-astana", (1, 1, 0)),
        ])
    );
}
