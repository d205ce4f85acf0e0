//! Charges as a pure function of (state, event): table-driven tests of the
//! amount, the short-procedure discount, coverage, art. 888, cancellation,
//! the enforcement gate, the bailiff's fee and matching.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

use casetrail_domain::charge::{self, ChargeState, IncomingPayment, MatchStatus, NotDue, ReferralFinding};
use casetrail_domain::fine_rules;
use casetrail_domain::matching::{self, Decision};
use casetrail_domain::registry::{self, DeviceState, ProtocolState};
use casetrail_exchange::{parse_record, Event};
use casetrail_types::Money;
use chrono::{DateTime, NaiveDate, Utc};

const UIN: &str = "10000000000000000014";

fn event(json: &str) -> Event {
    parse_record(json.as_bytes()).unwrap_or_else(|error| panic!("{json}: {error}"))
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Noon in Astana on a day.
fn noon(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}T12:00:00+05:00")).unwrap().with_timezone(&Utc)
}

fn protocol_on(text: &str) -> ProtocolState {
    ProtocolState {
        case: "P-1".into(),
        agency: "mvd-astana".into(),
        device: "tab-1".into(),
        officer: "off-1".into(),
        article: "610.1".into(),
        place: "710000000".into(),
        offender: Some("850808310738".into()),
        signed_at: noon(text),
        signed_on: day(text),
        seq: 1,
    }
}

/// A charge imposed on `imposed` (protocol the same day), `amount` in MCI
/// or tenge, in force on `in_force`.
fn imposed(amount: &str, in_force: &str, short: bool, imposed: &str) -> ChargeState {
    let line = format!(
        r#"{{"type":"fine.imposed","at":"{imposed}T12:10:00+05:00","case":"P-1","uin":"{UIN}",{amount},"in_force_at":"{in_force}","short_procedure":{short}}}"#
    );
    charge::apply(None, Some(&protocol_on(imposed)), &event(&line), 1).unwrap()
}

fn then(state: &ChargeState, line: &str) -> Result<ChargeState, String> {
    let line = line.replace("UIN", UIN);
    charge::apply(Some(state), None, &event(&line), 9).map_err(|violation| violation.to_string())
}

fn pay(state: &ChargeState, id: &str, on: &str, tenge: &str) -> ChargeState {
    let payment = IncomingPayment {
        payment: id.into(),
        provider: "kaspi".into(),
        amount_tiyn: Money::parse(tenge).unwrap().tiyn(),
        at: noon(on),
        seq: 5,
    };
    charge::apply_payment(state, &payment, MatchStatus::Matched).0
}

fn tenge(text: &str) -> i64 {
    Money::parse(text).unwrap().tiyn()
}

#[test]
fn the_amount_is_converted_at_the_mci_of_the_offence_day() {
    let cases = [
        (r#""amount_mci":5"#, "2026-03-02", "21625.00"),  // 5 × 4,325
        (r#""amount_mci":10"#, "2025-06-02", "39320.00"), // 10 × 3,932
        (r#""amount_mci":2"#, "2020-03-31", "5302.00"),   // 2 × 2,651, before 1 April 2020
        (r#""amount_mci":2"#, "2020-04-01", "5556.00"),   // 2 × 2,778
        (r#""amount_kzt":"17300.00""#, "2026-03-02", "17300.00"),
    ];
    for (amount, on, expected) in cases {
        let charge = imposed(amount, on, false, on);
        assert_eq!(charge.amount_tiyn, tenge(expected), "{amount} on {on}");
    }
}

#[test]
fn short_procedure_window_is_the_seventh_working_day_after_the_protocol() {
    // 2026: Mon 9 March is a day off (8 March moved).
    let cases = [
        ("2026-03-02", "2026-03-12"),
        ("2025-08-04", "2025-08-13"),
        ("2026-03-06", "2026-03-18"), // a Friday: Tue 10 .. Wed 18
    ];
    for (protocol, until) in cases {
        let charge = imposed(r#""amount_kzt":"20000.00""#, protocol, true, protocol);
        assert_eq!(charge.discount_until, Some(day(until)), "protocol {protocol}");
    }
    let plain = imposed(r#""amount_kzt":"20000.00""#, "2026-03-02", false, "2026-03-02");
    assert_eq!(plain.discount_until, None);
}

#[test]
fn payments_cover_by_what_was_owed_when_each_was_made() {
    // (short procedure, payments (day, tenge), covered, credited, refund due)
    let cases: &[(bool, &[(&str, &str)], bool, &str, &str)] = &[
        (true, &[("2026-03-12", "10000.00")], true, "20000.00", "0.00"), // 50 % on the 7th working day
        (true, &[("2026-03-13", "10000.00")], false, "10000.00", "0.00"), // 50 % one day late
        (true, &[("2026-03-13", "20000.00")], true, "20000.00", "0.00"),
        (true, &[("2026-03-03", "4000.00"), ("2026-03-04", "6000.00")], true, "20000.00", "0.00"), // split inside
        (true, &[("2026-03-03", "4000.00"), ("2026-03-20", "12000.00")], true, "20000.00", "0.00"), // 8000 + 12000
        (true, &[("2026-03-03", "4000.00"), ("2026-03-20", "11999.99")], false, "19999.99", "0.00"),
        (false, &[("2026-03-03", "10000.00")], false, "10000.00", "0.00"),
        (false, &[("2026-03-03", "7000.00"), ("2026-04-03", "13000.00")], true, "20000.00", "0.00"),
        (false, &[("2026-03-03", "25000.00")], true, "20000.00", "5000.00"), // overpayment
        (true, &[("2026-03-03", "20000.00")], true, "20000.00", "10000.00"), // full inside the window
        (false, &[("2026-03-03", "20000.00"), ("2026-03-04", "100.00")], true, "20000.00", "100.00"),
    ];
    for (short, payments, covered, credited, refund) in cases {
        let mut state = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", *short, "2026-03-02");
        for (position, (on, amount)) in payments.iter().enumerate() {
            state = pay(&state, &format!("K-{position}"), on, amount);
        }
        let label = format!("short={short} {payments:?}");
        assert_eq!(state.covered(), *covered, "{label}");
        assert_eq!(state.credited_tiyn, tenge(credited), "{label}");
        assert_eq!(state.refund_due_tiyn, tenge(refund), "{label}");
    }
}

#[test]
fn the_same_payment_twice_changes_nothing() {
    let state = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", false, "2026-03-02");
    let once = pay(&state, "K-1", "2026-03-03", "5000.00");
    assert_eq!(pay(&once, "K-1", "2026-03-03", "5000.00"), once);
}

#[test]
fn a_reversed_payment_stops_counting_and_the_charge_is_due_again() {
    let state = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", false, "2026-03-02");
    let paid = pay(&pay(&state, "K-1", "2026-03-03", "15000.00"), "K-2", "2026-03-04", "6000.00");
    assert!(paid.covered());
    assert_eq!(paid.refund_due_tiyn, tenge("1000.00"));
    assert!(matches!(paid.gate(day("2026-04-20")), Err(NotDue::Covered(_))));
    // The larger payment is taken back: the 6,000 left count in full (the
    // 1,000 it overpaid is owed to the fine now, not a refund).
    let reversed = charge::reverse_payment(&paid, "kaspi", "K-1");
    assert!(!reversed.covered());
    assert_eq!(reversed.paid_tiyn, tenge("6000.00"));
    assert_eq!(reversed.credited_tiyn, tenge("6000.00"));
    assert_eq!(reversed.refund_due_tiyn, 0);
    assert_eq!(reversed.payments.len(), 1);
    assert_eq!(reversed.payments[0].refund_tiyn, 0);
    assert_eq!(reversed.status, reversed.status_now());
    let due = reversed.gate(day("2026-04-20")).expect("due again");
    assert_eq!((due.owed.tiyn(), due.due), (tenge("14000.00"), day("2026-04-12")));
    assert!(matches!(reversed.gate(day("2026-04-11")), Err(NotDue::VoluntaryTerm(_))), "the term is unchanged");
    // Another provider's payment of the same id, or one it does not hold: nothing.
    assert_eq!(charge::reverse_payment(&paid, "halyk", "K-1"), paid);
    assert_eq!(charge::reverse_payment(&reversed, "kaspi", "K-1"), reversed);
}

#[test]
fn the_gate_as_of_a_day() {
    let base = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", false, "2026-03-02");
    // Voluntary term: 30 calendar days after 12 March = 11 April; due from 12 April.
    assert_eq!(base.voluntary_until, day("2026-04-11"));
    let partly = pay(&base, "K-1", "2026-04-01", "2700.00");
    let paid = pay(&base, "K-1", "2026-04-20", "20000.00");
    let cancelled =
        then(&base, r#"{"type":"fine.cancelled","at":"2026-04-05T10:00:00+05:00","uin":"UIN","reason":"court"}"#)
            .unwrap();
    let referred = then(
        &base,
        r#"{"type":"fine.referred","at":"2026-04-15T10:00:00+05:00","uin":"UIN","bailiff":"chsi-1","document":"D-1"}"#,
    )
    .unwrap();
    let recalled =
        then(&referred, r#"{"type":"fine.recalled","at":"2026-04-16T10:00:00+05:00","uin":"UIN","reason":"error"}"#)
            .unwrap();
    let deferred = then(
        &base,
        r#"{"type":"fine.deferred","at":"2026-04-01T10:00:00+05:00","uin":"UIN","until":"2026-05-11","reason":"x"}"#,
    )
    .unwrap();
    let held = charge::hold(&base, "kassa24/T-5", noon("2026-04-02"));
    let released = charge::release(&held, "kassa24/T-5", noon("2026-04-20"));
    let plan = then(
        &base,
        r#"{"type":"fine.instalments","at":"2026-04-01T10:00:00+05:00","uin":"UIN","schedule":[{"due":"2026-05-11","amount_kzt":"10000.00"},{"due":"2026-06-11","amount_kzt":"10000.00"}],"reason":"x"}"#,
    )
    .unwrap();
    let plan_first_paid = pay(&plan, "K-2", "2026-05-10", "10000.00");

    let due = |owed: &str, on: &str| Ok::<_, NotDue>((tenge(owed), day(on)));
    type Expected = Result<(i64, NaiveDate), NotDue>;
    let cases: Vec<(&str, &ChargeState, &str, Expected)> = vec![
        ("before imposition", &base, "2026-03-01", Err(NotDue::NotImposed)),
        ("not yet in force", &base, "2026-03-11", Err(NotDue::NotInForce(day("2026-03-12")))),
        ("last voluntary day", &base, "2026-04-11", Err(NotDue::VoluntaryTerm(day("2026-04-11")))),
        ("first enforcement day", &base, "2026-04-12", due("20000.00", "2026-04-12")),
        ("partly paid", &partly, "2026-04-12", due("17300.00", "2026-04-12")),
        ("paid later: due before the payment", &paid, "2026-04-19", due("20000.00", "2026-04-12")),
        ("paid", &paid, "2026-04-20", Err(NotDue::Covered(vec!["kaspi/K-1".into()]))),
        ("cancelled", &cancelled, "2026-04-12", Err(NotDue::Cancelled)),
        ("cancelled later", &cancelled, "2026-04-04", Err(NotDue::VoluntaryTerm(day("2026-04-11")))),
        (
            "referred",
            &referred,
            "2026-04-15",
            Err(NotDue::Referred { bailiff: "chsi-1".into(), document: "D-1".into() }),
        ),
        ("before the referral", &referred, "2026-04-14", due("20000.00", "2026-04-12")),
        ("recalled", &recalled, "2026-04-16", due("20000.00", "2026-04-12")),
        ("deferred", &deferred, "2026-05-11", Err(NotDue::Deferred(day("2026-05-11")))),
        ("deferral over", &deferred, "2026-05-12", due("20000.00", "2026-05-12")),
        ("held", &held, "2026-04-12", Err(NotDue::Held(vec!["kassa24/T-5".into()]))),
        ("hold released", &released, "2026-04-20", due("20000.00", "2026-04-12")),
        ("instalments, first not yet due", &plan, "2026-05-11", Err(NotDue::OnInstalments(day("2026-05-11")))),
        ("instalment missed", &plan, "2026-05-12", due("20000.00", "2026-05-12")),
        ("instalment paid", &plan_first_paid, "2026-05-12", Err(NotDue::OnInstalments(day("2026-06-11")))),
        ("second instalment missed", &plan_first_paid, "2026-06-12", due("10000.00", "2026-06-12")),
    ];
    for (label, state, as_of, expected) in cases {
        let got = state.gate(day(as_of)).map(|due| (due.owed.tiyn(), due.due));
        assert_eq!(got, expected, "{label} as of {as_of}");
    }
}

#[test]
fn art_888_limits_are_enforced() {
    let base = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", false, "2026-03-02");
    let refused = [
        (
            r#"{"type":"fine.deferred","at":"2026-04-01T10:00:00+05:00","uin":"UIN","until":"2026-05-12","reason":"x"}"#,
            "at most one month",
        ),
        (
            r#"{"type":"fine.instalments","at":"2026-04-01T10:00:00+05:00","uin":"UIN","schedule":[{"due":"2026-05-11","amount_kzt":"10000.00"},{"due":"2026-07-12","amount_kzt":"10000.00"}],"reason":"x"}"#,
            "at most three months",
        ),
        (
            r#"{"type":"fine.instalments","at":"2026-04-01T10:00:00+05:00","uin":"UIN","schedule":[{"due":"2026-05-11","amount_kzt":"10000.00"}],"reason":"x"}"#,
            "still owed",
        ),
        (
            r#"{"type":"fine.instalments","at":"2026-04-01T10:00:00+05:00","uin":"UIN","schedule":[{"due":"2026-06-11","amount_kzt":"10000.00"},{"due":"2026-05-11","amount_kzt":"10000.00"}],"reason":"x"}"#,
            "ascending",
        ),
        (r#"{"type":"fine.recalled","at":"2026-04-01T10:00:00+05:00","uin":"UIN","reason":"x"}"#, "never referred"),
    ];
    for (line, why) in refused {
        let error = then(&base, line).expect_err(line);
        assert!(error.contains(why), "{error}");
    }
    let accepted = then(
        &base,
        r#"{"type":"fine.deferred","at":"2026-04-01T10:00:00+05:00","uin":"UIN","until":"2026-05-11","reason":"x"}"#,
    );
    assert!(accepted.is_ok());
    let paid = pay(&base, "K-1", "2026-03-20", "20000.00");
    let error = then(
        &paid,
        r#"{"type":"fine.deferred","at":"2026-04-01T10:00:00+05:00","uin":"UIN","until":"2026-05-01","reason":"x"}"#,
    )
    .expect_err("paid");
    assert!(error.contains("paid"), "{error}");
}

#[test]
fn cancellation_refunds_and_closes() {
    let base = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", false, "2026-03-02");
    let partly = pay(&base, "K-1", "2026-03-20", "5000.00");
    let cancelled =
        then(&partly, r#"{"type":"fine.cancelled","at":"2026-04-01T10:00:00+05:00","uin":"UIN","reason":"x"}"#)
            .unwrap();
    assert_eq!(cancelled.status, charge::ChargeStatus::Cancelled);
    assert_eq!(cancelled.refund_due_tiyn, tenge("5000.00"));
    assert!(!cancelled.is_open());
    let after = pay(&cancelled, "K-2", "2026-04-02", "100.00");
    assert_eq!(after.refund_due_tiyn, tenge("5100.00"), "a payment after cancellation is refunded whole");
    assert!(then(&cancelled, r#"{"type":"fine.cancelled","at":"2026-04-02T10:00:00+05:00","uin":"UIN","reason":"x"}"#)
        .is_err());
}

#[test]
fn a_referral_finds_what_covered_the_charge() {
    let base = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", true, "2026-03-02");
    let paid = pay(&pay(&base, "K-1", "2026-03-03", "4000.00"), "K-2", "2026-03-05", "6000.00");
    match paid.referral_finding(noon("2026-05-01")) {
        ReferralFinding::Covered(payments) => {
            assert_eq!(payments.iter().map(|p| p.payment.as_str()).collect::<Vec<_>>(), ["K-1", "K-2"])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(paid.referral_finding(noon("2026-03-04")), ReferralFinding::Owed, "only K-1 by then");
}

#[test]
fn bailiff_fee_by_the_scale() {
    let scale = fine_rules::fee_scale_on(day("2026-01-01")).unwrap();
    let mci = Money::from_tenge(4325).unwrap();
    let mci_times = |count: i64| mci.checked_mul_int(count).unwrap();
    // (amount, fee)
    let cases = [
        (Money::from_tenge(21625).unwrap(), "5406.25"),           // 5 MCI, 25 %
        (mci_times(60), "64875.00"),                              // 60 MCI, still 25 %
        (Money::from_tiyn(mci_times(60).tiyn() + 1), "51900.00"), // just over: 20 %
        (mci_times(300), "259500.00"),                            // 20 %
        (mci_times(1000), "648750.00"),                           // 15 %
        (mci_times(5000), "2162500.00"),                          // 10 %
        (mci_times(10000), "3460000.00"),                         // 8 %
        (mci_times(20000), "4325000.00"),                         // 5 %
        (mci_times(30000), "3892500.00"),                         // 3 %
    ];
    for (amount, fee) in cases {
        assert_eq!(fine_rules::fee_by_scale(scale, mci, amount).unwrap(), Money::parse(fee).unwrap(), "{amount}");
    }
    assert_eq!(
        fine_rules::bailiff_fee(Money::from_tenge(17300).unwrap(), day("2026-05-01")).unwrap().tiyn(),
        tenge("4325.00")
    );
    assert!(fine_rules::bailiff_fee(Money::from_tenge(1).unwrap(), day("2010-01-01")).is_err(), "before any scale");
}

#[test]
fn matching_by_uin_then_by_payer_and_amount() {
    let a = imposed(r#""amount_kzt":"20000.00""#, "2026-03-12", true, "2026-03-02");
    let mut b = imposed(r#""amount_kzt":"30000.00""#, "2026-03-12", false, "2026-03-02");
    b.uin = "20260000000000000425".into();
    let mut c = imposed(r#""amount_kzt":"30000.00""#, "2026-03-12", false, "2026-03-02");
    c.uin = "30000000000000000001".into();
    let paid_a = pay(&a, "K-0", "2026-03-03", "10000.00");
    let apply = |uin: &str, status| Decision::Apply { uin: uin.into(), status };
    let queue = |uins: &[&str]| Decision::Queue { candidates: uins.iter().map(|u| (*u).to_owned()).collect() };
    let cases: Vec<(&str, Option<&ChargeState>, Vec<&ChargeState>, &str, &str, Decision)> = vec![
        ("valid UIN wins", Some(&a), vec![&b], "1.00", "2026-03-03", apply(UIN, MatchStatus::Matched)),
        (
            "discounted amount",
            None,
            vec![&a, &b],
            "10000.00",
            "2026-03-03",
            apply(UIN, MatchStatus::PreliminarilyMatched),
        ),
        ("full amount", None, vec![&a, &b], "20000.00", "2026-03-20", apply(UIN, MatchStatus::PreliminarilyMatched)),
        ("discount expired", None, vec![&a, &b], "10000.00", "2026-03-20", queue(&[UIN, "20260000000000000425"])),
        (
            "two charges owe it",
            None,
            vec![&a, &b, &c],
            "30000.00",
            "2026-03-20",
            queue(&[UIN, "20260000000000000425", "30000000000000000001"]),
        ),
        (
            "one of two owe it",
            None,
            vec![&b, &a],
            "30000.00",
            "2026-03-20",
            apply("20260000000000000425", MatchStatus::PreliminarilyMatched),
        ),
        ("partial", None, vec![&b], "100.00", "2026-03-20", queue(&["20260000000000000425"])),
        (
            "paid charges are not candidates",
            None,
            vec![&paid_a, &b],
            "20000.00",
            "2026-03-20",
            queue(&["20260000000000000425"]),
        ),
        ("no payer charges", None, vec![], "100.00", "2026-03-20", queue(&[])),
    ];
    for (label, quoted, payer, amount, on, expected) in cases {
        let got = matching::decide(quoted, &payer, Money::parse(amount).unwrap(), day(on));
        assert_eq!(got, expected, "{label}");
    }
}

#[test]
fn protocol_signatures() {
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};
    let engine = base64::engine::general_purpose::STANDARD;
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let device = DeviceState {
        device: "tab-1".into(),
        agency: "mvd-astana".into(),
        public_key: engine.encode(key.verifying_key().to_bytes()),
        enrolled_at: noon("2026-01-10"),
        revoked_at: None,
    };
    let unsigned = serde_json::json!({
        "type": "fine.protocol_signed", "id": "p-1", "at": "2026-03-02T10:15:00+05:00", "case": "P-1",
        "agency": "mvd-astana", "officer": "off-7", "device": "tab-1", "offender": {"iin": "850808310738"},
        "article": "610.1", "place": "710000000"
    });
    let signature = engine.encode(key.sign(&casetrail_exchange::jcs::canonical_bytes(&unsigned)).to_bytes());
    let line = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = unsigned.clone();
        value["signature"] = signature.clone().into();
        edit(&mut value);
        event(&value.to_string())
    };
    let good = line(&|_| {});
    assert_eq!(registry::verify_protocol(Some(&device), &good), Ok(()));
    let revoked = DeviceState { revoked_at: Some(noon("2026-03-01")), ..device.clone() };
    let later_revoked = DeviceState { revoked_at: Some(noon("2026-03-03")), ..device.clone() };
    let other_agency = DeviceState { agency: "mvd-almaty".into(), ..device.clone() };
    let other_key = DeviceState {
        public_key: engine.encode(SigningKey::from_bytes(&[4u8; 32]).verifying_key().to_bytes()),
        ..device.clone()
    };
    let cases: Vec<(&str, Option<&DeviceState>, Event, Option<&str>)> = vec![
        ("valid", Some(&device), good.clone(), None),
        ("revoked after the protocol", Some(&later_revoked), good.clone(), None),
        ("unknown device", None, good.clone(), Some("unknown device")),
        ("revoked device", Some(&revoked), good.clone(), Some("revoked")),
        ("another agency's device", Some(&other_agency), good.clone(), Some("enrolled for agency")),
        ("another key", Some(&other_key), good.clone(), Some("does not verify")),
        ("altered article", Some(&device), line(&|v| v["article"] = "611.1".into()), Some("does not verify")),
        (
            "altered time",
            Some(&device),
            line(&|v| v["at"] = "2026-03-02T10:16:00+05:00".into()),
            Some("does not verify"),
        ),
        ("added field", Some(&device), line(&|v| v["note"] = "x".into()), Some("does not verify")),
    ];
    for (label, device, event, expected) in cases {
        let got = registry::verify_protocol(device, &event);
        match expected {
            None => assert_eq!(got, Ok(()), "{label}"),
            Some(why) => {
                let error = got.expect_err(label).to_string();
                assert!(error.contains(why), "{label}: {error}");
            }
        }
    }
}
