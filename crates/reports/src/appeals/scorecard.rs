//! The agencies' scorecard. Every definition and weight is in
//! `docs/ratings.md`; change both together.

use std::collections::{BTreeMap, BTreeSet};

use casetrail_app::projector::kind;
use casetrail_domain::appeal::{AppealState, Departure};
use casetrail_ledger::Store;
use serde_json::{json, Value};

use crate::{for_each_doc, ReportError, ReportParams, Table};

/// Weights of the score's components, summing to 100 (docs/ratings.md).
pub const WEIGHTS: [(&str, f64); 7] = [
    ("on_time", 40.0),
    ("not_forwarded", 15.0),
    ("no_late_forwards", 10.0),
    ("no_wandering", 10.0),
    ("no_ping_pong", 10.0),
    ("no_repeats", 10.0),
    ("speed", 5.0),
];

/// The median citizen's wait (working days) at which the speed component
/// reaches 0.
pub const SPEED_ZERO_AT_WORKING_DAYS: f64 = 30.0;

/// One agency's counts over its turns received in the period.
#[derive(Default)]
struct Tally {
    received: u64,
    answered: u64,
    answered_on_time: u64,
    overdue_unanswered: u64,
    forwarded: u64,
    late_forwards: u64,
    ping_pong: u64,
    wandering: BTreeSet<String>,
    repeated: BTreeSet<String>,
    citizen_days: Vec<u32>,
}

pub fn scorecard(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failure = None;
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        if let Err(error) = tally_appeal(&state, params, &mut tallies) {
            failure = failure.take().or(Some(error));
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    let mut rows: Vec<(f64, String, Vec<Value>)> = Vec::new();
    for (agency, tally) in tallies.into_iter().filter(|(_, tally)| tally.received > 0) {
        let on_time_pct = pct(tally.answered_on_time, tally.answered + tally.overdue_unanswered);
        let forwarded_pct = pct(tally.forwarded, tally.received).unwrap_or(0.0);
        let repeat_pct = pct(tally.repeated.len() as u64, tally.answered);
        let median = median(&tally.citizen_days);
        let received = tally.received as f64;
        let components = [
            on_time_pct.unwrap_or(100.0),
            100.0 - forwarded_pct,
            100.0 - 100.0 * tally.late_forwards as f64 / received,
            100.0 - 100.0 * tally.wandering.len() as f64 / received,
            100.0 - 100.0 * tally.ping_pong as f64 / received,
            100.0 - repeat_pct.unwrap_or(0.0),
            median.map_or(100.0, |m| 100.0 * (SPEED_ZERO_AT_WORKING_DAYS - m).max(0.0) / SPEED_ZERO_AT_WORKING_DAYS),
        ];
        let score = round1(
            WEIGHTS.iter().zip(components).map(|((_, weight), c)| weight * c.clamp(0.0, 100.0)).sum::<f64>() / 100.0,
        );
        rows.push((
            score,
            agency.clone(),
            vec![
                json!(agency),
                json!(tally.received),
                json!(on_time_pct),
                json!(forwarded_pct),
                json!(tally.late_forwards),
                json!(tally.wandering.len()),
                json!(tally.ping_pong),
                json!(repeat_pct),
                json!(median),
                json!(score),
                Value::Null,
                json!(tally.answered),
                json!(tally.answered_on_time),
                json!(tally.overdue_unanswered),
                json!(tally.forwarded),
                json!(tally.repeated.len()),
            ],
        ));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut table = Table::new(&[
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
        "answered",
        "answered_on_time",
        "overdue_unanswered",
        "forwarded",
        "repeated",
    ]);
    // Competition ranking: equal scores share a rank (1, 2, 2, 4).
    let mut rank = 0;
    let mut previous: Option<f64> = None;
    for (index, (score, _, mut row)) in rows.into_iter().enumerate() {
        if previous != Some(score) {
            rank = index + 1;
            previous = Some(score);
        }
        row[10] = json!(rank);
        table.rows.push(row);
    }
    Ok(table)
}

/// Adds one appeal's turns to the tallies of the bodies that held it.
fn tally_appeal(
    state: &AppealState,
    params: &ReportParams,
    tallies: &mut BTreeMap<String, Tally>,
) -> Result<(), ReportError> {
    let as_of = params.as_of;
    let error = |error: casetrail_types::CalendarError| ReportError::Data(format!("appeal {}: {error}", state.appeal));
    if let Some(link) = &state.repeat_of {
        if state.first().received_on <= as_of
            && link.answer_turn_received_on <= as_of
            && params.includes(link.answer_turn_received_on)
        {
            tallies.entry(link.agency.clone()).or_default().repeated.insert(link.appeal.clone());
        }
    }
    for turn in &state.holdings {
        if turn.received_on > as_of || !params.includes(turn.received_on) {
            continue;
        }
        let tally = tallies.entry(turn.agency.to_string()).or_default();
        tally.received += 1;
        let ended = turn.left_on.filter(|left_on| *left_on <= as_of).and(turn.departure);
        match ended {
            Some(Departure::Answered) => {
                tally.answered += 1;
                if turn.answered_on_time() == Some(true) {
                    tally.answered_on_time += 1;
                }
                tally.citizen_days.push(state.citizen_working_days(as_of).map_err(error)?);
            }
            Some(Departure::Forwarded) => {
                tally.forwarded += 1;
                tally.late_forwards += u64::from(turn.late_forward);
                tally.ping_pong += u64::from(turn.ping_pong);
                if state.wandering() {
                    tally.wandering.insert(state.appeal.clone());
                }
            }
            Some(Departure::Assigned) => {}
            None => {
                if turn.statutory_due_on(as_of) < as_of {
                    tally.overdue_unanswered += 1;
                }
            }
        }
    }
    Ok(())
}

/// `100 · part / whole`, rounded to one decimal; `None` when `whole` is 0.
fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(100.0 * part as f64 / whole as f64))
}

fn median(values: &[u32]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(f64::from(sorted[n / 2])),
        _ => Some((f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0),
    }
}

/// Rounds half away from zero to one decimal.
fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
