//! The records of exchange format v1 (DESIGN.md §4) as typed Rust values.
//!
//! Field names are the contract: add fields freely, never rename these.
//! Unknown fields are accepted and kept in the canonical bytes.

use casetrail_types::{Bin, Iin, Kato, Money, Uin};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ident::{AgencySlug, Ident};

/// Longest appeal text accepted, in bytes.
pub const APPEAL_TEXT_BYTES_MAX: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LocalizedName {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    Ministry,
    Akimat,
    Police,
    Prosecutor,
    Court,
    Bailiff,
    Other,
}

/// A person (IIN) or an organisation (BIN); exactly one of the two.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iin: Option<Iin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<Bin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Party {
    /// The identifying number as 12 digits.
    pub fn number(&self) -> Option<String> {
        match (&self.iin, &self.bin) {
            (Some(iin), _) => Some(iin.to_string()),
            (None, Some(bin)) => Some(bin.to_string()),
            (None, None) => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Portal,
    Paper,
    Phone,
    Email,
    Reception,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealKind {
    Complaint,
    Application,
    Proposal,
    Inquiry,
    Response,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForwardReason {
    NotInCompetence,
    PartiallyCompetent,
    JointReview,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Satisfied,
    PartiallySatisfied,
    Rejected,
    Explained,
    LeftWithoutConsideration,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgencyRegistered {
    pub agency: AgencySlug,
    pub name: LocalizedName,
    pub kind: AgencyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Kato>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AgencySlug>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealRegistered {
    pub appeal: Ident,
    pub agency: AgencySlug,
    /// Required unless `anonymous` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant: Option<Party>,
    pub channel: Channel,
    pub kind: AppealKind,
    pub category: Ident,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Kato>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealForwarded {
    pub appeal: Ident,
    pub from: AgencySlug,
    pub to: AgencySlug,
    pub reason: ForwardReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The holder took the appeal into work (an officer accepted it from the
/// queue). It moves no clock: the statutory term runs from receipt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealAccepted {
    pub appeal: Ident,
    pub agency: AgencySlug,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealExtended {
    pub appeal: Ident,
    pub agency: AgencySlug,
    pub until: NaiveDate,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealAnswered {
    pub appeal: Ident,
    pub agency: AgencySlug,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealContested {
    pub appeal: Ident,
    pub to: AgencySlug,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealContestResolved {
    pub appeal: Ident,
    pub upheld: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppealAssigned {
    pub appeal: Ident,
    pub to: AgencySlug,
    pub by: AgencySlug,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceEnrolled {
    pub device: Ident,
    pub agency: AgencySlug,
    /// Ed25519 public key, 32 bytes in standard base64.
    pub public_key: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRevoked {
    pub device: Ident,
    pub agency: AgencySlug,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProtocolSigned {
    pub case: Ident,
    pub agency: AgencySlug,
    pub officer: Ident,
    pub device: Ident,
    pub offender: Party,
    pub article: String,
    pub place: Kato,
    /// Ed25519 signature, 64 bytes in standard base64, over the JCS bytes of
    /// the whole record without its `signature` field.
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineImposed {
    pub case: Ident,
    pub uin: Uin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_mci: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_kzt: Option<Money>,
    /// The day the decision entered into force (`YYYY-MM-DD`, or an RFC 3339
    /// instant whose Kazakhstan local day is taken).
    pub in_force_at: String,
    pub short_procedure: bool,
}

/// Art. 888: the body that imposed the fine defers its execution, at most
/// one month past the end of the voluntary term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineDeferred {
    pub uin: Uin,
    /// The last day of the deferral; enforcement may start the day after.
    pub until: NaiveDate,
    pub reason: String,
}

/// One instalment of a plan: what must have been paid by `due`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Instalment {
    pub due: NaiveDate,
    pub amount_kzt: Money,
}

/// Art. 888: payment in instalments, the last at most three months past the
/// end of the voluntary term; the amounts add up to what is still owed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineInstalments {
    pub uin: Uin,
    pub schedule: Vec<Instalment>,
    pub reason: String,
}

/// A person resolves the manual queue: an unmatched payment belongs to this
/// charge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentMatched {
    pub payment: Ident,
    pub provider: Ident,
    pub uin: Uin,
    /// Who decided (a user or office identifier, never a personal name).
    pub by: Ident,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentReceived {
    pub payment: Ident,
    pub provider: Ident,
    /// As the payer quoted it: may be missing or wrong, so it is kept as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Party>,
    pub amount_kzt: Money,
}

/// A bank took a received payment back (a reversal or a return to the
/// payer): it no longer covers the charge it was matched to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentReversed {
    pub payment: Ident,
    pub provider: Ident,
    pub reason: String,
    /// What was taken back, as the bank reported it (informative: the whole
    /// payment stops counting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_kzt: Option<Money>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineReferred {
    pub uin: Uin,
    pub bailiff: AgencySlug,
    pub document: Ident,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineRecalled {
    pub uin: Uin,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FineCancelled {
    pub uin: Uin,
    pub reason: String,
}

/// What an account or an API key may do (DESIGN.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    Citizen,
    Officer,
    AgencyHead,
    FieldOfficer,
    Prosecutor,
    Analyst,
    Bailiff,
    PaymentProvider,
    Integration,
    Admin,
}

impl AccountRole {
    /// Every role, in declaration order.
    pub const ALL: [AccountRole; 10] = [
        AccountRole::Citizen,
        AccountRole::Officer,
        AccountRole::AgencyHead,
        AccountRole::FieldOfficer,
        AccountRole::Prosecutor,
        AccountRole::Analyst,
        AccountRole::Bailiff,
        AccountRole::PaymentProvider,
        AccountRole::Integration,
        AccountRole::Admin,
    ];

    /// The role's place in [`AccountRole::ALL`]; a new role fails to
    /// compile here until it is listed.
    pub const fn index(self) -> usize {
        match self {
            AccountRole::Citizen => 0,
            AccountRole::Officer => 1,
            AccountRole::AgencyHead => 2,
            AccountRole::FieldOfficer => 3,
            AccountRole::Prosecutor => 4,
            AccountRole::Analyst => 5,
            AccountRole::Bailiff => 6,
            AccountRole::PaymentProvider => 7,
            AccountRole::Integration => 8,
            AccountRole::Admin => 9,
        }
    }
}

/// A person's account: a login, a role, the agency it works for (a
/// prosecutor's office scopes to its region; the Prosecutor General's
/// office, kind `prosecutor` without a region, to all), and the Argon2id
/// hash of its password as a PHC string. Accepted only from the CLI and
/// administrators, never from the public import API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountCreated {
    pub account: Ident,
    pub role: AccountRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencySlug>,
    /// `$argon2id$v=19$m=...,t=...,p=...$salt$hash`.
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountDisabled {
    pub account: Ident,
    pub reason: String,
}

/// An API key for a connector or a payment provider. The key is
/// `<key_id>.<secret>`; only the SHA-256 of the secret (32 random bytes,
/// so no dictionary can reach it and no slow hash is needed) is recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKeyIssued {
    pub key_id: Ident,
    pub role: AccountRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencySlug>,
    /// The payment provider the key speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Ident>,
    /// Lower-case hex SHA-256 of the secret.
    pub secret_hash: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKeyRevoked {
    pub key_id: Ident,
    pub reason: String,
}

/// A read of personal data (IIN, names, appeal texts): who, what, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessLogged {
    /// The account, API key id or token subject that read.
    pub account: Ident,
    /// What was read, e.g. `appeal/A-1` or `charge/1000…`.
    pub subject: Ident,
    /// Which personal fields: `iin`, `name`, `text`.
    pub fields: Vec<String>,
    pub purpose: String,
}

/// One record of the exchange format, by its `type`.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    AgencyRegistered(AgencyRegistered),
    AppealRegistered(AppealRegistered),
    AppealForwarded(AppealForwarded),
    AppealAccepted(AppealAccepted),
    AppealExtended(AppealExtended),
    AppealAnswered(AppealAnswered),
    AppealContested(AppealContested),
    AppealContestResolved(AppealContestResolved),
    AppealAssigned(AppealAssigned),
    DeviceEnrolled(DeviceEnrolled),
    DeviceRevoked(DeviceRevoked),
    ProtocolSigned(ProtocolSigned),
    FineImposed(FineImposed),
    PaymentReceived(PaymentReceived),
    FineReferred(FineReferred),
    FineRecalled(FineRecalled),
    FineCancelled(FineCancelled),
    FineDeferred(FineDeferred),
    FineInstalments(FineInstalments),
    PaymentMatched(PaymentMatched),
    PaymentReversed(PaymentReversed),
    AccountCreated(AccountCreated),
    AccountDisabled(AccountDisabled),
    ApiKeyIssued(ApiKeyIssued),
    ApiKeyRevoked(ApiKeyRevoked),
    AccessLogged(AccessLogged),
}

impl Record {
    /// Accounts, keys and the access log: written by casetrail's CLI and
    /// its administrators (and the web server's own access log), never
    /// accepted from the public import API.
    pub fn is_administrative(&self) -> bool {
        matches!(
            self,
            Record::AccountCreated(_)
                | Record::AccountDisabled(_)
                | Record::ApiKeyIssued(_)
                | Record::ApiKeyRevoked(_)
                | Record::AccessLogged(_)
        )
    }
}

/// Generates the table of record types once: the `type` string, the variant
/// and its payload struct.
macro_rules! record_types {
    ($( $tag:literal => $variant:ident ),+ $(,)?) => {
        /// Every `type` the format knows, in the order of DESIGN.md §4.
        pub const RECORD_TYPES: &[&str] = &[$($tag),+];

        impl Record {
            /// The record's `type` string.
            pub fn record_type(&self) -> &'static str {
                match self { $(Record::$variant(_) => $tag,)+ }
            }

            pub(crate) fn from_value(
                record_type: &str,
                value: serde_json::Value,
            ) -> Result<Option<Record>, serde_path_to_error::Error<serde_json::Error>> {
                Ok(Some(match record_type {
                    $($tag => Record::$variant(serde_path_to_error::deserialize(value)?),)+
                    _ => return Ok(None),
                }))
            }

            /// The record's RFC 8785 bytes with the envelope's members added.
            pub(crate) fn canonical_with(
                &self,
                envelope: &[(&str, &str)],
            ) -> Result<Vec<u8>, crate::jcs_ser::CanonicalError> {
                match self { $(Record::$variant(body) => crate::jcs_ser::object_with_members(body, envelope),)+ }
            }

            pub(crate) fn schemas(generator: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
                vec![$(($tag, generator.subschema_for::<$variant>()),)+]
            }
        }
    };
}

record_types! {
    "agency.registered" => AgencyRegistered,
    "appeal.registered" => AppealRegistered,
    "appeal.forwarded" => AppealForwarded,
    "appeal.accepted" => AppealAccepted,
    "appeal.extended" => AppealExtended,
    "appeal.answered" => AppealAnswered,
    "appeal.contested" => AppealContested,
    "appeal.contest_resolved" => AppealContestResolved,
    "appeal.assigned" => AppealAssigned,
    "device.enrolled" => DeviceEnrolled,
    "device.revoked" => DeviceRevoked,
    "fine.protocol_signed" => ProtocolSigned,
    "fine.imposed" => FineImposed,
    "payment.received" => PaymentReceived,
    "fine.referred" => FineReferred,
    "fine.recalled" => FineRecalled,
    "fine.cancelled" => FineCancelled,
    "fine.deferred" => FineDeferred,
    "fine.instalments" => FineInstalments,
    "payment.matched" => PaymentMatched,
    "payment.reversed" => PaymentReversed,
    "account.created" => AccountCreated,
    "account.disabled" => AccountDisabled,
    "apikey.issued" => ApiKeyIssued,
    "apikey.revoked" => ApiKeyRevoked,
    "access.logged" => AccessLogged,
}
