//! `trends`: appeals registered per month, by category, region and the
//! registering agency — the data of the prosecutor's trend charts, small
//! enough to sum by category or by region after a scope filter (the
//! `agency` column is what scopes a row).

use std::collections::BTreeMap;

use casetrail_app::projector::kind;
use casetrail_domain::appeal::{AppealState, Via};
use casetrail_domain::registry::AgencyState;
use casetrail_ledger::Store;
use casetrail_types::Kato;
use serde_json::{json, Value};

use crate::{for_each_doc, ReportError, ReportParams, Table};

/// Appeals first registered on days in the period (and not after
/// `--as-of`), counted by (`month` `YYYY-MM` of the Kazakhstan local day of
/// registration, `category`, `region`, `agency`), with how many of them had
/// been forwarded at least once and how many were wandering (two or more
/// forwards, or a forward back to a body that held them) by the end of the
/// as-of day. `region` is the
/// region-level KATO code of the appeal's own region, else of the agency it
/// was registered with; null when neither has one (a national body's
/// appeal without a region). Rows are ordered by month, category, region,
/// agency.
pub fn trends(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut agency_region: BTreeMap<String, Option<String>> = BTreeMap::new();
    for_each_doc(store, kind::AGENCY, |_, agency: AgencyState| {
        agency_region.insert(agency.agency.clone(), agency.region.as_deref().and_then(region_code));
    })?;
    // appeals, forwarded at least once, wandering — by the as-of day.
    let mut counts: BTreeMap<(String, String, Option<String>, String), [u64; 3]> = BTreeMap::new();
    for_each_doc(store, kind::APPEAL, |_, state: AppealState| {
        let first = state.first();
        let day = first.received_on;
        if day > params.as_of || !params.includes(day) {
            return;
        }
        let agency = first.agency.to_string();
        let region =
            state.region.as_deref().and_then(region_code).or_else(|| agency_region.get(&agency).cloned().flatten());
        let month = day.format("%Y-%m").to_string();
        let forwards =
            state.holdings.iter().filter(|turn| turn.via == Via::Forwarded && turn.received_on <= params.as_of).count();
        let cycle =
            state.holdings.iter().any(|turn| turn.ping_pong && turn.left_on.is_some_and(|on| on <= params.as_of));
        let count = counts.entry((month, state.category.clone(), region, agency)).or_default();
        count[0] += 1;
        count[1] += u64::from(forwards > 0);
        count[2] += u64::from(forwards >= 2 || cycle);
    })?;
    let mut table = Table::new(&["month", "category", "region", "agency", "appeals", "forwarded", "wandering"]);
    table.rows = counts
        .into_iter()
        .map(|((month, category, region, agency), [appeals, forwarded, wandering])| {
            vec![
                json!(month),
                json!(category),
                region.map_or(Value::Null, |r| json!(r)),
                json!(agency),
                json!(appeals),
                json!(forwarded),
                json!(wandering),
            ]
        })
        .collect();
    Ok(table)
}

/// The region-level KATO code (`NN0000000`) of a KATO code, when its region
/// is one of the known ones.
fn region_code(kato: &str) -> Option<String> {
    Kato::parse(kato).ok().and_then(|code| code.region()).map(|region| region.code.to_string())
}
