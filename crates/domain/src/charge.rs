//! A charge (a fine to pay) as a pure state machine: imposed → paid (in
//! parts, with the short-procedure discount) / deferred / in instalments /
//! referred to a bailiff → recalled / cancelled.
//!
//! Definitions (DESIGN.md §3, kz-rules.md §2):
//!
//! - **Owed at a day**: the full amount minus what is credited; inside the
//!   short-procedure window (a payment made on or before the 7th working day
//!   after the protocol's day, or the imposition day when there is no
//!   protocol) only the discounted share of that remainder is owed.
//! - **Credited**: each payment is credited in terms of the full amount: a
//!   payment of what is owed at its day credits the whole remainder (so 50 %
//!   inside the window covers the fine), a smaller payment inside the window
//!   credits its amount scaled up by the discount, outside it its amount. What
//!   exceeds what is owed is a refund due.
//! - **Covered** (as of an instant): the credits of payments made up to then
//!   add up to the full amount.
//! - **Held**: a payment that could not be matched with certainty names the
//!   charge as a candidate and has not been resolved.
//! - **Due for enforcement** from the day after the voluntary term (the 30th
//!   calendar day after entry into force), later when a deferral or an
//!   instalment plan says so; see [`ChargeState::gate`].

use casetrail_exchange::{Event, Record};
use casetrail_types::calendar::WorkCalendar;
use casetrail_types::time::local_date;
use casetrail_types::{Money, Uin};
use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::fine_rules;
use crate::registry::ProtocolState;
use crate::RuleViolation;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// Owed (possibly in part).
    Open,
    /// Covered by payments.
    Paid,
    /// With a bailiff (a referral not recalled).
    Referred,
    Cancelled,
}

/// How a payment came to a charge (ГИС ГМП's acknowledgment statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    /// By a valid UIN of a known charge.
    Matched,
    /// By payer and an amount exactly one open charge of the payer owes.
    PreliminarilyMatched,
    /// Not matched: waits in the manual queue.
    Unmatched,
    /// Matched by a person (`payment.matched`).
    MatchedByHand,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentApplied {
    pub payment: String,
    pub provider: String,
    pub amount_tiyn: i64,
    pub at: DateTime<Utc>,
    /// The ledger sequence number of the `payment.received`.
    #[serde(default)]
    pub seq: u64,
    pub status: MatchStatus,
    /// What it took off the full amount.
    pub credited_tiyn: i64,
    /// What it paid beyond what was owed.
    pub refund_tiyn: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub bailiff: String,
    pub document: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled_at: Option<DateTime<Utc>>,
}

/// An unmatched payment that could cover this charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The payment document key (`provider/payment`).
    pub payment: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    pub until: NaiveDate,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalmentPlan {
    /// (due day, amount in tiyn), ascending by day.
    pub schedule: Vec<(NaiveDate, i64)>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeState {
    pub uin: String,
    pub case: String,
    /// The ledger sequence number of the `fine.imposed` (0 in projections
    /// made before it was kept).
    #[serde(default)]
    pub imposed_seq: u64,
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
    /// Last day a short-procedure payment pays the discounted share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_until: Option<NaiveDate>,
    /// The discounted share in basis points (10000 when there is none).
    pub discount_pays_bp: u32,
    /// Last day of the voluntary term.
    pub voluntary_until: NaiveDate,
    pub status: ChargeStatus,
    /// Everything received.
    pub paid_tiyn: i64,
    /// What the payments took off the full amount.
    pub credited_tiyn: i64,
    pub refund_due_tiyn: i64,
    #[serde(default)]
    pub payments: Vec<PaymentApplied>,
    #[serde(default)]
    pub referrals: Vec<Referral>,
    #[serde(default)]
    pub holds: Vec<Hold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral: Option<Deferral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instalments: Option<InstalmentPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// Why a charge may not go to a bailiff (as of a day).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotDue {
    NotImposed,
    Cancelled,
    /// Covered by these payments (provider/payment).
    Covered(Vec<String>),
    /// Already with a bailiff.
    Referred {
        bailiff: String,
        document: String,
    },
    /// Held back by these unmatched payments (provider/payment).
    Held(Vec<String>),
    /// In force from this day, not yet.
    NotInForce(NaiveDate),
    /// The voluntary term runs until this day.
    VoluntaryTerm(NaiveDate),
    /// Deferred until this day.
    Deferred(NaiveDate),
    /// On an instalment plan, paid as scheduled; the next instalment is due then.
    OnInstalments(NaiveDate),
}

impl std::fmt::Display for NotDue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotDue::NotImposed => write!(f, "the charge was not yet imposed"),
            NotDue::Cancelled => write!(f, "the charge is cancelled"),
            NotDue::Covered(payments) => write!(f, "the charge is paid: covered by payment(s) {}", payments.join(", ")),
            NotDue::Referred { bailiff, document } => {
                write!(f, "the charge is already with bailiff {bailiff} (document {document})")
            }
            NotDue::Held(payments) => write!(
                f,
                "the charge is held back by unmatched payment(s) {} that could cover it; resolve the manual queue first",
                payments.join(", ")
            ),
            NotDue::NotInForce(day) => write!(f, "the decision enters into force on {day}"),
            NotDue::VoluntaryTerm(day) => write!(f, "the voluntary term runs until {day}"),
            NotDue::Deferred(day) => write!(f, "execution is deferred until {day}"),
            NotDue::OnInstalments(day) => write!(f, "instalments are paid as scheduled; the next is due {day}"),
        }
    }
}

/// A charge due for enforcement: what is still owed and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub owed: Money,
    /// The first day of enforcement.
    pub due: NaiveDate,
}

/// What a referral ran into (the application records it either way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReferralFinding {
    /// The charge was due or at least owed: nothing wrong.
    Owed,
    /// Payments covered the charge when it was referred.
    Covered(Vec<PaymentApplied>),
    /// The charge was cancelled.
    Cancelled,
    /// Unmatched payments held the charge back.
    Held(Vec<String>),
}

/// The UIN a charge event is about.
pub fn uin_of(record: &Record) -> Option<&Uin> {
    Some(match record {
        Record::FineImposed(r) => &r.uin,
        Record::FineReferred(r) => &r.uin,
        Record::FineRecalled(r) => &r.uin,
        Record::FineCancelled(r) => &r.uin,
        Record::FineDeferred(r) => &r.uin,
        Record::FineInstalments(r) => &r.uin,
        Record::PaymentMatched(r) => &r.uin,
        _ => return None,
    })
}

/// Applies a charge event (imposed, referred, recalled, cancelled, deferred,
/// instalments). `protocol` is the signed protocol of the case, when there
/// is one (camera fines have none). `seq` is the event's sequence number.
pub fn apply(
    state: Option<&ChargeState>,
    protocol: Option<&ProtocolState>,
    event: &Event,
    seq: u64,
) -> Result<ChargeState, RuleViolation> {
    let at = event.at_utc();
    if let Record::FineImposed(imposed) = &event.record {
        if state.is_some() {
            return Err(RuleViolation::new(
                "uin",
                format!("a charge with UIN {} already exists; every charge needs its own UIN", imposed.uin),
            ));
        }
        return impose(imposed, protocol, at).map(|charge| ChargeState { imposed_seq: seq, ..charge });
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
            next.referrals.push(Referral {
                bailiff: referred.bailiff.to_string(),
                document: referred.document.to_string(),
                at,
                seq,
                recalled_at: None,
            });
        }
        Record::FineRecalled(_) => {
            if next.referrals.is_empty() {
                return Err(RuleViolation::new("uin", "the charge was never referred; there is nothing to recall"));
            }
            // A recall of a referral casetrail already recalled (a bailiff's
            // system confirming it) happened too: recorded, nothing changes.
            if let Some(open) = next.referrals.iter_mut().rev().find(|r| r.recalled_at.is_none()) {
                open.recalled_at = Some(at);
            }
        }
        Record::FineCancelled(_) => {
            if current.cancelled_at.is_some() {
                return Err(RuleViolation::new("uin", "the charge is already cancelled"));
            }
            next.cancelled_at = Some(at);
            // Everything received for a cancelled charge goes back.
            next.refund_due_tiyn = next.paid_tiyn;
        }
        Record::FineDeferred(deferred) => {
            refuse_if_closed(current, at, "deferred")?;
            let limit = term_limit(current, |terms| terms.deferral_months_max)?;
            if deferred.until > limit {
                return Err(RuleViolation::new(
                    "until",
                    format!(
                        "art. 888 allows a deferral of at most one month after the voluntary term ({}): {} is later than {limit}",
                        current.voluntary_until, deferred.until
                    ),
                ));
            }
            next.deferral = Some(Deferral { until: deferred.until, at });
        }
        Record::FineInstalments(plan) => {
            refuse_if_closed(current, at, "put on instalments")?;
            next.instalments = Some(instalment_plan(current, plan, at)?);
        }
        _ => return Err(RuleViolation::new("type", "not a charge event")),
    }
    next.status = next.status_now();
    Ok(next)
}

fn impose(
    imposed: &casetrail_exchange::FineImposed,
    protocol: Option<&ProtocolState>,
    at: DateTime<Utc>,
) -> Result<ChargeState, RuleViolation> {
    let offence_on = protocol.map(|p| p.signed_on).unwrap_or_else(|| local_date(at));
    let amount = match (imposed.amount_mci, &imposed.amount_kzt) {
        (_, Some(amount)) => *amount,
        (Some(count), None) => casetrail_types::mci::Mci::table()
            .amount(count, offence_on)
            .map_err(|error| RuleViolation::new("amount_mci", error.to_string()))?,
        (None, None) => return Err(RuleViolation::new("amount_mci", "no amount")),
    };
    let in_force_on = casetrail_exchange::in_force_day(&imposed.in_force_at)
        .map_err(|reason| RuleViolation::new("in_force_at", reason))?;
    let terms = fine_rules::terms_on(offence_on).map_err(|error| RuleViolation::new("at", error.to_string()))?;
    let (discount_until, discount_pays_bp) = if imposed.short_procedure {
        let until = WorkCalendar::kazakhstan()
            .add_working_days(offence_on, terms.discount_working_days)
            .map_err(|error| RuleViolation::new("short_procedure", error.to_string()))?;
        (Some(until), terms.discount_pays_bp)
    } else {
        (None, 10_000)
    };
    let voluntary_until = in_force_on
        .checked_add_days(Days::new(u64::from(terms.voluntary_days)))
        .ok_or_else(|| RuleViolation::new("in_force_at", "the date is out of range"))?;
    Ok(ChargeState {
        uin: imposed.uin.to_string(),
        case: imposed.case.to_string(),
        imposed_seq: 0,
        agency: protocol.map(|p| p.agency.clone()),
        payer: protocol.and_then(|p| p.offender.clone()),
        amount_tiyn: amount.tiyn(),
        amount_mci: imposed.amount_mci,
        offence_on,
        in_force_on,
        short_procedure: imposed.short_procedure,
        imposed_at: at,
        discount_until,
        discount_pays_bp,
        voluntary_until,
        status: ChargeStatus::Open,
        paid_tiyn: 0,
        credited_tiyn: 0,
        refund_due_tiyn: 0,
        payments: Vec::new(),
        referrals: Vec::new(),
        holds: Vec::new(),
        deferral: None,
        instalments: None,
        cancelled_at: None,
    })
}

fn refuse_if_closed(current: &ChargeState, at: DateTime<Utc>, what: &str) -> Result<(), RuleViolation> {
    if current.cancelled_at.is_some() {
        return Err(RuleViolation::new("uin", format!("a cancelled charge cannot be {what}")));
    }
    if current.covered_at(at) {
        return Err(RuleViolation::new("uin", format!("a paid charge cannot be {what}")));
    }
    Ok(())
}

/// The last day art. 888 allows: `months` after the end of the voluntary term.
fn term_limit(current: &ChargeState, months: impl Fn(&fine_rules::Terms) -> u32) -> Result<NaiveDate, RuleViolation> {
    let terms =
        fine_rules::terms_on(current.offence_on).map_err(|error| RuleViolation::new("uin", error.to_string()))?;
    current
        .voluntary_until
        .checked_add_months(Months::new(months(terms)))
        .ok_or_else(|| RuleViolation::new("uin", "the date is out of range"))
}

fn instalment_plan(
    current: &ChargeState,
    plan: &casetrail_exchange::FineInstalments,
    at: DateTime<Utc>,
) -> Result<InstalmentPlan, RuleViolation> {
    let terms =
        fine_rules::terms_on(current.offence_on).map_err(|error| RuleViolation::new("uin", error.to_string()))?;
    if plan.schedule.is_empty() || plan.schedule.len() > terms.instalments_count_max {
        return Err(RuleViolation::new(
            "schedule",
            format!("needs 1 to {} instalments, got {}", terms.instalments_count_max, plan.schedule.len()),
        ));
    }
    let limit = term_limit(current, |terms| terms.instalments_months_max)?;
    let mut schedule = Vec::with_capacity(plan.schedule.len());
    let mut total: i64 = 0;
    for (position, instalment) in plan.schedule.iter().enumerate() {
        if instalment.amount_kzt.tiyn() <= 0 {
            return Err(RuleViolation::new("schedule", format!("instalment {} must be positive", position + 1)));
        }
        if schedule.last().is_some_and(|(due, _)| *due >= instalment.due) {
            return Err(RuleViolation::new("schedule", "instalments must be in ascending order of `due`"));
        }
        if instalment.due > limit {
            return Err(RuleViolation::new(
                "schedule",
                format!(
                    "art. 888 allows instalments over at most three months after the voluntary term ({}): {} is later than {limit}",
                    current.voluntary_until, instalment.due
                ),
            ));
        }
        total = total
            .checked_add(instalment.amount_kzt.tiyn())
            .ok_or_else(|| RuleViolation::new("schedule", "the amounts overflow"))?;
        schedule.push((instalment.due, instalment.amount_kzt.tiyn()));
    }
    let remaining = current.remaining_full(current.credited_tiyn);
    if total != remaining {
        return Err(RuleViolation::new(
            "schedule",
            format!(
                "the instalments add up to {} but {} is still owed",
                Money::from_tiyn(total).to_decimal_string(),
                Money::from_tiyn(remaining).to_decimal_string()
            ),
        ));
    }
    Ok(InstalmentPlan { schedule, at })
}

/// A payment on its way to a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingPayment {
    pub payment: String,
    pub provider: String,
    pub amount_tiyn: i64,
    pub at: DateTime<Utc>,
    pub seq: u64,
}

/// Applies a payment matched to this charge; the same payment twice changes
/// nothing. Returns the new state and the payment as applied.
pub fn apply_payment(
    state: &ChargeState,
    payment: &IncomingPayment,
    status: MatchStatus,
) -> (ChargeState, PaymentApplied) {
    if let Some(applied) =
        state.payments.iter().find(|p| p.payment == payment.payment && p.provider == payment.provider)
    {
        return (state.clone(), applied.clone());
    }
    let mut next = state.clone();
    let day = local_date(payment.at);
    let (credited, refund) = if state.cancelled_at.is_some_and(|at| at <= payment.at) {
        (0, payment.amount_tiyn)
    } else {
        let owed = state.owed_on(day, state.credited_tiyn);
        let remaining = state.remaining_full(state.credited_tiyn);
        if payment.amount_tiyn >= owed {
            (remaining, payment.amount_tiyn - owed)
        } else {
            let bp = state.share_bp_on(day);
            let scaled = i128::from(payment.amount_tiyn) * 10_000 / i128::from(bp.max(1));
            (i64::try_from(scaled).unwrap_or(i64::MAX).min(remaining), 0)
        }
    };
    let applied = PaymentApplied {
        payment: payment.payment.clone(),
        provider: payment.provider.clone(),
        amount_tiyn: payment.amount_tiyn,
        at: payment.at,
        seq: payment.seq,
        status,
        credited_tiyn: credited,
        refund_tiyn: refund,
    };
    next.paid_tiyn = next.paid_tiyn.saturating_add(payment.amount_tiyn);
    next.credited_tiyn = next.credited_tiyn.saturating_add(credited);
    next.refund_due_tiyn = next.refund_due_tiyn.saturating_add(refund);
    next.payments.push(applied.clone());
    next.status = next.status_now();
    (next, applied)
}

/// Takes a reversed payment (`payment.reversed`: the bank took it back) off
/// the charge: it no longer counts toward the amount, so the charge may be
/// owed, and due for enforcement, again. The payments left are applied
/// again in their order, so one that overpaid only because of the reversed
/// one now counts toward the fine instead of being a refund due. A payment
/// the charge does not hold changes nothing.
pub fn reverse_payment(state: &ChargeState, provider: &str, payment: &str) -> ChargeState {
    if !state.payments.iter().any(|p| p.payment == payment && p.provider == provider) {
        return state.clone();
    }
    let mut next = state.clone();
    let kept: Vec<PaymentApplied> = std::mem::take(&mut next.payments)
        .into_iter()
        .filter(|p| !(p.payment == payment && p.provider == provider))
        .collect();
    next.paid_tiyn = 0;
    next.credited_tiyn = 0;
    next.refund_due_tiyn = 0;
    for applied in kept {
        let incoming = IncomingPayment {
            payment: applied.payment,
            provider: applied.provider,
            amount_tiyn: applied.amount_tiyn,
            at: applied.at,
            seq: applied.seq,
        };
        next = apply_payment(&next, &incoming, applied.status).0;
    }
    next.status = next.status_now();
    next
}

/// Marks the charge held back by an unmatched payment (idempotent).
pub fn hold(state: &ChargeState, payment_key: &str, at: DateTime<Utc>) -> ChargeState {
    let mut next = state.clone();
    if !next.holds.iter().any(|h| h.payment == payment_key) {
        next.holds.push(Hold { payment: payment_key.to_owned(), at, released_at: None });
    }
    next
}

/// Releases the hold of a payment that has been resolved.
pub fn release(state: &ChargeState, payment_key: &str, at: DateTime<Utc>) -> ChargeState {
    let mut next = state.clone();
    for hold in next.holds.iter_mut().filter(|h| h.payment == payment_key && h.released_at.is_none()) {
        hold.released_at = Some(at);
    }
    next
}

impl ChargeState {
    /// The full amount.
    pub fn amount(&self) -> Money {
        Money::from_tiyn(self.amount_tiyn)
    }

    /// The full amount minus `credited`, never negative.
    fn remaining_full(&self, credited: i64) -> i64 {
        (self.amount_tiyn - credited).max(0)
    }

    /// The share of the remainder a payment on `day` pays, in basis points.
    fn share_bp_on(&self, day: NaiveDate) -> u32 {
        match self.discount_until {
            Some(until) if day <= until => self.discount_pays_bp,
            _ => 10_000,
        }
    }

    /// What a payment on `day` must pay to cover the charge, given what is
    /// already credited.
    fn owed_on(&self, day: NaiveDate, credited: i64) -> i64 {
        let remaining = Money::from_tiyn(self.remaining_full(credited));
        remaining.percent_of(self.share_bp_on(day)).map_or(remaining.tiyn(), Money::tiyn)
    }

    /// What a payment on `day` must pay now to cover the charge (the
    /// discounted share inside the short-procedure window); zero when
    /// covered or cancelled.
    pub fn owed_now_on(&self, day: NaiveDate) -> Money {
        if self.cancelled_at.is_some() {
            return Money::ZERO;
        }
        Money::from_tiyn(self.owed_on(day, self.credited_tiyn))
    }

    /// What payments made up to `at` took off the full amount.
    pub fn credited_at(&self, at: DateTime<Utc>) -> i64 {
        self.payments.iter().filter(|p| p.at <= at).map(|p| p.credited_tiyn).sum()
    }

    /// Whether payments made up to `at` cover the charge.
    pub fn covered_at(&self, at: DateTime<Utc>) -> bool {
        self.credited_at(at) >= self.amount_tiyn
    }

    /// Whether the payments applied so far cover the charge.
    pub fn covered(&self) -> bool {
        self.credited_tiyn >= self.amount_tiyn
    }

    /// Open: not cancelled and not covered.
    pub fn is_open(&self) -> bool {
        self.cancelled_at.is_none() && !self.covered()
    }

    /// The referral not yet recalled, if any.
    pub fn open_referral(&self) -> Option<&Referral> {
        self.referrals.iter().rev().find(|r| r.recalled_at.is_none())
    }

    /// The payments (in time order) whose credits made the charge covered
    /// by `at`, when they did.
    pub fn covering_payments(&self, at: DateTime<Utc>) -> Option<Vec<PaymentApplied>> {
        let mut made: Vec<&PaymentApplied> = self.payments.iter().filter(|p| p.at <= at).collect();
        made.sort_by_key(|p| (p.at, p.seq));
        let mut credited = 0i64;
        let mut used = Vec::new();
        for payment in made {
            if payment.credited_tiyn > 0 {
                credited += payment.credited_tiyn;
                used.push(payment.clone());
            }
            if credited >= self.amount_tiyn {
                return Some(used);
            }
        }
        None
    }

    /// What a referral at `at` ran into.
    pub fn referral_finding(&self, at: DateTime<Utc>) -> ReferralFinding {
        if let Some(payments) = self.covering_payments(at) {
            return ReferralFinding::Covered(payments);
        }
        if self.cancelled_at.is_some_and(|cancelled| cancelled <= at) {
            return ReferralFinding::Cancelled;
        }
        let held = self.holds_at(at);
        if !held.is_empty() {
            return ReferralFinding::Held(held);
        }
        ReferralFinding::Owed
    }

    /// The payments (provider/payment) holding the charge back at `at`.
    pub fn holds_at(&self, at: DateTime<Utc>) -> Vec<String> {
        self.holds
            .iter()
            .filter(|h| h.at <= at && h.released_at.is_none_or(|released| released > at))
            .map(|h| h.payment.clone())
            .collect()
    }

    /// The status after what has been applied.
    pub fn status_now(&self) -> ChargeStatus {
        if self.cancelled_at.is_some() {
            ChargeStatus::Cancelled
        } else if self.open_referral().is_some() {
            ChargeStatus::Referred
        } else if self.covered() {
            ChargeStatus::Paid
        } else {
            ChargeStatus::Open
        }
    }

    /// The enforcement gate as of the end of `as_of` (Kazakhstan local day),
    /// counting only what happened up to then.
    pub fn gate(&self, as_of: NaiveDate) -> Result<Due, NotDue> {
        let end = end_of_day(as_of);
        if self.imposed_at > end {
            return Err(NotDue::NotImposed);
        }
        if self.cancelled_at.is_some_and(|at| at <= end) {
            return Err(NotDue::Cancelled);
        }
        if let Some(payments) = self.covering_payments(end) {
            return Err(NotDue::Covered(payments.iter().map(|p| format!("{}/{}", p.provider, p.payment)).collect()));
        }
        if let Some(referral) =
            self.referrals.iter().rev().find(|r| r.at <= end && r.recalled_at.is_none_or(|recalled| recalled > end))
        {
            return Err(NotDue::Referred { bailiff: referral.bailiff.clone(), document: referral.document.clone() });
        }
        let held = self.holds_at(end);
        if !held.is_empty() {
            return Err(NotDue::Held(held));
        }
        if as_of < self.in_force_on {
            return Err(NotDue::NotInForce(self.in_force_on));
        }
        if as_of <= self.voluntary_until {
            return Err(NotDue::VoluntaryTerm(self.voluntary_until));
        }
        let credited = self.credited_at(end);
        let owed = Money::from_tiyn(self.remaining_full(credited));
        let mut due = self.voluntary_until.succ_opt().unwrap_or(self.voluntary_until);
        if let Some(deferral) = self.deferral.as_ref().filter(|d| d.at <= end) {
            if as_of <= deferral.until {
                return Err(NotDue::Deferred(deferral.until));
            }
            due = due.max(deferral.until.succ_opt().unwrap_or(deferral.until));
        }
        if let Some(plan) = self.instalments.as_ref().filter(|p| p.at <= end) {
            // Due from the day after the first instalment not paid in full
            // by its day (counting payments made up to `as_of`).
            // Only what was credited after the plan was made counts towards it.
            let towards_plan = credited - self.credited_at(plan.at);
            let mut cumulative = 0i64;
            for (day, amount) in &plan.schedule {
                cumulative += amount;
                if towards_plan < cumulative {
                    if as_of <= *day {
                        return Err(NotDue::OnInstalments(*day));
                    }
                    return Ok(Due { owed, due: due.max(day.succ_opt().unwrap_or(*day)) });
                }
            }
            return Err(NotDue::OnInstalments(plan.schedule.last().map_or(as_of, |(day, _)| *day)));
        }
        Ok(Due { owed, due })
    }
}

/// The last instant of a Kazakhstan local day.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    casetrail_types::time::local_midnight_utc(next) - chrono::Duration::nanoseconds(1)
}

/// The amount in tenge, for display.
pub fn money(tiyn: i64) -> Money {
    Money::from_tiyn(tiyn)
}
