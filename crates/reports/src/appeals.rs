//! Appeal reports, from the appeal projection documents: `wandering`,
//! `overdue`, `forwards`, `scorecard` (methodology: `docs/ratings.md`) and
//! `trends`.

mod scorecard;
mod trends;

use std::collections::BTreeMap;

use casetrail_app::projector::kind;
use casetrail_domain::appeal::{AppealState, Via};
use casetrail_ledger::Store;
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::{for_each_doc, ReportError, ReportParams, Table};

pub use scorecard::{scorecard, scorecard_by_scan, FIRST_DAY, LAST_DAY, WEIGHTS};
pub use trends::trends;

/// Every appeal with two or more forwards or a cycle; with `--from/--to`,
/// those first registered in the period.
pub fn wandering(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut table =
        Table::new(&["appeal", "forwards", "cycle", "path", "citizen_working_days", "registered_on", "holder"]);
    let mut failure = None;
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        if !state.wandering() || !params.includes(state.first().received_on) {
            return;
        }
        match citizen_days(&state, params.as_of) {
            Ok(days) => table.rows.push(vec![
                json!(state.appeal),
                json!(state.forwards()),
                json!(state.cycle()),
                json!(state.path()),
                json!(days),
                json!(day_text(state.first().received_on)),
                json!(state.holder().as_str()),
            ]),
            Err(error) => failure = failure.take().or(Some(error)),
        }
    })?;
    failure.map_or(Ok(table), Err)
}

/// Every appeal unanswered at the end of `--as-of` whose statutory due date
/// (the holder's term on that day, an extension's `until` replacing it) is
/// before that day.
pub fn overdue(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let as_of = params.as_of;
    let mut rows: Vec<(NaiveDate, String, Vec<Value>)> = Vec::new();
    let mut failure = None;
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        if !state.unanswered_on(as_of) {
            return;
        }
        let Some(turn) = state.holding_on(as_of) else { return };
        let due = turn.statutory_due_on(as_of);
        if due >= as_of {
            return;
        }
        let overdue_days = casetrail_types::WorkCalendar::kazakhstan()
            .working_days_between(due, as_of)
            .map_err(|error| ReportError::Data(format!("appeal {}: {error}", state.appeal)));
        match (citizen_days(&state, as_of), overdue_days) {
            (Ok(days), Ok(overdue_days)) => rows.push((
                due,
                state.appeal.clone(),
                vec![
                    json!(state.appeal),
                    json!(turn.agency.as_str()),
                    json!(day_text(due)),
                    json!(days),
                    json!(overdue_days),
                ],
            )),
            (Err(error), _) | (_, Err(error)) => failure = failure.take().or(Some(error)),
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut table = Table::new(&["appeal", "holder", "statutory_due", "citizen_working_days", "overdue_working_days"]);
    table.rows = rows.into_iter().map(|(_, _, row)| row).collect();
    Ok(table)
}

/// The agency-to-agency forward matrix: forwards made on days in the period.
pub fn forwards(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        for pair in state.holdings.windows(2) {
            let (from, to) = (&pair[0], &pair[1]);
            if to.via == Via::Forwarded && params.includes(to.received_on) {
                *counts.entry((from.agency.to_string(), to.agency.to_string())).or_default() += 1;
            }
        }
    })?;
    let mut pairs: Vec<((String, String), u64)> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut table = Table::new(&["from", "to", "count"]);
    table.rows = pairs.into_iter().map(|((from, to), count)| vec![json!(from), json!(to), json!(count)]).collect();
    Ok(table)
}

fn citizen_days(state: &AppealState, as_of: NaiveDate) -> Result<u32, ReportError> {
    state.citizen_working_days(as_of).map_err(|error| ReportError::Data(format!("appeal {}: {error}", state.appeal)))
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}
