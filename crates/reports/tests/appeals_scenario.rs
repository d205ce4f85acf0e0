//! A scenario of appeals with known truth (`data/appeals-scenario.jsonl`),
//! imported into a fresh database on SQLite and on PostgreSQL: the
//! `wandering`, `overdue`, `forwards` and `scorecard` reports, the alerts
//! and the dispute agree with the truth computed by hand below.
//!
//! Calendar facts used (data/calendar): 2026 days off in March–April:
//! Mon 9 Mar (8 March moved), 23–25 Mar (Nauryz); working days are
//! Mar 2–6, 10–13, 16–20, 26–27, 30–31; Apr 1–3, 6–10, 13–17, 20–24, 27–30.
//! 2024: 8, 21, 22, 25 Mar off.
//!
//! Sequence numbers: the 6 agencies are 1–6; the scenario's event `e-NN`
//! is sequence NN + 6.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_reports::{run, ReportParams};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Map, Value};

const SCENARIO: &str = include_str!("data/appeals-scenario.jsonl");

fn loaded(backend: Backend) -> (Ledger, Box<dyn std::any::Any>) {
    let (mut ledger, guard) = ledger_at(backend, Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).single().expect("instant"));
    let lines = JsonLines::new(SCENARIO.as_bytes()).map(|line| Incoming::from_raw(line.expect("line")));
    let summary = ledger.import("scenario", lines, |_| {}).expect("import");
    let quarantine = ledger.store().quarantine(true, 10).expect("quarantine");
    assert_eq!(
        (summary.accepted, summary.quarantined),
        (40, 0),
        "every line lands: {:?}",
        quarantine.iter().map(|q| &q.entry.reason).collect::<Vec<_>>()
    );
    ledger.verify(|_| {}).unwrap_or_else(|failure| panic!("verify failed: {failure}"));
    (ledger, guard)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn report(
    ledger: &mut Ledger,
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    as_of: &str,
) -> Vec<Map<String, Value>> {
    let params = ReportParams { from: from.map(day), to: to.map(day), as_of: day(as_of) };
    run(name, ledger.store(), &params).expect("report").objects()
}

/// Only the named fields of each row, as JSON.
fn pick(rows: &[Map<String, Value>], fields: &[&str]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| Value::Object(fields.iter().map(|f| ((*f).to_owned(), row[*f].clone())).collect()))
            .collect(),
    )
}

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::$name(super::sqlite()) } )+ }
        mod on_postgres { $( #[test] fn $name() { super::$name(super::postgres()) } )+ }
    };
}

on_both_backends!(
    wandering_matches_the_truth,
    overdue_matches_the_truth,
    forwards_match_the_truth,
    scorecard_matches_the_truth,
    alerts_disputes_and_repeats_match_the_truth,
    rebuild_gives_the_same_reports,
);

fn wandering_matches_the_truth(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let rows = report(&mut ledger, "wandering", None, None, "2026-04-30");
    let fields = ["appeal", "forwards", "cycle", "path", "citizen_working_days"];
    assert_eq!(
        pick(&rows, &fields),
        json!([
            // akimat -> police -> akimat (ping-pong) -> police (assigned);
            // answered Fri 20 Mar: Mar 3–6 (4), 10–13 (4), 16–20 (5) = 13.
            {"appeal": "A-06", "forwards": 2, "cycle": true,
             "path": ["akimat-astana", "police-astana", "akimat-astana", "police-astana"], "citizen_working_days": 13},
            // four forwards, unanswered; as of 30 Apr: March 3–31 = 4+4+5+4 = 17, April 1–30 = 22 -> 39.
            {"appeal": "A-07", "forwards": 4, "cycle": false,
             "path": ["edu-astana", "akimat-astana", "health-astana", "justice-astana", "police-astana"], "citizen_working_days": 39},
            // A-11 (2024): registered Tue 19 Mar, answered Tue 16 Apr: Mar 20, 26–29 (5),
            // Apr 1–5 (5), 8–12 (5), 15–16 (2) = 17 (21, 22, 25 Mar are Nauryz).
            {"appeal": "A-11", "forwards": 2, "cycle": false,
             "path": ["justice-astana", "police-astana", "akimat-astana"], "citizen_working_days": 17},
        ])
    );
    let march_2026 = report(&mut ledger, "wandering", Some("2026-03-01"), Some("2026-03-31"), "2026-04-30");
    assert_eq!(march_2026.len(), 2, "the period filters by first registration");
}

fn overdue_matches_the_truth(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let fields = ["appeal", "holder", "statutory_due", "citizen_working_days"];
    let rows = report(&mut ledger, "overdue", None, None, "2026-04-30");
    assert_eq!(
        pick(&rows, &fields),
        json!([
            // police received it Fri 6 Mar; 15 working days after: 10–13, 16–20,
            // 26–27, 30–31, 1–2 Apr -> 2 Apr (restarted; Nauryz skipped). Citizen: 39.
            {"appeal": "A-07", "holder": "police-astana", "statutory_due": "2026-04-02", "citizen_working_days": 39},
            // Sat 7 Mar counts as Tue 10 Mar (Mon 9 Mar off): 11–13, 16–20, 26–27,
            // 30–31, 1–3 Apr -> 3 Apr. Citizen: the same start, Tue 10 Mar (DESIGN.md §3),
            // so working days after 10 Mar up to 30 Apr: March 11–31 = 12, April 22 -> 34.
            {"appeal": "A-05", "holder": "akimat-astana", "statutory_due": "2026-04-03", "citizen_working_days": 34},
        ])
    );
    // 19 and 20 working days past due by 30 Apr.
    assert_eq!(
        (rows[0]["overdue_working_days"].clone(), rows[1]["overdue_working_days"].clone()),
        (json!(20), json!(19))
    );
    let rows = report(&mut ledger, "overdue", None, None, "2026-04-03");
    assert_eq!(
        pick(&rows, &fields),
        json!([
            // Fri 6 Mar + 15 working days = Thu 2 Apr; answered only on 6 Apr.
            // Citizen on 3 Apr: March 10–31 = 13, April 1–3 = 3 -> 16.
            {"appeal": "A-04", "holder": "justice-astana", "statutory_due": "2026-04-02", "citizen_working_days": 16},
            // A-07 on 3 Apr: 17 + 3 = 20. (A-03's term was extended to 20 Apr; A-05
            // is due on 3 Apr itself, so not yet overdue.)
            {"appeal": "A-07", "holder": "police-astana", "statutory_due": "2026-04-02", "citizen_working_days": 20},
        ])
    );
}

fn forwards_match_the_truth(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let rows = report(&mut ledger, "forwards", Some("2026-03-01"), Some("2026-04-30"), "2026-04-30");
    // akimat->police; A-06 police->akimat (the refused forward
    // after the assignment is not a forward); A-07's chain; A-08 health->akimat.
    assert_eq!(
        Value::Array(rows.into_iter().map(Value::Object).collect()),
        json!([
            {"from": "akimat-astana", "to": "police-astana", "count": 2},
            {"from": "akimat-astana", "to": "health-astana", "count": 1},
            {"from": "edu-astana", "to": "akimat-astana", "count": 1},
            {"from": "health-astana", "to": "akimat-astana", "count": 1},
            {"from": "health-astana", "to": "justice-astana", "count": 1},
            {"from": "justice-astana", "to": "police-astana", "count": 1},
            {"from": "police-astana", "to": "akimat-astana", "count": 1},
        ])
    );
    let all = report(&mut ledger, "forwards", None, None, "2026-04-30");
    let total: u64 = all.iter().map(|row| row["count"].as_u64().expect("count")).sum();
    assert_eq!(total, 10, "8 in 2026 and A-11's two in 2024");
}

/// Turns received 1 Mar – 30 Apr 2026, as of 30 Apr (docs/ratings.md):
///
/// | agency  | turns (appeal: outcome)                                              |
/// |---------|----------------------------------------------------------------------|
/// | akimat  | A-01 answered on time, A-02 fwd, A-05 open overdue, A-06 fwd, A-06 (2nd stay) reassigned, A-07 fwd, A-08 answered on time |
/// | police  | A-02 on time, A-06 fwd ping-pong, A-06 assigned: on time, A-07 open overdue, A-09 on time |
/// | health  | A-03 on time (extended), A-07 fwd, A-08 fwd late                      |
/// | justice | A-04 answered late, A-07 fwd                                          |
/// | edu     | A-07 fwd                                                              |
fn scorecard_matches_the_truth(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let rows = report(&mut ledger, "scorecard", Some("2026-03-01"), Some("2026-04-30"), "2026-04-30");
    let fields = [
        "agency",
        "received",
        "answered_on_time_pct",
        "forwarded_pct",
        "late_forwards",
        "wandering",
        "ping_pong",
        "repeat_pct",
        "median_citizen_working_days",
        "score",
        "rank",
    ];
    assert_eq!(
        pick(&rows, &fields),
        json!([
            // police: on time 3/(3+1) = 75.0; forwarded 1/5 = 20.0; ping-pong 1;
            // wandering {A-06}; median of 16, 13, 2 = 13.
            // (40·75 + 15·80 + 10·100 + 10·80 + 10·80 + 10·100 + 5·(100·17/30)) / 100 = 80.83
            {"agency": "police-astana", "received": 5, "answered_on_time_pct": 75.0, "forwarded_pct": 20.0,
             "late_forwards": 0, "wandering": 1, "ping_pong": 1, "repeat_pct": 0.0,
             "median_citizen_working_days": 13.0, "score": 80.8, "rank": 1},
            // health: 1/1 = 100.0; 2/3 = 66.7; late 1; wandering {A-07}; median 27
            // March 6–31 = 14, April 1–17 = 13).
            // (4000 + 15·33.3 + 10·66.67 + 10·66.67 + 1000 + 1000 + 5·10) / 100 = 78.83
            {"agency": "health-astana", "received": 3, "answered_on_time_pct": 100.0, "forwarded_pct": 66.7,
             "late_forwards": 1, "wandering": 1, "ping_pong": 0, "repeat_pct": 0.0,
             "median_citizen_working_days": 27.0, "score": 78.8, "rank": 2},
            // edu: nothing answered or overdue (null counts as 100), forwarded 1/1.
            // (4000 + 0 + 1000 + 0 + 1000 + 1000 + 500) / 100 = 75.0
            {"agency": "edu-astana", "received": 1, "answered_on_time_pct": null, "forwarded_pct": 100.0,
             "late_forwards": 0, "wandering": 1, "ping_pong": 0, "repeat_pct": null,
             "median_citizen_working_days": null, "score": 75.0, "rank": 3},
            // akimat: see akimat_score_recomputed_by_hand.
            {"agency": "akimat-astana", "received": 7, "answered_on_time_pct": 66.7, "forwarded_pct": 42.9,
             "late_forwards": 0, "wandering": 2, "ping_pong": 0, "repeat_pct": 50.0,
             "median_citizen_working_days": 21.5, "score": 68.8, "rank": 4},
            // justice: 0/1 on time (A-04 late); 1/2 forwarded; median 17 (A-04: March
            // 10–31 = 13, April 1–6 = 4). (0 + 750 + 1000 + 500 + 1000 + 1000 + 5·43.33) / 100 = 44.67
            {"agency": "justice-astana", "received": 2, "answered_on_time_pct": 0.0, "forwarded_pct": 50.0,
             "late_forwards": 0, "wandering": 1, "ping_pong": 0, "repeat_pct": 0.0,
             "median_citizen_working_days": 17.0, "score": 44.7, "rank": 5},
        ])
    );
    akimat_score_recomputed_by_hand(&rows[3]);
}

/// docs/ratings.md, step by step, for the akimat.
fn akimat_score_recomputed_by_hand(row: &Map<String, Value>) {
    // Inputs, from the table above: received 7; answered 2 (A-01 on 20 Mar,
    // due 27 Mar; A-08 on 24 Apr, due 24 Apr), both on time; 1 overdue
    // unanswered; forwarded 3, none late, none back
    // to an earlier holder; wandering appeals among those forwarded;
    // repeats: A-09 repeats A-01, which the akimat answered -> 1 of 2 answers.
    // Citizen's days at the answers: A-01 13 (3–6, 10–13, 16–20 Mar),
    // A-08 30 (after Tue 10 Mar: 11–13, 16–20, 26–27, 30–31 = 12; 1–24 Apr = 18).
    assert_eq!(row["answered"], json!(2));
    assert_eq!(row["answered_on_time"], json!(2));
    assert_eq!(row["overdue_unanswered"], json!(1));
    assert_eq!(row["forwarded"], json!(3));
    assert_eq!(row["repeated"], json!(1));
    let on_time_pct = 66.7; // 100 · 2 / (2 + 1), one decimal
    let forwarded_pct = 42.9; // 100 · 3 / 7
    let repeat_pct = 50.0; // 100 · 1 / 2
    let median = (13.0 + 30.0) / 2.0; // 21.5
    let components = [
        (40.0, on_time_pct),
        (15.0, 100.0 - forwarded_pct),
        (10.0, 100.0 - 100.0 * 0.0 / 7.0),
        (10.0, 100.0 - 100.0 * 2.0 / 7.0),
        (10.0, 100.0 - 100.0 * 0.0 / 7.0),
        (10.0, 100.0 - repeat_pct),
        (5.0, 100.0 * (30.0_f64 - median).max(0.0) / 30.0),
    ];
    let weights: f64 = components.iter().map(|(weight, _)| weight).sum();
    assert_eq!(weights, 100.0);
    // 2668 + 856.5 + 1000 + 714.29 + 1000 + 500 + 141.67 = 6880.45 -> 68.8
    let score: f64 = components.iter().map(|(weight, value)| weight * value).sum::<f64>() / 100.0;
    assert_eq!((score * 10.0).round() / 10.0, 68.8);
    assert_eq!(row["score"], json!(68.8));
    assert_eq!(row["median_citizen_working_days"], json!(median));
}

fn alerts_disputes_and_repeats_match_the_truth(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let mut alerts = Vec::new();
    casetrail_reports::for_each_doc(ledger.store(), "alert", |_, alert: Value| {
        if alert["subject"].as_str().is_some_and(|s| s.starts_with("appeal/")) {
            alerts.push(json!([alert["alert"], alert["subject"], alert["agency"], alert["events"]]));
        }
    })
    .expect("alerts");
    assert_eq!(
        Value::Array(alerts),
        json!([
            ["late_answer", "appeal/A-04", "justice-astana", [15, 16]],
            // A-06 went back to the akimat, which received it at registration (seq 18).
            ["ping_pong", "appeal/A-06", "police-astana", [18, 20]],
            ["assigned_forward_attempt", "appeal/A-06", "police-astana", [21, 22]],
            // A-07's forwards are seqs 25..28: the 3rd and the 4th are hot potatoes.
            ["hot_potato", "appeal/A-07", "health-astana", [25, 26, 27]],
            ["hot_potato", "appeal/A-07", "justice-astana", [25, 26, 27, 28]],
            // health received it Tue 10 Mar; forward by Fri 13 Mar; due Fri 3 Apr;
            // forwarded on 3 Apr: late and on the last day.
            ["late_forward", "appeal/A-08", "health-astana", [29, 30]],
            ["forward_on_last_day", "appeal/A-08", "health-astana", [29, 30]],
            // A-10 (2007 law): received 14 Jun 2021, at most 30 calendar days -> 14 Jul.
            ["extension_beyond_max", "appeal/A-10", "akimat-astana", [34, 35]],
        ])
    );
    let dispute: Value =
        serde_json::from_str(&ledger.store().doc("dispute", "A-06").expect("read").expect("dispute").doc)
            .expect("json");
    assert_eq!(dispute["addressed_to"], json!("prokuratura-astana"), "region 711210000 belongs to Astana (71)");
    assert_eq!(dispute["status"], json!("settled"));
    assert_eq!(dispute["assigned_to"], json!("police-astana"));
    assert_eq!(dispute["events"], json!([18, 20]));
    let repeat: Value =
        serde_json::from_str(&ledger.store().doc("appeal", "A-09").expect("read").expect("appeal").doc).expect("json");
    assert_eq!(repeat["repeat_of"]["appeal"], json!("A-01"));
    assert_eq!(repeat["repeat_of"]["agency"], json!("akimat-astana"));
    let old: Value =
        serde_json::from_str(&ledger.store().doc("appeal", "A-10").expect("read").expect("appeal").doc).expect("json");
    assert_eq!(old["holdings"][0]["regime"], json!("law-2007-221"));
    assert_eq!(old["holdings"][0]["due"], json!("2021-06-29"), "15 calendar days");
    // A-06 stays with the police after the refused forward.
    let refused = ledger.store().doc("appeal", "A-06").expect("read").expect("appeal");
    assert_eq!(refused.agency.as_deref(), Some("police-astana"));
}

fn rebuild_gives_the_same_reports(backend: Backend) {
    let (mut ledger, _guard) = loaded(backend);
    let names = ["scorecard", "wandering", "overdue", "forwards"];
    let before: Vec<_> = names.iter().map(|name| report(&mut ledger, name, None, None, "2026-04-30")).collect();
    ledger.rebuild(|_| {}).expect("rebuild");
    let after: Vec<_> = names.iter().map(|name| report(&mut ledger, name, None, None, "2026-04-30")).collect();
    assert_eq!(before, after);
}
