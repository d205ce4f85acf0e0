//! Checks of the simulator's output: the file alone must prove what the
//! summary claims.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use base64::Engine;
use casetrail_exchange::{parse_record, Event, Record};
use casetrail_sim::{simulate, unsigned_bytes, Scale, SimConfig, SimSummary};
use casetrail_types::calendar::WorkCalendar;
use casetrail_types::mci::Mci;
use casetrail_types::time::local_date;
use chrono::{Datelike, NaiveDate, Weekday};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

/// The record types of DESIGN.md §4 (and `device.revoked`): each must occur.
const DESIGN_TYPES: &[&str] = &[
    "agency.registered",
    "appeal.registered",
    "appeal.forwarded",
    "appeal.extended",
    "appeal.answered",
    "appeal.contested",
    "appeal.contest_resolved",
    "appeal.assigned",
    "device.enrolled",
    "device.revoked",
    "fine.protocol_signed",
    "fine.imposed",
    "payment.received",
    "fine.referred",
    "fine.recalled",
    "fine.cancelled",
];

fn run(config: &SimConfig) -> (Vec<u8>, SimSummary) {
    let mut out = Vec::new();
    let mut reported = 0;
    let summary = simulate(config, &mut out, &mut |records| reported = records).expect("simulate");
    assert_eq!(reported, summary.records, "the last progress report gives the total");
    (out, summary)
}

fn small(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(Scale::City, seed);
    config.appeals_per_year = Some(3_000);
    config.fines_per_year = Some(1_500);
    config
}

/// The city-scale run, shared by the tests of this file.
fn city() -> &'static (Vec<u8>, SimSummary, Vec<Event>) {
    static CITY: OnceLock<(Vec<u8>, SimSummary, Vec<Event>)> = OnceLock::new();
    CITY.get_or_init(|| {
        let (bytes, summary) = run(&SimConfig::new(Scale::City, 42));
        let events = bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .enumerate()
            .map(|(i, line)| {
                let event = parse_record(line).unwrap_or_else(|error| panic!("line {}: {error}", i + 1));
                assert_eq!(event.canonical, line, "line {} is not in canonical form", i + 1);
                event
            })
            .collect();
        (bytes, summary, events)
    })
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let (a, summary_a) = run(&small(7));
    let (b, summary_b) = run(&small(7));
    assert!(a == b, "two runs with seed 7 differ");
    assert_eq!(summary_a, summary_b);
    let (c, _) = run(&small(8));
    assert!(a != c, "seeds 7 and 8 gave the same file");
    let mut other_year = small(7);
    other_year.year = 2024;
    let (d, _) = run(&other_year);
    assert!(a != d);
}

#[test]
fn scale_names_round_trip() {
    for scale in [Scale::City, Scale::Region, Scale::National] {
        assert_eq!(scale.to_string().parse::<Scale>(), Ok(scale));
    }
    assert!("country".parse::<Scale>().is_err());
}

#[test]
fn city_scale_is_large_enough_and_every_line_is_valid() {
    let (bytes, summary, events) = city();
    assert!(summary.records >= 100_000, "{} records", summary.records);
    assert_eq!(events.len() as u64, summary.records);
    assert_eq!(bytes.iter().filter(|b| **b == b'\n').count() as u64, summary.records);
    let ids: BTreeSet<&str> = events.iter().map(|e| e.id.as_ref().expect("every record has an id").as_str()).collect();
    assert_eq!(ids.len(), events.len(), "ids are not unique");
    let count = |t: &str| events.iter().filter(|e| e.record_type() == t).count() as u64;
    assert_eq!(count("appeal.registered"), summary.appeals);
    assert_eq!(count("appeal.forwarded"), summary.forwards);
    assert_eq!(count("appeal.answered"), summary.answers);
    assert_eq!(count("appeal.extended"), summary.extensions);
    assert_eq!(count("appeal.assigned"), summary.assignments);
    assert_eq!(count("fine.imposed"), summary.fines);
    assert_eq!(count("fine.protocol_signed"), summary.protocols);
    assert_eq!(count("payment.received"), summary.payments);
    assert_eq!(count("fine.referred"), summary.referrals);
    assert_eq!(count("fine.recalled"), summary.recalls);
    assert_eq!(count("fine.cancelled"), summary.cancellations);
    assert_eq!(count("device.enrolled"), summary.devices);
    assert_eq!(count("device.revoked"), summary.revoked_devices);
    for t in DESIGN_TYPES {
        assert!(count(t) > 0, "no {t} record at city scale");
    }
}

#[test]
fn lines_are_sorted_by_instant() {
    let (_, _, events) = city();
    for pair in events.windows(2) {
        assert!(pair[0].at_utc() <= pair[1].at_utc(), "{:?} after {:?}", pair[1].id, pair[0].id);
    }
}

#[test]
fn every_reference_was_introduced_earlier() {
    let (_, _, events) = city();
    let mut agencies = BTreeSet::new();
    let mut appeals = BTreeSet::new();
    let mut devices = BTreeMap::new(); // device -> revoked?
    let mut charges = BTreeSet::new();
    let mut protocols = BTreeSet::new();
    for event in events {
        let known = |set: &BTreeSet<String>, key: &str, what: &str| {
            assert!(set.contains(key), "{:?}: {what} {key} not introduced earlier", event.id);
        };
        match &event.record {
            Record::AgencyRegistered(r) => {
                if let Some(parent) = &r.parent {
                    known(&agencies, parent.as_str(), "parent agency");
                }
                agencies.insert(r.agency.to_string());
            }
            Record::AppealRegistered(r) => {
                known(&agencies, r.agency.as_str(), "agency");
                assert!(appeals.insert(r.appeal.to_string()), "appeal {} registered twice", r.appeal);
            }
            Record::AppealForwarded(r) => {
                known(&appeals, r.appeal.as_str(), "appeal");
                known(&agencies, r.from.as_str(), "agency");
                known(&agencies, r.to.as_str(), "agency");
            }
            Record::AppealExtended(r) => known(&appeals, r.appeal.as_str(), "appeal"),
            Record::AppealAnswered(r) => known(&appeals, r.appeal.as_str(), "appeal"),
            Record::AppealContested(r) => {
                known(&appeals, r.appeal.as_str(), "appeal");
                known(&agencies, r.to.as_str(), "agency");
            }
            Record::AppealContestResolved(r) => known(&appeals, r.appeal.as_str(), "appeal"),
            Record::AppealAssigned(r) => {
                known(&appeals, r.appeal.as_str(), "appeal");
                known(&agencies, r.by.as_str(), "agency");
                known(&agencies, r.to.as_str(), "agency");
            }
            Record::DeviceEnrolled(r) => {
                known(&agencies, r.agency.as_str(), "agency");
                assert!(devices.insert(r.device.to_string(), false).is_none(), "device enrolled twice");
            }
            Record::DeviceRevoked(r) => {
                assert_eq!(
                    devices.insert(r.device.to_string(), true),
                    Some(false),
                    "revoking an unknown or revoked device"
                );
            }
            Record::ProtocolSigned(r) => {
                known(&agencies, r.agency.as_str(), "agency");
                assert_eq!(
                    devices.get(r.device.as_str()),
                    Some(&false),
                    "protocol signed on an unknown or revoked device"
                );
                assert!(protocols.insert(r.case.to_string()));
            }
            Record::FineImposed(r) => {
                assert!(charges.insert(r.uin.to_string()), "UIN {} imposed twice", r.uin);
            }
            Record::PaymentReceived(r) => {
                if let Some(uin) = &r.uin {
                    known(&charges, uin, "charge");
                }
            }
            Record::FineReferred(r) => {
                known(&charges, &r.uin.to_string(), "charge");
                known(&agencies, r.bailiff.as_str(), "bailiff");
            }
            Record::FineRecalled(r) => known(&charges, &r.uin.to_string(), "charge"),
            Record::FineCancelled(r) => known(&charges, &r.uin.to_string(), "charge"),
            _ => {}
        }
    }
}

#[test]
fn protocol_signatures_verify_with_the_enrolled_device_key() {
    let (_, summary, events) = city();
    let mut keys = BTreeMap::new();
    let mut verified = 0u64;
    for event in events {
        match &event.record {
            Record::DeviceEnrolled(r) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(&r.public_key).expect("base64");
                let key = VerifyingKey::from_bytes(&bytes.try_into().expect("32 bytes")).expect("a valid key");
                keys.insert(r.device.to_string(), key);
            }
            Record::ProtocolSigned(r) => {
                let key = keys.get(r.device.as_str()).expect("enrolled device");
                let signature = base64::engine::general_purpose::STANDARD.decode(&r.signature).expect("base64");
                let signature = Signature::from_bytes(&signature.try_into().expect("64 bytes"));
                // The signed bytes: JCS of the whole line object without `signature`.
                let mut object: serde_json::Value = serde_json::from_slice(&event.canonical).expect("json");
                object.as_object_mut().expect("object").remove("signature");
                let message = casetrail_exchange::jcs::canonical_bytes(&object);
                assert_eq!(message, unsigned_bytes(&event.canonical).expect("unsigned"));
                key.verify(&message, &signature).unwrap_or_else(|_| panic!("{:?}: bad signature", event.id));
                // A changed byte breaks it.
                let mut tampered = message.clone();
                tampered[10] ^= 1;
                assert!(key.verify(&tampered, &signature).is_err());
                verified += 1;
            }
            _ => {}
        }
    }
    assert_eq!(verified, summary.protocols);
    assert!(verified > 1_000);
}

/// Rebuilds every appeal's path from the file and checks the summary's
/// counts of forwarded, wandering, cycling and late appeals against it.
#[test]
fn appeal_counts_are_true_and_near_the_configured_rates() {
    let (_, summary, events) = city();
    let calendar = WorkCalendar::kazakhstan();
    let due = |day: NaiveDate, n: u32| calendar.due_after_registration(day, n).expect("calendar");
    struct Path {
        holders: Vec<String>,
        forwards: usize,
        first_day: NaiveDate,
        received_on: NaiveDate,
        deadline: NaiveDate,
    }
    let mut paths: BTreeMap<String, Path> = BTreeMap::new();
    let (mut late_answers, mut late_citizen, mut late_forwards) = (0u64, 0u64, 0u64);
    for event in events {
        let day = local_date(event.at_utc());
        match &event.record {
            Record::AppealRegistered(r) => {
                paths.insert(
                    r.appeal.to_string(),
                    Path {
                        holders: vec![r.agency.to_string()],
                        forwards: 0,
                        first_day: day,
                        received_on: day,
                        deadline: due(day, 15),
                    },
                );
            }
            Record::AppealForwarded(r) => {
                let path = paths.get_mut(r.appeal.as_str()).expect("registered");
                assert_eq!(
                    path.holders.last().map(String::as_str),
                    Some(r.from.as_str()),
                    "forwarded by a body that does not hold it"
                );
                late_forwards += u64::from(day > due(path.received_on, 3));
                path.holders.push(r.to.to_string());
                path.forwards += 1;
                path.received_on = day;
                path.deadline = due(day, 15);
            }
            Record::AppealAssigned(r) => {
                let path = paths.get_mut(r.appeal.as_str()).expect("registered");
                if path.holders.last().map(String::as_str) != Some(r.to.as_str()) {
                    path.holders.push(r.to.to_string());
                    path.received_on = day;
                    path.deadline = due(day, 15);
                }
            }
            Record::AppealExtended(r) => {
                let path = paths.get_mut(r.appeal.as_str()).expect("registered");
                assert!(
                    r.until <= path.received_on.checked_add_months(chrono::Months::new(2)).expect("date"),
                    "extended beyond 2 months"
                );
                assert!(r.until > day);
                path.deadline = r.until;
            }
            Record::AppealAnswered(r) => {
                let path = &paths[r.appeal.as_str()];
                assert_eq!(
                    path.holders.last().map(String::as_str),
                    Some(r.agency.as_str()),
                    "answered by a body that does not hold it"
                );
                late_answers += u64::from(day > path.deadline);
                late_citizen += u64::from(day > due(path.first_day, 15));
            }
            _ => {}
        }
    }
    let forwards = |p: &Path| p.forwards;
    let has_cycle = |p: &Path| p.holders.iter().collect::<BTreeSet<_>>().len() < p.holders.len();
    let forwarded = paths.values().filter(|p| forwards(p) >= 1).count() as u64;
    let wandering = paths.values().filter(|p| forwards(p) >= 2 || has_cycle(p)).count() as u64;
    let cycles = paths.values().filter(|p| has_cycle(p)).count() as u64;
    assert_eq!(paths.values().map(|p| p.forwards as u64).sum::<u64>(), summary.forwards);
    assert_eq!(paths.len() as u64, summary.appeals);
    assert_eq!(cycles, summary.cycles, "cycles");
    assert_eq!(wandering, summary.wandering_appeals, "wandering");
    assert_eq!(late_answers, summary.late_answers, "late answers");
    assert_eq!(late_citizen, summary.late_by_citizen_clock, "late by the citizen's clock");
    assert_eq!(late_forwards, summary.late_forwards, "late forwards");
    assert_eq!(forwarded, summary.forwarded_appeals, "forwarded appeals");

    let rate = summary.forwarded_appeals as f64 / summary.appeals as f64;
    assert!((rate - 0.10).abs() <= 0.02, "forwarded rate {rate}");
    let late = summary.late_answers as f64 / summary.answers as f64;
    assert!((0.04..=0.12).contains(&late), "late answers {late}");
    let late_forward_share = summary.late_forwards as f64 / summary.forwards as f64;
    assert!(late_forward_share < 0.15, "late forwards {late_forward_share}");
    assert!(summary.cycles > 0 && summary.long_chains > 0 && summary.assignments > 0 && summary.contests > 0);
    let anonymous = summary.anonymous_appeals as f64 / summary.appeals as f64;
    assert!((0.005..=0.015).contains(&anonymous), "anonymous {anonymous}");
    assert!(summary.repeat_appeals > 0);
}

/// Rebuilds every charge from the file: what is owed, what was paid when,
/// and whether a referral hit a fine already covered.
#[test]
fn fine_counts_are_true_and_near_the_configured_rates() {
    let (_, summary, events) = city();
    let calendar = WorkCalendar::kazakhstan();
    struct Charge {
        offence_on: NaiveDate,
        full: i64,
        short: bool,
        paid: i64,
        covered: bool,
    }
    let mut protocols: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut charges: BTreeMap<String, Charge> = BTreeMap::new();
    let (mut paid_but_referred, mut discount_payments) = (0u64, 0u64);
    let apply = |charge: &mut Charge, day: NaiveDate, amount: i64, discount_payments: &mut u64| {
        let discount_end = calendar.add_working_days(charge.offence_on, 7).expect("calendar");
        let in_window = charge.short && day <= discount_end;
        let owed = if in_window { charge.full / 2 } else { charge.full };
        if in_window && amount == charge.full / 2 {
            *discount_payments += 1;
        }
        charge.paid += amount;
        if charge.paid >= owed {
            charge.covered = true;
        }
    };
    for event in events {
        let day = local_date(event.at_utc());
        match &event.record {
            Record::ProtocolSigned(r) => {
                protocols.insert(r.case.to_string(), day);
            }
            Record::FineImposed(r) => {
                let offence_on = protocols.get(r.case.as_str()).copied().unwrap_or(day);
                let mci = Mci::table().value_on(offence_on).expect("mci").tenge.tiyn();
                let count = r.amount_mci.expect("amount in MCI");
                assert!((3..=40).contains(&count));
                let in_force = NaiveDate::parse_from_str(&r.in_force_at, "%Y-%m-%d").expect("date");
                assert!((in_force - offence_on).num_days() >= 7);
                charges.insert(
                    r.uin.to_string(),
                    Charge {
                        offence_on,
                        full: mci * i64::from(count),
                        short: r.short_procedure,
                        paid: 0,
                        covered: false,
                    },
                );
            }
            Record::PaymentReceived(r) => match &r.uin {
                Some(uin) => {
                    apply(charges.get_mut(uin).expect("charge"), day, r.amount_kzt.tiyn(), &mut discount_payments)
                }
                None => assert!(r.payer.is_some(), "a payment without UIN names its payer"),
            },
            Record::FineReferred(r) => {
                let charge = &charges[&r.uin.to_string()];
                paid_but_referred += u64::from(charge.covered);
            }
            _ => {}
        }
    }
    assert_eq!(paid_but_referred, summary.paid_but_referred, "paid but referred");
    // Payments without a UIN cannot be attributed from the file alone.
    assert!(discount_payments <= summary.discount_payments, "discount payments");
    assert!(summary.discount_payments - discount_payments <= summary.payments_without_uin, "discount payments");
    let share = summary.paid_but_referred as f64 / summary.referrals as f64;
    assert!((share - 0.01).abs() <= 0.005, "paid-but-referred share of referrals {share}");
    assert!(summary.recalls > 0 && summary.cancellations > 0 && summary.payments_without_uin > 0);
    assert!(summary.partially_paid_fines > 0 && summary.revoked_devices > 0);
    let camera = (summary.fines - summary.protocols) as f64 / summary.fines as f64;
    assert!((0.5..=0.6).contains(&camera), "camera share {camera}");
}

#[test]
fn seasonality_and_weekly_pattern() {
    let (_, _, events) = city();
    let calendar = WorkCalendar::kazakhstan();
    let mut per_month = [0u64; 12];
    let (mut weekend, mut weekend_days, mut working, mut working_days) = (0u64, BTreeSet::new(), 0u64, BTreeSet::new());
    for event in events {
        if let Record::AppealRegistered(_) = &event.record {
            let day = local_date(event.at_utc());
            if day.year() != 2025 {
                continue;
            }
            per_month[day.month0() as usize] += 1;
            if calendar.is_working_day(day).expect("calendar") {
                working += 1;
                working_days.insert(day);
            } else if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                weekend += 1;
                weekend_days.insert(day);
            }
        }
    }
    let weekend_mean = weekend as f64 / weekend_days.len().max(1) as f64;
    let working_mean = working as f64 / working_days.len() as f64;
    assert!(weekend_mean < 0.3 * working_mean, "weekend {weekend_mean} vs working {working_mean}");
    assert!(per_month[6] < per_month[9], "July {} vs October {}", per_month[6], per_month[9]);
    assert!(per_month[0] < per_month[3], "January {} vs April {}", per_month[0], per_month[3]);
}

/// Memory is bounded by the cases open at once, not by the year's total.
#[test]
fn open_cases_stay_a_small_fraction_of_the_year() {
    let (_, summary, _) = city();
    let cases = summary.appeals + summary.fines;
    assert!(summary.peak_pending * 8 < cases, "peak {} of {} cases", summary.peak_pending, cases);
}

/// Years with another time zone (UTC+6 before March 2024) or whose next
/// year has no calendar file yet still give valid, sorted files.
#[test]
fn other_years_give_valid_files() {
    for year in [2019, 2024, 2026] {
        let mut config = small(3);
        config.year = year;
        let (bytes, summary) = run(&config);
        let mut last = None;
        let mut first_appeal_year = None;
        for line in bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
            let event = parse_record(line).unwrap_or_else(|error| panic!("{year}: {error}"));
            assert!(last.is_none_or(|last| last <= event.at_utc()), "{year}: not sorted");
            last = Some(event.at_utc());
            if let Record::AppealRegistered(_) = &event.record {
                first_appeal_year.get_or_insert(local_date(event.at_utc()).year());
            }
        }
        assert_eq!(first_appeal_year, Some(year));
        assert!(summary.appeals >= 2_900, "{year}: {} appeals", summary.appeals);
    }
}
