//! An appeal's life: registered → forwarded (any number of times) →
//! extended → answered → contested → resolved; `assigned` ends a dispute.

use casetrail_exchange::{AgencySlug, AppealKind, Channel, Event, ForwardReason, Outcome, Record};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::RuleViolation;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Open,
    Answered,
    Contested,
}

/// One body's turn holding the appeal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub agency: AgencySlug,
    pub received_at: DateTime<Utc>,
    pub received_on: NaiveDate,
    /// Why it came here (absent for the first recipient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ForwardReason>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<AgencySlug>,
}

impl AppealState {
    /// The body that holds the appeal now.
    pub fn holder(&self) -> &AgencySlug {
        // `holdings` is never empty: registration creates the first one.
        &self.holdings[self.holdings.len() - 1].agency
    }

    /// The first registration anywhere: the citizen's clock starts here.
    pub fn first(&self) -> &Holding {
        &self.holdings[0]
    }

    /// Number of forwards so far.
    pub fn forwards(&self) -> usize {
        self.holdings.len() - 1
    }
}

/// The appeal number an event is about, if it is an appeal event.
pub fn appeal_of(record: &Record) -> Option<&str> {
    Some(match record {
        Record::AppealRegistered(r) => r.appeal.as_str(),
        Record::AppealForwarded(r) => r.appeal.as_str(),
        Record::AppealExtended(r) => r.appeal.as_str(),
        Record::AppealAnswered(r) => r.appeal.as_str(),
        Record::AppealContested(r) => r.appeal.as_str(),
        Record::AppealContestResolved(r) => r.appeal.as_str(),
        Record::AppealAssigned(r) => r.appeal.as_str(),
        _ => return None,
    })
}

/// Applies an appeal event to the appeal's current state.
pub fn apply(state: Option<&AppealState>, event: &Event) -> Result<AppealState, RuleViolation> {
    let at = event.at_utc();
    let day = casetrail_types::time::local_date(at);
    if let Record::AppealRegistered(registered) = &event.record {
        if state.is_some() {
            return Err(RuleViolation::new(
                "appeal",
                format!("appeal {} is already registered; a new appeal needs a new number", registered.appeal),
            ));
        }
        return Ok(AppealState {
            appeal: registered.appeal.to_string(),
            status: AppealStatus::Open,
            holdings: vec![Holding {
                agency: registered.agency.clone(),
                received_at: at,
                received_on: day,
                reason: None,
            }],
            channel: registered.channel,
            kind: registered.kind,
            category: registered.category.to_string(),
            region: registered.region.as_ref().map(ToString::to_string),
            applicant: registered.applicant.as_ref().and_then(|party| party.number()),
            extended_until: None,
            answered_at: None,
            outcome: None,
            assigned_to: None,
        });
    }
    let Some(current) = state else {
        return Err(RuleViolation::new(
            "appeal",
            "no appeal with this number is registered; import its appeal.registered first, then replay this line",
        ));
    };
    let mut next = current.clone();
    match &event.record {
        Record::AppealForwarded(forward) => {
            require_holder(current, &forward.from, "from")?;
            require_open(current)?;
            if current.assigned_to.as_ref() == Some(&forward.from) {
                return Err(RuleViolation::new(
                    "from",
                    format!(
                        "the prosecutor's office assigned this appeal to {}; it can no longer be forwarded",
                        forward.from
                    ),
                ));
            }
            next.holdings.push(Holding {
                agency: forward.to.clone(),
                received_at: at,
                received_on: day,
                reason: Some(forward.reason),
            });
            // A new holder starts without the previous holder's extension.
            next.extended_until = None;
        }
        Record::AppealExtended(extended) => {
            require_holder(current, &extended.agency, "agency")?;
            require_open(current)?;
            next.extended_until = Some(extended.until);
        }
        Record::AppealAnswered(answered) => {
            require_holder(current, &answered.agency, "agency")?;
            require_open(current)?;
            next.status = AppealStatus::Answered;
            next.answered_at = Some(at);
            next.outcome = Some(answered.outcome);
        }
        Record::AppealContested(_) => {
            if current.status != AppealStatus::Answered {
                return Err(RuleViolation::new("appeal", "only an answered appeal can be contested"));
            }
            next.status = AppealStatus::Contested;
        }
        Record::AppealContestResolved(_) => {
            if current.status != AppealStatus::Contested {
                return Err(RuleViolation::new("appeal", "the appeal is not contested"));
            }
            next.status = AppealStatus::Answered;
        }
        Record::AppealAssigned(assigned) => {
            require_open(current)?;
            if current.holder() != &assigned.to {
                next.holdings.push(Holding {
                    agency: assigned.to.clone(),
                    received_at: at,
                    received_on: day,
                    reason: None,
                });
            }
            next.assigned_to = Some(assigned.to.clone());
        }
        _ => return Err(RuleViolation::new("type", "not an appeal event")),
    }
    Ok(next)
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
mod tests {
    use super::*;
    use casetrail_exchange::parse_record;

    fn event(json: &str) -> Event {
        parse_record(json.as_bytes()).expect("valid record")
    }

    const REGISTERED: &str = r#"{"type":"appeal.registered","at":"2026-03-02T10:15:00+05:00","appeal":"A-1","agency":"akimat","applicant":{"iin":"850808310738"},"channel":"portal","kind":"complaint","category":"housing"}"#;

    #[test]
    fn forward_moves_the_appeal_and_keeps_the_first_registration() {
        let registered = apply(None, &event(REGISTERED)).expect("registered");
        let forwarded = apply(
            Some(&registered),
            &event(r#"{"type":"appeal.forwarded","at":"2026-03-03T09:00:00+05:00","appeal":"A-1","from":"akimat","to":"police","reason":"not_in_competence"}"#),
        )
        .expect("forwarded");
        assert_eq!(forwarded.holder().as_str(), "police");
        assert_eq!(forwarded.first().agency.as_str(), "akimat");
        assert_eq!(forwarded.forwards(), 1);
        assert_eq!(forwarded.applicant.as_deref(), Some("850808310738"));
    }

    #[test]
    fn impossible_events_are_refused_with_a_reason() {
        let registered = apply(None, &event(REGISTERED)).expect("registered");
        let not_holder = apply(
            Some(&registered),
            &event(
                r#"{"type":"appeal.answered","at":"2026-03-03T09:00:00+05:00","appeal":"A-1","agency":"police","outcome":"explained"}"#,
            ),
        );
        assert!(not_holder.expect_err("refused").reason.contains("does not hold"));
        assert!(apply(Some(&registered), &event(REGISTERED))
            .expect_err("refused")
            .reason
            .contains("already registered"));
        let unknown = apply(
            None,
            &event(
                r#"{"type":"appeal.forwarded","at":"2026-03-03T09:00:00+05:00","appeal":"A-9","from":"a","to":"b","reason":"other"}"#,
            ),
        );
        assert!(unknown.expect_err("refused").reason.contains("no appeal"));
        let answered = apply(
            Some(&registered),
            &event(r#"{"type":"appeal.answered","at":"2026-03-03T09:00:00+05:00","appeal":"A-1","agency":"akimat","outcome":"explained"}"#),
        )
        .expect("answered");
        let late_forward = apply(
            Some(&answered),
            &event(
                r#"{"type":"appeal.forwarded","at":"2026-03-04T09:00:00+05:00","appeal":"A-1","from":"akimat","to":"b","reason":"other"}"#,
            ),
        );
        assert!(late_forward.expect_err("refused").reason.contains("already answered"));
    }

    #[test]
    fn registration_day_is_the_kazakhstan_local_day() {
        // 20:30 UTC on 1 March 2026 is already 2 March in Kazakhstan (UTC+5).
        let late = REGISTERED.replace("2026-03-02T10:15:00+05:00", "2026-03-01T20:30:00Z");
        let state = apply(None, &event(&late)).expect("registered");
        assert_eq!(state.first().received_on, NaiveDate::from_ymd_opt(2026, 3, 2).expect("date"));
    }
}
