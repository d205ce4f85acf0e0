//! The REST API under `/api/v1/` and its OpenAPI 3 document.
//!
//! Handlers are thin: each authenticates ([`Auth`]), asks [`authorize`],
//! then calls a use-case function that the pages call too. DTOs here are
//! the API's contract, separate from the domain's types.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use casetrail_app::projector::kind;
use casetrail_domain::appeal::dispute::{DisputeState, DisputeStatus};
use casetrail_domain::appeal::view::citizen_view;
use casetrail_domain::appeal::AppealState;
use casetrail_domain::charge::{ChargeState, ChargeStatus};
use casetrail_domain::registry::AgencyState;
use casetrail_exchange::{
    AgencySlug, AppealAccepted, AppealAnswered, AppealAssigned, AppealExtended, AppealForwarded, AppealKind,
    AppealRegistered, Channel, ForwardReason, Ident, Outcome as AnswerOutcome, Party, Record,
};
use casetrail_types::{Iin, Money, Uin};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{authorize, Action, Auth, Principal, Target};
use crate::docs;
use crate::error::{ErrorBody, WebError};
use crate::state::AppState;
use crate::writer::Outcome;

/// Working days before the due date from which an appeal is "due soon".
pub const DUE_SOON_DAYS: i64 = 3;
/// Most rows a list answers.
pub const LIST_ROWS_MAX: usize = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/agencies", get(list_agencies))
        .route("/api/v1/appeals", post(register_appeal))
        .route("/api/v1/appeals/track", post(track_appeal))
        .route("/api/v1/appeals/{number}", get(appeal_detail))
        .route("/api/v1/appeals/{number}/accept", post(accept_appeal))
        .route("/api/v1/appeals/{number}/assign", post(assign_appeal))
        .route("/api/v1/appeals/{number}/forward", post(forward_appeal))
        .route("/api/v1/appeals/{number}/extend", post(extend_appeal))
        .route("/api/v1/appeals/{number}/answer", post(answer_appeal))
        .route("/api/v1/agencies/{agency}/queue", get(agency_queue))
        .route("/api/v1/reports/{name}", get(report))
        .route("/api/v1/fines/lookup", post(fine_lookup))
        .route("/api/v1/fines/{uin}/refer", post(refer_fine))
        .route("/api/v1/bailiff/due", get(bailiff_due))
        .route("/api/v1/bailiff/recalls", get(bailiff_recalls))
        .route("/api/v1/quarantine", get(quarantine))
        .route("/api/v1/admin/accounts", get(admin_accounts).post(admin_create_account))
        .route("/api/v1/admin/accounts/{account}/disable", post(admin_disable_account))
        .route("/api/v1/admin/agencies", post(admin_register_agency))
        .route("/api/v1/admin/devices", get(admin_devices).post(admin_enrol_device))
        .route("/api/v1/admin/devices/{device}/revoke", post(admin_revoke_device))
        .route("/api/v1/admin/apikeys", get(admin_api_keys).post(admin_issue_api_key))
        .route("/api/v1/admin/apikeys/{key_id}/revoke", post(admin_revoke_api_key))
        .route("/api/v1/protocols", post(sign_protocol))
        .route("/api/openapi.json", get(openapi))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "casetrail", description = "One accountable trail for every citizen appeal and administrative fine."),
    paths(
        status,
        list_agencies,
        register_appeal,
        track_appeal,
        appeal_detail,
        accept_appeal,
        assign_appeal,
        forward_appeal,
        extend_appeal,
        answer_appeal,
        agency_queue,
        report,
        fine_lookup,
        refer_fine,
        bailiff_due,
        bailiff_recalls,
        quarantine,
        admin_accounts,
        admin_create_account,
        admin_disable_account,
        admin_register_agency,
        admin_devices,
        admin_enrol_device,
        admin_revoke_device,
        admin_api_keys,
        admin_issue_api_key,
        admin_revoke_api_key,
        sign_protocol
    ),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key `<key_id>.<secret>` or an OpenID Connect token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

/// The OpenAPI document as JSON text.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".into())
}

async fn openapi(State(state): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], state.openapi.clone()).into_response()
}

// ------------------------------------------------------------------ DTOs

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Names {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl Names {
    pub fn of(slug: &str, agencies: &BTreeMap<String, AgencyState>) -> Names {
        match agencies.get(slug) {
            Some(a) => Names { kk: a.name.kk.clone(), ru: a.name.ru.clone(), en: a.name.en.clone() },
            None => Names { kk: slug.into(), ru: slug.into(), en: slug.into() },
        }
    }

    pub fn get(&self, locale: impl std::borrow::Borrow<casetrail_types::Locale>) -> &str {
        match locale.borrow() {
            casetrail_types::Locale::Kk => &self.kk,
            casetrail_types::Locale::Ru => &self.ru,
            casetrail_types::Locale::En => &self.en,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StatusDto {
    pub backend: String,
    pub events: u64,
    /// The Merkle tree root, hex.
    pub root: String,
    pub quarantine_open: u64,
}

#[derive(Serialize, ToSchema)]
pub struct AgencyDto {
    pub agency: String,
    pub name: Names,
    /// ministry, akimat, police, prosecutor, court, bailiff, other
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
pub struct ApplicantDto {
    pub iin: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({
    "appeal": "ЖТ-2026-00000123",
    "agency": "akimat-astana",
    "category": "utilities",
    "kind": "complaint",
    "channel": "portal",
    "applicant": {"iin": "<the applicant's 12-digit IIN>"},
    "text": "Подъездте 1 желтоқсаннан бері жылу жоқ. / В подъезде нет отопления с 1 декабря."
}))]
pub struct RegisterAppealDto {
    /// The appeal number; casetrail assigns one when absent. A number given
    /// is the registration's idempotency key: the same registration sent
    /// again by the same caller is answered `duplicate` with the first.
    #[serde(default)]
    pub appeal: Option<String>,
    pub agency: String,
    pub category: String,
    /// complaint (default), application, proposal, inquiry
    #[serde(default)]
    pub kind: Option<String>,
    /// portal (default), paper, phone, email, reception
    #[serde(default)]
    pub channel: Option<String>,
    pub applicant: ApplicantDto,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct RegisteredDto {
    pub appeal: String,
    /// The ledger sequence number of the registration.
    pub seq: u64,
    /// `appended`, or `duplicate` when the same record was sent before.
    pub result: String,
    pub holder: String,
    /// The statutory due date (YYYY-MM-DD).
    pub statutory_due: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"appeal": "ЖТ-2026-00000123", "iin": "<the applicant's 12-digit IIN>"}))]
pub struct TrackDto {
    pub appeal: String,
    pub iin: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct StopDto {
    pub agency: String,
    pub name: Names,
    /// registered, forwarded, assigned
    pub via: String,
    pub received_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
    /// forwarded, answered, assigned; absent while the body holds it
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<String>,
    /// Why it was forwarded on from this body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_reason: Option<String>,
    pub working_days_held: u32,
    pub statutory_due: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_until: Option<NaiveDate>,
}

/// The citizen's view: no personal data.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct TrackViewDto {
    pub appeal: String,
    /// open, answered, contested
    pub status: String,
    pub holder: String,
    pub holder_name: Names,
    pub registered_on: NaiveDate,
    /// The statutory clock: the current holder's due date (absent once answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statutory_due: Option<NaiveDate>,
    pub statutory_working_days: u32,
    /// The citizen's clock: the first body's due date, which forwarding never moves.
    pub citizen_due: NaiveDate,
    pub citizen_working_days: u32,
    pub overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub forwards: usize,
    pub stops: Vec<StopDto>,
    /// The day the view was computed for.
    pub as_of: NaiveDate,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct QueueItemDto {
    pub appeal: String,
    pub category: String,
    pub received_on: NaiveDate,
    pub statutory_due: NaiveDate,
    pub citizen_working_days: u32,
    pub forwards: usize,
    pub overdue: bool,
    pub due_soon: bool,
    /// The day the agency took it into work (absent: not yet accepted).
    pub accepted_on: Option<NaiveDate>,
    /// Bodies that held it before the current one.
    pub held_before: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AppealDetailDto {
    pub appeal: String,
    pub status: String,
    pub holder: String,
    pub category: String,
    /// The applicant's IIN or BIN (this read is recorded in the access log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<String>,
    pub path: Vec<String>,
    pub statutory_due: NaiveDate,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({
    "to": "min-labour",
    "reason": "not_in_competence",
    "note": "The question is a social benefit, not housing.",
    "confirm": false
}))]
pub struct ForwardDto {
    pub to: String,
    /// not_in_competence, partially_competent, joint_review, other
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Required when `to` held the appeal before (a cycle).
    #[serde(default)]
    pub confirm: Option<bool>,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({"until": "2027-01-29", "reason": "An on-site inspection is needed."}))]
pub struct ExtendDto {
    pub until: NaiveDate,
    pub reason: String,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({"outcome": "satisfied"}))]
pub struct AnswerDto {
    /// satisfied, partially_satisfied, rejected, explained, left_without_consideration
    pub outcome: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct ActionResultDto {
    pub seq: u64,
}

#[derive(Deserialize, ToSchema, Clone)]
#[schema(example = json!({"iin": "<the offender's 12-digit IIN>", "uin": "20250000000000000200"}))]
pub struct FineLookupDto {
    pub iin: String,
    pub uin: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct FineDto {
    pub uin: String,
    /// open, paid, referred, cancelled
    pub status: String,
    /// Tenge, decimal string.
    pub amount: String,
    pub paid: String,
    /// What a payment today must pay (50% inside the short-procedure window).
    pub owed_today: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_until: Option<NaiveDate>,
    pub voluntary_until: NaiveDate,
    pub as_of: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"document": "ИД-2026-00000004"}))]
pub struct ReferDto {
    pub document: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuarantineDto {
    pub id: u64,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
    pub received_at: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// First day included (YYYY-MM-DD).
    #[param(example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
    /// The reference day; today when absent.
    #[param(example = "2026-12-01")]
    pub as_of: Option<NaiveDate>,
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, WebError> {
    serde_json::from_slice(body).map_err(|error| WebError::BadRequest(format!("the JSON body is not valid: {error}")))
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_enum<T: serde::de::DeserializeOwned>(field: &str, text: &str) -> Result<T, WebError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| WebError::BadRequest(format!("`{field}`: {text:?} is not a known value")))
}

fn agency_target(agency: &AgencyState) -> Target<'_> {
    Target::Agency { slug: &agency.agency, region: agency.region.as_deref() }
}

// ------------------------------------------------------------------ use cases

/// Registers an appeal for `principal` (source = the principal).
pub async fn register(
    state: &AppState,
    principal: Option<&Principal>,
    input: RegisterAppealDto,
) -> Result<RegisteredDto, WebError> {
    let agency = state.agency(&input.agency).await?;
    match &agency {
        Some(agency) => authorize(principal, Action::RegisterAppeal, agency_target(agency))?,
        None => {
            authorize(principal, Action::RegisterAppeal, Target::Anywhere)?;
            return Err(WebError::BadRequest(format!("`agency`: no agency {:?} is registered", input.agency)));
        }
    }
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    // A number the caller gives is the registration's idempotency key: a
    // retry (a timeout, a lost answer) is answered `duplicate` with the
    // first registration, not refused as a second one.
    let (number, retry_key) = match input.appeal {
        Some(number) => {
            let key = Ident::parse(&format!("appeal.registered/{number}"))
                .map_err(|e| WebError::BadRequest(format!("`appeal`: {e}")))?;
            (number, Some(key))
        }
        None => (format!("W-{}-{}", state.today().format("%Y%m%d"), crate::auth::random_hex(5)?.to_uppercase()), None),
    };
    let iin = Iin::parse(input.applicant.iin.trim())
        .map_err(|error| WebError::BadRequest(format!("`applicant.iin`: {error}")))?;
    let record = Record::AppealRegistered(AppealRegistered {
        appeal: Ident::parse(&number).map_err(|e| WebError::BadRequest(format!("`appeal`: {e}")))?,
        agency: AgencySlug::parse(&input.agency).map_err(|e| WebError::BadRequest(format!("`agency`: {e}")))?,
        applicant: Some(Party {
            iin: Some(iin),
            bin: None,
            name: input.applicant.name.filter(|n| !n.trim().is_empty()),
        }),
        channel: parse_enum::<Channel>("channel", input.channel.as_deref().unwrap_or("portal"))?,
        kind: parse_enum::<AppealKind>("kind", input.kind.as_deref().unwrap_or("complaint"))?,
        category: Ident::parse(&input.category).map_err(|e| WebError::BadRequest(format!("`category`: {e}")))?,
        region: None,
        text: input.text.filter(|t| !t.trim().is_empty()),
        anonymous: None,
    });
    let source = format!("api:{}", principal.id);
    let event = match retry_key {
        Some(key) => AppState::event_with_id(key, record)?,
        None => AppState::event(record)?,
    };
    // What the registration makes of the appeal if it is appended: the same
    // pure rule the projector applies, so the answer needs no read. A record
    // the rule refuses still goes to the writer, which quarantines it.
    let registered = casetrail_domain::appeal::apply(None, &event);
    let (seq, result, appeal) = match state.append_event(&source, event).await? {
        Outcome::Appended { seq } => (seq, "appended", registered.map_err(WebError::internal)?),
        Outcome::Duplicate { seq } => {
            let key = number.clone();
            let appeal = state.read(move |store| docs::appeal(store, &key)).await?;
            let Some(appeal) = appeal else {
                return Err(WebError::internal("the registered appeal has no projection"));
            };
            (seq, "duplicate", appeal)
        }
        Outcome::Quarantined { reason } => return Err(WebError::BadRequest(reason)),
    };
    Ok(RegisteredDto {
        appeal: number,
        seq,
        result: result.into(),
        holder: appeal.holder().to_string(),
        statutory_due: appeal.statutory_due(),
    })
}

/// The citizen's view when `iin` is the applicant's; else not found (the
/// same answer as an unknown number, so nothing leaks).
pub async fn track(state: &AppState, number: &str, iin: &str) -> Result<TrackViewDto, WebError> {
    let not_found = || WebError::NotFound("no appeal with this number and IIN".into());
    let iin = Iin::parse(iin.trim()).map_err(|_| not_found())?.to_string();
    let key = number.trim().to_owned();
    let as_of = state.today();
    let (appeal, agencies) = state.read(move |store| Ok((docs::appeal(store, &key)?, docs::agencies(store)?))).await?;
    let appeal = appeal.filter(|a| a.applicant.as_deref() == Some(iin.as_str())).ok_or_else(not_found)?;
    view_of(&appeal, &agencies, as_of)
}

pub fn view_of(
    appeal: &AppealState,
    agencies: &BTreeMap<String, AgencyState>,
    as_of: NaiveDate,
) -> Result<TrackViewDto, WebError> {
    let name_of = |slug: &str| agencies.get(slug).map(|a| a.name.clone());
    let view = citizen_view(appeal, name_of, as_of).map_err(WebError::internal)?;
    let stops = view
        .stops
        .iter()
        .map(|stop| StopDto {
            agency: stop.agency.clone(),
            name: Names::of(&stop.agency, agencies),
            via: enum_text(&stop.via),
            received_on: stop.received_on,
            left_on: stop.left_on,
            departure: stop.departure.as_ref().map(enum_text),
            forward_reason: stop.forward_reason.as_ref().map(enum_text),
            working_days_held: stop.working_days_held,
            statutory_due: stop.statutory_due,
            extended_until: stop.extended_until,
        })
        .collect();
    Ok(TrackViewDto {
        appeal: view.appeal.clone(),
        status: enum_text(&view.status),
        holder: view.holder.clone(),
        holder_name: Names::of(&view.holder, agencies),
        registered_on: view.registered_on,
        statutory_due: view.statutory_due,
        statutory_working_days: view.statutory_working_days,
        citizen_due: appeal.first().due,
        citizen_working_days: view.citizen_working_days,
        overdue: view.overdue,
        answered_on: view.answered_on,
        outcome: view.outcome.as_ref().map(enum_text),
        forwards: view.forwards,
        stops,
        as_of,
    })
}

/// The open appeals an agency holds, by due date.
pub async fn queue(
    state: &AppState,
    principal: Option<&Principal>,
    slug: &str,
) -> Result<(AgencyState, Vec<QueueItemDto>), WebError> {
    let key = slug.to_owned();
    let agency = state.read(move |store| docs::agency(store, &key)).await?;
    let Some(agency) = agency else {
        authorize(principal, Action::ReadQueue, Target::Anywhere)?;
        return Err(WebError::NotFound(format!("no agency {slug}")));
    };
    authorize(principal, Action::ReadQueue, agency_target(&agency))?;
    let today = state.today();
    let holder = slug.to_owned();
    let appeals = state.read(move |store| docs::queue(store, &holder, LIST_ROWS_MAX)).await?;
    let calendar = casetrail_types::calendar::WorkCalendar::kazakhstan();
    let mut items = Vec::with_capacity(appeals.len());
    for appeal in appeals {
        let due = appeal.statutory_due();
        let left = calendar.working_days_between(today, due).unwrap_or(0);
        let held_before: Vec<String> = appeal.holdings.iter().rev().skip(1).map(|h| h.agency.to_string()).collect();
        items.push(QueueItemDto {
            appeal: appeal.appeal.clone(),
            category: appeal.category.clone(),
            received_on: appeal.current().received_on,
            statutory_due: due,
            citizen_working_days: appeal.citizen_working_days(today).map_err(WebError::internal)?,
            forwards: appeal.forwards(),
            overdue: today > due,
            due_soon: today <= due && i64::from(left) <= DUE_SOON_DAYS,
            accepted_on: appeal.current().accepted_on,
            held_before,
        });
    }
    Ok((agency, items))
}

/// An appeal the principal may act on (its holder is in scope).
async fn held_appeal(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
    action: Action,
) -> Result<AppealState, WebError> {
    let key = number.to_owned();
    let (appeal, agencies) = state.read(move |store| Ok((docs::appeal(store, &key)?, docs::agencies(store)?))).await?;
    let Some(appeal) = appeal else {
        authorize(principal, action, Target::Anywhere)?;
        return Err(WebError::NotFound(format!("no appeal {number}")));
    };
    let holder = appeal.holder().to_string();
    let region = agencies.get(&holder).and_then(|a| a.region.clone());
    authorize(principal, action, Target::Agency { slug: &holder, region: region.as_deref() })?;
    Ok(appeal)
}

async fn append_action(state: &AppState, principal: &Principal, record: Record) -> Result<ActionResultDto, WebError> {
    match state.append(&format!("api:{}", principal.id), record).await? {
        Outcome::Appended { seq } | Outcome::Duplicate { seq } => Ok(ActionResultDto { seq }),
        Outcome::Quarantined { reason } => Err(WebError::Conflict(reason)),
    }
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({"to": "akimat-astana"}))]
pub struct AssignDto {
    /// The agency competent to answer (its slug).
    pub to: String,
}

/// Settles a competence dispute: the prosecutor's office assigns the appeal
/// to the competent body, which can no longer forward it. Authorized by the
/// appeal's region (its own, else its holder's); 409 without an open
/// dispute, 400 for an unknown agency.
pub async fn assign(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
    input: AssignDto,
) -> Result<ActionResultDto, WebError> {
    let (dispute, agencies) = disputed_appeal(state, principal, number).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    if !dispute.is_some_and(|d| d.status == DisputeStatus::Open) {
        return Err(WebError::Conflict(format!("appeal {number} has no open competence dispute")));
    }
    let to = AgencySlug::parse(&input.to).map_err(|e| WebError::BadRequest(format!("`to`: {e}")))?;
    if !agencies.contains_key(to.as_str()) {
        return Err(WebError::BadRequest(format!("`to`: no agency {to} is registered")));
    }
    let by = principal.agency.as_deref().ok_or_else(|| WebError::Forbidden("this account has no agency".into()))?;
    let record = Record::AppealAssigned(AppealAssigned {
        appeal: Ident::parse(number).map_err(|e| WebError::BadRequest(e.to_string()))?,
        to,
        by: AgencySlug::parse(by).map_err(WebError::internal)?,
    });
    append_action(state, principal, record).await
}

/// An appeal's dispute (if any) for a principal who may settle disputes in
/// the appeal's region, with the agencies.
async fn disputed_appeal(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
) -> Result<(Option<DisputeState>, BTreeMap<String, AgencyState>), WebError> {
    let key = number.to_owned();
    let (appeal, dispute, agencies) = state
        .read(move |store| {
            let dispute: Option<DisputeState> = docs::load(store, kind::DISPUTE, &key)?;
            Ok((docs::appeal(store, &key)?, dispute, docs::agencies(store)?))
        })
        .await?;
    let Some(appeal) = appeal else {
        authorize(principal, Action::SettleDispute, Target::Anywhere)?;
        return Err(WebError::NotFound(format!("no appeal {number}")));
    };
    let holder = appeal.holder().to_string();
    let region = appeal.region.clone().or_else(|| agencies.get(&holder).and_then(|a| a.region.clone()));
    authorize(principal, Action::SettleDispute, Target::Agency { slug: &holder, region: region.as_deref() })?;
    Ok((dispute, agencies))
}

/// Takes an appeal the principal's agency holds into work (409 with the
/// domain's reason when it was accepted already).
pub async fn accept(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
) -> Result<ActionResultDto, WebError> {
    let appeal = held_appeal(state, principal, number, Action::ActOnAppeal).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    let record = Record::AppealAccepted(AppealAccepted {
        appeal: Ident::parse(number).map_err(|e| WebError::BadRequest(e.to_string()))?,
        agency: appeal.holder().clone(),
    });
    append_action(state, principal, record).await
}

/// Forwards an appeal; refuses (409) a forward back to a body that held
/// it unless `confirm` is set, and answers 409 for an appeal a prosecutor
/// assigned to its holder (the attempt is recorded).
pub async fn forward(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
    input: ForwardDto,
) -> Result<ActionResultDto, WebError> {
    let appeal = held_appeal(state, principal, number, Action::ActOnAppeal).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    let reason: ForwardReason = parse_enum("reason", &input.reason)?;
    let to = AgencySlug::parse(&input.to).map_err(|e| WebError::BadRequest(format!("`to`: {e}")))?;
    if appeal.holdings.iter().any(|h| h.agency == to) && input.confirm != Some(true) {
        return Err(WebError::Conflict(format!(
            "{to} already held this appeal: forwarding it back is a cycle; send `confirm: true` to forward anyway"
        )));
    }
    let record = Record::AppealForwarded(AppealForwarded {
        appeal: Ident::parse(number).map_err(|e| WebError::BadRequest(e.to_string()))?,
        from: appeal.holder().clone(),
        to,
        reason,
        note: input.note.filter(|n| !n.trim().is_empty()),
    });
    let done = append_action(state, principal, record).await?;
    // After a prosecutor's assignment the forward is recorded (it was
    // attempted, and the ledger raises an alert) but moves nothing.
    if let (Some(to), Some(by)) = (&appeal.assigned_to, &appeal.assigned_by) {
        if to == appeal.holder() {
            return Err(WebError::Conflict(format!(
                "{by} assigned appeal {number} to {to}: it cannot be forwarded; the attempt is recorded as event {} and raised as an alert",
                done.seq
            )));
        }
    }
    Ok(done)
}

pub async fn extend(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
    input: ExtendDto,
) -> Result<ActionResultDto, WebError> {
    let appeal = held_appeal(state, principal, number, Action::ActOnAppeal).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    if input.reason.trim().is_empty() {
        return Err(WebError::BadRequest("`reason` is required".into()));
    }
    let record = Record::AppealExtended(AppealExtended {
        appeal: Ident::parse(number).map_err(|e| WebError::BadRequest(e.to_string()))?,
        agency: appeal.holder().clone(),
        until: input.until,
        reason: input.reason,
    });
    append_action(state, principal, record).await
}

pub async fn answer(
    state: &AppState,
    principal: Option<&Principal>,
    number: &str,
    input: AnswerDto,
) -> Result<ActionResultDto, WebError> {
    let appeal = held_appeal(state, principal, number, Action::ActOnAppeal).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    let record = Record::AppealAnswered(AppealAnswered {
        appeal: Ident::parse(number).map_err(|e| WebError::BadRequest(e.to_string()))?,
        agency: appeal.holder().clone(),
        outcome: parse_enum::<AnswerOutcome>("outcome", &input.outcome)?,
    });
    append_action(state, principal, record).await
}

/// A fine as its payer sees it, when `iin` is the payer's.
pub async fn fine(state: &AppState, iin: &str, uin: &str) -> Result<FineDto, WebError> {
    let not_found = || WebError::NotFound("no fine with this UIN for this IIN".into());
    let iin = Iin::parse(iin.trim()).map_err(|_| not_found())?.to_string();
    let uin = Uin::parse(uin.trim()).map_err(|_| not_found())?.to_string();
    let as_of = state.today();
    let charge: Option<ChargeState> = state.read(move |store| docs::load(store, kind::CHARGE, &uin)).await?;
    let charge = charge.filter(|c| c.payer.as_deref() == Some(iin.as_str())).ok_or_else(not_found)?;
    Ok(FineDto {
        uin: charge.uin.clone(),
        status: enum_text(&charge.status_now()),
        amount: charge.amount().to_decimal_string(),
        paid: Money::from_tiyn(charge.paid_tiyn).to_decimal_string(),
        owed_today: match charge.status_now() {
            ChargeStatus::Cancelled | ChargeStatus::Paid => Money::ZERO.to_decimal_string(),
            _ => charge.owed_now_on(as_of).to_decimal_string(),
        },
        discount_until: charge.discount_until.filter(|until| *until >= as_of),
        voluntary_until: charge.voluntary_until,
        as_of,
    })
}

// ------------------------------------------------------------------ bailiffs

/// A charge due for enforcement, as a bailiff's list shows it.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct DueChargeDto {
    pub uin: String,
    pub case: String,
    /// The payer's IIN or BIN, masked: first 4 and last 2 digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// What is still owed, tenge (decimal string).
    pub owed: String,
    /// The first day of enforcement.
    pub due: NaiveDate,
    /// The agency that imposed the fine.
    pub agency: String,
}

/// A referral to this bailiff that was recalled.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct RecallDto {
    pub uin: String,
    pub case: String,
    /// The enforcement document the referral carried.
    pub document: String,
    pub referred_on: NaiveDate,
    pub recalled_on: NaiveDate,
    /// paid, cancelled or other (recalled by the referring body).
    pub why: String,
}

/// An IIN or BIN with all but its first 4 and last 2 digits hidden.
pub fn mask_number(number: &str) -> String {
    let count = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if count > 6 && (i < 4 || i + 2 >= count) { c } else { '•' }).collect()
}

/// The charges a bailiff may receive today (report `enforcement-due`),
/// only those imposed by agencies in the bailiff's scope (its chamber's
/// region); the payer is masked.
pub async fn enforcement_due(state: &AppState, principal: Option<&Principal>) -> Result<Vec<DueChargeDto>, WebError> {
    authorize(principal, Action::ReferFine, Target::Anywhere)?;
    let Some(principal) = principal.cloned() else { return Err(WebError::Unauthenticated) };
    let params = casetrail_reports::ReportParams { from: None, to: None, as_of: state.today() };
    state
        .read(move |store| {
            let table = casetrail_reports::run("enforcement-due", store, &params).map_err(WebError::internal)?;
            let agencies = docs::agencies(store)?;
            let mut rows = Vec::new();
            for row in table.objects() {
                let text = |column: &str| row.get(column).and_then(|v| v.as_str()).map(str::to_owned);
                let Some(uin) = text("uin") else { continue };
                let Some(agency) = store.doc(kind::CHARGE, &uin)?.and_then(|doc| doc.agency) else { continue };
                if !principal.scope.covers(&agency, agencies.get(&agency).and_then(|a| a.region.as_deref())) {
                    continue;
                }
                let due = text("due")
                    .and_then(|day| NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok())
                    .ok_or_else(|| WebError::internal("the enforcement-due report has no due day"))?;
                rows.push(DueChargeDto {
                    uin,
                    case: text("case").unwrap_or_default(),
                    payer: text("payer").map(|payer| mask_number(&payer)),
                    owed: text("amount_kzt").unwrap_or_default(),
                    due,
                    agency,
                });
                if rows.len() >= LIST_ROWS_MAX {
                    break;
                }
            }
            Ok(rows)
        })
        .await
}

/// Referrals to the principal's own chamber that were recalled, newest first.
pub async fn recalls(state: &AppState, principal: Option<&Principal>) -> Result<Vec<RecallDto>, WebError> {
    authorize(principal, Action::ReferFine, Target::Anywhere)?;
    let Some(bailiff) = principal.and_then(|p| p.agency.clone()) else {
        return Err(WebError::Forbidden("this account has no agency".into()));
    };
    let recalled = state.read(move |store| docs::recalls(store, &bailiff, LIST_ROWS_MAX)).await?;
    Ok(recalled
        .into_iter()
        .map(|entry| RecallDto {
            referred_on: casetrail_types::time::local_date(entry.referred_at),
            recalled_on: casetrail_types::time::local_date(entry.recalled_at),
            why: enum_text(&entry.why),
            uin: entry.uin,
            case: entry.case,
            document: entry.document,
        })
        .collect())
}

/// Checks that the principal may refer this charge: a bailiff, and the
/// charge's agency in its scope (an unknown charge is left to the gate).
/// Returns the UIN in its canonical form.
pub async fn referable(state: &AppState, principal: Option<&Principal>, uin: &str) -> Result<String, WebError> {
    authorize(principal, Action::ReferFine, Target::Anywhere)?;
    let parsed = Uin::parse(uin.trim()).map_err(|error| WebError::BadRequest(format!("`uin`: {error}")))?.to_string();
    let key = parsed.clone();
    let (doc, agencies) = state.read(move |store| Ok((store.doc(kind::CHARGE, &key)?, docs::agencies(store)?))).await?;
    if let Some(doc) = doc {
        let slug = doc.agency.unwrap_or_default();
        let region = agencies.get(&slug).and_then(|a| a.region.as_deref());
        authorize(principal, Action::ReferFine, Target::Agency { slug: &slug, region })?;
    }
    Ok(parsed)
}

/// Refers a charge to the principal's chamber through the enforcement gate
/// (`Ledger::refer`); a refusal is a 409 with the gate's reason.
pub async fn refer(
    state: &AppState,
    principal: Option<&Principal>,
    uin: &str,
    document: &str,
) -> Result<ActionResultDto, WebError> {
    let uin = referable(state, principal, uin).await?;
    let Some(bailiff) = principal.and_then(|p| p.agency.clone()) else {
        return Err(WebError::Forbidden("this account has no agency".into()));
    };
    let document = document.to_owned();
    let seq = state
        .with_ledger(move |ledger| match ledger.refer(&uin, &bailiff, &document) {
            Ok(seq) => Ok(seq),
            Err(casetrail_app::projector::ReferError::Refused { reason, .. }) => Err(WebError::Conflict(reason)),
            Err(casetrail_app::projector::ReferError::Invalid(reason)) => Err(WebError::BadRequest(reason)),
            Err(casetrail_app::projector::ReferError::App(error)) => Err(WebError::internal(error)),
        })
        .await?;
    Ok(ActionResultDto { seq })
}

// ------------------------------------------------------------------ administration

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct AccountDto {
    pub account: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone)]
#[schema(example = json!({
    "account": "akimat-astana-officer-017",
    "role": "officer",
    "agency": "akimat-astana",
    "password": "choose a long passphrase"
}))]
pub struct NewAccountDto {
    pub account: String,
    /// citizen, officer, agency_head, field_officer, prosecutor, analyst, bailiff, payment_provider, integration, admin
    pub role: String,
    #[serde(default)]
    pub agency: Option<String>,
    /// The initial password (at least 10 characters): hashed with Argon2id before it is recorded, never stored or echoed.
    pub password: String,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({"reason": "The officer left the service."}))]
pub struct ReasonDto {
    pub reason: String,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({
    "agency": "akimat-karaganda-region",
    "name": {
        "kk": "Қарағанды облысының әкімдігі",
        "ru": "Акимат Карагандинской области",
        "en": "Akimat of Karaganda Region"
    },
    "kind": "akimat",
    "region": "350000000"
}))]
pub struct NewAgencyDto {
    pub agency: String,
    pub name: Names,
    /// ministry, akimat, police, prosecutor, court, bailiff, other
    pub kind: String,
    /// The KATO code of its region (9 digits).
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct DeviceDto {
    pub device: String,
    pub agency: String,
    /// Ed25519 public key, standard base64.
    pub public_key: String,
    pub enrolled_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({
    "device": "police-astana-tablet-00042",
    "agency": "police-astana",
    "public_key": "TUmp+c00HDS04EvPcqMgJYf+/aZ3RUtV0GydvuWLn+4="
}))]
pub struct NewDeviceDto {
    pub device: String,
    pub agency: String,
    /// Ed25519 public key: 32 bytes in standard base64.
    pub public_key: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ApiKeyDto {
    pub key_id: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The payment provider or connector the key speaks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub issued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

#[derive(Deserialize, ToSchema, Clone, Debug)]
#[schema(example = json!({"role": "payment_provider", "provider": "kaspi"}))]
pub struct NewApiKeyDto {
    pub role: String,
    #[serde(default)]
    pub agency: Option<String>,
    /// The payment provider or connector the key speaks for.
    #[serde(default)]
    pub provider: Option<String>,
}

/// A new API key: `key` is shown this once and never again.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct IssuedKeyDto {
    pub key_id: String,
    /// What the client sends after `Bearer `: `<key_id>.<secret>`.
    pub key: String,
    pub seq: u64,
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&casetrail_types::time::kz_offset_at(at)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The administrator's check: role admin (scope all).
fn administer(principal: Option<&Principal>) -> Result<&Principal, WebError> {
    authorize(principal, Action::Administer, Target::Anywhere)?;
    principal.ok_or(WebError::Unauthenticated)
}

/// Appends an administrative record under `admin:<login>`; a record the
/// rules refuse (a duplicate, an unknown id) is a 409 with the reason.
async fn append_admin(state: &AppState, principal: &Principal, record: Record) -> Result<ActionResultDto, WebError> {
    match state.append(&format!("admin:{}", principal.id), record).await? {
        Outcome::Appended { seq } | Outcome::Duplicate { seq } => Ok(ActionResultDto { seq }),
        Outcome::Quarantined { reason } => Err(WebError::Conflict(reason)),
    }
}

/// A registered agency's slug, or 400.
async fn known_agency(state: &AppState, field: &str, slug: &str) -> Result<AgencySlug, WebError> {
    let parsed = AgencySlug::parse(slug.trim()).map_err(|e| WebError::BadRequest(format!("`{field}`: {e}")))?;
    let key = parsed.to_string();
    match state.read(move |store| docs::agency(store, &key)).await? {
        Some(_) => Ok(parsed),
        None => Err(WebError::BadRequest(format!("`{field}`: no agency {slug:?} is registered"))),
    }
}

async fn optional_agency(state: &AppState, slug: Option<&str>) -> Result<Option<AgencySlug>, WebError> {
    match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => Ok(Some(known_agency(state, "agency", slug).await?)),
        None => Ok(None),
    }
}

fn parse_role_field(text: &str) -> Result<casetrail_exchange::AccountRole, WebError> {
    crate::auth::parse_role(text.trim()).ok_or_else(|| WebError::BadRequest(format!("`role`: {text:?} is not a role")))
}

pub async fn accounts(state: &AppState, principal: Option<&Principal>) -> Result<Vec<AccountDto>, WebError> {
    administer(principal)?;
    let accounts = state
        .read(|store| docs::scan::<casetrail_app::projector::AccountState>(store, kind::ACCOUNT, |_| true))
        .await?;
    Ok(accounts
        .into_iter()
        .take(LIST_ROWS_MAX)
        .map(|a| AccountDto {
            account: a.account,
            role: crate::auth::role_name(a.role),
            agency: a.agency,
            created_at: rfc3339(a.created_at),
            disabled_at: a.disabled_at.map(rfc3339),
        })
        .collect())
}

/// Creates an account; the password is hashed (Argon2id) before the record
/// is built, so only the hash is ever recorded.
pub async fn create_account(
    state: &AppState,
    principal: Option<&Principal>,
    input: NewAccountDto,
) -> Result<ActionResultDto, WebError> {
    let principal = administer(principal)?;
    let account = Ident::parse(input.account.trim())
        .ok()
        .filter(|_| !input.account.trim().contains(char::is_whitespace))
        .ok_or_else(|| WebError::BadRequest("`account`: a login without spaces".into()))?;
    let role = parse_role_field(&input.role)?;
    let agency = optional_agency(state, input.agency.as_deref()).await?;
    if input.password.chars().count() < crate::auth::PASSWORD_CHARS_MIN {
        return Err(WebError::BadRequest(format!(
            "`password`: at least {} characters",
            crate::auth::PASSWORD_CHARS_MIN
        )));
    }
    let key = account.to_string();
    let existing: Option<casetrail_app::projector::AccountState> =
        state.read(move |store| docs::load(store, kind::ACCOUNT, &key)).await?;
    if existing.is_some_and(|a| a.disabled_at.is_none()) {
        return Err(WebError::Conflict(format!("account {account} already exists")));
    }
    let password = input.password;
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(WebError::internal)?
        .map_err(WebError::internal)?;
    let record = Record::AccountCreated(casetrail_exchange::AccountCreated { account, role, agency, password_hash });
    append_admin(state, principal, record).await
}

pub async fn disable_account(
    state: &AppState,
    principal: Option<&Principal>,
    account: &str,
    input: ReasonDto,
) -> Result<ActionResultDto, WebError> {
    let principal = administer(principal)?;
    if input.reason.trim().is_empty() {
        return Err(WebError::BadRequest("`reason` is required".into()));
    }
    let key = account.to_owned();
    let existing: Option<casetrail_app::projector::AccountState> =
        state.read(move |store| docs::load(store, kind::ACCOUNT, &key)).await?;
    match existing {
        None => return Err(WebError::NotFound(format!("no account {account}"))),
        Some(a) if a.disabled_at.is_some() => {
            return Err(WebError::Conflict(format!("account {account} is already disabled")))
        }
        Some(_) => {}
    }
    let record = Record::AccountDisabled(casetrail_exchange::AccountDisabled {
        account: Ident::parse(account).map_err(|e| WebError::BadRequest(e.to_string()))?,
        reason: input.reason.trim().to_owned(),
    });
    let done = append_admin(state, principal, record).await?;
    // A disabled account is signed out at once, not when its session ends.
    state.sessions.close_account(account);
    Ok(done)
}

pub async fn register_agency(
    state: &AppState,
    principal: Option<&Principal>,
    input: NewAgencyDto,
) -> Result<ActionResultDto, WebError> {
    let principal = administer(principal)?;
    let agency = AgencySlug::parse(input.agency.trim()).map_err(|e| WebError::BadRequest(format!("`agency`: {e}")))?;
    let names = [&input.name.kk, &input.name.ru, &input.name.en];
    if names.iter().any(|name| name.trim().is_empty()) {
        return Err(WebError::BadRequest("`name`: a name in kk, ru and en is required".into()));
    }
    let region = match input.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(code) => {
            Some(casetrail_types::Kato::parse(code).map_err(|e| WebError::BadRequest(format!("`region`: {e}")))?)
        }
        None => None,
    };
    let parent = optional_agency(state, input.parent.as_deref()).await?;
    let key = agency.to_string();
    let existing = state.read(move |store| docs::agency(store, &key)).await?;
    let kind: casetrail_exchange::AgencyKind = parse_enum("kind", input.kind.trim())?;
    // The same registration sent twice (a double submit) records nothing;
    // a different one renames or moves the agency.
    if existing.is_some_and(|e| {
        e.kind == kind
            && e.region == region.as_ref().map(ToString::to_string)
            && e.parent == parent.as_ref().map(ToString::to_string)
            && e.name.kk == input.name.kk.trim()
            && e.name.ru == input.name.ru.trim()
            && e.name.en == input.name.en.trim()
    }) {
        return Err(WebError::Conflict(format!("agency {agency} is already registered exactly so")));
    }
    let record = Record::AgencyRegistered(casetrail_exchange::AgencyRegistered {
        agency,
        name: casetrail_exchange::LocalizedName {
            kk: input.name.kk.trim().to_owned(),
            ru: input.name.ru.trim().to_owned(),
            en: input.name.en.trim().to_owned(),
        },
        kind,
        region,
        parent,
    });
    append_admin(state, principal, record).await
}

pub async fn devices(state: &AppState, principal: Option<&Principal>) -> Result<Vec<DeviceDto>, WebError> {
    administer(principal)?;
    let mut devices = state
        .read(|store| docs::scan::<casetrail_domain::registry::DeviceState>(store, kind::DEVICE, |_| true))
        .await?;
    devices.sort_by(|a, b| (&a.agency, &a.device).cmp(&(&b.agency, &b.device)));
    Ok(devices
        .into_iter()
        .take(LIST_ROWS_MAX)
        .map(|d| DeviceDto {
            device: d.device,
            agency: d.agency,
            public_key: d.public_key,
            enrolled_at: rfc3339(d.enrolled_at),
            revoked_at: d.revoked_at.map(rfc3339),
        })
        .collect())
}

/// Enrols a field device; its public key must be 32 bytes of Ed25519 in
/// standard base64.
pub async fn enrol_device(
    state: &AppState,
    principal: Option<&Principal>,
    input: NewDeviceDto,
) -> Result<ActionResultDto, WebError> {
    use base64::Engine;
    let principal = administer(principal)?;
    let device = Ident::parse(input.device.trim()).map_err(|e| WebError::BadRequest(format!("`device`: {e}")))?;
    let agency = known_agency(state, "agency", &input.agency).await?;
    let public_key = input.public_key.trim().to_owned();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&public_key)
        .map_err(|_| WebError::BadRequest("`public_key`: not standard base64".into()))?;
    let _: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
        WebError::BadRequest(format!("`public_key`: {} bytes, an Ed25519 key has 32", b.len()))
    })?;
    let key = device.to_string();
    let existing: Option<casetrail_domain::registry::DeviceState> =
        state.read(move |store| docs::load(store, kind::DEVICE, &key)).await?;
    if existing.is_some() {
        return Err(WebError::Conflict(format!(
            "device {device} is already enrolled; enrol a replacement under a new id"
        )));
    }
    let record = Record::DeviceEnrolled(casetrail_exchange::DeviceEnrolled { device, agency, public_key });
    append_admin(state, principal, record).await
}

pub async fn revoke_device(
    state: &AppState,
    principal: Option<&Principal>,
    device: &str,
    input: ReasonDto,
) -> Result<ActionResultDto, WebError> {
    let principal = administer(principal)?;
    if input.reason.trim().is_empty() {
        return Err(WebError::BadRequest("`reason` is required".into()));
    }
    let key = device.to_owned();
    let existing: Option<casetrail_domain::registry::DeviceState> =
        state.read(move |store| docs::load(store, kind::DEVICE, &key)).await?;
    let Some(existing) = existing else { return Err(WebError::NotFound(format!("no device {device}"))) };
    if existing.revoked_at.is_some() {
        return Err(WebError::Conflict(format!("device {device} is already revoked")));
    }
    let record = Record::DeviceRevoked(casetrail_exchange::DeviceRevoked {
        device: Ident::parse(device).map_err(|e| WebError::BadRequest(e.to_string()))?,
        agency: AgencySlug::parse(&existing.agency).map_err(WebError::internal)?,
        reason: input.reason.trim().to_owned(),
    });
    append_admin(state, principal, record).await
}

pub async fn api_keys(state: &AppState, principal: Option<&Principal>) -> Result<Vec<ApiKeyDto>, WebError> {
    administer(principal)?;
    let keys =
        state.read(|store| docs::scan::<casetrail_app::projector::ApiKeyState>(store, kind::APIKEY, |_| true)).await?;
    Ok(keys
        .into_iter()
        .take(LIST_ROWS_MAX)
        .map(|k| ApiKeyDto {
            key_id: k.key_id,
            role: crate::auth::role_name(k.role),
            agency: k.agency,
            provider: k.provider,
            issued_at: rfc3339(k.issued_at),
            revoked_at: k.revoked_at.map(rfc3339),
        })
        .collect())
}

/// Issues an API key: 32 random bytes of secret, only its SHA-256 recorded;
/// the key is returned this once.
pub async fn issue_api_key(
    state: &AppState,
    principal: Option<&Principal>,
    input: NewApiKeyDto,
) -> Result<IssuedKeyDto, WebError> {
    let principal = administer(principal)?;
    let role = parse_role_field(&input.role)?;
    let agency = optional_agency(state, input.agency.as_deref()).await?;
    let provider = match input.provider.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(name) => Some(Ident::parse(name).map_err(|e| WebError::BadRequest(format!("`provider`: {e}")))?),
        None => None,
    };
    let key = crate::auth::NewApiKey::generate().map_err(WebError::internal)?;
    let record = Record::ApiKeyIssued(casetrail_exchange::ApiKeyIssued {
        key_id: Ident::parse(&key.key_id).map_err(WebError::internal)?,
        role,
        agency,
        provider,
        secret_hash: key.secret_hash.clone(),
    });
    let done = append_admin(state, principal, record).await?;
    Ok(IssuedKeyDto { key_id: key.key_id.clone(), key: key.bearer(), seq: done.seq })
}

pub async fn revoke_api_key(
    state: &AppState,
    principal: Option<&Principal>,
    key_id: &str,
    input: ReasonDto,
) -> Result<ActionResultDto, WebError> {
    let principal = administer(principal)?;
    if input.reason.trim().is_empty() {
        return Err(WebError::BadRequest("`reason` is required".into()));
    }
    let key = key_id.to_owned();
    let existing: Option<casetrail_app::projector::ApiKeyState> =
        state.read(move |store| docs::load(store, kind::APIKEY, &key)).await?;
    match existing {
        None => return Err(WebError::NotFound(format!("no API key {key_id}"))),
        Some(k) if k.revoked_at.is_some() => {
            return Err(WebError::Conflict(format!("API key {key_id} is already revoked")))
        }
        Some(_) => {}
    }
    let record = Record::ApiKeyRevoked(casetrail_exchange::ApiKeyRevoked {
        key_id: Ident::parse(key_id).map_err(|e| WebError::BadRequest(e.to_string()))?,
        reason: input.reason.trim().to_owned(),
    });
    append_admin(state, principal, record).await
}

/// Open quarantine entries: source, line, field and reason, never the raw
/// bytes (which may hold personal data).
pub async fn quarantine_list(state: &AppState, principal: Option<&Principal>) -> Result<Vec<QuarantineDto>, WebError> {
    authorize(principal, Action::ReadQuarantine, Target::Anywhere)?;
    let entries = state.read(|store| Ok(store.quarantine(true, LIST_ROWS_MAX)?)).await?;
    Ok(entries
        .into_iter()
        .map(|e| QuarantineDto {
            id: e.id,
            source: e.entry.source,
            line: e.entry.line,
            field: e.entry.field,
            reason: e.entry.reason,
            received_at: e.entry.received_at.to_rfc3339(),
        })
        .collect())
}

// ------------------------------------------------------------------ handlers

/// The ledger's size and root.
#[utoipa::path(get, path = "/api/v1/status", tag = "public", responses((status = 200, body = StatusDto)))]
async fn status(State(state): State<AppState>) -> Result<Json<StatusDto>, WebError> {
    let status = state
        .read(|store| {
            let ledger = store.ledger_state()?;
            Ok(StatusDto {
                backend: store.backend().to_owned(),
                events: ledger.size(),
                root: hex::encode(ledger.frontier.root()),
                quarantine_open: store.quarantine_open_count()?,
            })
        })
        .await?;
    Ok(Json(status))
}

/// Every registered agency with its names in kk/ru/en.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "public", responses((status = 200, body = Vec<AgencyDto>)))]
async fn list_agencies(State(state): State<AppState>) -> Result<Json<Vec<AgencyDto>>, WebError> {
    let agencies = state.read(docs::agencies).await?;
    Ok(Json(
        agencies
            .values()
            .map(|a| AgencyDto {
                agency: a.agency.clone(),
                name: Names { kk: a.name.kk.clone(), ru: a.name.ru.clone(), en: a.name.en.clone() },
                kind: enum_text(&a.kind),
                region: a.region.clone(),
            })
            .collect(),
    ))
}

/// Registers an appeal (citizen, integration, officer of the agency).
#[utoipa::path(post, path = "/api/v1/appeals", tag = "appeals", request_body = RegisterAppealDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = RegisteredDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn register_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    body: Bytes,
) -> Result<Response, WebError> {
    if principal.is_none() {
        return Err(WebError::Unauthenticated);
    }
    let input: RegisterAppealDto = json_body(&body)?;
    let registered = register(&state, principal.as_ref(), input).await?;
    Ok((StatusCode::CREATED, Json(registered)).into_response())
}

/// The citizen's view of an appeal, given its number and the applicant's IIN.
#[utoipa::path(post, path = "/api/v1/appeals/track", tag = "public", request_body = TrackDto,
    responses((status = 200, body = TrackViewDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn track_appeal(State(state): State<AppState>, body: Bytes) -> Result<Json<TrackViewDto>, WebError> {
    authorize(None, Action::Public, Target::Anywhere)?;
    let input: TrackDto = json_body(&body)?;
    Ok(Json(track(&state, &input.appeal, &input.iin).await?))
}

/// An appeal with its applicant (officers of the holder, prosecutors in scope); the read is logged.
#[utoipa::path(get, path = "/api/v1/appeals/{number}", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AppealDetailDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn appeal_detail(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
) -> Result<Json<AppealDetailDto>, WebError> {
    let appeal = held_appeal(&state, principal.as_ref(), &number, Action::ReadAppealDetail).await?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    if appeal.applicant.is_some() {
        state.log_access(&principal, &format!("appeal/{number}"), &["iin"], "appeal detail").await?;
    }
    Ok(Json(AppealDetailDto {
        appeal: appeal.appeal.clone(),
        status: enum_text(&appeal.status),
        holder: appeal.holder().to_string(),
        category: appeal.category.clone(),
        applicant: appeal.applicant.clone(),
        path: appeal.path(),
        statutory_due: appeal.statutory_due(),
    }))
}

/// Forwards an appeal (a reason is required; a forward back to an earlier holder needs `confirm`).
#[utoipa::path(post, path = "/api/v1/appeals/{number}/forward", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    request_body = ForwardDto, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn forward_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    held_appeal(&state, principal.as_ref(), &number, Action::ActOnAppeal).await?;
    let input: ForwardDto = json_body(&body)?;
    Ok(Json(forward(&state, principal.as_ref(), &number, input).await?))
}

/// Settles a competence dispute: assigns the appeal to the competent body (a prosecutor's office of the appeal's region).
#[utoipa::path(post, path = "/api/v1/appeals/{number}/assign", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    request_body = AssignDto, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn assign_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    let input: AssignDto = match json_body(&body) {
        Ok(input) => input,
        // The caller is checked before the body.
        Err(error) => {
            disputed_appeal(&state, principal.as_ref(), &number).await?;
            return Err(error);
        }
    };
    Ok(Json(assign(&state, principal.as_ref(), &number, input).await?))
}

/// Takes an appeal into work (the holder's officer); moves no clock.
#[utoipa::path(post, path = "/api/v1/appeals/{number}/accept", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
) -> Result<Json<ActionResultDto>, WebError> {
    Ok(Json(accept(&state, principal.as_ref(), &number).await?))
}

/// Extends the holder's term.
#[utoipa::path(post, path = "/api/v1/appeals/{number}/extend", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    request_body = ExtendDto, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn extend_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    held_appeal(&state, principal.as_ref(), &number, Action::ActOnAppeal).await?;
    let input: ExtendDto = json_body(&body)?;
    Ok(Json(extend(&state, principal.as_ref(), &number, input).await?))
}

/// Answers an appeal.
#[utoipa::path(post, path = "/api/v1/appeals/{number}/answer", tag = "appeals", params(("number" = String, Path, description = "appeal number", example = "ЖТ-2026-00000123")),
    request_body = AnswerDto, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn answer_appeal(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    held_appeal(&state, principal.as_ref(), &number, Action::ActOnAppeal).await?;
    let input: AnswerDto = json_body(&body)?;
    Ok(Json(answer(&state, principal.as_ref(), &number, input).await?))
}

/// The open appeals an agency holds, by due date (officers and heads of that agency).
#[utoipa::path(get, path = "/api/v1/agencies/{agency}/queue", tag = "appeals", params(("agency" = String, Path, description = "agency slug", example = "akimat-astana")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<QueueItemDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn agency_queue(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(agency): Path<String>,
) -> Result<Json<Vec<QueueItemDto>>, WebError> {
    Ok(Json(queue(&state, principal.as_ref(), &agency).await?.1))
}

/// A report as one JSON array of flat objects (prosecutors and analysts; rows outside their scope are left out).
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports",
    params(("name" = String, Path, description = "scorecard, wandering, overdue, forwards, trends, enforcement-due, paid-but-referred", example = "scorecard"), ReportQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<serde_json::Value>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(name): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Vec<serde_json::Value>>, WebError> {
    let (rows, _) = report_rows(&state, principal.as_ref(), &name, &query).await?;
    Ok(Json(rows.into_iter().map(serde_json::Value::Object).collect()))
}

/// Runs the report `name` for a prosecutor or an analyst (API and pages):
/// the rows inside the principal's scope, and the agencies (for names).
pub async fn report_rows(
    state: &AppState,
    principal: Option<&Principal>,
    name: &str,
    query: &ReportQuery,
) -> Result<(Vec<serde_json::Map<String, serde_json::Value>>, BTreeMap<String, AgencyState>), WebError> {
    authorize(principal, Action::RunReport, Target::Anywhere)?;
    let Some(principal) = principal.cloned() else { return Err(WebError::Unauthenticated) };
    if !casetrail_reports::names().contains(&name) {
        return Err(WebError::NotFound(format!(
            "no report {name:?}; available: {}",
            casetrail_reports::names().join(", ")
        )));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(WebError::BadRequest(format!("from {from} is after to {to}")));
        }
    }
    let params =
        casetrail_reports::ReportParams { from: query.from, to: query.to, as_of: query.as_of.unwrap_or(state.today()) };
    let name = name.to_owned();
    let (table, agencies) = state
        .read(move |store| {
            let table = casetrail_reports::run(&name, store, &params).map_err(WebError::internal)?;
            Ok((table, docs::agencies(store)?))
        })
        .await?;
    let rows = table.objects().into_iter().filter(|row| row_in_scope(&principal, row, &agencies)).collect();
    Ok((rows, agencies))
}

/// The one scope rule of report rows: a row is shown when one of the
/// agencies it names (`agency`, `holder`, `from`, `to`, `bailiff`, the
/// `path`) is in the principal's scope, or when it names none.
pub fn row_in_scope(
    principal: &Principal,
    row: &serde_json::Map<String, serde_json::Value>,
    agencies: &BTreeMap<String, AgencyState>,
) -> bool {
    let in_scope = |slug: &str| principal.scope.covers(slug, agencies.get(slug).and_then(|a| a.region.as_deref()));
    let slugs: Vec<&str> = ["agency", "holder", "from", "to", "bailiff"]
        .iter()
        .filter_map(|column| row.get(*column).and_then(|v| v.as_str()))
        .chain(row.get("path").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|v| v.as_str()))
        .collect();
    slugs.is_empty() || slugs.iter().any(|slug| in_scope(slug))
}

/// A fine as its payer sees it: what is owed today and the 50% deadline.
#[utoipa::path(post, path = "/api/v1/fines/lookup", tag = "public", request_body = FineLookupDto,
    responses((status = 200, body = FineDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn fine_lookup(State(state): State<AppState>, body: Bytes) -> Result<Json<FineDto>, WebError> {
    authorize(None, Action::Public, Target::Anywhere)?;
    let input: FineLookupDto = json_body(&body)?;
    Ok(Json(fine(&state, &input.iin, &input.uin).await?))
}

/// Refers a charge to the calling bailiff's chamber through the enforcement gate (charges of its region only; 409 with the reason when refused).
#[utoipa::path(post, path = "/api/v1/fines/{uin}/refer", tag = "fines", params(("uin" = String, Path, description = "the charge's 20-digit UIN", example = "20250000000000000200")),
    request_body = ReferDto, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn refer_fine(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(uin): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    referable(&state, principal.as_ref(), &uin).await?;
    let input: ReferDto = json_body(&body)?;
    Ok(Json(refer(&state, principal.as_ref(), &uin, &input.document).await?))
}

/// The charges the calling bailiff's chamber may receive today: its region's only, the payer masked (bailiffs).
#[utoipa::path(get, path = "/api/v1/bailiff/due", tag = "fines", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<DueChargeDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn bailiff_due(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<DueChargeDto>>, WebError> {
    Ok(Json(enforcement_due(&state, principal.as_ref()).await?))
}

/// Referrals to the calling bailiff's chamber that were recalled, newest first (bailiffs).
#[utoipa::path(get, path = "/api/v1/bailiff/recalls", tag = "fines", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<RecallDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn bailiff_recalls(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<RecallDto>>, WebError> {
    Ok(Json(recalls(&state, principal.as_ref()).await?))
}

/// Open quarantine entries (administrators).
#[utoipa::path(get, path = "/api/v1/quarantine", tag = "admin", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<QuarantineDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn quarantine(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<QuarantineDto>>, WebError> {
    Ok(Json(quarantine_list(&state, principal.as_ref()).await?))
}

// ------------------------------------------------------------------ protocols

/// Where a web field device's UINs begin: `casetrail field` devices use 9,
/// the simulator and the bulk sources a year (1…, 2…).
const WEB_PROTOCOL_UIN_PREFIX: u64 = 8;

/// A `fine.protocol_signed` record as a field device sends it: the exchange
/// format's fields plus what the fine is, all covered by the signature.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "fine.protocol_signed",
    "id": "police-astana-tablet-00042-000123",
    "at": "2026-12-06T14:05:00+05:00",
    "case": "ЕРАП-2026-000000123",
    "agency": "police-astana",
    "officer": "police-astana-officer-00068",
    "device": "police-astana-tablet-00042",
    "offender": {"bin": "950340361068"},
    "article": "434.1",
    "place": "710000000",
    "amount_mci": 10,
    "short_procedure": true,
    "signature": "gEyh1Wg/rNZ76MJtYk0lpq2GN3/h5zNwQK/6LPTinYfBx2rHE1JhO4iC4nK5PWdtV9zxVyrOlOQiGuVXchkhDw=="
}))]
pub struct ProtocolRecordDto {
    /// `fine.protocol_signed`
    #[serde(rename = "type")]
    pub record_type: String,
    /// Unique per device; re-sending the same `id` is answered as a duplicate.
    pub id: String,
    /// RFC 3339 instant with offset, when it was signed.
    pub at: String,
    pub case: String,
    pub agency: String,
    /// The signing officer: the caller's own account.
    pub officer: String,
    pub device: String,
    /// `{"iin": "..."}` or `{"bin": "..."}`
    pub offender: serde_json::Value,
    pub article: String,
    /// KATO code of the place.
    pub place: String,
    /// The fine in MCI (converted at the MCI of the protocol's day).
    pub amount_mci: u32,
    /// Whether paying within 7 working days pays 50%.
    pub short_procedure: bool,
    /// Ed25519, standard base64, over the RFC 8785 bytes of the record without `signature`.
    pub signature: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ProtocolResultDto {
    pub case: String,
    /// The charge's 20-digit UIN.
    pub uin: String,
    /// `appended`, or `duplicate` when the same protocol was sent before.
    pub result: String,
    pub protocol_seq: u64,
    pub fine_seq: u64,
    /// The full fine, tenge (decimal string).
    pub amount: String,
    /// What pays the fine now (50% inside the short-procedure window).
    pub pay_now: String,
    /// The last day `pay_now` is enough (short procedure only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_until: Option<NaiveDate>,
    /// The last day of the voluntary term.
    pub voluntary_until: NaiveDate,
    /// The payment code's text (`casetrail:pay?uin=...`).
    pub payment_code: String,
}

/// The UIN of the charge of a protocol signed in the browser: `8` and 18
/// digits of SHA-256 of the case, then the check digit. A case has one
/// protocol (the ledger refuses a second), so a re-sent protocol gets the
/// same UIN; should two cases ever meet, the ledger quarantines the second
/// charge rather than merge them.
pub fn web_protocol_uin(case: &str) -> Result<Uin, WebError> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("casetrail web protocol\n{case}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let serial = WEB_PROTOCOL_UIN_PREFIX * 10u64.pow(18) + u64::from_be_bytes(first) % 10u64.pow(18);
    Uin::from_serial(serial).map_err(WebError::internal)
}

/// Appends a protocol a field device signed, and its fine, under the
/// caller's source; the projector checks the signature against the device
/// enrolled for the protocol's agency. A quarantined protocol is a 409 with
/// the domain's reason.
pub async fn protocol_signed(
    state: &AppState,
    principal: Option<&Principal>,
    body: &[u8],
) -> Result<ProtocolResultDto, WebError> {
    use casetrail_domain::{charge, registry};

    authorize(principal, Action::SignProtocol, Target::Anywhere)?;
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    let fields: ProtocolRecordDto = json_body(&Bytes::copy_from_slice(body))?;
    let event = casetrail_exchange::parse_record(body).map_err(|error| WebError::BadRequest(error.to_string()))?;
    let Record::ProtocolSigned(protocol) = &event.record else {
        return Err(WebError::BadRequest(format!("`type` must be fine.protocol_signed, not {:?}", fields.record_type)));
    };
    if fields.amount_mci == 0 {
        return Err(WebError::BadRequest("`amount_mci` must be positive".into()));
    }
    let slug = protocol.agency.to_string();
    let agency = state.read(move |store| docs::agency(store, &slug)).await?;
    let region = agency.as_ref().and_then(|a| a.region.clone());
    authorize(
        Some(principal),
        Action::SignProtocol,
        Target::Agency { slug: protocol.agency.as_str(), region: region.as_deref() },
    )?;
    if protocol.officer.as_str() != principal.id {
        return Err(WebError::Forbidden(format!(
            "the protocol names officer {}; an officer signs only in their own name ({})",
            protocol.officer, principal.id
        )));
    }
    let source = format!("api:{}", principal.id);
    let case = protocol.case.to_string();

    let outcome = state.writer.append_event(&source, event.clone()).await.map_err(WebError::internal)?;
    state.metrics.count_import(&outcome);
    let (protocol_seq, result) = match outcome {
        Outcome::Appended { seq } => (seq, "appended"),
        Outcome::Duplicate { seq } => (seq, "duplicate"),
        Outcome::Quarantined { reason } => {
            return Err(WebError::Conflict(format!("the protocol was quarantined: {reason}")));
        }
    };

    let uin = web_protocol_uin(&case)?;
    let signed_on = casetrail_types::time::local_date(event.at_utc());
    let in_force = signed_on
        .checked_add_days(chrono::Days::new(casetrail_app::field::IN_FORCE_AFTER_DAYS))
        .ok_or_else(|| WebError::BadRequest("`at`: the date is out of range".into()))?;
    let fine_id = {
        let id = format!("fine-{}", protocol.case);
        if id.len() <= casetrail_exchange::ident::IDENT_BYTES_MAX {
            id
        } else {
            format!("fine-{}", crate::auth::sha256_hex(protocol.case.as_str().as_bytes()))
        }
    };
    let imposed = casetrail_exchange::Event::new(
        Some(Ident::parse(&fine_id).map_err(WebError::internal)?),
        event.at,
        Record::FineImposed(casetrail_exchange::FineImposed {
            case: protocol.case.clone(),
            uin,
            amount_mci: Some(fields.amount_mci),
            amount_kzt: None,
            in_force_at: in_force.format("%Y-%m-%d").to_string(),
            short_procedure: fields.short_procedure,
        }),
    )
    .map_err(|error| WebError::BadRequest(error.to_string()))?;
    let outcome = state.writer.append_event(&source, imposed.clone()).await.map_err(WebError::internal)?;
    state.metrics.count_import(&outcome);
    let fine_seq = match outcome {
        Outcome::Appended { seq } | Outcome::Duplicate { seq } => seq,
        Outcome::Quarantined { reason } => {
            let key = case.clone();
            let uin_key = uin.to_string();
            let (protocol_state, existing) = state
                .read(move |store| {
                    Ok((
                        docs::load::<registry::ProtocolState>(store, kind::PROTOCOL, &key)?,
                        docs::load::<ChargeState>(store, kind::CHARGE, &uin_key)?,
                    ))
                })
                .await?;
            let reason = charge::apply(existing.as_ref(), protocol_state.as_ref(), &imposed, 0)
                .err()
                .map(|violation| violation.reason)
                .unwrap_or(reason);
            return Err(WebError::Conflict(format!("the fine of the protocol was quarantined: {reason}")));
        }
    };
    let uin_key = uin.to_string();
    let charge: Option<ChargeState> = state.read(move |store| docs::load(store, kind::CHARGE, &uin_key)).await?;
    let Some(charge) = charge else { return Err(WebError::internal("the imposed fine has no projection")) };
    let code = casetrail_app::field::payment_code(&charge, signed_on);
    Ok(ProtocolResultDto {
        case,
        uin: code.uin,
        result: result.into(),
        protocol_seq,
        fine_seq,
        amount: code.amount_kzt,
        pay_now: code.pay_kzt,
        pay_until: code.pay_until,
        voluntary_until: charge.voluntary_until,
        payment_code: code.payload,
    })
}

/// Appends a protocol signed on an enrolled field device and its fine (field officers of the protocol's agency; the officer is the caller). 409 with the reason when the ledger quarantines it (unknown or other agency's device, a signature that does not verify, a case already signed). A browser session also sends its CSRF token in `X-CSRF-Token`.
#[utoipa::path(post, path = "/api/v1/protocols", tag = "fines", request_body = ProtocolRecordDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProtocolResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn sign_protocol(
    State(state): State<AppState>,
    Auth(principal, session): Auth,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<ProtocolResultDto>, WebError> {
    authorize(principal.as_ref(), Action::SignProtocol, Target::Anywhere)?;
    if let Some(session) = session {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if sent.is_empty() || !crate::auth::constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            return Err(WebError::Forbidden("csrf".into()));
        }
    }
    Ok(Json(protocol_signed(&state, principal.as_ref(), &body).await?))
}

/// Every account (administrators).
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "admin", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<AccountDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn admin_accounts(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<AccountDto>>, WebError> {
    Ok(Json(accounts(&state, principal.as_ref()).await?))
}

/// Creates an account; the password is hashed with Argon2id before it is recorded (administrators).
#[utoipa::path(post, path = "/api/v1/admin/accounts", tag = "admin", request_body = NewAccountDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_create_account(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    body: Bytes,
) -> Result<Response, WebError> {
    administer(principal.as_ref())?;
    let input: NewAccountDto = json_body(&body)?;
    let done = create_account(&state, principal.as_ref(), input).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Disables an account: it can no longer sign in (administrators).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{account}/disable", tag = "admin",
    params(("account" = String, Path, description = "login", example = "akimat-astana-officer-017")), request_body = ReasonDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_disable_account(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    administer(principal.as_ref())?;
    let input: ReasonDto = json_body(&body)?;
    Ok(Json(disable_account(&state, principal.as_ref(), &account, input).await?))
}

/// Registers an agency, or renames one (administrators).
#[utoipa::path(post, path = "/api/v1/admin/agencies", tag = "admin", request_body = NewAgencyDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_register_agency(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    body: Bytes,
) -> Result<Response, WebError> {
    administer(principal.as_ref())?;
    let input: NewAgencyDto = json_body(&body)?;
    let done = register_agency(&state, principal.as_ref(), input).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Every enrolled field device, by agency (administrators).
#[utoipa::path(get, path = "/api/v1/admin/devices", tag = "admin", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<DeviceDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn admin_devices(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<DeviceDto>>, WebError> {
    Ok(Json(devices(&state, principal.as_ref()).await?))
}

/// Enrols a field device with its Ed25519 public key (administrators).
#[utoipa::path(post, path = "/api/v1/admin/devices", tag = "admin", request_body = NewDeviceDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_enrol_device(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    body: Bytes,
) -> Result<Response, WebError> {
    administer(principal.as_ref())?;
    let input: NewDeviceDto = json_body(&body)?;
    let done = enrol_device(&state, principal.as_ref(), input).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Revokes a field device: its later signatures are refused (administrators).
#[utoipa::path(post, path = "/api/v1/admin/devices/{device}/revoke", tag = "admin",
    params(("device" = String, Path, description = "device id", example = "police-astana-tablet-00042")), request_body = ReasonDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_revoke_device(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(device): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    administer(principal.as_ref())?;
    let input: ReasonDto = json_body(&body)?;
    Ok(Json(revoke_device(&state, principal.as_ref(), &device, input).await?))
}

/// Every API key (never a secret) (administrators).
#[utoipa::path(get, path = "/api/v1/admin/apikeys", tag = "admin", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<ApiKeyDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn admin_api_keys(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
) -> Result<Json<Vec<ApiKeyDto>>, WebError> {
    Ok(Json(api_keys(&state, principal.as_ref()).await?))
}

/// Issues an API key for a connector or a payment provider; the key is in this answer only (administrators).
#[utoipa::path(post, path = "/api/v1/admin/apikeys", tag = "admin", request_body = NewApiKeyDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = IssuedKeyDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_issue_api_key(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    body: Bytes,
) -> Result<Response, WebError> {
    administer(principal.as_ref())?;
    let input: NewApiKeyDto = json_body(&body)?;
    let issued = issue_api_key(&state, principal.as_ref(), input).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// Revokes an API key: it is refused from then on (administrators).
#[utoipa::path(post, path = "/api/v1/admin/apikeys/{key_id}/revoke", tag = "admin",
    params(("key_id" = String, Path, description = "the key's id (before the dot)", example = "k3f9a0c41d2e7b865")), request_body = ReasonDto,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ActionResultDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn admin_revoke_api_key(
    State(state): State<AppState>,
    Auth(principal, _): Auth,
    Path(key_id): Path<String>,
    body: Bytes,
) -> Result<Json<ActionResultDto>, WebError> {
    administer(principal.as_ref())?;
    let input: ReasonDto = json_body(&body)?;
    Ok(Json(revoke_api_key(&state, principal.as_ref(), &key_id, input).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        serde_json::from_str(&openapi_json()).unwrap()
    }

    /// The example of a request body's schema, by the schema's name.
    fn example<T: serde::de::DeserializeOwned>(document: &serde_json::Value, schema: &str) -> T {
        let example = &document["components"]["schemas"][schema]["example"];
        assert!(example.is_object(), "{schema} has no example");
        serde_json::from_value(example.clone()).unwrap_or_else(|error| panic!("{schema}'s example: {error}"))
    }

    #[test]
    fn every_input_of_every_operation_has_an_example() {
        let document = document();
        let mut missing = Vec::new();
        let mut inputs = 0;
        for (path, methods) in document["paths"].as_object().unwrap() {
            for (method, operation) in methods.as_object().unwrap() {
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    inputs += 1;
                    if parameter["example"].is_null() {
                        missing.push(format!("{method} {path}: parameter {}", parameter["name"]));
                    }
                }
                let body = &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
                if let Some(reference) = body.as_str() {
                    inputs += 1;
                    let name = reference.trim_start_matches("#/components/schemas/");
                    if document["components"]["schemas"][name]["example"].is_null() {
                        missing.push(format!("{method} {path}: body {name}"));
                    }
                }
            }
        }
        assert!(inputs >= 30, "only {inputs} inputs: the document changed shape");
        assert!(missing.is_empty(), "inputs without an example:\n{}", missing.join("\n"));
    }

    /// An example is what a client copies: each one parses as the handler
    /// parses it, with valid check digits, codes and names.
    #[test]
    fn request_examples_are_inputs_the_handlers_accept() {
        let document = document();

        let register: RegisterAppealDto = example(&document, "RegisterAppealDto");
        Ident::parse(register.appeal.as_deref().unwrap()).unwrap();
        AgencySlug::parse(&register.agency).unwrap();
        Ident::parse(&register.category).unwrap();
        parse_enum::<AppealKind>("kind", register.kind.as_deref().unwrap()).unwrap();
        parse_enum::<Channel>("channel", register.channel.as_deref().unwrap()).unwrap();
        let track: TrackDto = example(&document, "TrackDto");
        assert_eq!(Some(track.appeal.as_str()), register.appeal.as_deref(), "tracks the registered appeal");
        assert_eq!(track.iin, register.applicant.iin, "with the applicant's IIN");

        let forward: ForwardDto = example(&document, "ForwardDto");
        AgencySlug::parse(&forward.to).unwrap();
        parse_enum::<ForwardReason>("reason", &forward.reason).unwrap();
        let answer: AnswerDto = example(&document, "AnswerDto");
        parse_enum::<AnswerOutcome>("outcome", &answer.outcome).unwrap();
        let assign: AssignDto = example(&document, "AssignDto");
        AgencySlug::parse(&assign.to).unwrap();
        let _: ExtendDto = example(&document, "ExtendDto");

        let lookup: FineLookupDto = example(&document, "FineLookupDto");
        Uin::parse(&lookup.uin).unwrap();
        let refer: ReferDto = example(&document, "ReferDto");
        Ident::parse(&refer.document).unwrap();

        let account: NewAccountDto = example(&document, "NewAccountDto");
        Ident::parse(&account.account).unwrap();
        parse_role_field(&account.role).unwrap();
        assert!(account.password.chars().count() >= 10, "the documented minimum");
        let agency: NewAgencyDto = example(&document, "NewAgencyDto");
        AgencySlug::parse(&agency.agency).unwrap();
        parse_enum::<casetrail_exchange::AgencyKind>("kind", &agency.kind).unwrap();
        casetrail_types::Kato::parse(agency.region.as_deref().unwrap()).unwrap();
        let key: NewApiKeyDto = example(&document, "NewApiKeyDto");
        parse_role_field(&key.role).unwrap();
        let _: ReasonDto = example(&document, "ReasonDto");
    }

    /// The document is public: where an example needs a person's IIN it
    /// says so in words. A valid IIN there could be somebody's.
    #[test]
    fn no_example_holds_a_persons_iin() {
        let text = openapi_json();
        let digits: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|run| run.len() == 12).collect();
        let iins: Vec<&&str> = digits.iter().filter(|run| Iin::parse(run).is_ok()).collect();
        assert!(iins.is_empty(), "IINs in the OpenAPI document: {iins:?}");
        let document = document();
        for (schema, field) in
            [("RegisterAppealDto", "/applicant/iin"), ("TrackDto", "/iin"), ("FineLookupDto", "/iin")]
        {
            let example = document["components"]["schemas"][schema]["example"].pointer(field).cloned();
            let placeholder = example.as_ref().and_then(|value| value.as_str()).unwrap_or_default();
            assert!(placeholder.contains("IIN") && Iin::parse(placeholder).is_err(), "{schema}{field}: {example:?}");
        }
    }

    /// The protocol example is signed by the device example's key, as the
    /// ledger checks it: the two together document a field device's flow.
    #[test]
    fn the_protocol_example_verifies_with_the_enrolled_device_examples_key() {
        use base64::Engine;
        let document = document();
        let device: NewDeviceDto = example(&document, "NewDeviceDto");
        let protocol = &document["components"]["schemas"]["ProtocolRecordDto"]["example"];
        let _: ProtocolRecordDto = example(&document, "ProtocolRecordDto");
        assert_eq!(protocol["device"], device.device.as_str());
        assert_eq!(protocol["agency"], device.agency.as_str());
        let event = casetrail_exchange::parse_record(&serde_json::to_vec(protocol).unwrap()).unwrap();
        let Record::ProtocolSigned(signed) = &event.record else { panic!("{:?}", event.record) };
        let engine = base64::engine::general_purpose::STANDARD;
        let public: [u8; 32] = engine.decode(&device.public_key).unwrap().try_into().unwrap();
        let signature: [u8; 64] = engine.decode(&signed.signature).unwrap().try_into().unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
        let bytes = casetrail_domain::registry::signed_bytes(&event).unwrap();
        key.verify_strict(&bytes, &ed25519_dalek::Signature::from_bytes(&signature)).unwrap();
        // One changed byte, and it no longer does.
        let mut altered = protocol.clone();
        altered["amount_mci"] = serde_json::json!(100);
        let altered = casetrail_exchange::parse_record(&serde_json::to_vec(&altered).unwrap()).unwrap();
        let bytes = casetrail_domain::registry::signed_bytes(&altered).unwrap();
        assert!(key.verify_strict(&bytes, &ed25519_dalek::Signature::from_bytes(&signature)).is_err());
    }
}
