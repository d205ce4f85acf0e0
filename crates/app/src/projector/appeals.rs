//! Appeal events on the projections: the appeal's document, the alerts for
//! the violations it proves, competence disputes, the applicant's thread
//! (repeat appeals), the prosecutor's office of each region, and the
//! agencies' counters.

use std::collections::HashMap;

use casetrail_domain::appeal::dispute::{self, DisputeState};
use casetrail_domain::appeal::repeat::{self, ApplicantThread};
use casetrail_domain::appeal::tally::{self, TallyMetric};
use casetrail_domain::appeal::{self, rules, AppealState, Decision};
use casetrail_domain::registry::AgencyState;
use casetrail_domain::RuleViolation;
use casetrail_exchange::{AgencyKind, AgencyRegistered, Event, Record};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{kind, metric, Alert, DocKey, ProjectError, Projector};

/// Counter: repeat appeals, counted on the day of the repeat against the
/// body that answered the earlier appeal.
pub const APPEALS_REPEATED_AGAINST: &str = "appeals_repeated_against";

/// The prosecutor's office a region's competence disputes go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProsecutorOffice {
    pub region: String,
    pub agency: String,
    /// Whether the office's own KATO code is the region's (a regional
    /// office is preferred to a district one).
    pub region_level: bool,
}

/// Documents an agency registration writes besides the agency itself.
pub(super) fn touched_by_agency(agency: &AgencyRegistered) -> Vec<DocKey> {
    prosecutor_region(agency).map(|region| vec![(kind::PROSECUTOR_OFFICE, region)]).unwrap_or_default()
}

/// Documents an appeal event reads or writes besides the appeal itself.
pub(super) fn touched(record: &Record) -> Vec<DocKey> {
    match record {
        Record::AppealRegistered(r) => {
            let applicant = r.applicant.as_ref().and_then(|party| party.number());
            repeat::thread_key(applicant.as_deref(), r.category.as_str())
                .map(|key| vec![(kind::APPEAL_THREAD, key)])
                .unwrap_or_default()
        }
        Record::AppealForwarded(r) => {
            vec![(kind::AGENCY, r.from.to_string()), (kind::DISPUTE, r.appeal.to_string())]
        }
        Record::AppealAssigned(r) => vec![(kind::DISPUTE, r.appeal.to_string()), (kind::AGENCY, r.by.to_string())],
        _ => Vec::new(),
    }
}

/// Documents that only loaded documents (or earlier events of the batch)
/// name: the applicant's thread for an answer, the region's prosecutor's
/// office for a forward (which may close a cycle).
pub(super) fn dependent_keys(projector: &Projector, events: &[&Event]) -> Result<Vec<DocKey>, ProjectError> {
    let mut keys = Vec::new();
    // What earlier events of this batch say (their documents do not exist yet).
    let mut appeals: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    let mut agency_regions: HashMap<String, Option<String>> = HashMap::new();
    for event in events {
        match &event.record {
            Record::AgencyRegistered(r) => {
                agency_regions.insert(r.agency.to_string(), r.region.as_ref().map(ToString::to_string));
            }
            Record::AppealRegistered(r) => {
                let applicant = r.applicant.as_ref().and_then(|party| party.number());
                let thread = repeat::thread_key(applicant.as_deref(), r.category.as_str());
                appeals.insert(r.appeal.to_string(), (thread, r.region.as_ref().map(ToString::to_string)));
            }
            Record::AppealAnswered(r) => {
                let thread = match appeals.get(r.appeal.as_str()) {
                    Some((thread, _)) => thread.clone(),
                    None => projector
                        .get::<AppealState>(kind::APPEAL, r.appeal.as_str())?
                        .and_then(|state| repeat::thread_key(state.applicant.as_deref(), &state.category)),
                };
                keys.extend(thread.map(|key| (kind::APPEAL_THREAD, key)));
            }
            Record::AppealForwarded(r) => {
                let appeal_region = match appeals.get(r.appeal.as_str()) {
                    Some((_, region)) => region.clone(),
                    None => {
                        projector.get::<AppealState>(kind::APPEAL, r.appeal.as_str())?.and_then(|state| state.region)
                    }
                };
                let region = match appeal_region {
                    Some(region) => Some(region),
                    None => match agency_regions.get(r.from.as_str()) {
                        Some(region) => region.clone(),
                        None => projector.get::<AgencyState>(kind::AGENCY, r.from.as_str())?.and_then(|a| a.region),
                    },
                };
                keys.extend(
                    region.and_then(|region| dispute::region_code(&region)).map(|r| (kind::PROSECUTOR_OFFICE, r)),
                );
            }
            _ => {}
        }
    }
    Ok(keys)
}

fn prosecutor_region(agency: &AgencyRegistered) -> Option<String> {
    if agency.kind != AgencyKind::Prosecutor {
        return None;
    }
    agency.region.as_ref().and_then(|kato| dispute::region_code(&kato.to_string()))
}

impl Projector {
    pub(super) fn apply_appeal(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Some(number) = appeal::appeal_of(&event.record) else { return Ok(()) };
        let number = number.to_owned();
        let at = event.at_utc();
        let current: Option<AppealState> = self.get(kind::APPEAL, &number)?;
        let Decision { mut state, violations, cycle } = appeal::decide(current.as_ref(), event, self.seq())?;

        // Read everything first: a rule violation below changes nothing.
        let thread_key = repeat::thread_key(state.applicant.as_deref(), &state.category);
        let mut thread: Option<ApplicantThread> = match (&event.record, &thread_key) {
            (Record::AppealRegistered(_) | Record::AppealAnswered(_), Some(key)) => {
                Some(self.get(kind::APPEAL_THREAD, key)?.unwrap_or_default())
            }
            _ => None,
        };
        let mut dispute_doc: Option<DisputeState> = None;
        let mut region = None;
        let mut prosecutor = None;
        match &event.record {
            Record::AppealForwarded(forward) if cycle.is_some() => {
                dispute_doc = self.get(kind::DISPUTE, &number)?;
                region = self.dispute_region(&state, forward.from.as_str())?;
                if let Some(region) = &region {
                    prosecutor = self.get::<ProsecutorOffice>(kind::PROSECUTOR_OFFICE, region)?.map(|o| o.agency);
                }
            }
            Record::AppealAssigned(assigned) => {
                if let Some(by) = self.get::<AgencyState>(kind::AGENCY, assigned.by.as_str())? {
                    if by.kind != AgencyKind::Prosecutor {
                        return Err(RuleViolation::new(
                            "by",
                            format!(
                                "{} is not a prosecutor's office; only a prosecutor's office decides competence",
                                assigned.by
                            ),
                        )
                        .into());
                    }
                }
                dispute_doc = self.get(kind::DISPUTE, &number)?;
            }
            _ => {}
        }
        let rules = rules::rules().map_err(|error| RuleViolation::new("at", error.to_string()))?;
        // What the event changes in the scorecard's tallies (the repeat link
        // set below does not enter them).
        let changes =
            tally::change(current.as_ref(), &state).map_err(|error| RuleViolation::new("at", error.to_string()))?;

        // Then write. The thread is written only when it changes.
        let mut thread_changed = false;
        match &event.record {
            Record::AppealRegistered(r) => {
                if let Some(thread) = thread.as_mut() {
                    state.repeat_of = thread.repeat_of(rules, day);
                }
                if let (Some(link), Some(thread)) = (&state.repeat_of, thread.as_mut()) {
                    self.count(&link.agency, day, APPEALS_REPEATED_AGAINST, 1);
                    if thread.mark_repeated(link) {
                        thread_changed = true;
                        self.count_tally(&link.agency, link.answer_turn_received_on, TallyMetric::Repeated, 1);
                    }
                }
                self.count(r.agency.as_str(), day, metric::APPEALS_REGISTERED, 1);
            }
            // A refused forward (after an assignment) moves nothing.
            Record::AppealForwarded(r) if state.holder() == &r.to => {
                self.count(r.from.as_str(), day, metric::APPEALS_FORWARDED_OUT, 1);
                self.count(r.to.as_str(), day, metric::APPEALS_FORWARDED_IN, 1);
            }
            Record::AppealExtended(r) => self.count(r.agency.as_str(), day, metric::APPEALS_EXTENDED, 1),
            Record::AppealAnswered(r) => {
                if let Some(thread) = thread.as_mut() {
                    thread.answered(&state);
                    thread_changed = true;
                }
                self.count(r.agency.as_str(), day, metric::APPEALS_ANSWERED, 1);
            }
            Record::AppealAssigned(assigned) => {
                if let Some(settled) =
                    dispute::on_assigned(dispute_doc.take(), &assigned.to, &assigned.by, day, self.seq())
                {
                    self.put(kind::DISPUTE, &number, Some(&settled.addressed_to.clone()), &settled)?;
                }
            }
            _ => {}
        }
        for violation in violations {
            self.count(violation.agency.as_str(), day, violation.kind.as_str(), 1);
            self.raise_alert(Alert {
                alert: violation.kind.as_str().to_owned(),
                subject: format!("appeal/{number}"),
                agency: Some(violation.agency.to_string()),
                at,
                events: violation.events,
                detail: violation.detail,
            })?;
        }
        if let Some(cycle) = &cycle {
            let opened = dispute::on_cycle(dispute_doc, &number, cycle, region, prosecutor, at);
            self.put(kind::DISPUTE, &number, Some(&opened.addressed_to.clone()), &opened)?;
        }
        if let (Some(thread), Some(key), true) = (thread, thread_key, thread_changed) {
            self.put(kind::APPEAL_THREAD, &key, None, &thread)?;
        }
        for ((agency, receipt_day, metric), delta) in changes {
            self.count_tally(&agency, receipt_day, metric, delta);
        }
        self.index_holder(current.as_ref(), &state)?;
        self.index_requested(current.as_ref(), &state)?;
        let holder = state.holder().to_string();
        self.put(kind::APPEAL, &number, Some(&holder), &state)
    }

    /// Keeps the region's prosecutor's office for competence disputes.
    pub(super) fn index_prosecutor_office(&mut self, agency: &AgencyRegistered) -> Result<(), ProjectError> {
        let Some(region) = prosecutor_region(agency) else { return Ok(()) };
        let region_level = agency.region.as_ref().is_some_and(|kato| kato.is_region_level());
        let current: Option<ProsecutorOffice> = self.get(kind::PROSECUTOR_OFFICE, &region)?;
        let replace = match &current {
            None => true,
            Some(office) => office.agency == agency.agency.as_str() || (region_level && !office.region_level),
        };
        if replace {
            let office = ProsecutorOffice { region: region.clone(), agency: agency.agency.to_string(), region_level };
            self.put(kind::PROSECUTOR_OFFICE, &region, Some(agency.agency.as_str()), &office)?;
        }
        Ok(())
    }

    /// The region of a dispute: the appeal's, else the forwarding body's.
    fn dispute_region(&self, state: &AppealState, from: &str) -> Result<Option<String>, ProjectError> {
        let region = match &state.region {
            Some(region) => Some(region.clone()),
            None => self.get::<AgencyState>(kind::AGENCY, from)?.and_then(|agency| agency.region),
        };
        Ok(region.and_then(|region| dispute::region_code(&region)))
    }
}
