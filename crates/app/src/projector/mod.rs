//! Projections maintained in the same transaction as the append.
//!
//! A batch loads every document its events touch in a few queries, applies
//! the domain's pure rules in memory, then writes back only what changed and
//! the aggregated counter deltas.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

mod accounts;
pub mod alert_counts;
pub mod appeal_index;
mod appeals;
mod build_once;
mod fines;
pub mod queue;
pub mod recalls;
pub mod requested;
pub mod tallies;

pub use accounts::{access_key, AccessEntry, AccountState, ApiKeyState};
pub use fines::{PayerIndex, ReferError};

use casetrail_domain::appeal;
use casetrail_domain::appeal::tally::TallyMetric;
use casetrail_domain::charge;
use casetrail_domain::registry::{self, AgencyState, DeviceState};
use casetrail_domain::RuleViolation;
use casetrail_exchange::{Event, Record};
use casetrail_ledger::{CounterDelta, ProjectionDoc, StoreError, Tx};
use chrono::{Datelike, NaiveDate};
use serde::{de::DeserializeOwned, Serialize};

/// Projection document kinds.
pub mod kind {
    pub const AGENCY: &str = "agency";
    pub const APPEAL: &str = "appeal";
    pub const CHARGE: &str = "charge";
    pub const DEVICE: &str = "device";
    pub const PROTOCOL: &str = "protocol";
    pub const PAYMENT: &str = "payment";
    pub const ALERT: &str = "alert";
    /// A payer's (IIN/BIN) charges that may still be open.
    pub const PAYER: &str = "payer";
    /// One applicant's appeals in one category (repeat appeals).
    pub const APPEAL_THREAD: &str = "appeal_thread";
    /// A competence dispute, by appeal number.
    pub const DISPUTE: &str = "dispute";
    /// The prosecutor's office of a region, by region-level KATO code.
    pub const PROSECUTOR_OFFICE: &str = "prosecutor_office";
    /// A person's account, by login.
    pub const ACCOUNT: &str = "account";
    /// An API key, by key id (the secret's hash only).
    pub const APIKEY: &str = "apikey";
    /// One read of personal data (`access.logged`), keyed so that the
    /// newest comes first ([`super::access_key`]).
    pub const ACCESS: &str = "access";
    /// What the database holds about its own projections (`scorecard_tallies`).
    pub const META: &str = "meta";
    /// An open appeal by its holder, keyed `{holder}/{appeal}`: the
    /// officer's queue without reading every appeal.
    pub const HELD: &str = "held";
    /// An appeal by the instant of its first registration, newest first:
    /// the Open311 request list (`super::requested`).
    pub const REQUESTED: &str = "requested";
    /// A recalled referral under its chamber, newest recall first: the
    /// bailiff's recall list (`super::recalls`).
    pub const RECALLED: &str = "recalled";
    pub const ALL: &[&str] = &[
        AGENCY,
        APPEAL,
        CHARGE,
        DEVICE,
        PROTOCOL,
        PAYMENT,
        ALERT,
        PAYER,
        APPEAL_THREAD,
        DISPUTE,
        PROSECUTOR_OFFICE,
        ACCOUNT,
        APIKEY,
        ACCESS,
        META,
        HELD,
        REQUESTED,
        RECALLED,
    ];
}

/// Counter names (per agency and Kazakhstan local day).
pub mod metric {
    pub const APPEALS_REGISTERED: &str = "appeals_registered";
    pub const APPEALS_FORWARDED_IN: &str = "appeals_forwarded_in";
    pub const APPEALS_FORWARDED_OUT: &str = "appeals_forwarded_out";
    pub const APPEALS_EXTENDED: &str = "appeals_extended";
    pub const APPEALS_ANSWERED: &str = "appeals_answered";
    pub const FINES_IMPOSED: &str = "fines_imposed";
    pub const FINES_IMPOSED_TIYN: &str = "fines_imposed_tiyn";
    pub const PAYMENTS_TIYN: &str = "payments_tiyn";
    pub const FINES_REFERRED: &str = "fines_referred";
    pub const PROTOCOLS_SIGNED: &str = "protocols_signed";
    /// The scorecard's tallies (`casetrail_domain::appeal::tally`) by the
    /// receipt day of the turn they belong to: `tally:received`, ...
    pub const TALLY_DAY_PREFIX: &str = "tally:";
    /// The same tallies summed by month, on the month's first day, so that
    /// a year's scorecard reads twelve rows per agency and metric.
    pub const TALLY_MONTH_PREFIX: &str = "tally-month:";
    /// Alerts raised, by kind: `alert:late_forward`, ... (on the alert's
    /// local day, for the agency it names; `super::alert_counts`).
    pub const ALERT_PREFIX: &str = "alert:";
}

/// Agency name used in counters for charges that no protocol ties to an agency.
pub const UNKNOWN_AGENCY: &str = "unknown";

/// A payment and where matching put it; unmatched ones are the manual queue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentState {
    pub payment: String,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    pub amount_tiyn: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The charge it was applied to; `None` while unmatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_uin: Option<String>,
    pub status: casetrail_domain::charge::MatchStatus,
    /// While unmatched: the charges it could be for (and holds back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// What it took off its charge's full amount.
    #[serde(default)]
    pub credited_tiyn: i64,
    /// What it paid beyond what was owed (to be refunded).
    #[serde(default)]
    pub refund_tiyn: i64,
    /// The sequence number of its `payment.received`.
    #[serde(default)]
    pub seq: u64,
    /// Who matched it by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Why the bank took it back (`payment.reversed`): it covers nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed: Option<String>,
}

/// Something a rule says a person must look at, with the events that prove it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    /// What was detected: `late_forward`, `ping_pong`, `paid_but_referred`, ...
    pub alert: String,
    /// The subject, e.g. `appeal/A-1` or `charge/10000000000000000014`.
    pub subject: String,
    /// The agency responsible, for scoping and ratings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Sequence numbers of the events that prove it (the last one raised it).
    pub events: Vec<u64>,
    /// A sentence for the person who reads the alert (no personal data).
    pub detail: String,
}

type DocKey = (&'static str, String);

/// The projector's maps: ahash, keyed per process (the keys come from
/// records, so a fixed hash would let a sender collide them), without
/// SipHash's cost on every document and counter of a batch.
type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// One batch's view of the projections.
///
/// Convention for the `apply_*` functions: read every document first, ask
/// the domain, and only then write (`put`, `count`, `raise_alert`,
/// `follow_up`). A rule violation therefore changes nothing.
#[derive(Default)]
pub struct Projector {
    /// Loaded or created documents: `None` means "known to be absent".
    /// Documents are kept as their JSON text: parsed into their typed state
    /// on `get`, serialised on `put`; no JSON trees are built (see BENCHMARKS.md).
    docs: FastMap<DocKey, Option<(Option<String>, String)>>,
    dirty: BTreeMap<DocKey, ()>,
    /// Counter deltas by agency, day and name (a prefix and the rest, put
    /// together once per counter when the batch is flushed).
    counters: FastMap<(String, NaiveDate, &'static str, Cow<'static, str>), i64>,
    /// Sequence number of the event being applied.
    seq: u64,
    /// Alerts raised by the event being applied so far.
    alerts_raised: u32,
    /// Events casetrail itself must append because of what it just applied
    /// (e.g. a recall when a paid fine was referred).
    follow_ups: Vec<Event>,
}

/// The source name of events casetrail appends itself.
pub const OWN_SOURCE: &str = "casetrail";

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: projection document {kind}/{key} was read without being preloaded; report this bug")]
    NotPreloaded { kind: &'static str, key: String },
    #[error("projection document {kind}/{key} is unreadable: {error}; run `casetrail rebuild`")]
    Corrupt { kind: &'static str, key: String, error: String },
}

/// The documents an event reads or writes.
pub fn touched(event: &Event) -> Vec<DocKey> {
    let mut keys = Vec::with_capacity(2);
    match &event.record {
        Record::AgencyRegistered(r) => {
            keys.push((kind::AGENCY, r.agency.to_string()));
            keys.extend(appeals::touched_by_agency(r));
        }
        Record::DeviceEnrolled(r) => keys.push((kind::DEVICE, r.device.to_string())),
        Record::DeviceRevoked(r) => keys.push((kind::DEVICE, r.device.to_string())),
        Record::ProtocolSigned(r) => {
            keys.push((kind::PROTOCOL, r.case.to_string()));
            keys.push((kind::DEVICE, r.device.to_string()));
            // A fine.imposed later in the same batch adds to the payer's index.
            if let Some(payer) = r.offender.number() {
                keys.push((kind::PAYER, payer));
            }
        }
        Record::FineImposed(r) => {
            keys.push((kind::CHARGE, r.uin.to_string()));
            keys.push((kind::PROTOCOL, r.case.to_string()));
        }
        Record::PaymentReceived(r) => {
            keys.push((kind::PAYMENT, payment_key(r.provider.as_str(), r.payment.as_str())));
            if let Some(uin) = r.uin.as_deref().and_then(|text| casetrail_types::Uin::parse(text.trim()).ok()) {
                keys.push((kind::CHARGE, uin.to_string()));
            }
            if let Some(payer) = r.payer.as_ref().and_then(|party| party.number()) {
                keys.push((kind::PAYER, payer));
            }
        }
        Record::PaymentMatched(r) => {
            keys.push((kind::PAYMENT, payment_key(r.provider.as_str(), r.payment.as_str())));
            keys.push((kind::CHARGE, r.uin.to_string()));
        }
        Record::PaymentReversed(r) => keys.push((kind::PAYMENT, payment_key(r.provider.as_str(), r.payment.as_str()))),
        Record::AccessLogged(_) => {}
        record @ (Record::AccountCreated(_)
        | Record::AccountDisabled(_)
        | Record::ApiKeyIssued(_)
        | Record::ApiKeyRevoked(_)) => keys.extend(accounts::touched(record)),
        record => {
            if let Some(number) = appeal::appeal_of(record) {
                keys.push((kind::APPEAL, number.to_owned()));
                keys.extend(appeals::touched(record));
            } else if let Some(uin) = charge::uin_of(record) {
                keys.push((kind::CHARGE, uin.to_string()));
            }
        }
    }
    keys
}

/// The payment document key: provider and the provider's payment id.
pub fn payment_key(provider: &str, payment: &str) -> String {
    format!("{provider}/{payment}")
}

impl Projector {
    /// Loads, in one query per kind, every document these events touch.
    pub fn preload<'e>(
        &mut self,
        tx: &mut dyn Tx,
        events: impl Iterator<Item = &'e Event>,
    ) -> Result<(), ProjectError> {
        let events: Vec<&Event> = events.collect();
        let first: Vec<DocKey> = events.iter().flat_map(|event| touched(event)).collect();
        self.load(tx, first)?;
        // Second pass: documents only a loaded document names (a payer's
        // charges, a protocol's offender, a queued payment's candidates).
        let mut second = Vec::new();
        for event in &events {
            second.extend(fines::dependent_keys(self, event)?);
        }
        second.extend(appeals::dependent_keys(self, &events)?);
        self.load(tx, second)
    }

    fn load(&mut self, tx: &mut dyn Tx, keys: Vec<DocKey>) -> Result<(), ProjectError> {
        let mut wanted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for key in keys {
            if !self.docs.contains_key(&key) {
                self.docs.insert(key.clone(), None);
                wanted.entry(key.0).or_default().push(key.1);
            }
        }
        for (kind, keys) in wanted {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for doc in tx.load_docs(kind, &refs)? {
                self.docs.insert((kind, doc.key), Some((doc.agency, doc.doc)));
            }
        }
        Ok(())
    }

    pub(super) fn get<T: DeserializeOwned>(&self, kind: &'static str, key: &str) -> Result<Option<T>, ProjectError> {
        match self.docs.get(&(kind, key.to_owned())) {
            Some(Some((_, text))) => build_once::parse(kind, key, text).map(Some),
            Some(None) => Ok(None),
            // Reading a document that `touched` did not name would mistake
            // "not loaded" for "absent": a bug, never a silent None.
            None => Err(ProjectError::NotPreloaded { kind, key: key.to_owned() }),
        }
    }

    pub(super) fn put<T: Serialize>(
        &mut self,
        kind: &'static str,
        key: &str,
        agency: Option<&str>,
        state: &T,
    ) -> Result<(), ProjectError> {
        let value = serde_json::to_string(state).map_err(|error| ProjectError::Corrupt {
            kind,
            key: key.to_owned(),
            error: error.to_string(),
        })?;
        let doc_key = (kind, key.to_owned());
        self.docs.insert(doc_key.clone(), Some((agency.map(str::to_owned), value)));
        self.dirty.insert(doc_key, ());
        Ok(())
    }

    /// Deletes a document (when the batch is flushed).
    pub(super) fn remove(&mut self, kind: &'static str, key: &str) {
        let doc_key = (kind, key.to_owned());
        self.docs.insert(doc_key.clone(), None);
        self.dirty.insert(doc_key, ());
    }

    pub(super) fn count(&mut self, agency: &str, day: NaiveDate, metric: &'static str, delta: i64) {
        *self.counters.entry((agency.to_owned(), day, "", Cow::Borrowed(metric))).or_default() += delta;
    }

    /// Adds to a scorecard tally, by the turn's receipt day and its month.
    pub(super) fn count_tally(&mut self, agency: &str, receipt_day: NaiveDate, metric: TallyMetric, delta: i64) {
        let name = metric.name();
        let month = receipt_day.with_day(1).unwrap_or(receipt_day);
        for (day, prefix) in [(receipt_day, metric::TALLY_DAY_PREFIX), (month, metric::TALLY_MONTH_PREFIX)] {
            *self.counters.entry((agency.to_owned(), day, prefix, name.clone())).or_default() += delta;
        }
    }

    /// Records an alert raised by the event being applied.
    pub(super) fn raise_alert(&mut self, alert: Alert) -> Result<(), ProjectError> {
        self.alerts_raised += 1;
        self.count_alert(&alert);
        let key = format!("{:012}-{}", self.seq, self.alerts_raised);
        let agency = alert.agency.clone();
        self.put(kind::ALERT, &key, agency.as_deref(), &alert)
    }

    /// Asks for an event casetrail will append right after this one.
    pub(super) fn follow_up(&mut self, event: Event) {
        self.follow_ups.push(event);
    }

    /// The follow-up events asked for since the last call.
    pub fn take_follow_ups(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.follow_ups)
    }

    /// The sequence number of the event being applied.
    pub(super) fn seq(&self) -> u64 {
        self.seq
    }

    /// Applies one event that will be appended as `seq`, or says which rule
    /// it breaks (and changes nothing).
    pub fn apply(&mut self, event: &Event, seq: u64) -> Result<(), ProjectError> {
        self.seq = seq;
        self.alerts_raised = 0;
        let day = casetrail_types::time::local_date(event.at_utc());
        match &event.record {
            Record::AgencyRegistered(r) => {
                if let Some(state) = registry::apply_agency(event) {
                    self.put::<AgencyState>(kind::AGENCY, r.agency.as_str(), Some(r.agency.as_str()), &state)?;
                }
                self.index_prosecutor_office(r)?;
            }
            Record::DeviceEnrolled(_) | Record::DeviceRevoked(_) => {
                let key = &touched(event)[0].1;
                let current: Option<DeviceState> = self.get(kind::DEVICE, key)?;
                let next = registry::apply_device(current.as_ref(), event)?;
                self.put(kind::DEVICE, key, Some(&next.agency.clone()), &next)?;
            }
            Record::ProtocolSigned(_) => self.apply_protocol(event, day)?,
            Record::FineImposed(_)
            | Record::FineReferred(_)
            | Record::FineRecalled(_)
            | Record::FineCancelled(_)
            | Record::FineDeferred(_)
            | Record::FineInstalments(_) => {
                self.apply_charge(event, day)?;
            }
            Record::PaymentReceived(_) => self.apply_payment(event, day)?,
            Record::PaymentMatched(_) => self.apply_manual_match(event, day)?,
            Record::PaymentReversed(_) => self.apply_reversal(event)?,
            Record::AccountCreated(_)
            | Record::AccountDisabled(_)
            | Record::ApiKeyIssued(_)
            | Record::ApiKeyRevoked(_)
            | Record::AccessLogged(_) => self.apply_account(event)?,
            _ => self.apply_appeal(event, day)?,
        }
        Ok(())
    }

    /// Writes changed documents and counter deltas; the projector is then
    /// empty and can serve the next batch.
    pub fn flush(&mut self, tx: &mut dyn Tx) -> Result<(), ProjectError> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut docs = Vec::with_capacity(dirty.len());
        let mut deleted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (kind, key) in dirty.into_keys() {
            match self.docs.remove(&(kind, key.clone())) {
                Some(Some((agency, doc))) => docs.push(ProjectionDoc { kind: kind.to_owned(), key, agency, doc }),
                _ => deleted.entry(kind).or_default().push(key),
            }
        }
        tx.store_docs(&docs)?;
        for (kind, keys) in deleted {
            tx.delete_docs(kind, &keys.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        let deltas: Vec<CounterDelta> = std::mem::take(&mut self.counters)
            .into_iter()
            .filter(|(_, delta)| *delta != 0)
            .map(|((agency, day, prefix, name), delta)| {
                let metric = if prefix.is_empty() { name.into_owned() } else { format!("{prefix}{name}") };
                CounterDelta { agency, day, metric, delta }
            })
            .collect();
        tx.add_counters(&deltas)?;
        self.docs.clear();
        Ok(())
    }
}
