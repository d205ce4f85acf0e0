//! The agencies' scorecard. Every definition and weight is in
//! `docs/ratings.md`; change both together.

use std::collections::{BTreeMap, BTreeSet};

use casetrail_app::projector::{kind, metric, tallies};
use casetrail_domain::appeal::tally::{self, TallyMetric};
use casetrail_domain::appeal::AppealState;
use casetrail_ledger::Store;
use chrono::{Datelike, Duration, NaiveDate};
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
    forwarded: u64,
    late_forwards: u64,
    ping_pong: u64,
    wandering: u64,
    repeated: u64,
    /// The citizen's clock at the answer day: how many answered turns had it.
    citizen_days: BTreeMap<u32, u64>,
    /// Turns still held unanswered, by statutory due date.
    open_due: BTreeMap<NaiveDate, u64>,
}

impl Tally {
    fn add(&mut self, metric: TallyMetric, count: u64) {
        match metric {
            TallyMetric::Received => self.received += count,
            TallyMetric::Answered => self.answered += count,
            TallyMetric::AnsweredOnTime => self.answered_on_time += count,
            TallyMetric::Forwarded => self.forwarded += count,
            TallyMetric::LateForward => self.late_forwards += count,
            TallyMetric::PingPong => self.ping_pong += count,
            TallyMetric::Wandering => self.wandering += count,
            TallyMetric::Repeated => self.repeated += count,
            TallyMetric::CitizenDays(days) => *self.citizen_days.entry(days).or_default() += count,
            TallyMetric::OpenDue(due) => *self.open_due.entry(due).or_default() += count,
            TallyMetric::LastChange => {}
        }
    }

    /// Open turns due before `as_of`.
    fn overdue_unanswered(&self, as_of: NaiveDate) -> u64 {
        self.open_due.range(..as_of).map(|(_, count)| count).sum()
    }
}

/// The earliest and latest days a counter range may name.
pub const FIRST_DAY: NaiveDate = day(1, 1, 1);
pub const LAST_DAY: NaiveDate = day(9999, 12, 31);

const fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(day) => day,
        None => panic!("not a date"),
    }
}

/// The scorecard: from the counters when they can answer (milliseconds for
/// a national year), else from every appeal document.
pub fn scorecard(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let tallies = match from_counters(store, params)? {
        Some(tallies) => tallies,
        None => from_documents(store, params)?,
    };
    rows(tallies, params)
}

/// The scorecard from every appeal document, never from the counters: what
/// `scorecard` must always agree with (tests and `casetrail bench scorecard`).
pub fn scorecard_by_scan(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    rows(from_documents(store, params)?, params)
}

fn rows(tallies: BTreeMap<String, Tally>, params: &ReportParams) -> Result<Table, ReportError> {
    let mut rows: Vec<(f64, String, Vec<Value>)> = Vec::new();
    for (agency, tally) in tallies.into_iter().filter(|(_, tally)| tally.received > 0) {
        let overdue_unanswered = tally.overdue_unanswered(params.as_of);
        let on_time_pct = pct(tally.answered_on_time, tally.answered + overdue_unanswered);
        let forwarded_pct = pct(tally.forwarded, tally.received).unwrap_or(0.0);
        let repeat_pct = pct(tally.repeated, tally.answered);
        let median = median(&tally.citizen_days);
        let received = tally.received as f64;
        let components = [
            on_time_pct.unwrap_or(100.0),
            100.0 - forwarded_pct,
            100.0 - 100.0 * tally.late_forwards as f64 / received,
            100.0 - 100.0 * tally.wandering as f64 / received,
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
                json!(tally.wandering),
                json!(tally.ping_pong),
                json!(repeat_pct),
                json!(median),
                json!(score),
                Value::Null,
                json!(tally.answered),
                json!(tally.answered_on_time),
                json!(overdue_unanswered),
                json!(tally.forwarded),
                json!(tally.repeated),
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

/// The tallies summed from the counters the projector keeps
/// (`casetrail_app::projector::tallies`): whole months from the monthly
/// rows, the days at either end from the daily ones. `None` when the
/// counters cannot answer: not computed yet for this database, or an appeal
/// changed after the as-of day (only the documents know what stood then).
fn from_counters(store: &mut dyn Store, params: &ReportParams) -> Result<Option<BTreeMap<String, Tally>>, ReportError> {
    let as_of = params.as_of;
    if !tallies::current(store.doc(kind::META, tallies::MARKER_KEY)?.as_ref()) {
        return Ok(None);
    }
    let last_change = format!("{}{}", metric::TALLY_DAY_PREFIX, TallyMetric::LastChange.name());
    if let Some(after) = as_of.succ_opt() {
        if !store.counter_sums(&last_change, after, LAST_DAY)?.is_empty() {
            return Ok(None);
        }
    }
    let from = params.from.unwrap_or(FIRST_DAY);
    let to = params.to.map_or(as_of, |to| to.min(as_of));
    let mut sums = Vec::new();
    if from <= to {
        let first_month = if from.day() == 1 { Some(from) } else { next_month(from) };
        let end_of_months = if to.succ_opt().is_none_or(|next| next.day() == 1) {
            to
        } else {
            to - Duration::days(i64::from(to.day()))
        };
        match first_month.filter(|first| *first <= end_of_months) {
            Some(first) => {
                sums.extend(store.counter_sums(metric::TALLY_MONTH_PREFIX, first, end_of_months)?);
                if from < first {
                    sums.extend(store.counter_sums(metric::TALLY_DAY_PREFIX, from, first - Duration::days(1))?);
                }
                if end_of_months < to {
                    sums.extend(store.counter_sums(metric::TALLY_DAY_PREFIX, end_of_months + Duration::days(1), to)?);
                }
            }
            None => sums.extend(store.counter_sums(metric::TALLY_DAY_PREFIX, from, to)?),
        }
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (agency, name, value) in sums {
        let bare =
            name.strip_prefix(metric::TALLY_MONTH_PREFIX).or_else(|| name.strip_prefix(metric::TALLY_DAY_PREFIX));
        let metric = bare
            .and_then(TallyMetric::parse)
            .ok_or_else(|| ReportError::Data(format!("unknown scorecard counter {name}; run `casetrail rebuild`")))?;
        let count = u64::try_from(value).map_err(|_| {
            ReportError::Data(format!("counter {name} of {agency} is {value}; run `casetrail rebuild`"))
        })?;
        tallies.entry(agency).or_default().add(metric, count);
    }
    Ok(Some(tallies))
}

/// The first day of the month after `day`'s.
fn next_month(day: NaiveDate) -> Option<NaiveDate> {
    let (year, month) = if day.month() == 12 { (day.year() + 1, 1) } else { (day.year(), day.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The tallies from every appeal document, as known at the end of the
/// as-of day (`tally::contribution`).
fn from_documents(store: &mut dyn Store, params: &ReportParams) -> Result<BTreeMap<String, Tally>, ReportError> {
    let as_of = params.as_of;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut repeated: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failure = None;
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        let contribution = match tally::contribution(&state, Some(as_of)) {
            Ok(contribution) => contribution,
            Err(error) => {
                failure = failure.take().or(Some(ReportError::Data(format!("appeal {}: {error}", state.appeal))));
                return;
            }
        };
        for (agency, receipt_day, metric) in contribution {
            if params.includes(receipt_day) {
                tallies.entry(agency).or_default().add(metric, 1);
            }
        }
        if let Some(link) = &state.repeat_of {
            if state.first().received_on <= as_of
                && link.answer_turn_received_on <= as_of
                && params.includes(link.answer_turn_received_on)
            {
                repeated.entry(link.agency.clone()).or_default().insert(link.appeal.clone());
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    for (agency, appeals) in repeated {
        tallies.entry(agency).or_default().repeated += appeals.len() as u64;
    }
    Ok(tallies)
}

/// `100 · part / whole`, rounded to one decimal; `None` when `whole` is 0.
fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(100.0 * part as f64 / whole as f64))
}

/// The median of a histogram (value → how many times it occurs); the mean
/// of the two middle values for an even count.
fn median(histogram: &BTreeMap<u32, u64>) -> Option<f64> {
    let n: u64 = histogram.values().sum();
    // The k-th smallest value (0-based).
    let nth = |k: u64| {
        let mut seen = 0;
        histogram.iter().find(|(_, count)| {
            seen += **count;
            seen > k
        })
    };
    match n {
        0 => None,
        _ if n % 2 == 1 => nth(n / 2).map(|(value, _)| f64::from(*value)),
        _ => Some((f64::from(*nth(n / 2 - 1)?.0) + f64::from(*nth(n / 2)?.0)) / 2.0),
    }
}

/// Rounds half away from zero to one decimal.
fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
