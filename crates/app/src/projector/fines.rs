//! Fine events on the projections: charges, payments, protocols.

use casetrail_domain::charge::{self, ChargeState, PaymentApplied};
use casetrail_domain::registry::ProtocolState;
use casetrail_domain::RuleViolation;
use casetrail_exchange::{Event, Record};
use chrono::NaiveDate;

use super::{kind, metric, payment_key, PaymentState, ProjectError, Projector, UNKNOWN_AGENCY};

impl Projector {
    pub(super) fn apply_charge(&mut self, event: &Event, day: NaiveDate) -> Result<(), ProjectError> {
        let Some(uin) = charge::uin_of(&event.record).map(ToString::to_string) else { return Ok(()) };
        let current: Option<ChargeState> = self.get(kind::CHARGE, &uin)?;
        let protocol: Option<ProtocolState> = match &event.record {
            Record::FineImposed(r) => self.get(kind::PROTOCOL, r.case.as_str())?,
            _ => None,
        };
        let next = charge::apply(current.as_ref(), protocol.as_ref(), event)?;
        let agency = next.agency.clone().unwrap_or_else(|| UNKNOWN_AGENCY.to_owned());
        match &event.record {
            Record::FineImposed(_) => {
                self.count(&agency, day, metric::FINES_IMPOSED, 1);
                self.count(&agency, day, metric::FINES_IMPOSED_TIYN, next.amount_tiyn);
            }
            Record::FineReferred(_) => self.count(&agency, day, metric::FINES_REFERRED, 1),
            _ => {}
        }
        self.put(kind::CHARGE, &uin, next.agency.as_deref(), &next)
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
        let uin = payment
            .uin
            .as_deref()
            .and_then(|text| casetrail_types::Uin::parse(text.trim()).ok())
            .map(|uin| uin.to_string());
        let mut state = PaymentState {
            payment: payment.payment.to_string(),
            provider: payment.provider.to_string(),
            uin: payment.uin.clone(),
            payer: payment.payer.as_ref().and_then(|party| party.number()),
            amount_tiyn: payment.amount_kzt.tiyn(),
            at: event.at_utc(),
            matched_uin: None,
        };
        if let Some(uin) = uin {
            if let Some(current) = self.get::<ChargeState>(kind::CHARGE, &uin)? {
                let applied = PaymentApplied {
                    payment: state.payment.clone(),
                    provider: state.provider.clone(),
                    amount_tiyn: state.amount_tiyn,
                    at: state.at,
                };
                let next = charge::apply_payment(&current, &applied);
                let agency = next.agency.clone().unwrap_or_else(|| UNKNOWN_AGENCY.to_owned());
                self.count(&agency, day, metric::PAYMENTS_TIYN, state.amount_tiyn);
                self.put(kind::CHARGE, &uin, next.agency.as_deref(), &next)?;
                state.matched_uin = Some(uin);
            }
        }
        self.put(kind::PAYMENT, &key, None, &state)
    }
}
