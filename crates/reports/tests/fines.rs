//! Fines end to end with known truth: a scenario (forged protocols;
//! payments with, without and with wrong UINs; 50 % in and out of time;
//! split payments; an ambiguous payer; referrals before and after payment;
//! a cancellation; art. 888) imported into a fresh database on SQLite and
//! PostgreSQL, then `enforcement-due` and `paid-but-referred` compared field
//! by field with the truth.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{ImportSummary, Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_reports::ReportParams;
use chrono::{NaiveDate, TimeZone, Utc};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

/// The scenario, with `"@pub:N"` for the public key of `SigningKey([N; 32])`,
/// `"signature":"@key:N"` for a signature by that key over the record's
/// canonical JSON without `signature`, and `"@alter":{...}` for fields
/// changed after signing (a forgery).
const SCENARIO: &str = include_str!("../../app/tests/data/fines-scenario.jsonl");

fn ledger(backend: Backend) -> (Ledger, Box<dyn std::any::Any>) {
    ledger_at(backend, Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).single().expect("instant"))
}

fn key(n: &str) -> SigningKey {
    SigningKey::from_bytes(&[n.parse::<u8>().expect("key number"); 32])
}

/// Resolves the placeholders of the scenario into real lines.
fn signed_lines(template: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    for line in template.lines().filter(|line| !line.trim().is_empty()) {
        let mut value: Value = serde_json::from_str(line).expect("template line");
        let object = value.as_object_mut().expect("object");
        if let Some(Value::String(text)) = object.get("public_key") {
            if let Some(n) = text.strip_prefix("@pub:") {
                let public = engine.encode(key(n).verifying_key().to_bytes());
                object.insert("public_key".into(), public.into());
            }
        }
        let alter = object.remove("@alter");
        if let Some(Value::String(text)) = object.get("signature").cloned() {
            if let Some(n) = text.strip_prefix("@key:") {
                object.remove("signature");
                let bytes = casetrail_exchange::jcs::canonical_bytes(&Value::Object(object.clone()));
                object.insert("signature".into(), engine.encode(key(n).sign(&bytes).to_bytes()).into());
            }
        }
        if let Some(Value::Object(changes)) = alter {
            object.extend(changes);
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

fn import(ledger: &mut Ledger, source: &str, text: &str) -> ImportSummary {
    let lines = JsonLines::new(text.as_bytes()).map(|line| Incoming::from_raw(line.expect("line")));
    ledger.import(source, lines, |_| {}).expect("import")
}

fn report(ledger: &mut Ledger, name: &str, as_of: &str) -> Vec<Value> {
    let params = ReportParams { from: None, to: None, as_of: NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap() };
    let table = casetrail_reports::run(name, ledger.store(), &params).expect("report");
    table.objects().into_iter().map(Value::Object).collect()
}

fn verified(ledger: &mut Ledger) {
    ledger.verify(|_| {}).unwrap_or_else(|failure| panic!("verify failed: {failure}"));
}

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::$name(super::sqlite()) } )+ }
        mod on_postgres { $( #[test] fn $name() { super::$name(super::postgres()) } )+ }
    };
}

on_both!(
    forgeries_are_quarantined_with_the_reason,
    enforcement_due_is_exactly_the_truth,
    paid_but_referred_is_exactly_the_truth,
    paid_referrals_and_late_payments_are_recalled,
    manual_match_resolves_the_queue_and_releases_holds,
    own_referral_goes_through_the_gate,
    incremental_state_equals_a_rebuild,
);

fn scenario(backend: Backend) -> (Ledger, Box<dyn std::any::Any>) {
    let (mut ledger, guard) = ledger(backend);
    import(&mut ledger, "fines", &signed_lines(SCENARIO));
    (ledger, guard)
}

fn forgeries_are_quarantined_with_the_reason(backend: Backend) {
    let (mut ledger, _guard) = ledger(backend);
    let summary = import(&mut ledger, "fines", &signed_lines(SCENARIO));
    assert_eq!(summary.quarantined, 6, "{:#?}", ledger.store().quarantine(true, 20));
    let entries = ledger.store().quarantine(true, 20).expect("quarantine");
    let found: Vec<(Option<u64>, String)> = entries.iter().map(|e| (e.entry.line, e.entry.reason.clone())).collect();
    let expect = [
        (18, "does not verify"),     // P-90: another key
        (19, "does not verify"),     // P-91: article altered after signing
        (20, "unknown device"),      // P-92
        (21, "revoked"),             // P-93
        (22, "enrolled for agency"), // P-94: another agency's device
        (48, "at most one month"),   // deferral beyond art. 888
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for ((line, reason), (expected_line, why)) in found.iter().zip(expect) {
        assert_eq!(*line, Some(expected_line), "{reason}");
        assert!(reason.contains(why), "line {expected_line}: {reason}");
    }
    assert!(ledger.store().doc("protocol", "P-1").expect("read").is_some());
    assert!(ledger.store().doc("protocol", "P-90").expect("read").is_none());
    verified(&mut ledger);
}

fn enforcement_due_is_exactly_the_truth(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    // As of 1 May: P-2 (50 % paid too late: half still owed), P-8 (nothing
    // paid), the camera fine; not P-11 (deferred to 11 May), P-5/P-6 (held by
    // the ambiguous T-5), P-12 (held by the partial T-12), P-9 (cancelled),
    // P-10 (referred), and none of the paid ones.
    let row = |uin: &str, case: &str, payer: Value, amount: &str, due: &str| json!({"uin": uin, "case": case, "payer": payer, "amount_kzt": amount, "due": due});
    assert_eq!(
        report(&mut ledger, "enforcement-due", "2026-05-01"),
        vec![
            row("20260000000000000026", "P-2", json!("800103300077"), "10000.00", "2026-04-12"),
            row("20260000000000000085", "P-8", json!("800108300252"), "20000.00", "2026-04-12"),
            row("20260000000000000140", "CAM-14", Value::Null, "20000.00", "2026-04-12"),
        ]
    );
    assert_eq!(report(&mut ledger, "enforcement-due", "2026-04-11"), Vec::<Value>::new(), "voluntary term");
    let later = report(&mut ledger, "enforcement-due", "2026-05-15");
    assert_eq!(later.len(), 4);
    assert_eq!(later[3], row("20260000000000000115", "P-11", json!("800111300378"), "20000.00", "2026-05-12"));
    verified(&mut ledger);
}

fn paid_but_referred_is_exactly_the_truth(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    // P-1: 50 % paid on the 3rd working day, referred 46 days later. P-4:
    // paid with a wrong UIN (matched by payer and amount), referred 41 days
    // later. P-10 was referred before it was paid: not in the audit.
    assert_eq!(
        report(&mut ledger, "paid-but-referred", "2026-11-28"),
        vec![
            json!({"uin": "20260000000000000018", "payment": "K-1", "paid_at": "2026-03-05T12:00:00+05:00",
                   "referred_at": "2026-04-20T10:00:00+05:00", "bailiff": "chsi-astana", "amount_kzt": "20000.00",
                   "days_between": 46, "bailiff_fee_kzt": "5000.00"}),
            json!({"uin": "20260000000000000042", "payment": "T-4", "paid_at": "2026-03-25T12:00:00+05:00",
                   "referred_at": "2026-05-05T10:00:00+05:00", "bailiff": "chsi-almaty", "amount_kzt": "21625.00",
                   "days_between": 41, "bailiff_fee_kzt": "5406.25"}),
        ]
    );
    verified(&mut ledger);
}

fn paid_referrals_and_late_payments_are_recalled(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    for uin in ["20260000000000000018", "20260000000000000042", "20260000000000000107"] {
        let doc = ledger.store().doc("charge", uin).expect("read").expect("charge");
        let charge: Value = serde_json::from_str(&doc.doc).expect("json");
        let referral = &charge["referrals"][0];
        assert!(referral["recalled_at"].is_string(), "{uin} recalled: {charge}");
        assert_eq!(charge["status"], "paid", "{uin}");
    }
    let mut alerts = Vec::new();
    let mut after = String::new();
    loop {
        let page = ledger.store().docs("alert", &after, 100).expect("alerts");
        let Some(last) = page.last() else { break };
        after = last.key.clone();
        alerts.extend(page.into_iter().map(|doc| serde_json::from_str::<Value>(&doc.doc).expect("json")));
    }
    let paid: Vec<&Value> = alerts.iter().filter(|a| a["alert"] == "paid_but_referred").collect();
    assert_eq!(paid.len(), 2, "{alerts:#?}");
    for alert in &paid {
        let detail = alert["detail"].as_str().unwrap_or_default();
        assert!(!detail.contains("8001"), "no IIN in an alert: {detail}");
    }
    // The recalls are casetrail's own events, with the notice for the bailiff.
    let recalls: Vec<Value> = ledger
        .store()
        .events_after(0, 1000)
        .expect("events")
        .iter()
        .filter(|event| event.source == "casetrail")
        .map(|event| serde_json::from_slice(&event.canonical).expect("json"))
        .collect();
    assert_eq!(recalls.len(), 3, "{recalls:#?}");
    assert!(recalls.iter().all(|r| r["type"] == "fine.recalled"));
    let reason = recalls[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("kaspi/K-1") && reason.contains("release the debtor's accounts"), "{reason}");
    assert!(!reason.contains("800102300031"), "no IIN in the notice");
    // The overpayment is a refund due; the wrong-UIN payment was matched provisionally.
    let p13: Value =
        serde_json::from_str(&ledger.store().doc("charge", "20260000000000000131").unwrap().unwrap().doc).unwrap();
    assert_eq!(p13["refund_due_tiyn"], 500_000);
    let t4: Value = serde_json::from_str(&ledger.store().doc("payment", "kassa24/T-4").unwrap().unwrap().doc).unwrap();
    assert_eq!(t4["status"], "preliminarily_matched");
    let t5: Value = serde_json::from_str(&ledger.store().doc("payment", "kassa24/T-5").unwrap().unwrap().doc).unwrap();
    assert_eq!(t5["status"], "unmatched");
    assert_eq!(t5["candidates"], json!(["20260000000000000050", "20260000000000000069"]));
    verified(&mut ledger);
}

fn manual_match_resolves_the_queue_and_releases_holds(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    let line = r#"{"type":"payment.matched","id":"m-1","at":"2026-04-28T10:00:00+05:00","payment":"T-5","provider":"kassa24","uin":"20260000000000000050","by":"clerk-12"}"#;
    assert_eq!(import(&mut ledger, "clerks", line).accepted, 1);
    let due: Vec<Value> = report(&mut ledger, "enforcement-due", "2026-05-01");
    let uins: Vec<&str> = due.iter().filter_map(|row| row["uin"].as_str()).collect();
    assert_eq!(
        uins,
        ["20260000000000000026", "20260000000000000069", "20260000000000000085", "20260000000000000140"],
        "P-5 is paid by T-5; P-6 is released and due"
    );
    let again = r#"{"type":"payment.matched","id":"m-2","at":"2026-04-29T10:00:00+05:00","payment":"T-5","provider":"kassa24","uin":"20260000000000000069","by":"clerk-12"}"#;
    assert_eq!(import(&mut ledger, "clerks", again).quarantined, 1, "a payment is matched once");
    verified(&mut ledger);
}

fn own_referral_goes_through_the_gate(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    let refused = |ledger: &mut Ledger, uin: &str| ledger.refer(uin, "chsi-astana", "D-99").expect_err(uin).to_string();
    assert!(refused(&mut ledger, "20260000000000000034").contains("paid"), "P-3 is covered");
    assert!(refused(&mut ledger, "20260000000000000050").contains("held back"), "P-5 is held by T-5");
    assert!(refused(&mut ledger, "20260000000000000093").contains("cancelled"));
    assert!(refused(&mut ledger, "20260000000000000107").contains("paid"));
    ledger.refer("20260000000000000085", "chsi-astana", "D-8").expect("P-8 is due");
    assert!(refused(&mut ledger, "20260000000000000085").contains("already with bailiff"));
    let uins: Vec<String> = report(&mut ledger, "enforcement-due", "2026-11-28")
        .iter()
        .filter_map(|row| row["uin"].as_str().map(str::to_owned))
        .collect();
    assert!(!uins.contains(&"20260000000000000085".to_owned()));
    verified(&mut ledger);
}

fn incremental_state_equals_a_rebuild(backend: Backend) {
    let (mut ledger, _guard) = scenario(backend);
    let before =
        (report(&mut ledger, "enforcement-due", "2026-05-01"), report(&mut ledger, "paid-but-referred", "2026-11-28"));
    let charge_before = ledger.store().doc("charge", "20260000000000000018").unwrap().unwrap().doc;
    ledger.rebuild(|_| {}).expect("rebuild");
    let after =
        (report(&mut ledger, "enforcement-due", "2026-05-01"), report(&mut ledger, "paid-but-referred", "2026-11-28"));
    assert_eq!(before, after);
    assert_eq!(ledger.store().doc("charge", "20260000000000000018").unwrap().unwrap().doc, charge_before);
    verified(&mut ledger);
}
