//! Appeals by the instant they were first registered, newest first
//! (`requested/{newest-first instant}/{appeal}`, with the category): the
//! Open311 request list reads the period it is asked for, not every appeal.
//!
//! Written once, at the appeal's first registration (the instant never
//! changes); a database written before it gets it from the appeal
//! documents when first opened ([`super::appeal_index`]).

use casetrail_domain::appeal::AppealState;
use casetrail_ledger::Tx;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::appeal_index::AppealIndex;
use super::build_once::to_doc;
use super::{kind, ProjectError, Projector};

/// The index's definition; raise it when what is indexed changes.
pub const VERSION: u32 = 1;

/// The marker document (`meta/requested_index`).
pub const MARKER_KEY: &str = "requested_index";

/// Microseconds are counted down from here so that keys sort newest first
/// (16 digits hold every instant from 1653 to 2286).
const NEWEST_FIRST_BASE: i64 = 9_999_999_999_999_999;

/// One appeal in the request list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    pub appeal: String,
    pub category: String,
}

/// What every key of appeals first registered at `at` starts with, without
/// its slash: keys sort newest first, so the entries at or before `at` are
/// exactly the keys after this one (see [`requested_key`]).
pub fn requested_instant(at: DateTime<Utc>) -> String {
    newest_first(at)
}

/// An instant as 16 digits that sort newest first (for keys of lists read
/// newest first: this one, the bailiffs' recalls).
pub fn newest_first(at: DateTime<Utc>) -> String {
    let micros = NEWEST_FIRST_BASE - at.timestamp_micros();
    // Room for what keys add after the instant: `/` and an appeal number.
    let mut key = String::with_capacity(48);
    match u64::try_from(micros) {
        // Zero-padded to 16 digits without `core::fmt` (the writer makes
        // one such key for every appeal it registers).
        Ok(micros) if micros < 10u64.pow(16) => {
            let mut digits = [b'0'; 16];
            casetrail_types::decimal::zero_padded(micros, &mut digits);
            key.push_str(std::str::from_utf8(&digits).unwrap_or_default());
        }
        _ => key.push_str(&format!("{micros:016}")),
    }
    key
}

/// The entry key: the registration instant newest first, then the number.
pub fn requested_key(at: DateTime<Utc>, appeal: &str) -> String {
    let mut key = requested_instant(at);
    key.push('/');
    key.push_str(appeal);
    key
}

/// The registration instant an entry key names.
pub fn instant_of(key: &str) -> Option<DateTime<Utc>> {
    let micros: i64 = key.split('/').next()?.parse().ok()?;
    DateTime::from_timestamp_micros(NEWEST_FIRST_BASE - micros)
}

fn entry(state: &AppealState) -> (String, Requested) {
    (
        requested_key(state.first().received_at, &state.appeal),
        Requested { appeal: state.appeal.clone(), category: state.category.clone() },
    )
}

impl Projector {
    /// Lists a newly registered appeal under its registration instant.
    pub(super) fn index_requested(
        &mut self,
        before: Option<&AppealState>,
        after: &AppealState,
    ) -> Result<(), ProjectError> {
        if before.is_some() {
            return Ok(());
        }
        let (key, entry) = entry(after);
        self.put(kind::REQUESTED, &key, Some(after.first().agency.as_str()), &entry)
    }
}

/// The request list: built from the appeal documents once when missing.
pub const INDEX: AppealIndex = AppealIndex {
    kind: kind::REQUESTED,
    marker: MARKER_KEY,
    version: VERSION,
    entry: |state| {
        let (key, entry) = entry(state);
        to_doc(kind::REQUESTED, key, Some(state.first().agency.to_string()), &entry).map(Some)
    },
};

/// Builds the list from the appeal documents when the database is not
/// marked with the current version; returns the number of appeals read.
pub fn ensure(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64)) -> Result<u64, ProjectError> {
    INDEX.ensure(tx, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_sort_newest_first_and_give_their_instant_back() {
        let earlier = Utc.with_ymd_and_hms(2021, 6, 30, 23, 59, 59).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 3, 2, 4, 15, 0).unwrap();
        assert!(requested_key(later, "Z-9") < requested_key(earlier, "A-1"));
        assert!(requested_key(later, "A-1") < requested_key(later, "A-2"));
        assert_eq!(instant_of(&requested_key(earlier, "A-1")), Some(earlier));
        // Everything at or before an instant comes after its bare prefix.
        assert!(requested_key(later, "A-1").as_str() > requested_instant(later).as_str());
        assert!(
            requested_key(later + chrono::Duration::microseconds(1), "A-1").as_str()
                < requested_instant(later).as_str()
        );
    }

    #[test]
    fn instants_are_written_as_sixteen_digits_at_any_distance_from_the_base() {
        let instants = [
            Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap(),
            DateTime::from_timestamp_micros(0).unwrap(),
            DateTime::from_timestamp_micros(NEWEST_FIRST_BASE).unwrap(),
            DateTime::from_timestamp_micros(NEWEST_FIRST_BASE - 7).unwrap(),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
        ];
        for at in instants {
            assert_eq!(newest_first(at), format!("{:016}", NEWEST_FIRST_BASE - at.timestamp_micros()), "{at}");
            assert_eq!(requested_key(at, "A-1"), format!("{}/A-1", newest_first(at)));
        }
    }
}
