//! A reversed payment puts its charge back on the enforcement list, on
//! SQLite and PostgreSQL: a charge paid in full is not due for enforcement
//! and cannot be referred; once the bank takes the payment back (a
//! `payment.reversed` record, or a camt.054 reversal entry of the bank that
//! reported the payment) the charge is due again, from the day after its
//! voluntary term, owing the whole amount, and `refer` goes through.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use casetrail_app::testing::{ledger_at, postgres, sqlite, Backend};
use casetrail_app::{ImportSummary, Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_reports::ReportParams;
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

const UIN: &str = "20260000000000000140";
/// A camera fine (no protocol), in force on 12 March: voluntary until
/// 11 April, due for enforcement from 12 April.
const CHARGE: &str = r#"{"type":"fine.imposed","id":"i-14","at":"2026-03-02T10:20:00+05:00","case":"CAM-14","uin":"20260000000000000140","amount_kzt":"20000.00","in_force_at":"2026-03-12","short_procedure":false}"#;

/// How the payment and its reversal arrive.
#[derive(Clone, Copy)]
enum Via {
    /// Exchange-format records from a payment app.
    Records,
    /// A bank's camt.054: a booked credit quoting the UIN, later a booked
    /// debit with `RvslInd` of the same transaction.
    Camt,
}

fn import_lines(ledger: &mut Ledger, source: &str, text: &str) -> ImportSummary {
    let lines = JsonLines::new(text.as_bytes()).map(|line| Incoming::from_raw(line.expect("line")));
    ledger.import(source, lines, |_| {}).expect("import")
}

fn camt_entry(credit: bool, booked: &str) -> String {
    let (indicator, reversal, remittance) = if credit {
        ("CRDT", "", format!("<RmtInf><Ustrd>Штраф УИН {UIN}</Ustrd></RmtInf>"))
    } else {
        ("DBIT", "<RvslInd>true</RvslInd>", String::new())
    };
    format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.04\"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M-{booked}</MsgId></GrpHdr><Ntfctn><Id>N-{booked}</Id>\
         <Acct><Svcr><FinInstnId><BIC>HSBKKZKX</BIC></FinInstnId></Svcr></Acct>\
         <Ntry><Amt Ccy=\"KZT\">20000.00</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{reversal}<Sts>BOOK</Sts><BookgDt><Dt>{booked}</Dt></BookgDt>\
         <NtryDtls><TxDtls><Refs><AcctSvcrRef>T-1</AcctSvcrRef></Refs>{remittance}</TxDtls></NtryDtls></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    )
}

fn import_camt(ledger: &mut Ledger, xml: &str) -> ImportSummary {
    use casetrail_connectors::camt;
    let options = camt::CamtOptions::default();
    let checked = camt::check(xml.as_bytes(), &options).expect("a valid camt.054");
    assert_eq!(checked.payments + checked.reversals, 1, "one transaction per file");
    let items = camt::CamtEvents::new(xml.as_bytes(), options).map(|item| item.expect("entry")).map(|item| Incoming {
        line: item.line,
        raw: item.raw,
        parsed: item.parsed,
    });
    ledger.import("HSBKKZKX", items, |_| {}).expect("import")
}

fn pay(ledger: &mut Ledger, via: Via) {
    let summary = match via {
        Via::Records => import_lines(
            ledger,
            "kaspi",
            &format!(
                r#"{{"type":"payment.received","id":"kaspi:K-1","at":"2026-03-20T12:00:00+05:00","payment":"K-1","provider":"kaspi","uin":"{UIN}","amount_kzt":"20000.00"}}"#
            ),
        ),
        Via::Camt => import_camt(ledger, &camt_entry(true, "2026-03-20")),
    };
    assert_eq!(summary.accepted, 1, "the payment lands: {summary:?}");
}

fn reverse(ledger: &mut Ledger, via: Via) {
    let summary = match via {
        Via::Records => import_lines(
            ledger,
            "kaspi",
            r#"{"type":"payment.reversed","id":"kaspi:K-1:reversed","at":"2026-04-02T09:00:00+05:00","payment":"K-1","provider":"kaspi","reason":"chargeback: the card holder disputed it"}"#,
        ),
        Via::Camt => import_camt(ledger, &camt_entry(false, "2026-04-02")),
    };
    assert_eq!(summary.accepted, 1, "the reversal lands: {summary:?}");
}

fn due(ledger: &mut Ledger, as_of: &str) -> Vec<Value> {
    let params = ReportParams { from: None, to: None, as_of: NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap() };
    let table = casetrail_reports::run("enforcement-due", ledger.store(), &params).expect("report");
    table.objects().into_iter().map(Value::Object).collect()
}

fn reversal_puts_the_charge_back(backend: Backend, via: Via) {
    // The ledger's clock: 20 April, past the voluntary term.
    let now = Utc.with_ymd_and_hms(2026, 4, 20, 5, 0, 0).single().unwrap();
    let (mut ledger, _guard) = ledger_at(backend, now);
    assert_eq!(import_lines(&mut ledger, "fines", CHARGE).accepted, 1);
    pay(&mut ledger, via);

    assert_eq!(due(&mut ledger, "2026-04-12"), Vec::<Value>::new(), "paid in full: not due for enforcement");
    let refused = ledger.refer(UIN, "chsi-astana", "D-1").expect_err("a paid charge is refused").to_string();
    assert!(refused.contains("paid"), "{refused}");

    reverse(&mut ledger, via);
    let row = json!({"uin": UIN, "case": "CAM-14", "payer": null, "amount_kzt": "20000.00", "due": "2026-04-12"});
    assert_eq!(due(&mut ledger, "2026-04-12"), vec![row], "owed in full again, due from the day after the term");
    assert_eq!(due(&mut ledger, "2026-04-11"), Vec::<Value>::new(), "still inside the voluntary term");

    let seq = ledger.refer(UIN, "chsi-astana", "D-1").expect("the reversed charge is referred");
    assert!(seq > 0);
    assert_eq!(due(&mut ledger, "2026-04-20"), Vec::<Value>::new(), "referred: with the bailiff now");
    let charge: Value = serde_json::from_str(&ledger.store().doc("charge", UIN).unwrap().unwrap().doc).unwrap();
    assert_eq!(charge["referrals"][0]["document"], "D-1", "{charge}");
    assert!(charge["referrals"][0]["recalled_at"].is_null(), "nothing covers it, so no recall: {charge}");

    // A rebuild from the ledger gives the same state.
    ledger.rebuild(|_| {}).expect("rebuild");
    let rebuilt: Value = serde_json::from_str(&ledger.store().doc("charge", UIN).unwrap().unwrap().doc).unwrap();
    assert_eq!(rebuilt, charge);
    ledger.verify(|_| {}).unwrap_or_else(|failure| panic!("verify failed: {failure}"));
}

#[test]
fn sqlite_payment_reversed_record() {
    reversal_puts_the_charge_back(sqlite(), Via::Records);
}

#[test]
fn sqlite_camt_reversal_entry() {
    reversal_puts_the_charge_back(sqlite(), Via::Camt);
}

#[test]
fn postgres_payment_reversed_record() {
    reversal_puts_the_charge_back(postgres(), Via::Records);
}

#[test]
fn postgres_camt_reversal_entry() {
    reversal_puts_the_charge_back(postgres(), Via::Camt);
}
