//! Matching a payment to a charge, modelled on the acknowledgment statuses
//! of Russia's ГИС ГМП (kz-rules.md §6). Pure: the caller hands in the
//! charge the payment's UIN names (when it is valid and known) and the
//! charges of the payer that are open.
//!
//! Rules, in order:
//!
//! 1. A valid UIN of a known charge: **matched** to it, whatever the amount
//!    (a smaller amount is a partial payment, a larger one leaves a refund
//!    due).
//! 2. Otherwise, with a payer IIN/BIN: the payer's charges that are open
//!    (imposed, not cancelled, not covered) are the **candidates**. When
//!    exactly one candidate owes exactly the amount on the payment's day
//!    (the full remainder, or the discounted share inside the short-procedure
//!    window): **preliminarily matched** to it.
//! 3. Otherwise **unmatched**: the payment waits in the manual queue with its
//!    candidates, and **holds back every candidate** (every open charge of
//!    the payer, whatever its amount: a partial or a combined payment could
//!    be meant for any of them, and a hold only delays enforcement until a
//!    person decides, while a wrong referral freezes a citizen's accounts).
//!    A `payment.matched` resolves it (**matched by hand**) and releases the
//!    holds.

use casetrail_types::Money;
use chrono::NaiveDate;

use crate::charge::{ChargeState, MatchStatus};

/// What to do with a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Apply it to this charge (UIN) with this status.
    Apply { uin: String, status: MatchStatus },
    /// Queue it for a person; hold back these charges (UINs).
    Queue { candidates: Vec<String> },
}

/// Decides where a payment of `amount` made on `day` goes.
///
/// `quoted` is the known charge the payment's valid UIN names, if any;
/// `payer_charges` the charges of the payer (any state: closed ones are
/// ignored).
pub fn decide(quoted: Option<&ChargeState>, payer_charges: &[&ChargeState], amount: Money, day: NaiveDate) -> Decision {
    if let Some(charge) = quoted {
        return Decision::Apply { uin: charge.uin.clone(), status: MatchStatus::Matched };
    }
    let candidates: Vec<&&ChargeState> = payer_charges.iter().filter(|charge| charge.is_open()).collect();
    let exact: Vec<&&&ChargeState> = candidates.iter().filter(|charge| charge.owed_now_on(day) == amount).collect();
    if let [only] = exact.as_slice() {
        return Decision::Apply { uin: only.uin.clone(), status: MatchStatus::PreliminarilyMatched };
    }
    let mut uins: Vec<String> = candidates.iter().map(|charge| charge.uin.clone()).collect();
    uins.sort();
    uins.dedup();
    Decision::Queue { candidates: uins }
}
