//! One conformance suite, run against every storage backend: the same
//! behaviour on SQLite and PostgreSQL. Every test ends with `verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{ImportSummary, Incoming, Ledger};
use casetrail_exchange::JsonLines;
use chrono::{TimeZone, Utc};

fn ledger(backend: Backend) -> (Ledger, Box<dyn std::any::Any>) {
    ledger_at(backend, Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).single().expect("instant"))
}

fn import(ledger: &mut Ledger, source: &str, text: &str) -> ImportSummary {
    let lines = JsonLines::new(text.as_bytes()).map(|line| Incoming::from_raw(line.expect("line")));
    ledger.import(source, lines, |_| {}).expect("import")
}

fn verified(ledger: &mut Ledger) -> u64 {
    ledger.verify(|_| {}).unwrap_or_else(|failure| panic!("verify failed: {failure}")).events
}

const SCENARIO: &str = include_str!("data/scenario.jsonl");
const WITH_BAD_LINES: &str = include_str!("data/with-bad-lines.jsonl");

macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::$name(super::sqlite()) } )+ }
        mod on_postgres { $( #[test] fn $name() { super::$name(super::postgres()) } )+ }
    };
}

conformance!(
    imports_and_verifies,
    reimport_changes_nothing,
    bad_lines_are_quarantined_and_good_lines_land,
    impossible_events_are_quarantined_with_the_rule,
    quarantine_replay_lands_what_now_fits,
    incremental_projections_equal_a_rebuild,
    simulated_city_slice_round_trips,
);

fn imports_and_verifies(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    let summary = import(&mut ledger, "scenario", SCENARIO);
    let lines = SCENARIO.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!((summary.accepted, summary.duplicates, summary.quarantined), (lines, 0, 0));
    assert_eq!(summary.sequences, (1..=lines).collect::<Vec<_>>(), "sequence numbers are gap-free from 1");
    assert_eq!(verified(&mut ledger), lines);
    let heads = ledger.store().tree_heads().expect("heads");
    assert_eq!(heads.last().map(|h| h.head.size), Some(lines), "a signed head covers the whole import");
    let appeal = ledger.store().doc("appeal", "A-2026-0001").expect("read").expect("appeal projected");
    assert_eq!(appeal.agency.as_deref(), Some("mvd-astana"), "the holder after the forward");
}

fn reimport_changes_nothing(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    import(&mut ledger, "scenario", SCENARIO);
    let root_before = ledger.store().ledger_state().expect("state");
    let docs_before = snapshot(&mut ledger);
    let again = import(&mut ledger, "scenario", SCENARIO);
    assert_eq!(again.accepted, 0);
    assert_eq!(again.duplicates, SCENARIO.lines().filter(|l| !l.trim().is_empty()).count() as u64);
    assert_eq!(ledger.store().ledger_state().expect("state"), root_before);
    assert_eq!(snapshot(&mut ledger), docs_before, "projections unchanged by a re-import");
    verified(&mut ledger);
}

fn bad_lines_are_quarantined_and_good_lines_land(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    let summary = import(&mut ledger, "agency-x.jsonl", WITH_BAD_LINES);
    assert_eq!((summary.accepted, summary.quarantined), (3, 3));
    let entries = ledger.store().quarantine(true, 100).expect("quarantine");
    let found: Vec<(Option<u64>, Option<String>)> =
        entries.iter().map(|e| (e.entry.line, e.entry.field.clone())).collect();
    assert_eq!(
        found,
        vec![(Some(2), None), (Some(4), Some("applicant.iin".into())), (Some(6), Some("amount_kzt".into()))]
    );
    assert!(entries.iter().all(|e| e.entry.source == "agency-x.jsonl" && !e.entry.reason.is_empty()));
    assert_eq!(entries[1].entry.raw, WITH_BAD_LINES.lines().nth(3).expect("line 4").as_bytes(), "raw bytes kept");
    verified(&mut ledger);
}

fn impossible_events_are_quarantined_with_the_rule(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    import(&mut ledger, "scenario", SCENARIO);
    let summary = import(
        &mut ledger,
        "late",
        r#"{"type":"appeal.answered","at":"2026-04-01T10:00:00+05:00","appeal":"A-2026-0001","agency":"akimat-astana","outcome":"explained"}"#,
    );
    assert_eq!(summary.quarantined, 1);
    let entry = &ledger.store().quarantine(true, 10).expect("q")[0];
    assert!(entry.entry.reason.contains("does not hold"), "{}", entry.entry.reason);
    verified(&mut ledger);
}

fn quarantine_replay_lands_what_now_fits(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    let forward = r#"{"type":"appeal.forwarded","id":"f-1","at":"2026-03-03T10:00:00+05:00","appeal":"A-9","from":"akimat-astana","to":"mvd-astana","reason":"not_in_competence"}"#;
    assert_eq!(
        import(&mut ledger, "src", forward).quarantined,
        1,
        "a forward of an unknown appeal waits in quarantine"
    );
    let registered = r#"{"type":"appeal.registered","id":"r-1","at":"2026-03-02T10:00:00+05:00","appeal":"A-9","agency":"akimat-astana","applicant":{"iin":"850808310738"},"channel":"portal","kind":"complaint","category":"housing"}"#;
    assert_eq!(import(&mut ledger, "src", registered).accepted, 1);
    let replay = ledger.replay_quarantine().expect("replay");
    assert_eq!((replay.accepted, replay.quarantined), (1, 0));
    assert!(ledger.store().quarantine(true, 10).expect("q").is_empty());
    let again = ledger.replay_quarantine().expect("replay twice");
    assert_eq!(again, ImportSummary::default(), "replaying twice does nothing");
    verified(&mut ledger);
}

fn incremental_projections_equal_a_rebuild(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    import(&mut ledger, "scenario", SCENARIO);
    import(&mut ledger, "agency-x.jsonl", WITH_BAD_LINES);
    let incremental = snapshot(&mut ledger);
    assert!(!incremental.0.is_empty() && !incremental.1.is_empty());
    ledger.rebuild(|_| {}).expect("rebuild");
    assert_eq!(snapshot(&mut ledger), incremental);
    verified(&mut ledger);
}

fn simulated_city_slice_round_trips(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    let text = simulated_slice();
    let lines = text.lines().count() as u64;
    let summary = import(&mut ledger, "sim", &text);
    assert_eq!(
        summary.quarantined,
        0,
        "the simulator writes only valid, consistent records: {:?}",
        ledger.store().quarantine(true, 3)
    );
    assert_eq!(summary.accepted, lines);
    let incremental = snapshot(&mut ledger);
    ledger.rebuild(|_| {}).expect("rebuild");
    assert_eq!(snapshot(&mut ledger), incremental, "incremental state equals a rebuild");
    let own = ledger
        .store()
        .events_after(0, 1_000_000)
        .expect("events")
        .iter()
        .filter(|event| event.source == casetrail_app::projector::OWN_SOURCE)
        .count() as u64;
    assert_eq!(verified(&mut ledger), lines + own, "the lines and casetrail's own follow-ups (recalls)");
}

/// Every projection document and counter, in a stable order.
type Snapshot =
    (Vec<(String, String, Option<String>, serde_json::Value)>, Vec<(String, chrono::NaiveDate, String, i64)>);

fn snapshot(ledger: &mut Ledger) -> Snapshot {
    let mut docs = Vec::new();
    for kind in casetrail_app::projector::kind::ALL {
        let mut after = String::new();
        let mut keys = Vec::new();
        loop {
            let page = ledger.store().docs(kind, &after, 1000).expect("docs");
            let Some(last) = page.last() else { break };
            after = last.key.clone();
            for doc in page {
                keys.push(doc.key.clone());
                docs.push((doc.kind, doc.key, doc.agency, serde_json::from_str(&doc.doc).expect("json")));
            }
        }
        // Read from the last, page by page: the same keys, reversed.
        let mut backwards = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let page = ledger.store().docs_before(kind, before.as_deref(), 700).expect("docs before");
            let Some(last) = page.last() else { break };
            before = Some(last.key.clone());
            backwards.extend(page.into_iter().map(|doc| doc.key));
        }
        backwards.reverse();
        assert_eq!(backwards, keys, "{kind} read from the last");
    }
    (docs, ledger.store().counters().expect("counters"))
}

fn simulated_slice() -> String {
    let mut config = casetrail_sim::SimConfig::new(casetrail_sim::Scale::City, 3);
    config.appeals_per_year = Some(3_000);
    config.fines_per_year = Some(1_500);
    let mut out = Vec::new();
    casetrail_sim::simulate(&config, &mut out, &mut |_| {}).expect("simulate");
    String::from_utf8(out).expect("utf-8")
}
