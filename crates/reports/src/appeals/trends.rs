//! `trends`: appeals registered per month, by category, region and the
//! registering agency — the data of the prosecutor's trend charts, small
//! enough to sum by category or by region after a scope filter (the
//! `agency` column is what scopes a row).

use std::collections::BTreeMap;

use casetrail_app::projector::kind;
use casetrail_domain::appeal::AppealState;
use casetrail_domain::registry::AgencyState;
use casetrail_ledger::Store;
use casetrail_types::Kato;
use serde_json::{json, Value};

use crate::{for_each_doc, ReportError, ReportParams, Table};

/// Appeals first registered on days in the period (and not after
/// `--as-of`), counted by (`month` `YYYY-MM` of the Kazakhstan local day of
/// registration, `category`, `region`, `agency`). `region` is the
/// region-level KATO code of the appeal's own region, else of the agency it
/// was registered with; null when neither has one (a national body's
/// appeal without a region). Rows are ordered by month, category, region,
/// agency.
pub fn trends(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut agency_region: BTreeMap<String, Option<String>> = BTreeMap::new();
    for_each_doc(store, kind::AGENCY, |_, agency: AgencyState| {
        agency_region.insert(agency.agency.clone(), agency.region.as_deref().and_then(region_code));
    })?;
    let mut counts: BTreeMap<(String, String, Option<String>, String), u64> = BTreeMap::new();
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
        *counts.entry((month, state.category.clone(), region, agency)).or_default() += 1;
    })?;
    let mut table = Table::new(&["month", "category", "region", "agency", "appeals"]);
    table.rows = counts
        .into_iter()
        .map(|((month, category, region, agency), count)| {
            vec![json!(month), json!(category), region.map_or(Value::Null, |r| json!(r)), json!(agency), json!(count)]
        })
        .collect();
    Ok(table)
}

/// The region-level KATO code (`NN0000000`) of a KATO code, when its region
/// is one of the known ones.
fn region_code(kato: &str) -> Option<String> {
    Kato::parse(kato).ok().and_then(|code| code.region()).map(|region| region.code.to_string())
}
