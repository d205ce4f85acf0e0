//! Fine events on the projections: protocols (signature check), charges,
//! payments (matching, the manual queue, holds) and the enforcement gate's
//! own reaction to referrals (alert and automatic recall).
//!
//! Documents: `charge/<UIN>` ([`ChargeState`]), `payment/<provider>/<id>`
//! ([`PaymentState`]: its matching status; unmatched ones are the manual
//! queue), `payer/<IIN or BIN>` ([`PayerIndex`]: the payer's charges that may
//! still be open, pruned lazily when a payment reads them).

use casetrail_domain::charge::{self, ChargeState, IncomingPayment, MatchStatus, PaymentApplied, ReferralFinding};
use casetrail_domain::matching::{self, Decision};
use casetrail_domain::registry::{self, DeviceState, ProtocolState};
use casetrail_domain::RuleViolation;
use casetrail_exchange::{Event, FineRecalled, Ident, Record};
use casetrail_types::time::local_date;
use casetrail_types::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{kind, metric, payment_key, Alert, DocKey, PaymentState, ProjectError, Projector, UNKNOWN_AGENCY};

/// The charges of one payer that may still be open (UINs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerIndex {
    pub charges: Vec<String>,
}

/// Documents an event needs that only a loaded document names (the second
/// preload pass): a protocol's offender for `fine.imposed`, the payer's
/// charges for `payment.received`, the candidates of a queued payment for
/// `payment.matched`.
pub(super) fn dependent_keys(projector: &Projector, event: &Event) -> Result<Vec<DocKey>, ProjectError> {
    let mut keys = Vec::new();
    match &event.record {
        Record::FineImposed(r) => {
            if let Some(protocol) = projector.get::<ProtocolState>(kind::PROTOCOL, r.case.as_str())? {
                if let Some(payer) = protocol.offender {
                    keys.push((kind::PAYER, payer));
                }
            }
        }
        Record::PaymentReceived(r) => {
            if let Some(payer) = r.payer.as_ref().and_then(|party| party.number()) {
                if let Some(index) = projector.get::<PayerIndex>(kind::PAYER, &payer)? {
                    keys.extend(index.charges.into_iter().map(|uin| (kind::CHARGE, uin)));
                }
            }
        }
        Record::PaymentReversed(r) => {
            let key = payment_key(r.provider.as_str(), r.payment.as_str());
            if let Some(payment) = projector.get::<PaymentState>(kind::PAYMENT, &key)? {
                keys.extend(payment.matched_uin.into_iter().chain(payment.candidates).map(|uin| (kind::CHARGE, uin)));
                keys.extend(payment.payer.map(|payer| (kind::PAYER, payer)));
            }
        }
        Record::PaymentMatched(r) => {
            let key = payment_key(r.provider.as_str(), r.payment.as_str());
            if let Some(payment) = projector.get::<PaymentState>(kind::PAYMENT, &key)? {
                keys.extend(payment.candidates.into_iter().map(|uin| (kind::CHARGE, uin)));
            }
        }
        _ => {}
    }
    Ok(keys)
}

impl Projector {
    /// A signed protocol: accepted only when its signature verifies with an
    /// enrolled, not revoked device of its agency.
    pub(super) fn apply_protocol(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Record::ProtocolSigned(r) = &event.record else { return Ok(()) };
        let device: Option<DeviceState> = self.get(kind::DEVICE, r.device.as_str())?;
        registry::verify_protocol(device.as_ref(), event)?;
        let current: Option<ProtocolState> = self.get(kind::PROTOCOL, r.case.as_str())?;
        let mut next = registry::apply_protocol(current.as_ref(), event)?;
        next.seq = self.seq();
        self.count(&next.agency, day, metric::PROTOCOLS_SIGNED, 1);
        self.put(kind::PROTOCOL, r.case.as_str(), Some(&next.agency.clone()), &next)
    }

    pub(super) fn apply_charge(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Some(uin) = charge::uin_of(&event.record).map(ToString::to_string) else { return Ok(()) };
        let current: Option<ChargeState> = self.get(kind::CHARGE, &uin)?;
        let protocol: Option<ProtocolState> = match &event.record {
            Record::FineImposed(r) => self.get(kind::PROTOCOL, r.case.as_str())?,
            _ => None,
        };
        let next = charge::apply(current.as_ref(), protocol.as_ref(), event, self.seq())?;
        let payer_index = match (&event.record, &next.payer) {
            (Record::FineImposed(_), Some(payer)) => {
                let mut index: PayerIndex = self.get(kind::PAYER, payer)?.unwrap_or_default();
                index.charges.push(uin.clone());
                Some((payer.clone(), index))
            }
            _ => None,
        };
        // Writes from here on.
        let agency = next.agency.clone().unwrap_or_else(|| UNKNOWN_AGENCY.to_owned());
        match &event.record {
            Record::FineImposed(_) => {
                self.count(&agency, day, metric::FINES_IMPOSED, 1);
                self.count(&agency, day, metric::FINES_IMPOSED_TIYN, next.amount_tiyn);
            }
            Record::FineReferred(r) => {
                self.count(&agency, day, metric::FINES_REFERRED, 1);
                if let Some(before) = &current {
                    self.react_to_referral(event, before, r.bailiff.as_str(), r.document.as_str())?;
                }
            }
            Record::FineCancelled(_) => {
                if let Some(referral) = current.as_ref().and_then(ChargeState::open_referral) {
                    let reason = format!(
                        "the charge was cancelled on {}; stop enforcement under document {}, release the debtor's accounts and return the document",
                        day, referral.document
                    );
                    self.recall(event, &uin, reason)?;
                }
            }
            _ => {}
        }
        if let Some((payer, index)) = payer_index {
            self.put(kind::PAYER, &payer, None, &index)?;
        }
        self.put_charge(current.as_ref(), &next)
    }

    /// A referral from any system is recorded; when payments covered the
    /// charge (or it was cancelled) casetrail raises an alert and recalls
    /// it at once; when unmatched payments held it back, it raises an alert.
    fn react_to_referral(
        &mut self,
        event: &Event,
        before: &ChargeState,
        bailiff: &str,
        document: &str,
    ) -> Result<(), ProjectError> {
        let at = event.at_utc();
        let subject = format!("charge/{}", before.uin);
        match before.referral_finding(at) {
            ReferralFinding::Owed => Ok(()),
            ReferralFinding::Covered(payments) => {
                let paid = describe_payments(&payments);
                let mut events: Vec<u64> = payments.iter().map(|p| p.seq).collect();
                events.push(self.seq());
                self.raise_alert(Alert {
                    alert: "paid_but_referred".to_owned(),
                    subject,
                    agency: before.agency.clone(),
                    at,
                    events,
                    detail: format!(
                        "referred to bailiff {bailiff} (document {document}) although {paid} had covered it; casetrail recalled it"
                    ),
                })?;
                let reason = format!(
                    "recall: the fine was paid before the referral ({paid} cover it in full); stop enforcement under document {document}, release the debtor's accounts and return the document"
                );
                self.recall(event, &before.uin, reason)
            }
            ReferralFinding::Cancelled => {
                self.raise_alert(Alert {
                    alert: "cancelled_but_referred".to_owned(),
                    subject,
                    agency: before.agency.clone(),
                    at,
                    events: vec![self.seq()],
                    detail: format!("referred to bailiff {bailiff} (document {document}) although it was cancelled; casetrail recalled it"),
                })?;
                let reason = format!(
                    "recall: the fine was cancelled before the referral; stop enforcement under document {document}, release the debtor's accounts and return the document"
                );
                self.recall(event, &before.uin, reason)
            }
            ReferralFinding::Held(payments) => self.raise_alert(Alert {
                alert: "referred_while_held".to_owned(),
                subject,
                agency: before.agency.clone(),
                at,
                events: vec![self.seq()],
                detail: format!(
                    "referred to bailiff {bailiff} (document {document}) while unmatched payment(s) {} could cover it; resolve the manual queue",
                    payments.join(", ")
                ),
            }),
        }
    }

    /// Asks for casetrail's own `fine.recalled`, right after this event.
    fn recall(&mut self, cause: &Event, uin: &str, reason: String) -> Result<(), ProjectError> {
        let id = Ident::parse(&format!("recall-{}", self.seq()))
            .map_err(|error| RuleViolation::new("uin", format!("cannot name the recall: {error}")))?;
        let uin = casetrail_types::Uin::parse(uin).map_err(|error| RuleViolation::new("uin", error.to_string()))?;
        let recall = Event::new(Some(id), cause.at, Record::FineRecalled(FineRecalled { uin, reason }))
            .map_err(|error| RuleViolation::new("uin", format!("cannot build the recall: {error}")))?;
        self.follow_up(recall);
        Ok(())
    }

    pub(super) fn apply_payment(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Record::PaymentReceived(payment) = &event.record else { return Ok(()) };
        let key = payment_key(payment.provider.as_str(), payment.payment.as_str());
        if self.get::<PaymentState>(kind::PAYMENT, &key)?.is_some() {
            return Err(RuleViolation::new(
                "payment",
                format!(
                    "provider {} already reported payment {} under another record id",
                    payment.provider, payment.payment
                ),
            )
            .into());
        }
        let at = event.at_utc();
        let quoted_uin = payment
            .uin
            .as_deref()
            .and_then(|text| casetrail_types::Uin::parse(text.trim()).ok())
            .map(|uin| uin.to_string());
        let quoted: Option<ChargeState> = match &quoted_uin {
            Some(uin) => self.get(kind::CHARGE, uin)?,
            None => None,
        };
        let payer = payment.payer.as_ref().and_then(|party| party.number());
        let mut payer_index: Option<PayerIndex> = match &payer {
            Some(payer) => self.get(kind::PAYER, payer)?,
            None => None,
        };
        let mut payer_charges = Vec::new();
        for uin in payer_index.iter().flat_map(|index| index.charges.iter()) {
            if let Some(charge) = self.get::<ChargeState>(kind::CHARGE, uin)? {
                payer_charges.push(charge);
            }
        }
        let refs: Vec<&ChargeState> = payer_charges.iter().filter(|charge| charge.imposed_at <= at).collect();
        let decision = matching::decide(quoted.as_ref(), &refs, payment.amount_kzt, day);
        let incoming = IncomingPayment {
            payment: payment.payment.to_string(),
            provider: payment.provider.to_string(),
            amount_tiyn: payment.amount_kzt.tiyn(),
            at,
            seq: self.seq(),
        };
        let mut state = PaymentState {
            payment: incoming.payment.clone(),
            provider: incoming.provider.clone(),
            uin: payment.uin.clone(),
            payer: payer.clone(),
            amount_tiyn: incoming.amount_tiyn,
            at,
            matched_uin: None,
            status: MatchStatus::Unmatched,
            candidates: Vec::new(),
            credited_tiyn: 0,
            refund_tiyn: 0,
            seq: self.seq(),
            by: None,
            reversed: None,
        };
        let mut changed: Vec<ChargeState> = Vec::new();
        match decision {
            Decision::Apply { uin, status } => {
                let Some(target) = quoted.iter().chain(payer_charges.iter()).find(|c| c.uin == uin) else {
                    return Err(RuleViolation::new("uin", "internal: the matched charge vanished").into());
                };
                let (next, applied) = charge::apply_payment(target, &incoming, status);
                state.record_applied(&applied, &uin);
                changed.push(next);
            }
            Decision::Queue { candidates } => {
                for uin in &candidates {
                    if let Some(charge) = payer_charges.iter().find(|c| &c.uin == uin) {
                        changed.push(charge::hold(charge, &key, at));
                    }
                }
                state.candidates = candidates;
            }
        }
        // The payer's index keeps only charges that may still be open.
        if let Some(index) = payer_index.as_mut() {
            let closed = |uin: &String| {
                changed.iter().chain(payer_charges.iter()).find(|c| &c.uin == uin).is_some_and(|c| !c.is_open())
            };
            index.charges.retain(|uin| !closed(uin));
        }
        // Writes from here on.
        for next in &changed {
            self.after_payment(event, next, day, &state)?;
        }
        if let (Some(payer), Some(index)) = (&payer, &payer_index) {
            self.put(kind::PAYER, payer, None, index)?;
        }
        self.put(kind::PAYMENT, &key, None, &state)
    }

    /// `payment.matched`: a person resolves a queued payment.
    pub(super) fn apply_manual_match(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Record::PaymentMatched(matched) = &event.record else { return Ok(()) };
        let key = payment_key(matched.provider.as_str(), matched.payment.as_str());
        let Some(mut state) = self.get::<PaymentState>(kind::PAYMENT, &key)? else {
            return Err(RuleViolation::new(
                "payment",
                format!("provider {} reported no payment {}", matched.provider, matched.payment),
            )
            .into());
        };
        let uin = matched.uin.to_string();
        let Some(target) = self.get::<ChargeState>(kind::CHARGE, &uin)? else {
            return Err(RuleViolation::new("uin", "no charge with this UIN is known").into());
        };
        match &state.matched_uin {
            // A person confirms what automatic matching decided.
            Some(current) if *current == uin => {
                let mut next = target.clone();
                for applied in
                    next.payments.iter_mut().filter(|p| p.payment == state.payment && p.provider == state.provider)
                {
                    applied.status = MatchStatus::MatchedByHand;
                }
                state.status = MatchStatus::MatchedByHand;
                state.by = Some(matched.by.to_string());
                self.put_charge(Some(&target), &next)?;
                return self.put(kind::PAYMENT, &key, None, &state);
            }
            Some(current) => {
                return Err(RuleViolation::new(
                    "uin",
                    format!("the payment is already matched to charge {current}; a reversal must come first"),
                )
                .into());
            }
            None => {}
        }
        let at = event.at_utc();
        let mut changed = Vec::new();
        for candidate in &state.candidates {
            if *candidate == uin {
                continue;
            }
            if let Some(charge) = self.get::<ChargeState>(kind::CHARGE, candidate)? {
                changed.push(charge::release(&charge, &key, at));
            }
        }
        let released = charge::release(&target, &key, at);
        let incoming = IncomingPayment {
            payment: state.payment.clone(),
            provider: state.provider.clone(),
            amount_tiyn: state.amount_tiyn,
            at: state.at,
            seq: state.seq,
        };
        let (next, applied) = charge::apply_payment(&released, &incoming, MatchStatus::MatchedByHand);
        state.record_applied(&applied, &uin);
        state.by = Some(matched.by.to_string());
        changed.push(next);
        // Writes from here on.
        for next in &changed {
            self.after_payment(event, next, day, &state)?;
        }
        self.put(kind::PAYMENT, &key, None, &state)
    }

    /// `payment.reversed`: the bank took a payment back. It stops counting
    /// toward its charge (which may be owed, and due, again) and releases
    /// the charges it held back; the payment keeps its history.
    pub(super) fn apply_reversal(&mut self, event: &Event) -> Result<(), ProjectError> {
        let Record::PaymentReversed(reversal) = &event.record else { return Ok(()) };
        let key = payment_key(reversal.provider.as_str(), reversal.payment.as_str());
        let Some(mut state) = self.get::<PaymentState>(kind::PAYMENT, &key)? else {
            return Err(RuleViolation::new(
                "payment",
                format!(
                    "provider {} reported no payment {}; replay the quarantine once it has arrived",
                    reversal.provider, reversal.payment
                ),
            )
            .into());
        };
        if state.reversed.is_some() {
            return Err(RuleViolation::new("payment", "the payment was already reversed").into());
        }
        let at = event.at_utc();
        if let Some(uin) = state.matched_uin.clone() {
            if let Some(charge) = self.get::<ChargeState>(kind::CHARGE, &uin)? {
                let next = charge::reverse_payment(&charge, &state.provider, &state.payment);
                // Owed again: the payer's index must name it again.
                if let (Some(payer), true) = (next.payer.clone(), next.is_open()) {
                    let mut index: PayerIndex = self.get(kind::PAYER, &payer)?.unwrap_or_default();
                    if !index.charges.contains(&uin) {
                        index.charges.push(uin.clone());
                        self.put(kind::PAYER, &payer, None, &index)?;
                    }
                }
                self.put_charge(Some(&charge), &next)?;
            }
        }
        for candidate in std::mem::take(&mut state.candidates) {
            if let Some(charge) = self.get::<ChargeState>(kind::CHARGE, &candidate)? {
                let next = charge::release(&charge, &key, at);
                self.put_charge(Some(&charge), &next)?;
            }
        }
        state.credited_tiyn = 0;
        state.refund_tiyn = 0;
        state.reversed = Some(reversal.reason.clone());
        self.put(kind::PAYMENT, &key, None, &state)
    }

    /// Stores a charge a payment changed; when the payment covers a charge
    /// that is with a bailiff, recalls it.
    fn after_payment(
        &mut self,
        event: &Event,
        next: &ChargeState,
        day: NaiveDate,
        payment: &PaymentState,
    ) -> Result<(), ProjectError> {
        if payment.matched_uin.as_deref() == Some(next.uin.as_str()) {
            let agency = next.agency.clone().unwrap_or_else(|| UNKNOWN_AGENCY.to_owned());
            self.count(&agency, day, metric::PAYMENTS_TIYN, payment.amount_tiyn);
            if next.covered() {
                if let Some(referral) = next.open_referral() {
                    let paid = describe_payments(&next.payments);
                    let reason = format!(
                        "recall: the fine is paid ({paid} cover it in full); stop enforcement under document {}, release the debtor's accounts and return the document",
                        referral.document
                    );
                    self.recall(event, &next.uin, reason)?;
                }
            }
        }
        // A payment never takes a recall back; it may change why one was
        // made (a payment dated before it), so every entry is written again.
        self.put_charge(None, next)
    }
}

impl PaymentState {
    fn record_applied(&mut self, applied: &PaymentApplied, uin: &str) {
        self.matched_uin = Some(uin.to_owned());
        self.status = applied.status;
        self.credited_tiyn = applied.credited_tiyn;
        self.refund_tiyn = applied.refund_tiyn;
    }
}

/// "payment kaspi/K-991 of 2026-03-03" (no personal data).
fn describe_payments(payments: &[PaymentApplied]) -> String {
    let parts: Vec<String> = payments
        .iter()
        .filter(|p| p.credited_tiyn > 0)
        .map(|p| {
            format!(
                "payment {}/{} of {} ({} KZT)",
                p.provider,
                p.payment,
                local_date(p.at),
                Money::from_tiyn(p.amount_tiyn).to_decimal_string()
            )
        })
        .collect();
    parts.join(" and ")
}

/// Why casetrail's own referral was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReferError {
    #[error("charge {uin} cannot be referred to a bailiff: {reason}")]
    Refused { uin: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] crate::AppError),
}

impl crate::Ledger {
    /// casetrail's own referral of a charge to a bailiff, through the
    /// enforcement gate: refused, with the reason, unless the charge is due
    /// for enforcement today (in force, past its voluntary term, not covered,
    /// not held back by an unmatched payment, not deferred, not cancelled,
    /// not already referred). Returns the referral's sequence number.
    pub fn refer(&mut self, uin: &str, bailiff: &str, document: &str) -> Result<u64, ReferError> {
        let now = (self.clock)();
        let parsed = casetrail_types::Uin::parse(uin.trim()).map_err(|error| ReferError::Invalid(error.to_string()))?;
        let doc = self.store.doc(kind::CHARGE, &parsed.to_string()).map_err(crate::AppError::from)?;
        let Some(doc) = doc else {
            return Err(ReferError::Refused {
                uin: parsed.to_string(),
                reason: "no charge with this UIN is known".into(),
            });
        };
        let state: ChargeState = serde_json::from_str(&doc.doc)
            .map_err(|error| crate::AppError::Projection(format!("charge {parsed} is unreadable: {error}")))?;
        if let Err(why) = state.gate(local_date(now)) {
            return Err(ReferError::Refused { uin: parsed.to_string(), reason: why.to_string() });
        }
        let record = Record::FineReferred(casetrail_exchange::FineReferred {
            uin: parsed,
            bailiff: casetrail_exchange::AgencySlug::parse(bailiff)
                .map_err(|error| ReferError::Invalid(format!("--bailiff: {error}")))?,
            document: Ident::parse(document).map_err(|error| ReferError::Invalid(format!("--document: {error}")))?,
        });
        let at = now.with_timezone(&casetrail_types::time::kz_offset_at(now));
        let event = Event::new(None, at, record).map_err(|error| ReferError::Invalid(error.to_string()))?;
        let incoming = crate::Incoming { line: None, raw: event.canonical.clone(), parsed: Ok(event) };
        let summary = self.import_batch(super::OWN_SOURCE, vec![incoming])?;
        match summary.sequences.first() {
            Some(seq) if summary.accepted == 1 => Ok(*seq),
            _ => Err(ReferError::Invalid("the referral was not appended; see `casetrail quarantine list`".into())),
        }
    }
}
