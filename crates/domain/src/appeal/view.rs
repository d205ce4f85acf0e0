//! The citizen's view of an appeal: where it is, every body that held it
//! and for how many working days, why it moved, and when it is due — as
//! data, for the web and API to render in Kazakh, Russian and English.
//!
//! It carries no personal data: the caller checks the applicant's IIN
//! before showing it.

use casetrail_exchange::{ForwardReason, LocalizedName, Outcome};
use casetrail_types::calendar::{CalendarError, WorkCalendar};
use chrono::NaiveDate;
use serde::Serialize;

use super::{AppealState, AppealStatus, Departure, Via};

/// One body's turn, as the citizen sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stop {
    pub agency: String,
    /// The body's name in kk/ru/en, when it is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<LocalizedName>,
    pub via: Via,
    pub received_on: NaiveDate,
    /// The day the body forwarded, answered or lost the appeal; `None`
    /// while it holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// Why it was forwarded on from here (the reason the next body got it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_reason: Option<ForwardReason>,
    /// Working days after receipt up to and including `left_on` (or the
    /// view's day while the body still holds it).
    pub working_days_held: u32,
    /// This body's statutory due date (its extension included).
    pub statutory_due: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_until: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CitizenView {
    pub appeal: String,
    pub status: AppealStatus,
    /// The body that holds the appeal now (or answered it).
    pub holder: String,
    pub registered_on: NaiveDate,
    /// The statutory clock: the current holder's due date; `None` once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statutory_due: Option<NaiveDate>,
    /// Working days the current holder has had it (its clock restarted on receipt).
    pub statutory_working_days: u32,
    /// The citizen's clock: working days since the first registration.
    pub citizen_working_days: u32,
    /// Whether the current holder is past its due date on `as_of`.
    pub overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    pub forwards: usize,
    pub stops: Vec<Stop>,
}

/// The citizen's view of `state` on `as_of`; `name_of` gives a body's
/// localized name by slug.
pub fn citizen_view(
    state: &AppealState,
    name_of: impl Fn(&str) -> Option<LocalizedName>,
    as_of: NaiveDate,
) -> Result<CitizenView, CalendarError> {
    let calendar = WorkCalendar::kazakhstan();
    let mut stops = Vec::with_capacity(state.holdings.len());
    for (index, holding) in state.holdings.iter().enumerate() {
        let end = holding.left_on.unwrap_or(as_of);
        let forward_reason = match holding.departure {
            Some(Departure::Forwarded) => state.holdings.get(index + 1).and_then(|next| next.reason),
            _ => None,
        };
        stops.push(Stop {
            agency: holding.agency.to_string(),
            name: name_of(holding.agency.as_str()),
            via: holding.via,
            received_on: holding.received_on,
            left_on: holding.left_on,
            departure: holding.departure,
            forward_reason,
            working_days_held: calendar.working_days_between(holding.received_on, end)?,
            statutory_due: holding.statutory_due(),
            extended_until: holding.extended_until,
        });
    }
    let current = state.current();
    let open = state.status == AppealStatus::Open;
    Ok(CitizenView {
        appeal: state.appeal.clone(),
        status: state.status,
        holder: current.agency.to_string(),
        registered_on: state.first().received_on,
        statutory_due: open.then(|| current.statutory_due()),
        statutory_working_days: calendar.working_days_between(current.received_on, current.left_on.unwrap_or(as_of))?,
        citizen_working_days: state.citizen_working_days(as_of)?,
        overdue: open && as_of > current.statutory_due(),
        answered_on: state.answered_on,
        outcome: state.outcome,
        forwards: state.forwards(),
        stops,
    })
}
