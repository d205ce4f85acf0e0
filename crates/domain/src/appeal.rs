//! An appeal's life: registered → forwarded (any number of times) →
//! extended → answered → contested → resolved; `assigned` ends a dispute.
//!
//! [`decide`] is the one rule: a pure function of (state, event, the
//! event's sequence number) that returns the new state and the violations
//! the event proves, or the [`RuleViolation`] that makes the event
//! impossible. Terms come from [`rules`] (data, versioned by date) and the
//! working-day calendar; time comes only from the event.
//!
//! Two clocks are kept: each [`Holding`] (one body's turn) has its own
//! statutory due date, restarting at every body that receives the appeal;
//! the citizen's clock runs from the first registration and never restarts
//! ([`AppealState::citizen_working_days`]).

pub mod dispute;
pub mod repeat;
pub mod rules;
pub mod tally;
pub mod view;

use casetrail_exchange::{AgencySlug, AppealKind, Channel, Event, ForwardReason, Outcome, Record};
use casetrail_types::calendar::{CalendarError, WorkCalendar};
use casetrail_types::iso_date;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::RuleViolation;
pub use repeat::RepeatLink;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Open,
    Answered,
    Contested,
}

/// How a body came to hold the appeal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The appeal was registered here.
    #[default]
    Registered,
    /// Another body forwarded it here.
    Forwarded,
    /// A prosecutor's office assigned it here (`appeal.assigned`).
    Assigned,
}

/// How a body's turn ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Departure {
    Forwarded,
    Answered,
    Assigned,
}

/// One body's turn holding the appeal, with its own statutory clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub agency: AgencySlug,
    pub received_at: DateTime<Utc>,
    #[serde(serialize_with = "iso_date::serialize")]
    pub received_on: NaiveDate,
    /// Why it came here (absent for the first recipient and assignments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ForwardReason>,
    #[serde(default)]
    pub via: Via,
    /// Sequence number of the event that brought the appeal here.
    #[serde(default)]
    pub seq: u64,
    /// The rules regime in force on `received_on` (`data/rules/appeals.toml`).
    #[serde(default)]
    pub regime: String,
    /// Last day of the statutory term counted from this receipt.
    #[serde(default, serialize_with = "iso_date::serialize")]
    pub due: NaiveDate,
    /// Last day on which this body may forward the appeal on time.
    #[serde(default, serialize_with = "iso_date::serialize")]
    pub forward_by: NaiveDate,
    /// The latest date an extension may reach.
    #[serde(default, serialize_with = "iso_date::serialize")]
    pub extension_max: NaiveDate,
    /// The day this body took the appeal into work (`appeal.accepted`).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub accepted_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub extended_until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub extended_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_seq: Option<u64>,
    /// The day the turn ended (forwarded, answered or reassigned).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub left_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// This body forwarded the appeal after its `forward_by` day.
    #[serde(default)]
    pub late_forward: bool,
    /// This body forwarded the appeal on its due date.
    #[serde(default)]
    pub forwarded_on_last_day: bool,
    /// This body forwarded the appeal to a body that had held it before.
    #[serde(default)]
    pub ping_pong: bool,
}

impl Holding {
    /// The statutory due date: an extension's `until` replaces the term's.
    pub fn statutory_due(&self) -> NaiveDate {
        self.extended_until.unwrap_or(self.due)
    }

    /// The statutory due date as known on `day` (an extension decided later
    /// does not count yet).
    pub fn statutory_due_on(&self, day: NaiveDate) -> NaiveDate {
        match (self.extended_until, self.extended_on) {
            (Some(until), Some(on)) if on <= day => until,
            _ => self.due,
        }
    }

    /// For a turn this body ended with an answer: whether it was on time.
    pub fn answered_on_time(&self) -> Option<bool> {
        match (self.departure, self.left_on) {
            (Some(Departure::Answered), Some(left_on)) => Some(left_on <= self.statutory_due()),
            _ => None,
        }
    }
}

/// A forward refused because a prosecutor's office had assigned the appeal
/// to the body that tried it: the attempt is a recorded fact, the appeal
/// does not move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedForward {
    pub seq: u64,
    pub from: AgencySlug,
    pub to: AgencySlug,
    #[serde(serialize_with = "iso_date::serialize")]
    pub on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealState {
    pub appeal: String,
    pub status: AppealStatus,
    /// Bodies that held the appeal, in order; the last one holds it now.
    pub holdings: Vec<Holding>,
    pub channel: Channel,
    pub kind: AppealKind,
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IIN or BIN of the applicant; absent for anonymous appeals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant: Option<String>,
    /// The current holder's extension, if any (also kept on its holding).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub extended_until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "iso_date::serialize_option")]
    pub answered_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<AgencySlug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_by: Option<AgencySlug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_seq: Option<u64>,
    /// Forward attempts refused after an assignment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_forwards: Vec<RefusedForward>,
    /// The earlier appeal this one repeats (same applicant and category,
    /// within the window after its answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<RepeatLink>,
}

impl AppealState {
    /// The body that holds the appeal now.
    pub fn holder(&self) -> &AgencySlug {
        &self.current().agency
    }

    /// The current holder's turn.
    pub fn current(&self) -> &Holding {
        // `holdings` is never empty: registration creates the first one.
        &self.holdings[self.holdings.len() - 1]
    }

    /// The first registration anywhere: the citizen's clock starts here.
    pub fn first(&self) -> &Holding {
        &self.holdings[0]
    }

    /// Number of forwards so far (assignments are not forwards).
    pub fn forwards(&self) -> usize {
        self.holdings.iter().filter(|holding| holding.via == Via::Forwarded).count()
    }

    /// Whether a forward ever sent the appeal back to a body that held it.
    pub fn cycle(&self) -> bool {
        self.holdings.iter().any(|holding| holding.ping_pong)
    }

    /// Two or more forwards, or a cycle.
    pub fn wandering(&self) -> bool {
        self.forwards() >= 2 || self.cycle()
    }

    /// The agencies that held the appeal, first recipient first, current
    /// holder last.
    pub fn path(&self) -> Vec<String> {
        self.holdings.iter().map(|holding| holding.agency.to_string()).collect()
    }

    /// The current holder's statutory due date (extension included).
    pub fn statutory_due(&self) -> NaiveDate {
        self.current().statutory_due()
    }

    /// The turn that held the appeal at the end of `day`, if it was
    /// registered by then.
    pub fn holding_on(&self, day: NaiveDate) -> Option<&Holding> {
        self.holdings.iter().rev().find(|holding| holding.received_on <= day)
    }

    /// Whether the appeal was still unanswered at the end of `day`.
    pub fn unanswered_on(&self, day: NaiveDate) -> bool {
        self.first().received_on <= day && self.answered_on.is_none_or(|answered| answered > day)
    }

    /// The citizen's clock: working days after the day of the first
    /// registration (a non-working registration day counts as the next
    /// working day, as for the statutory term) up to and including the
    /// answer day, or `as_of` while unanswered. It never restarts.
    pub fn citizen_working_days(&self, as_of: NaiveDate) -> Result<u32, CalendarError> {
        let end = self.answered_on.map_or(as_of, |answered| answered.min(as_of));
        // DESIGN.md §3: an appeal registered on a non-working day counts as
        // registered on the next working day; the citizen's clock starts
        // from the same day as the first holder's statutory clock.
        let calendar = WorkCalendar::kazakhstan();
        let registered = calendar.next_working_day_on_or_after(self.first().received_on)?;
        calendar.working_days_between(registered, end)
    }
}

/// What a rule found wrong in an event that is nonetheless true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// A forward after the 3rd working day after receipt.
    LateForward,
    /// A forward to a body that already held the appeal (a cycle).
    PingPong,
    /// The third and every later forward.
    HotPotato,
    /// A forward on the holder's due date.
    ForwardOnLastDay,
    /// An answer after the due date.
    LateAnswer,
    /// An extension beyond the legal maximum.
    ExtensionBeyondMax,
    /// A forward by the body a prosecutor's office assigned the appeal to.
    AssignedForwardAttempt,
}

impl ViolationKind {
    pub const ALL: [ViolationKind; 7] = [
        ViolationKind::LateForward,
        ViolationKind::PingPong,
        ViolationKind::HotPotato,
        ViolationKind::ForwardOnLastDay,
        ViolationKind::LateAnswer,
        ViolationKind::ExtensionBeyondMax,
        ViolationKind::AssignedForwardAttempt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::LateForward => "late_forward",
            ViolationKind::PingPong => "ping_pong",
            ViolationKind::HotPotato => "hot_potato",
            ViolationKind::ForwardOnLastDay => "forward_on_last_day",
            ViolationKind::LateAnswer => "late_answer",
            ViolationKind::ExtensionBeyondMax => "extension_beyond_max",
            ViolationKind::AssignedForwardAttempt => "assigned_forward_attempt",
        }
    }
}

/// A violation with the body responsible and the events that prove it
/// (sequence numbers; the last one is the event that raised it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub agency: AgencySlug,
    pub events: Vec<u64>,
    /// A sentence without personal data.
    pub detail: String,
}

/// A forward back to a body that held the appeal: a competence dispute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// The bodies in the dispute, in the order they held the appeal.
    pub agencies: Vec<AgencySlug>,
    /// The events that prove the cycle.
    pub events: Vec<u64>,
}

/// What an event did to an appeal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub state: AppealState,
    pub violations: Vec<Violation>,
    pub cycle: Option<Cycle>,
}

/// The appeal number an event is about, if it is an appeal event.
pub fn appeal_of(record: &Record) -> Option<&str> {
    Some(match record {
        Record::AppealRegistered(r) => r.appeal.as_str(),
        Record::AppealForwarded(r) => r.appeal.as_str(),
        Record::AppealAccepted(r) => r.appeal.as_str(),
        Record::AppealExtended(r) => r.appeal.as_str(),
        Record::AppealAnswered(r) => r.appeal.as_str(),
        Record::AppealContested(r) => r.appeal.as_str(),
        Record::AppealContestResolved(r) => r.appeal.as_str(),
        Record::AppealAssigned(r) => r.appeal.as_str(),
        _ => return None,
    })
}

/// Applies an appeal event, ignoring the violations it proves (sequence
/// numbers are 0). Use [`decide`] on the write path.
pub fn apply(state: Option<&AppealState>, event: &Event) -> Result<AppealState, RuleViolation> {
    decide(state, event, 0).map(|decision| decision.state)
}

/// Decides what an appeal event, appended as `seq`, does: the new state and
/// the violations it proves, or why it cannot be true.
pub fn decide(state: Option<&AppealState>, event: &Event, seq: u64) -> Result<Decision, RuleViolation> {
    let at = event.at_utc();
    let day = casetrail_types::time::local_date(at);
    if let Record::AppealRegistered(registered) = &event.record {
        if state.is_some() {
            return Err(RuleViolation::new(
                "appeal",
                format!("appeal {} is already registered; a new appeal needs a new number", registered.appeal),
            ));
        }
        let holding = open_turn(registered.agency.clone(), at, seq, Via::Registered, None)?;
        let state = AppealState {
            appeal: registered.appeal.to_string(),
            status: AppealStatus::Open,
            holdings: vec![holding],
            channel: registered.channel,
            kind: registered.kind,
            category: registered.category.to_string(),
            region: registered.region.as_ref().map(ToString::to_string),
            applicant: registered.applicant.as_ref().and_then(|party| party.number()),
            extended_until: None,
            answered_at: None,
            answered_on: None,
            outcome: None,
            assigned_to: None,
            assigned_by: None,
            assigned_seq: None,
            refused_forwards: Vec::new(),
            repeat_of: None,
        };
        return Ok(Decision { state, violations: Vec::new(), cycle: None });
    }
    let Some(current) = state else {
        return Err(RuleViolation::new(
            "appeal",
            "no appeal with this number is registered; import its appeal.registered first, then replay this line",
        ));
    };
    let mut decision = Decision { state: current.clone(), violations: Vec::new(), cycle: None };
    match &event.record {
        Record::AppealForwarded(forward) => forwarded(current, &mut decision, forward, at, seq)?,
        Record::AppealAccepted(accepted) => {
            require_holder(current, &accepted.agency, "agency")?;
            require_open(current)?;
            if let Some(on) = current.current().accepted_on {
                return Err(RuleViolation::new(
                    "agency",
                    format!("{} already accepted appeal {} on {on}", accepted.agency, current.appeal),
                ));
            }
            let turn = last_turn(&mut decision.state);
            turn.accepted_on = Some(day);
            turn.accepted_seq = Some(seq);
        }
        Record::AppealExtended(extended) => {
            require_holder(current, &extended.agency, "agency")?;
            require_open(current)?;
            let turn = current.current();
            if extended.until > turn.extension_max {
                decision.violations.push(Violation {
                    kind: ViolationKind::ExtensionBeyondMax,
                    agency: extended.agency.clone(),
                    events: vec![turn.seq, seq],
                    detail: format!(
                        "{} extended appeal {} until {}, beyond the legal maximum {} ({}, counted from receipt on {})",
                        extended.agency,
                        current.appeal,
                        extended.until,
                        turn.extension_max,
                        turn.regime,
                        turn.received_on
                    ),
                });
            }
            let next = &mut decision.state;
            let turn = last_turn(next);
            turn.extended_until = Some(extended.until);
            turn.extended_on = Some(day);
            turn.extension_seq = Some(seq);
            next.extended_until = Some(extended.until);
        }
        Record::AppealAnswered(answered) => {
            require_holder(current, &answered.agency, "agency")?;
            require_open(current)?;
            let turn = current.current();
            let due = turn.statutory_due();
            if day > due {
                let mut events = vec![turn.seq];
                events.extend(turn.extension_seq);
                events.push(seq);
                decision.violations.push(Violation {
                    kind: ViolationKind::LateAnswer,
                    agency: answered.agency.clone(),
                    events,
                    detail: format!(
                        "{} answered appeal {} on {}, after its due date {}",
                        answered.agency, current.appeal, day, due
                    ),
                });
            }
            let next = &mut decision.state;
            close_turn(last_turn(next), day, seq, Departure::Answered);
            next.status = AppealStatus::Answered;
            next.answered_at = Some(at);
            next.answered_on = Some(day);
            next.outcome = Some(answered.outcome);
        }
        Record::AppealContested(_) => {
            if current.status != AppealStatus::Answered {
                return Err(RuleViolation::new("appeal", "only an answered appeal can be contested"));
            }
            decision.state.status = AppealStatus::Contested;
        }
        Record::AppealContestResolved(_) => {
            if current.status != AppealStatus::Contested {
                return Err(RuleViolation::new("appeal", "the appeal is not contested"));
            }
            decision.state.status = AppealStatus::Answered;
        }
        Record::AppealAssigned(assigned) => {
            require_open(current)?;
            let next = &mut decision.state;
            if current.holder() != &assigned.to {
                let turn = open_turn(assigned.to.clone(), at, seq, Via::Assigned, None)?;
                close_turn(last_turn(next), day, seq, Departure::Assigned);
                next.holdings.push(turn);
                next.extended_until = None;
            }
            next.assigned_to = Some(assigned.to.clone());
            next.assigned_by = Some(assigned.by.clone());
            next.assigned_seq = Some(seq);
        }
        _ => return Err(RuleViolation::new("type", "not an appeal event")),
    }
    Ok(decision)
}

fn forwarded(
    current: &AppealState,
    decision: &mut Decision,
    forward: &casetrail_exchange::AppealForwarded,
    at: DateTime<Utc>,
    seq: u64,
) -> Result<(), RuleViolation> {
    let day = casetrail_types::time::local_date(at);
    require_holder(current, &forward.from, "from")?;
    require_open(current)?;
    if forward.to == forward.from {
        return Err(RuleViolation::new("to", format!("{} cannot forward an appeal to itself", forward.from)));
    }
    if current.assigned_to.as_ref() == Some(&forward.from) {
        // A true fact about the body's conduct: recorded, refused, alerted.
        decision.state.refused_forwards.push(RefusedForward {
            seq,
            from: forward.from.clone(),
            to: forward.to.clone(),
            on: day,
        });
        decision.violations.push(Violation {
            kind: ViolationKind::AssignedForwardAttempt,
            agency: forward.from.clone(),
            events: current.assigned_seq.into_iter().chain([seq]).collect(),
            detail: format!(
                "refused: a prosecutor's office assigned appeal {} to {}, which can no longer forward it; the appeal stays with {}",
                current.appeal, forward.from, forward.from
            ),
        });
        return Ok(());
    }
    let turn = current.current();
    let mut late = false;
    let mut on_last_day = false;
    if day > turn.forward_by {
        late = true;
        decision.violations.push(Violation {
            kind: ViolationKind::LateForward,
            agency: forward.from.clone(),
            events: vec![turn.seq, seq],
            detail: format!(
                "{} forwarded appeal {} on {}, after {}, the last day to forward it (received on {})",
                forward.from, current.appeal, day, turn.forward_by, turn.received_on
            ),
        });
    }
    if day == turn.statutory_due() {
        on_last_day = true;
        decision.violations.push(Violation {
            kind: ViolationKind::ForwardOnLastDay,
            agency: forward.from.clone(),
            events: vec![turn.seq, seq],
            detail: format!(
                "{} forwarded appeal {} on {}, the last day of its own term",
                forward.from, current.appeal, day
            ),
        });
    }
    let earlier: Vec<u64> =
        current.holdings.iter().filter(|holding| holding.agency == forward.to).map(|holding| holding.seq).collect();
    let ping_pong = !earlier.is_empty();
    if ping_pong {
        let events: Vec<u64> = earlier.iter().copied().chain([seq]).collect();
        decision.violations.push(Violation {
            kind: ViolationKind::PingPong,
            agency: forward.from.clone(),
            events: events.clone(),
            detail: format!(
                "{} forwarded appeal {} back to {}, which already held it",
                forward.from, current.appeal, forward.to
            ),
        });
        let first_stay = current.holdings.iter().position(|holding| holding.agency == forward.to).unwrap_or(0);
        let mut agencies: Vec<AgencySlug> = Vec::new();
        for holding in &current.holdings[first_stay..] {
            if !agencies.contains(&holding.agency) {
                agencies.push(holding.agency.clone());
            }
        }
        decision.cycle = Some(Cycle { agencies, events });
    }
    let forwards = current.forwards() + 1;
    if forwards >= 3 {
        let events: Vec<u64> = current
            .holdings
            .iter()
            .filter(|holding| holding.via == Via::Forwarded)
            .map(|holding| holding.seq)
            .chain([seq])
            .collect();
        decision.violations.push(Violation {
            kind: ViolationKind::HotPotato,
            agency: forward.from.clone(),
            events,
            detail: format!("{} made forward number {forwards} of appeal {}", forward.from, current.appeal),
        });
    }
    let next_turn = open_turn(forward.to.clone(), at, seq, Via::Forwarded, Some(forward.reason))?;
    let next = &mut decision.state;
    let turn = last_turn(next);
    close_turn(turn, day, seq, Departure::Forwarded);
    turn.late_forward = late;
    turn.forwarded_on_last_day = on_last_day;
    turn.ping_pong = ping_pong;
    next.holdings.push(next_turn);
    // A new holder starts without the previous holder's extension.
    next.extended_until = None;
    Ok(())
}

/// A body's turn starting at `at`, with the terms in force that day.
fn open_turn(
    agency: AgencySlug,
    at: DateTime<Utc>,
    seq: u64,
    via: Via,
    reason: Option<ForwardReason>,
) -> Result<Holding, RuleViolation> {
    let day = casetrail_types::time::local_date(at);
    let terms = || -> Result<_, rules::RulesError> {
        let regime = rules::rules()?.regime_on(day)?;
        Ok((
            regime.id.clone(),
            regime.term.last_day(day)?,
            regime.forward_within.last_day(day)?,
            regime.extension_max.last_day(day)?,
        ))
    };
    let (regime, due, forward_by, extension_max) =
        terms().map_err(|error| RuleViolation::new("at", format!("cannot count the term: {error}")))?;
    Ok(Holding {
        agency,
        received_at: at,
        received_on: day,
        reason,
        via,
        seq,
        regime,
        due,
        forward_by,
        extension_max,
        accepted_on: None,
        accepted_seq: None,
        extended_until: None,
        extended_on: None,
        extension_seq: None,
        left_on: None,
        left_seq: None,
        departure: None,
        late_forward: false,
        forwarded_on_last_day: false,
        ping_pong: false,
    })
}

fn last_turn(state: &mut AppealState) -> &mut Holding {
    let last = state.holdings.len() - 1;
    &mut state.holdings[last]
}

fn close_turn(turn: &mut Holding, day: NaiveDate, seq: u64, departure: Departure) {
    turn.left_on = Some(day);
    turn.left_seq = Some(seq);
    turn.departure = Some(departure);
}

fn require_holder(state: &AppealState, agency: &AgencySlug, field: &'static str) -> Result<(), RuleViolation> {
    if state.holder() != agency {
        return Err(RuleViolation::new(
            field,
            format!("{agency} does not hold appeal {}; it is held by {}", state.appeal, state.holder()),
        ));
    }
    Ok(())
}

fn require_open(state: &AppealState) -> Result<(), RuleViolation> {
    if state.status != AppealStatus::Open {
        return Err(RuleViolation::new("appeal", format!("appeal {} is already answered", state.appeal)));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
