//! The administrator's page: accounts, agencies, field devices, API keys
//! (connectors and payment providers) and the open quarantine, each a
//! section of `/admin` with its list and its form. Every change is a ledger
//! record appended under `admin:<login>` through the same use cases as
//! `/api/v1/admin/...`; a new API key's secret is shown once, on the page
//! that answers the form, and never stored.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::{agency_options, error_page, field, form, Ctx, Tr, L};
use crate::api::{self, AccountDto, ApiKeyDto, DeviceDto, QuarantineDto};
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[
    include_str!("admin.rs"),
    include_str!("../../templates/admin/main.html"),
    include_str!("../../templates/admin/key.html"),
];

/// Every role, in the order the form offers them.
const ROLES: &[&str] = &[
    "officer",
    "agency_head",
    "field_officer",
    "prosecutor",
    "analyst",
    "bailiff",
    "payment_provider",
    "integration",
    "admin",
    "citizen",
];

const KINDS: &[&str] = &["ministry", "akimat", "police", "prosecutor", "court", "bailiff", "other"];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(main_page))
        .route("/admin/accounts", post(create_account))
        .route("/admin/accounts/disable", post(disable_account))
        .route("/admin/agencies", post(register_agency))
        .route("/admin/devices", post(enrol_device))
        .route("/admin/devices/revoke", post(revoke_device))
        .route("/admin/apikeys", post(issue_key))
        .route("/admin/apikeys/revoke", post(revoke_key))
}

pub struct AgencyRow {
    slug: String,
    kind: String,
    region: String,
    kk: String,
    ru: String,
    en: String,
}

#[derive(Template)]
#[template(path = "admin/main.html")]
struct MainPage<'a> {
    l: L<'a>,
    message: Option<String>,
    refused: bool,
    accounts: Vec<AccountDto>,
    agencies: Vec<AgencyRow>,
    devices: Vec<DeviceDto>,
    keys: Vec<ApiKeyDto>,
    quarantine: Vec<QuarantineDto>,
    agency_options: Vec<(String, String)>,
    roles: &'static [&'static str],
    kinds: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "admin/key.html")]
struct KeyPage<'a> {
    l: L<'a>,
    key_id: String,
    key: String,
}

async fn main_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    main_view(&state, &ctx, None, StatusCode::OK).await
}

async fn main_view(state: &AppState, ctx: &Ctx, message: Option<String>, status: StatusCode) -> Response {
    let principal = ctx.principal.as_ref();
    let lists = async {
        let accounts = api::accounts(state, principal).await?;
        let devices = api::devices(state, principal).await?;
        let keys = api::api_keys(state, principal).await?;
        let quarantine = api::quarantine_list(state, principal).await?;
        let agencies = state.read(crate::docs::agencies).await?;
        Ok::<_, WebError>((accounts, devices, keys, quarantine, agencies))
    };
    let (accounts, devices, keys, quarantine, agencies) = match lists.await {
        Ok(lists) => lists,
        Err(error) => return error_page(state, ctx, &error, "/login"),
    };
    let rows = agencies
        .values()
        .map(|a| AgencyRow {
            slug: a.agency.clone(),
            kind: serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            region: a.region.clone().unwrap_or_default(),
            kk: a.name.kk.clone(),
            ru: a.name.ru.clone(),
            en: a.name.en.clone(),
        })
        .collect();
    let refused = status.is_client_error();
    let page = MainPage {
        l: ctx.layout(state),
        message,
        refused,
        accounts,
        agencies: rows,
        devices,
        keys,
        quarantine,
        agency_options: agency_options(&agencies, ctx.locale),
        roles: ROLES,
        kinds: KINDS,
    };
    ctx.page(status, page.render())
}

/// The page after a change: the lists again with what happened.
async fn answer(state: &AppState, ctx: &Ctx, result: Result<api::ActionResultDto, WebError>) -> Response {
    let tr = Tr { i18n: &state.i18n, locale: ctx.locale };
    match result {
        Ok(done) => {
            let message = tr.t_arg("admin-done", "seq", &done.seq.to_string());
            main_view(state, ctx, Some(message), StatusCode::OK).await
        }
        Err(WebError::Conflict(reason)) => {
            let message = tr.t_arg("admin-refused", "reason", &reason);
            main_view(state, ctx, Some(message), StatusCode::CONFLICT).await
        }
        Err(WebError::BadRequest(reason) | WebError::NotFound(reason)) => {
            let message = tr.t_arg("admin-invalid", "reason", &reason);
            main_view(state, ctx, Some(message), StatusCode::BAD_REQUEST).await
        }
        Err(error) => error_page(state, ctx, &error, "/admin"),
    }
}

fn optional(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// The form, after its CSRF token was checked.
fn checked(ctx: &Ctx, body: &Bytes) -> Result<std::collections::HashMap<String, String>, WebError> {
    let form = form(body);
    ctx.check_csrf(&form)?;
    Ok(form)
}

async fn create_account(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::NewAccountDto {
        account: field(&form, "account"),
        role: field(&form, "role"),
        agency: optional(field(&form, "agency")),
        // Not trimmed: a password is exactly what was typed.
        password: form.get("password").cloned().unwrap_or_default(),
    };
    let result = api::create_account(&state, ctx.principal.as_ref(), input).await;
    answer(&state, &ctx, result).await
}

async fn disable_account(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::ReasonDto { reason: field(&form, "reason") };
    let result = api::disable_account(&state, ctx.principal.as_ref(), &field(&form, "account"), input).await;
    answer(&state, &ctx, result).await
}

async fn register_agency(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::NewAgencyDto {
        agency: field(&form, "agency"),
        name: api::Names { kk: field(&form, "name_kk"), ru: field(&form, "name_ru"), en: field(&form, "name_en") },
        kind: field(&form, "kind"),
        region: optional(field(&form, "region")),
        parent: optional(field(&form, "parent")),
    };
    let result = api::register_agency(&state, ctx.principal.as_ref(), input).await;
    answer(&state, &ctx, result).await
}

async fn enrol_device(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::NewDeviceDto {
        device: field(&form, "device"),
        agency: field(&form, "agency"),
        public_key: field(&form, "public_key"),
    };
    let result = api::enrol_device(&state, ctx.principal.as_ref(), input).await;
    answer(&state, &ctx, result).await
}

async fn revoke_device(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::ReasonDto { reason: field(&form, "reason") };
    let result = api::revoke_device(&state, ctx.principal.as_ref(), &field(&form, "device"), input).await;
    answer(&state, &ctx, result).await
}

async fn issue_key(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::NewApiKeyDto {
        role: field(&form, "role"),
        agency: optional(field(&form, "agency")),
        provider: optional(field(&form, "provider")),
    };
    match api::issue_api_key(&state, ctx.principal.as_ref(), input).await {
        Ok(issued) => {
            let page = KeyPage { l: ctx.layout(&state), key_id: issued.key_id, key: issued.key };
            ctx.page(StatusCode::CREATED, page.render())
        }
        Err(error) => answer(&state, &ctx, Err(error)).await,
    }
}

async fn revoke_key(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = match checked(&ctx, &body) {
        Ok(form) => form,
        Err(error) => return error_page(&state, &ctx, &error, "/admin"),
    };
    let input = api::ReasonDto { reason: field(&form, "reason") };
    let result = api::revoke_api_key(&state, ctx.principal.as_ref(), &field(&form, "key_id"), input).await;
    answer(&state, &ctx, result).await
}

impl MainPage<'_> {
    /// The local day of an RFC 3339 instant, in the page's language.
    fn day(&self, at: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(at).map(|d| self.l.date(d.date_naive())).unwrap_or_else(|_| at.to_owned())
    }
}
