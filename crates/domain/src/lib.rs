//! Pure domain rules: what an event does to the state of an appeal, a charge,
//! a device. Synchronous functions of (state, event) returning the new state
//! or the rule the event breaks. No I/O, no clock: time comes in the event.
//!
//! The application stores these states as projection documents; this crate
//! does not know how.

#![forbid(unsafe_code)]

pub mod appeal;
pub mod charge;
pub mod fine_rules;
pub mod matching;
pub mod registry;

/// An event that parsed but cannot be true given what the ledger already
/// holds. It is quarantined with this reason, never dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field.map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct RuleViolation {
    pub field: Option<&'static str>,
    pub reason: String,
}

impl RuleViolation {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field: Some(field), reason: reason.into() }
    }
}
