//! Accounts and API keys: who may sign in or call the API, as projection
//! documents kept from their ledger events (`account.*`, `apikey.*`); and
//! the access log (`access.logged`), one document per read of personal
//! data, newest first, for prosecutors to browse. The ledger entry stays
//! the evidence; the document is only its index.

use casetrail_domain::RuleViolation;
use casetrail_exchange::{AccountRole, Event, Record};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{kind, DocKey, ProjectError, Projector};

/// An account as the web server reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub account: String,
    pub role: AccountRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// An API key as the web server reads it (only the secret's hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyState {
    pub key_id: String,
    pub role: AccountRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub secret_hash: String,
    pub issued_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One read of personal data, as the access log lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// The `access.logged` event.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub account: String,
    pub subject: String,
    pub fields: Vec<String>,
    pub purpose: String,
}

/// The access document key of event `seq`: keys sort newest first.
pub fn access_key(seq: u64) -> String {
    format!("{:020}", u64::MAX - seq)
}

/// The documents an account or key event touches.
pub(super) fn touched(record: &Record) -> Option<DocKey> {
    match record {
        Record::AccountCreated(r) => Some((kind::ACCOUNT, r.account.to_string())),
        Record::AccountDisabled(r) => Some((kind::ACCOUNT, r.account.to_string())),
        Record::ApiKeyIssued(r) => Some((kind::APIKEY, r.key_id.to_string())),
        Record::ApiKeyRevoked(r) => Some((kind::APIKEY, r.key_id.to_string())),
        _ => None,
    }
}

impl Projector {
    pub(super) fn apply_account(&mut self, event: &Event) -> Result<(), ProjectError> {
        let at = event.at_utc();
        match &event.record {
            Record::AccountCreated(r) => {
                let key = r.account.as_str();
                let current: Option<AccountState> = self.get(kind::ACCOUNT, key)?;
                if current.is_some_and(|account| account.disabled_at.is_none()) {
                    return Err(RuleViolation::new("account", format!("account {key} already exists")).into());
                }
                let state = AccountState {
                    account: key.to_owned(),
                    role: r.role,
                    agency: r.agency.as_ref().map(ToString::to_string),
                    password_hash: r.password_hash.clone(),
                    created_at: at,
                    disabled_at: None,
                };
                self.put(kind::ACCOUNT, key, state.agency.clone().as_deref(), &state)
            }
            Record::AccountDisabled(r) => {
                let key = r.account.as_str();
                let Some(mut state) = self.get::<AccountState>(kind::ACCOUNT, key)? else {
                    return Err(RuleViolation::new("account", format!("no account {key}")).into());
                };
                if state.disabled_at.is_some() {
                    return Err(RuleViolation::new("account", format!("account {key} is already disabled")).into());
                }
                state.disabled_at = Some(at);
                self.put(kind::ACCOUNT, key, state.agency.clone().as_deref(), &state)
            }
            Record::ApiKeyIssued(r) => {
                let key = r.key_id.as_str();
                if self.get::<ApiKeyState>(kind::APIKEY, key)?.is_some() {
                    return Err(RuleViolation::new("key_id", format!("API key {key} was already issued")).into());
                }
                let state = ApiKeyState {
                    key_id: key.to_owned(),
                    role: r.role,
                    agency: r.agency.as_ref().map(ToString::to_string),
                    provider: r.provider.as_ref().map(ToString::to_string),
                    secret_hash: r.secret_hash.clone(),
                    issued_at: at,
                    revoked_at: None,
                };
                self.put(kind::APIKEY, key, state.agency.clone().as_deref(), &state)
            }
            Record::ApiKeyRevoked(r) => {
                let key = r.key_id.as_str();
                let Some(mut state) = self.get::<ApiKeyState>(kind::APIKEY, key)? else {
                    return Err(RuleViolation::new("key_id", format!("no API key {key}")).into());
                };
                if state.revoked_at.is_some() {
                    return Err(RuleViolation::new("key_id", format!("API key {key} is already revoked")).into());
                }
                state.revoked_at = Some(at);
                self.put(kind::APIKEY, key, state.agency.clone().as_deref(), &state)
            }
            Record::AccessLogged(r) => {
                let seq = self.seq();
                let entry = AccessEntry {
                    seq,
                    at,
                    account: r.account.to_string(),
                    subject: r.subject.to_string(),
                    fields: r.fields.clone(),
                    purpose: r.purpose.clone(),
                };
                self.put(kind::ACCESS, &access_key(seq), None, &entry)
            }
            _ => Ok(()),
        }
    }
}
