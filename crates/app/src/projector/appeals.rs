//! Appeal events on the projections: the appeal's document and the
//! agencies' counters.

use casetrail_domain::appeal::{self, AppealState};
use casetrail_exchange::{Event, Record};
use chrono::NaiveDate;

use super::{kind, metric, ProjectError, Projector};

impl Projector {
    pub(super) fn apply_appeal(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Some(number) = appeal::appeal_of(&event.record) else { return Ok(()) };
        let number = number.to_owned();
        let current: Option<AppealState> = self.get(kind::APPEAL, &number)?;
        let next = appeal::apply(current.as_ref(), event)?;
        match &event.record {
            Record::AppealRegistered(r) => self.count(r.agency.as_str(), day, metric::APPEALS_REGISTERED, 1),
            Record::AppealForwarded(r) => {
                self.count(r.from.as_str(), day, metric::APPEALS_FORWARDED_OUT, 1);
                self.count(r.to.as_str(), day, metric::APPEALS_FORWARDED_IN, 1);
            }
            Record::AppealExtended(r) => self.count(r.agency.as_str(), day, metric::APPEALS_EXTENDED, 1),
            Record::AppealAnswered(r) => self.count(r.agency.as_str(), day, metric::APPEALS_ANSWERED, 1),
            _ => {}
        }
        let holder = next.holder().to_string();
        self.put(kind::APPEAL, &number, Some(&holder), &next)
    }
}
