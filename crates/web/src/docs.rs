//! Reading projection documents for the web layer.

use std::collections::BTreeMap;

use casetrail_app::projector::kind;
use casetrail_app::projector::queue::{queue_prefix, Held};
use casetrail_app::projector::recalls::{bailiff_prefix, Recalled};
use casetrail_app::projector::requested::{instant_of, requested_instant, Requested};
use casetrail_domain::appeal::AppealState;
use casetrail_domain::registry::AgencyState;
use casetrail_ledger::{ProjectionDoc, Store};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::error::WebError;

/// Documents read per page when scanning a kind.
const SCAN_PAGE_DOCS: usize = 2_000;

/// A document's value, or a server error naming the document.
fn parse<T: DeserializeOwned>(doc: &ProjectionDoc) -> Result<T, WebError> {
    serde_json::from_str(&doc.doc).map_err(|error| unreadable(doc, &error.to_string()))
}

fn unreadable(doc: &ProjectionDoc, why: &str) -> WebError {
    WebError::Internal(format!("projection {}/{} is unreadable: {why}", doc.kind, doc.key))
}

pub fn load<T: DeserializeOwned>(store: &mut dyn Store, kind: &str, key: &str) -> Result<Option<T>, WebError> {
    store.doc(kind, key)?.map(|doc| parse(&doc)).transpose()
}

/// Every document of a kind, parsed, for which `keep` says yes.
pub fn scan<T: DeserializeOwned>(
    store: &mut dyn Store,
    kind: &str,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<Vec<T>, WebError> {
    let mut after = String::new();
    let mut out = Vec::new();
    loop {
        let page = store.docs(kind, &after, SCAN_PAGE_DOCS)?;
        let Some(last) = page.last().map(|doc| doc.key.clone()) else { break };
        for doc in &page {
            let value: T = parse(doc)?;
            if keep(&value) {
                out.push(value);
            }
        }
        if page.len() < SCAN_PAGE_DOCS {
            break;
        }
        after = last;
    }
    Ok(out)
}

pub fn agencies(store: &mut dyn Store) -> Result<BTreeMap<String, AgencyState>, WebError> {
    Ok(scan::<AgencyState>(store, kind::AGENCY, |_| true)?.into_iter().map(|a| (a.agency.clone(), a)).collect())
}

pub fn agency(store: &mut dyn Store, slug: &str) -> Result<Option<AgencyState>, WebError> {
    load(store, kind::AGENCY, slug)
}

/// The open appeals `holder` holds, soonest due first (then by number), at
/// most `limit`: its entries of the queue index, then those appeals only.
pub fn queue(store: &mut dyn Store, holder: &str, limit: usize) -> Result<Vec<AppealState>, WebError> {
    let prefix = queue_prefix(holder);
    let mut held: Vec<Held> = Vec::new();
    let mut after = prefix.clone();
    'pages: loop {
        let page = store.docs(kind::HELD, &after, SCAN_PAGE_DOCS)?;
        let full = page.len() == SCAN_PAGE_DOCS;
        for doc in page {
            if !doc.key.starts_with(&prefix) {
                break 'pages;
            }
            held.push(serde_json::from_str(&doc.doc).map_err(|error| {
                WebError::Internal(format!("projection {}/{} is unreadable: {error}", kind::HELD, doc.key))
            })?);
            after = doc.key;
        }
        if !full {
            break;
        }
    }
    held.sort_by(|a, b| (a.due, &a.appeal).cmp(&(b.due, &b.appeal)));
    held.truncate(limit);
    let mut appeals = Vec::with_capacity(held.len());
    for entry in held {
        match appeal(store, &entry.appeal)? {
            Some(state) => appeals.push(state),
            None => {
                return Err(WebError::Internal(format!(
                    "queue entry {} has no appeal; run `casetrail rebuild`",
                    entry.appeal
                )))
            }
        }
    }
    Ok(appeals)
}

/// The referrals recalled from `bailiff`, newest recall first (then by
/// UIN), at most `limit`: its entries of the recall index only.
pub fn recalls(store: &mut dyn Store, bailiff: &str, limit: usize) -> Result<Vec<Recalled>, WebError> {
    let prefix = bailiff_prefix(bailiff);
    let mut recalled = Vec::new();
    let mut after = prefix.clone();
    while recalled.len() < limit {
        let page = store.docs(kind::RECALLED, &after, SCAN_PAGE_DOCS.min(limit - recalled.len()))?;
        let full = page.len() == SCAN_PAGE_DOCS.min(limit - recalled.len());
        for doc in page {
            if !doc.key.starts_with(&prefix) {
                return Ok(recalled);
            }
            recalled.push(serde_json::from_str(&doc.doc).map_err(|error| {
                WebError::Internal(format!("projection {}/{} is unreadable: {error}", kind::RECALLED, doc.key))
            })?);
            after = doc.key;
        }
        if !full {
            break;
        }
    }
    Ok(recalled)
}

pub fn appeal(store: &mut dyn Store, number: &str) -> Result<Option<AppealState>, WebError> {
    load(store, kind::APPEAL, number)
}

/// Appeals first registered in `from..=to` (either end open), newest first,
/// whose category `keep_category` and whose state `keep` accept (the
/// category is in the list, so an appeal of another one is never read), at
/// most `limit`, after reading at most `examined_max` appeals: a range of
/// the request list, never a scan of every appeal.
pub fn requested(
    store: &mut dyn Store,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: usize,
    examined_max: usize,
    mut keep_category: impl FnMut(&str) -> bool,
    mut keep: impl FnMut(&AppealState) -> bool,
) -> Result<Vec<AppealState>, WebError> {
    // Keys sort newest first; those at or before `to` follow its bare prefix.
    let mut after = to.map(requested_instant).unwrap_or_default();
    let mut out = Vec::new();
    let mut examined = 0;
    loop {
        let page = store.docs(kind::REQUESTED, &after, SCAN_PAGE_DOCS)?;
        let Some(last) = page.last().map(|doc| doc.key.clone()) else { break };
        for doc in &page {
            let at = instant_of(&doc.key).ok_or_else(|| unreadable(doc, "no instant in the key"))?;
            if from.is_some_and(|from| at < from) {
                return Ok(out);
            }
            let entry: Requested = parse(doc)?;
            if !keep_category(&entry.category) {
                continue;
            }
            if examined == examined_max {
                return Ok(out);
            }
            examined += 1;
            if let Some(appeal) = appeal(store, &entry.appeal)?.filter(|appeal| keep(appeal)) {
                out.push(appeal);
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        if page.len() < SCAN_PAGE_DOCS {
            break;
        }
        after = last;
    }
    Ok(out)
}

/// The documents of a kind from the last key back (the newest first, for
/// kinds keyed by the event that made them) for which `keep` says yes:
/// `limit` of them after skipping `skip`, reading no further.
pub fn newest<T: DeserializeOwned>(
    store: &mut dyn Store,
    kind: &str,
    skip: usize,
    limit: usize,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<Vec<T>, WebError> {
    let mut kept = 0;
    let mut out = Vec::new();
    let mut before: Option<String> = None;
    while out.len() < limit {
        let page = store.docs_before(kind, before.as_deref(), SCAN_PAGE_DOCS)?;
        let Some(oldest) = page.last() else { break };
        before = Some(oldest.key.clone());
        for doc in &page {
            let value: T = parse(doc)?;
            if !keep(&value) {
                continue;
            }
            kept += 1;
            if kept > skip {
                out.push(value);
                if out.len() == limit {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use casetrail_app::testing::{ledger_at, sqlite};
    use casetrail_app::Incoming;
    use casetrail_domain::appeal::AppealStatus;
    use casetrail_exchange::RawLine;
    use chrono::TimeZone;

    fn line(text: String) -> Incoming {
        Incoming::from_raw(RawLine { line: 1, bytes: text.into_bytes() })
    }

    #[test]
    fn the_request_list_reads_newest_first_and_no_more_than_it_may() {
        let (mut ledger, _guard) = ledger_at(sqlite(), Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).single().unwrap());
        let mut lines = vec![line(
            r#"{"type":"agency.registered","id":"ag","at":"2026-02-01T09:00:00+05:00","agency":"akimat-a","name":{"kk":"Ә","ru":"А","en":"A"},"kind":"akimat"}"#.into(),
        )];
        for day in 2..=6 {
            lines.push(line(format!(
                r#"{{"type":"appeal.registered","id":"A-{day}","at":"2026-02-0{day}T10:00:00+05:00","appeal":"A-{day}","agency":"akimat-a","applicant":{{"iin":"850808310738"}},"channel":"portal","kind":"complaint","category":"roads"}}"#
            )));
        }
        // The oldest appeal is the only one answered.
        lines.push(line(
            r#"{"type":"appeal.answered","id":"ans","at":"2026-02-09T10:00:00+05:00","appeal":"A-2","agency":"akimat-a","outcome":"explained"}"#.into(),
        ));
        ledger.import("t", lines.into_iter(), |_| {}).unwrap();
        let store = ledger.store();
        let numbers = |found: Vec<AppealState>| found.into_iter().map(|a| a.appeal).collect::<Vec<_>>();
        let all = requested(store, None, None, 10, 100, |_| true, |_| true).unwrap();
        assert_eq!(numbers(all), ["A-6", "A-5", "A-4", "A-3", "A-2"], "newest first");
        let mut closed = |examined_max| {
            requested(store, None, None, 10, examined_max, |_| true, |a| a.status != AppealStatus::Open).unwrap()
        };
        assert_eq!(numbers(closed(5)), ["A-2"]);
        assert!(closed(4).is_empty(), "four appeals read, the answered one not among them");
        let to = Utc.with_ymd_and_hms(2026, 2, 4, 5, 0, 0).single();
        let from = Utc.with_ymd_and_hms(2026, 2, 3, 5, 0, 0).single();
        assert_eq!(numbers(requested(store, from, to, 10, 100, |_| true, |_| true).unwrap()), ["A-4", "A-3"]);
        assert!(requested(store, None, None, 10, 100, |c| c == "housing", |_| true).unwrap().is_empty());
    }
}
