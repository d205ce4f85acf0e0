//! Fine reports: the enforcement gate (`enforcement-due`) and the audit of
//! referrals made while the charge was paid (`paid-but-referred`).

use casetrail_domain::charge::ChargeState;
use casetrail_domain::fine_rules;
use casetrail_ledger::Store;
use casetrail_types::time::{kz_offset_at, local_date};
use casetrail_types::Money;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{for_each_doc, ReportError, ReportParams, Table};

/// Charges a bailiff may receive as of `--as-of`: in force, past the
/// voluntary term, not covered (by matched payments) nor held back (by an
/// unmatched payment), not deferred or on schedule with instalments, not
/// cancelled, not already referred; counting only what happened by the end
/// of that day. `amount_kzt` is what is still owed, `due` the first day of
/// enforcement. Ordered by `due`, then `uin`.
pub fn enforcement_due(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut rows: Vec<(chrono::NaiveDate, String, Vec<Value>)> = Vec::new();
    for_each_doc::<ChargeState>(store, "charge", |_, charge| {
        if let Ok(due) = charge.gate(params.as_of) {
            rows.push((
                due.due,
                charge.uin.clone(),
                vec![
                    Value::from(charge.uin.clone()),
                    Value::from(charge.case.clone()),
                    charge.payer.clone().map_or(Value::Null, Value::from),
                    Value::from(due.owed.to_decimal_string()),
                    Value::from(due.due.format("%Y-%m-%d").to_string()),
                ],
            ));
        }
    })?;
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut table = Table::new(&["uin", "case", "payer", "amount_kzt", "due"]);
    table.rows = rows.into_iter().map(|(_, _, row)| row).collect();
    Ok(table)
}

/// Every referral made while payments covered the charge, over the whole
/// history (or the referrals in `--from`/`--to`, by the referral's local
/// day). `payment` is the provider's id of the payment that completed the
/// cover (several payments: the last one needed), `paid_at` its instant,
/// `referred_at` the referral's; `days_between` is the number of calendar
/// days from the payment's Kazakhstan local day to the referral's (0 = the
/// same day); `amount_kzt` the full amount of the fine (what the bailiff was
/// sent to collect again) and `bailiff_fee_kzt` the fee the bailiff's scale
/// gives for it at the MCI of the referral day (what the citizen was exposed
/// to). Ordered by `referred_at`, then `uin`.
pub fn paid_but_referred(store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let mut rows: Vec<(DateTime<Utc>, String, Vec<Value>)> = Vec::new();
    let mut failure = None;
    for_each_doc::<ChargeState>(store, "charge", |_, charge| {
        for referral in &charge.referrals {
            let referred_on = local_date(referral.at);
            if !params.includes(referred_on) {
                continue;
            }
            let Some(payments) = charge.covering_payments(referral.at) else { continue };
            let Some(last) = payments.last() else { continue };
            let amount = charge.amount();
            let fee = match fine_rules::bailiff_fee(amount, referred_on) {
                Ok(fee) => fee,
                Err(error) => {
                    failure.get_or_insert_with(|| format!("charge {}: {error}", charge.uin));
                    Money::ZERO
                }
            };
            let days = (referred_on - local_date(last.at)).num_days();
            rows.push((
                referral.at,
                charge.uin.clone(),
                vec![
                    Value::from(charge.uin.clone()),
                    Value::from(last.payment.clone()),
                    Value::from(instant(last.at)),
                    Value::from(instant(referral.at)),
                    Value::from(referral.bailiff.clone()),
                    Value::from(amount.to_decimal_string()),
                    Value::from(days),
                    Value::from(fee.to_decimal_string()),
                ],
            ));
        }
    })?;
    if let Some(error) = failure {
        return Err(ReportError::Data(error));
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut table = Table::new(&[
        "uin",
        "payment",
        "paid_at",
        "referred_at",
        "bailiff",
        "amount_kzt",
        "days_between",
        "bailiff_fee_kzt",
    ]);
    table.rows = rows.into_iter().map(|(_, _, row)| row).collect();
    Ok(table)
}

/// An instant in Kazakhstan's offset of the time, RFC 3339.
fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&kz_offset_at(at)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}
