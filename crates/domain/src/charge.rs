//! A charge (a fine to pay): imposed → paid (in parts) / referred to a
//! bailiff → recalled / cancelled.

use casetrail_exchange::{Event, Record};
use casetrail_types::{Money, Uin};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::registry::ProtocolState;
use crate::RuleViolation;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Open,
    Paid,
    Referred,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentApplied {
    pub payment: String,
    pub provider: String,
    pub amount_tiyn: i64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub bailiff: String,
    pub document: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeState {
    pub uin: String,
    pub case: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// IIN or BIN of the offender, when a protocol names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The full amount in tiyn.
    pub amount_tiyn: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_mci: Option<u32>,
    /// The day of the offence (the protocol's day, else the decision's).
    pub offence_on: NaiveDate,
    pub in_force_on: NaiveDate,
    pub short_procedure: bool,
    pub imposed_at: DateTime<Utc>,
    pub status: ChargeStatus,
    pub paid_tiyn: i64,
    #[serde(default)]
    pub payments: Vec<PaymentApplied>,
    #[serde(default)]
    pub referrals: Vec<Referral>,
}

/// The UIN a charge event is about.
pub fn uin_of(record: &Record) -> Option<&Uin> {
    Some(match record {
        Record::FineImposed(r) => &r.uin,
        Record::FineReferred(r) => &r.uin,
        Record::FineRecalled(r) => &r.uin,
        Record::FineCancelled(r) => &r.uin,
        _ => return None,
    })
}

/// Applies a charge event. `protocol` is the signed protocol of the case,
/// when there is one (camera fines have none).
pub fn apply(
    state: Option<&ChargeState>,
    protocol: Option<&ProtocolState>,
    event: &Event,
) -> Result<ChargeState, RuleViolation> {
    let at = event.at_utc();
    if let Record::FineImposed(imposed) = &event.record {
        if state.is_some() {
            return Err(RuleViolation::new(
                "uin",
                format!("a charge with UIN {} already exists; every charge needs its own UIN", imposed.uin),
            ));
        }
        let offence_on = protocol.map(|p| p.signed_on).unwrap_or_else(|| casetrail_types::time::local_date(at));
        let amount = match (imposed.amount_mci, &imposed.amount_kzt) {
            (_, Some(amount)) => *amount,
            (Some(count), None) => {
                let mci = casetrail_types::mci::Mci::table()
                    .value_on(offence_on)
                    .map_err(|error| RuleViolation::new("amount_mci", error.to_string()))?;
                mci.tenge
                    .checked_mul_int(i64::from(count))
                    .ok_or_else(|| RuleViolation::new("amount_mci", "the amount overflows"))?
            }
            (None, None) => return Err(RuleViolation::new("amount_mci", "no amount")),
        };
        let in_force_on = casetrail_exchange::in_force_day(&imposed.in_force_at)
            .map_err(|reason| RuleViolation::new("in_force_at", reason))?;
        return Ok(ChargeState {
            uin: imposed.uin.to_string(),
            case: imposed.case.to_string(),
            agency: protocol.map(|p| p.agency.clone()),
            payer: protocol.and_then(|p| p.offender.clone()),
            amount_tiyn: amount.tiyn(),
            amount_mci: imposed.amount_mci,
            offence_on,
            in_force_on,
            short_procedure: imposed.short_procedure,
            imposed_at: at,
            status: ChargeStatus::Open,
            paid_tiyn: 0,
            payments: Vec::new(),
            referrals: Vec::new(),
        });
    }
    let Some(current) = state else {
        return Err(RuleViolation::new(
            "uin",
            "no charge with this UIN is known; import its fine.imposed first, then replay this line",
        ));
    };
    let mut next = current.clone();
    match &event.record {
        Record::FineReferred(referred) => {
            if current.status == ChargeStatus::Cancelled {
                return Err(RuleViolation::new("uin", "the charge is cancelled and cannot be referred"));
            }
            next.referrals.push(Referral {
                bailiff: referred.bailiff.to_string(),
                document: referred.document.to_string(),
                at,
                recalled_at: None,
            });
            next.status = ChargeStatus::Referred;
        }
        Record::FineRecalled(_) => {
            let Some(open) = next.referrals.iter_mut().rev().find(|r| r.recalled_at.is_none()) else {
                return Err(RuleViolation::new("uin", "the charge has no referral to recall"));
            };
            open.recalled_at = Some(at);
            next.status = if next.paid_tiyn >= next.amount_tiyn { ChargeStatus::Paid } else { ChargeStatus::Open };
        }
        Record::FineCancelled(_) => {
            next.status = ChargeStatus::Cancelled;
        }
        _ => return Err(RuleViolation::new("type", "not a charge event")),
    }
    Ok(next)
}

/// Applies a payment that quotes this charge's UIN.
pub fn apply_payment(state: &ChargeState, payment: &PaymentApplied) -> ChargeState {
    let mut next = state.clone();
    if next.payments.iter().any(|p| p.payment == payment.payment && p.provider == payment.provider) {
        return next;
    }
    next.paid_tiyn = next.paid_tiyn.saturating_add(payment.amount_tiyn);
    next.payments.push(payment.clone());
    if next.status == ChargeStatus::Open && next.paid_tiyn >= next.amount_tiyn {
        next.status = ChargeStatus::Paid;
    }
    next
}

/// The amount in tenge, for display.
pub fn money(tiyn: i64) -> Money {
    Money::from_tiyn(tiyn)
}
