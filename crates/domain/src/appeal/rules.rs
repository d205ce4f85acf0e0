//! The appeal terms as data (`data/rules/appeals.toml`), versioned by the
//! day each regime took effect.

use std::sync::OnceLock;

use casetrail_types::calendar::{CalendarError, WorkCalendar};
use chrono::{Months, NaiveDate, TimeDelta};
use serde::Deserialize;

const APPEALS_TOML: &str = include_str!("../../../../data/rules/appeals.toml");

/// Why a rule cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("invalid rules file data/rules/appeals.toml: {0}; fix the file")]
    Data(String),
    #[error("no appeal rules were in force on {0}; add a regime to data/rules/appeals.toml")]
    NoRegime(NaiveDate),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("term from {0} ends outside the calendar")]
    OutOfRange(NaiveDate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermUnit {
    WorkingDays,
    CalendarDays,
    Months,
}

/// A length of time, e.g. 15 working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub amount: u32,
    pub unit: TermUnit,
}

impl Term {
    /// The last day of this term for something received on `received_on`:
    /// a receipt on a non-working day counts as a receipt on the next
    /// working day, and that day itself is not counted (DESIGN.md §3).
    pub fn last_day(&self, received_on: NaiveDate) -> Result<NaiveDate, RulesError> {
        let calendar = WorkCalendar::kazakhstan();
        let effective = calendar.next_working_day_on_or_after(received_on)?;
        match self.unit {
            TermUnit::WorkingDays => Ok(calendar.add_working_days(effective, self.amount)?),
            TermUnit::CalendarDays => effective
                .checked_add_signed(TimeDelta::days(i64::from(self.amount)))
                .ok_or(RulesError::OutOfRange(received_on)),
            TermUnit::Months => {
                effective.checked_add_months(Months::new(self.amount)).ok_or(RulesError::OutOfRange(received_on))
            }
        }
    }
}

/// One law's terms.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    pub id: String,
    pub title: String,
    pub effective_from: NaiveDate,
    pub term: Term,
    pub extension_max: Term,
    pub forward_within: Term,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatRule {
    pub window_calendar_days: u32,
}

/// Every regime, oldest first, and the repeat-appeal window.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealRules {
    pub repeat: RepeatRule,
    #[serde(rename = "regime")]
    pub regimes: Vec<Regime>,
}

impl AppealRules {
    /// Parses a rules file; regimes must be in order of `effective_from`.
    pub fn parse(text: &str) -> Result<AppealRules, RulesError> {
        let rules: AppealRules = toml::from_str(text).map_err(|error| RulesError::Data(error.to_string()))?;
        if rules.regimes.is_empty() {
            return Err(RulesError::Data("no [[regime]] given".into()));
        }
        if rules.regimes.windows(2).any(|pair| pair[0].effective_from >= pair[1].effective_from) {
            return Err(RulesError::Data("regimes must be listed oldest first, one per effective date".into()));
        }
        Ok(rules)
    }

    /// The regime in force on `day`.
    pub fn regime_on(&self, day: NaiveDate) -> Result<&Regime, RulesError> {
        self.regimes.iter().rev().find(|regime| regime.effective_from <= day).ok_or(RulesError::NoRegime(day))
    }

    /// Whether an appeal registered on `registered_on` repeats one answered
    /// on `answered_on`.
    pub fn is_repeat(&self, answered_on: NaiveDate, registered_on: NaiveDate) -> bool {
        let days = registered_on.signed_duration_since(answered_on).num_days();
        days >= 0 && days <= i64::from(self.repeat.window_calendar_days)
    }
}

/// The embedded rules, parsed once.
pub fn rules() -> Result<&'static AppealRules, RulesError> {
    static RULES: OnceLock<Result<AppealRules, RulesError>> = OnceLock::new();
    RULES.get_or_init(|| AppealRules::parse(APPEALS_TOML)).as_ref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn embedded_rules_parse_and_switch_on_1_july_2021() {
        let rules = rules().expect("rules");
        assert_eq!(rules.regime_on(day(2021, 6, 30)).expect("old").id, "law-2007-221");
        assert_eq!(rules.regime_on(day(2021, 7, 1)).expect("new").id, "appc-76");
        assert!(rules.regime_on(day(2000, 1, 1)).is_err());
        assert_eq!(rules.repeat.window_calendar_days, 90);
    }

    #[test]
    fn terms_count_from_the_effective_receipt_day() {
        let appc = rules().expect("rules").regime_on(day(2026, 3, 2)).expect("appc");
        // Mon 2 Mar 2026 + 15 working days; 9 Mar (Women's day) and
        // 23–25 Mar (Nauryz) are days off: 3,4,5,6,10,11,12,13,16,17,18,19,20,26,27.
        assert_eq!(appc.term.last_day(day(2026, 3, 2)).expect("due"), day(2026, 3, 27));
        // Saturday 7 Mar counts as Tue 10 Mar (Mon 9 Mar is a holiday).
        assert_eq!(appc.forward_within.last_day(day(2026, 3, 7)).expect("fwd"), day(2026, 3, 13));
        assert_eq!(appc.extension_max.last_day(day(2026, 3, 2)).expect("max"), day(2026, 5, 2));
        let old = rules().expect("rules").regime_on(day(2020, 3, 2)).expect("law");
        assert_eq!(old.term.last_day(day(2020, 3, 2)).expect("due"), day(2020, 3, 17));
        assert_eq!(old.extension_max.last_day(day(2020, 3, 2)).expect("max"), day(2020, 4, 1));
    }

    #[test]
    fn broken_rules_are_refused() {
        assert!(AppealRules::parse("[repeat]\nwindow_calendar_days = 1\n").is_err());
        assert!(AppealRules::parse(&APPEALS_TOML.replace("2021-07-01", "2001-07-01")).is_err());
    }
}
