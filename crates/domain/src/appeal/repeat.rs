//! Repeat appeals: the same applicant, the same category, registered within
//! the window (`data/rules/appeals.toml`, `[repeat]`) after an earlier
//! appeal was answered. The new appeal is linked to the earlier one and
//! counted against the body that answered it.
//!
//! The applicant's answered appeals in one category are kept in one small
//! document, the *thread* (`appeal_thread/{applicant}/{category}`). Only
//! an answer can be repeated, so a registration reads the thread and writes
//! it only when it marks an answer repeated for the first time: most
//! registrations leave it as it is. (Threads written before this kept
//! unanswered appeals too; they are ignored.)

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{rules::AppealRules, AppealState, Departure};

/// Answered appeals remembered per thread; the oldest are dropped first (a
/// repeat looks back only one window).
pub const THREAD_APPEALS_MAX: usize = 200;

/// The answered appeal a new appeal repeats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatLink {
    /// The earlier appeal's number.
    pub appeal: String,
    /// The body that answered it: the repeat counts against it.
    pub agency: String,
    pub answered_on: NaiveDate,
    /// The day that body received the earlier appeal (its turn's cohort day
    /// in the scorecard).
    pub answer_turn_received_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadEntry {
    pub appeal: String,
    pub registered_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<RepeatLink>,
    /// Whether a later appeal repeats this one (it counts against the body
    /// that answered it once, however many repeats follow).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
}

/// One applicant's answered appeals in one category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantThread {
    pub appeals: Vec<ThreadEntry>,
}

/// The thread document key, or `None` for anonymous appeals.
pub fn thread_key(applicant: Option<&str>, category: &str) -> Option<String> {
    applicant.map(|applicant| [applicant, "/", category].concat())
}

impl ApplicantThread {
    /// The answered appeal that an appeal registered on `registered_on`
    /// repeats: the most recently answered one within the window.
    pub fn repeat_of(&self, rules: &AppealRules, registered_on: NaiveDate) -> Option<RepeatLink> {
        self.appeals
            .iter()
            .filter_map(|entry| entry.answered.as_ref())
            .filter(|answer| rules.is_repeat(answer.answered_on, registered_on))
            .max_by_key(|answer| answer.answered_on)
            .cloned()
    }

    /// Marks the answered appeal `link` names as repeated; true the first
    /// time only (the scorecard counts an answered appeal's repeats once).
    pub fn mark_repeated(&mut self, link: &RepeatLink) -> bool {
        match self.appeals.iter_mut().find(|entry| entry.appeal == link.appeal) {
            Some(entry) if !entry.repeated => {
                entry.repeated = true;
                true
            }
            _ => false,
        }
    }

    /// Records an appeal's answer (from its state after the answer).
    pub fn answered(&mut self, state: &AppealState) {
        let turn = state.current();
        let (Some(Departure::Answered), Some(answered_on)) = (turn.departure, turn.left_on) else { return };
        let link = RepeatLink {
            appeal: state.appeal.clone(),
            agency: turn.agency.to_string(),
            answered_on,
            answer_turn_received_on: turn.received_on,
        };
        match self.appeals.iter_mut().find(|entry| entry.appeal == state.appeal) {
            Some(entry) => entry.answered = Some(link),
            None => {
                self.appeals.push(ThreadEntry {
                    appeal: state.appeal.clone(),
                    registered_on: state.first().received_on,
                    answered: Some(link),
                    repeated: false,
                });
                if self.appeals.len() > THREAD_APPEALS_MAX {
                    self.appeals.remove(0);
                }
            }
        }
    }
}
