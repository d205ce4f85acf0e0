//! What one appeal adds to the agencies' scorecard (docs/ratings.md), as
//! counts per agency and *receipt day* of the turn they belong to.
//!
//! The same function serves both ways of computing the scorecard: summed
//! over every appeal as of a day (the full scan, for an as-of day in the
//! past), and kept as counters on append — the projector adds the
//! difference between an appeal's contribution after an event and before
//! it — so that a scorecard for any period is a sum of a few counter rows.

use std::borrow::Cow;
use std::collections::BTreeMap;

use casetrail_types::CalendarError;
use chrono::NaiveDate;

use super::{AppealState, Departure};

/// One count in an agency's scorecard, on its turn's receipt day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TallyMetric {
    /// A turn received (registration, forward in, assignment in).
    Received,
    /// A turn the agency ended by answering.
    Answered,
    /// An answered turn answered on or before its due date.
    AnsweredOnTime,
    /// A turn the agency ended by forwarding.
    Forwarded,
    /// A forward made after the 3rd working day after receipt.
    LateForward,
    /// A forward to a body that already held the appeal.
    PingPong,
    /// A wandering appeal, counted once per agency that forwarded it, on the
    /// receipt day of the first turn that agency ended by forwarding.
    Wandering,
    /// An answered turn whose appeal's citizen clock stood at this many
    /// working days on the answer day (the median's histogram).
    CitizenDays(u32),
    /// A turn still held unanswered whose statutory due date is this day:
    /// overdue on every day after it.
    OpenDue(NaiveDate),
    /// The appeal's last change that moves a tally, counted on that day
    /// against its first recipient: a scorecard as of a day before the
    /// latest one cannot be read from the counters.
    LastChange,
    /// An answered appeal that a later appeal repeats, counted once against
    /// the body that answered it. Not part of [`contribution`]: it is decided
    /// by the applicant's thread (`repeat`), which sees both appeals.
    Repeated,
}

impl TallyMetric {
    /// The counter name; `parse` reads it back. Borrowed for every metric
    /// but the two that carry a number: the projector names counters for
    /// every event it applies.
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            Self::Received => "received".into(),
            Self::Answered => "answered".into(),
            Self::AnsweredOnTime => "answered_on_time".into(),
            Self::Forwarded => "forwarded".into(),
            Self::LateForward => "late_forward".into(),
            Self::PingPong => "ping_pong".into(),
            Self::Wandering => "wandering".into(),
            Self::CitizenDays(days) => format!("citizen_days={days}").into(),
            Self::OpenDue(day) => {
                let mut name = String::with_capacity(19);
                name.push_str("open_due=");
                casetrail_types::iso_date::push(&mut name, *day);
                name.into()
            }
            Self::LastChange => "last_change".into(),
            Self::Repeated => "repeated".into(),
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "received" => Self::Received,
            "answered" => Self::Answered,
            "answered_on_time" => Self::AnsweredOnTime,
            "forwarded" => Self::Forwarded,
            "late_forward" => Self::LateForward,
            "ping_pong" => Self::PingPong,
            "wandering" => Self::Wandering,
            "last_change" => Self::LastChange,
            "repeated" => Self::Repeated,
            other => {
                if let Some(days) = other.strip_prefix("citizen_days=") {
                    Self::CitizenDays(days.parse().ok()?)
                } else {
                    Self::OpenDue(other.strip_prefix("open_due=")?.parse().ok()?)
                }
            }
        })
    }
}

/// One count: `(agency, receipt day of the turn, metric)`.
pub type Tally = (String, NaiveDate, TallyMetric);

/// What `state` adds to the scorecard, each entry counting 1.
///
/// With `as_of`, as known at the end of that day (turns received later are
/// left out, turns ended later count as still held, due dates as extended
/// by then); without, as the appeal stands now.
pub fn contribution(state: &AppealState, as_of: Option<NaiveDate>) -> Result<Vec<Tally>, CalendarError> {
    let mut tallies = Vec::with_capacity(4);
    let mut forwarded_by: Vec<&str> = Vec::new();
    for turn in &state.holdings {
        if as_of.is_some_and(|as_of| turn.received_on > as_of) {
            continue;
        }
        let agency = turn.agency.as_str();
        let mut count = |metric| tallies.push((agency.to_owned(), turn.received_on, metric));
        count(TallyMetric::Received);
        let ended = turn.left_on.filter(|left_on| as_of.is_none_or(|as_of| *left_on <= as_of)).and(turn.departure);
        match ended {
            Some(Departure::Answered) => {
                count(TallyMetric::Answered);
                if turn.answered_on_time() == Some(true) {
                    count(TallyMetric::AnsweredOnTime);
                }
                let until = as_of.or(state.answered_on).unwrap_or(turn.received_on);
                count(TallyMetric::CitizenDays(state.citizen_working_days(until)?));
            }
            Some(Departure::Forwarded) => {
                count(TallyMetric::Forwarded);
                if turn.late_forward {
                    count(TallyMetric::LateForward);
                }
                if turn.ping_pong {
                    count(TallyMetric::PingPong);
                }
                if state.wandering() && !forwarded_by.contains(&agency) {
                    count(TallyMetric::Wandering);
                }
                forwarded_by.push(agency);
            }
            Some(Departure::Assigned) => {}
            None => {
                let due = match as_of {
                    Some(as_of) => turn.statutory_due_on(as_of),
                    None => turn.statutory_due(),
                };
                count(TallyMetric::OpenDue(due));
            }
        }
    }
    let last_change = state
        .holdings
        .iter()
        .flat_map(|turn| [Some(turn.received_on), turn.left_on, turn.extended_on])
        .flatten()
        .max()
        .unwrap_or(state.first().received_on);
    tallies.push((state.first().agency.to_string(), last_change, TallyMetric::LastChange));
    Ok(tallies)
}

/// The counter changes that turn `before`'s contribution into `after`'s:
/// what the projector adds when an event changes an appeal.
pub fn change(before: Option<&AppealState>, after: &AppealState) -> Result<Vec<(Tally, i64)>, CalendarError> {
    let mut deltas: BTreeMap<Tally, i64> = BTreeMap::new();
    if let Some(before) = before {
        for tally in contribution(before, None)? {
            *deltas.entry(tally).or_default() -= 1;
        }
    }
    for tally in contribution(after, None)? {
        *deltas.entry(tally).or_default() += 1;
    }
    Ok(deltas.into_iter().filter(|(_, delta)| *delta != 0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_name_reads_back_as_its_metric() {
        let due = NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
        let metrics = [
            TallyMetric::Received,
            TallyMetric::Answered,
            TallyMetric::AnsweredOnTime,
            TallyMetric::Forwarded,
            TallyMetric::LateForward,
            TallyMetric::PingPong,
            TallyMetric::Wandering,
            TallyMetric::CitizenDays(17),
            TallyMetric::OpenDue(due),
            TallyMetric::LastChange,
            TallyMetric::Repeated,
        ];
        for metric in metrics {
            assert_eq!(TallyMetric::parse(&metric.name()), Some(metric), "{}", metric.name());
        }
        // Counter rows already stored name the day as chrono writes it.
        assert_eq!(TallyMetric::OpenDue(due).name(), format!("open_due={due}"));
    }
}
