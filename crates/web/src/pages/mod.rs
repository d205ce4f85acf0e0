//! Server-rendered pages (askama, escaped by default): the citizen's pages
//! (file, track, fines), sign-in, the officer's queue, the API docs here;
//! each other role's pages in its own module ([`prosecutor`], [`bailiff`],
//! [`admin`], [`field`]) and the demo's story ([`story`]).
//!
//! Every POST form carries a CSRF token: the session's, or for visitors
//! without a session the `casetrail_csrf` cookie's (double submit). Pages
//! call the same use-case functions as the API, so the same
//! [`crate::auth::authorize`] decides.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use casetrail_exchange::AccountRole;
use casetrail_types::{Locale, Money};
use chrono::NaiveDate;

use crate::api::{self, FineDto, QueueItemDto, TrackViewDto};
use crate::auth::{self, Principal, Session, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::WebError;
use crate::i18n::{format_date, I18n, LANG_COOKIE};
use crate::state::AppState;

mod admin;
mod bailiff;
mod field;
mod oversight;
mod prosecutor;
mod receipts;
mod story;

/// Sources the i18n test scans for the keys they use.
pub fn translated_sources() -> Vec<&'static str> {
    [
        TRANSLATED,
        admin::TRANSLATED,
        bailiff::TRANSLATED,
        field::TRANSLATED,
        oversight::TRANSLATED,
        prosecutor::TRANSLATED,
        receipts::TRANSLATED,
        story::TRANSLATED,
    ]
    .concat()
}

const TRANSLATED: &[&str] = &[
    include_str!("../../templates/base.html"),
    include_str!("../../templates/login.html"),
    include_str!("../../templates/file.html"),
    include_str!("../../templates/track.html"),
    include_str!("../../templates/fines.html"),
    include_str!("../../templates/officer.html"),
    include_str!("../../templates/message.html"),
    include_str!("../../templates/docs.html"),
    include_str!("mod.rs"),
];

const STYLE: &str = include_str!("../../assets/style.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/style.css", get(style))
        .route("/lang/{code}", get(set_lang))
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/appeals/new", get(file_page).post(file_post))
        .route("/track", get(track_page).post(track_post))
        .route("/fines", get(fines_page).post(fines_post))
        .route("/officer", get(officer_page))
        .route("/officer/appeals/{number}/{action}", post(officer_action))
        .route("/api/docs", get(api_docs))
        .merge(admin::routes())
        .merge(bailiff::routes())
        .merge(field::routes())
        .merge(oversight::routes())
        .merge(prosecutor::routes())
        .merge(receipts::routes())
        .merge(story::routes())
}

/// The page where a role does its main work, and its menu label's key.
pub fn work_page(role: AccountRole) -> Option<(&'static str, &'static str)> {
    match role {
        AccountRole::Officer | AccountRole::AgencyHead => Some(("/officer", "nav-officer")),
        AccountRole::FieldOfficer => Some(("/field", "nav-field")),
        AccountRole::Prosecutor | AccountRole::Analyst => Some(("/prosecutor", "nav-prosecutor")),
        AccountRole::Bailiff => Some(("/bailiff", "nav-bailiff")),
        AccountRole::Admin => Some(("/admin", "nav-admin")),
        AccountRole::Citizen | AccountRole::PaymentProvider | AccountRole::Integration => None,
    }
}

// ------------------------------------------------------------------ context

/// Translations for one page.
#[derive(Clone, Copy)]
pub struct Tr<'a> {
    i18n: &'a I18n,
    locale: Locale,
}

impl Tr<'_> {
    pub fn t(&self, key: &str) -> String {
        self.i18n.t(self.locale, key)
    }

    pub fn t_args(&self, key: &str, name1: &str, value1: &str, name2: &str, value2: &str) -> String {
        self.i18n.t_args(self.locale, key, &[(name1, value1.to_owned()), (name2, value2.to_owned())])
    }

    pub fn t_arg(&self, key: &str, name: &str, value: &str) -> String {
        self.i18n.t_args(self.locale, key, &[(name, value.to_owned())])
    }

    /// The message `prefix` + `value` (an enum's or a category's name).
    pub fn tk(&self, prefix: &str, value: impl AsRef<str>) -> String {
        self.t(&format!("{prefix}{}", value.as_ref()))
    }
}

/// A day, however many references askama puts around it.
pub trait AsDay {
    fn day(&self) -> NaiveDate;
}

impl AsDay for NaiveDate {
    fn day(&self) -> NaiveDate {
        *self
    }
}

impl<T: AsDay + ?Sized> AsDay for &T {
    fn day(&self) -> NaiveDate {
        (**self).day()
    }
}

/// What every page's layout needs.
pub struct L<'a> {
    pub lang: &'static str,
    pub locale: Locale,
    pub tr: Tr<'a>,
    pub account: Option<String>,
    pub role: String,
    /// The signed-in role's work page and its menu label.
    pub work: Option<(&'static str, String)>,
    pub csrf: String,
    /// The current path, for the language switcher to come back to.
    pub path: String,
}

impl L<'_> {
    pub fn date(&self, day: impl AsDay) -> String {
        format_date(self.locale, day.day())
    }

    /// A decimal tenge string formatted for the locale (`17 300,00 ₸`).
    pub fn money(&self, amount: impl AsRef<str>) -> String {
        Money::parse(amount.as_ref()).map(|m| m.format(self.locale)).unwrap_or_else(|_| amount.as_ref().to_owned())
    }
}

/// The request as pages see it (extractor).
pub struct Ctx {
    pub locale: Locale,
    pub principal: Option<Principal>,
    pub session: Option<Session>,
    /// The anonymous CSRF token (cookie), when there is no session.
    anon_csrf: Option<String>,
    /// A new anonymous token to set as a cookie.
    new_csrf: Option<String>,
    path: String,
    secure: bool,
    ip: std::net::IpAddr,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale = crate::i18n::negotiate(&parts.headers);
        // Pages use sessions only: a bad bearer header is ignored here.
        let (principal, session) = match auth::authenticate(state, &parts.headers).await {
            Ok(Some((principal, session))) => (Some(principal), session),
            _ => (None, None),
        };
        let anon = auth::cookie(&parts.headers, CSRF_COOKIE)
            .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let new_csrf = match (&session, &anon) {
            (None, None) => Some(auth::random_hex(16)?),
            _ => None,
        };
        let path = parts.uri.path().to_owned();
        Ok(Ctx {
            locale,
            principal,
            session,
            anon_csrf: anon,
            new_csrf,
            path,
            secure: state.config.secure_cookies,
            ip: auth::client_ip(parts),
        })
    }
}

impl Ctx {
    fn csrf(&self) -> String {
        match (&self.session, &self.anon_csrf, &self.new_csrf) {
            (Some(session), _, _) => session.csrf.clone(),
            (None, Some(anon), _) => anon.clone(),
            (None, None, Some(new)) => new.clone(),
            _ => String::new(),
        }
    }

    fn layout<'a>(&self, state: &'a AppState) -> L<'a> {
        L {
            lang: self.locale.as_str(),
            locale: self.locale,
            tr: Tr { i18n: &state.i18n, locale: self.locale },
            account: self.principal.as_ref().map(|p| p.id.clone()),
            role: self
                .principal
                .as_ref()
                .map(|p| state.i18n.t(self.locale, &format!("role-{}", auth::role_name(p.role))))
                .unwrap_or_default(),
            work: self
                .principal
                .as_ref()
                .and_then(|p| work_page(p.role))
                .map(|(href, key)| (href, state.i18n.t(self.locale, key))),
            csrf: self.csrf(),
            path: self.path.clone(),
        }
    }

    /// Checks the form's CSRF token against the session's or the cookie's.
    fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), WebError> {
        let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
        let expected = match (&self.session, &self.anon_csrf) {
            (Some(session), _) => session.csrf.as_str(),
            (None, Some(anon)) => anon.as_str(),
            _ => return Err(WebError::Forbidden("csrf".into())),
        };
        if sent.is_empty() || !auth::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return Err(WebError::Forbidden("csrf".into()));
        }
        Ok(())
    }

    /// A rendered page with the cookies and headers every page gets.
    fn page(&self, status: StatusCode, html: Result<String, askama::Error>) -> Response {
        let Ok(html) = html else {
            return WebError::internal("a page template failed to render").into_response();
        };
        let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(self.locale.as_str()) {
            headers.insert(header::CONTENT_LANGUAGE, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(token) = &self.new_csrf {
            if let Ok(value) = HeaderValue::from_str(&auth::set_cookie(CSRF_COOKIE, token, self.secure, None)) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
}

// ------------------------------------------------------------------ templates

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    l: L<'a>,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage<'a> {
    l: L<'a>,
    message: Option<String>,
    agencies: Vec<(String, String)>,
    categories: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage<'a> {
    l: L<'a>,
    number: String,
    message: Option<String>,
    view: Option<TrackViewDto>,
}

#[derive(Template)]
#[template(path = "fines.html")]
struct FinesPage<'a> {
    l: L<'a>,
    uin: String,
    message: Option<String>,
    fine: Option<FineDto>,
    qr: Option<String>,
    qr_label: String,
}

#[derive(Template)]
#[template(path = "officer.html")]
struct OfficerPage<'a> {
    l: L<'a>,
    title: String,
    message: Option<String>,
    items: Vec<QueueItemDto>,
    agencies: Vec<(String, String)>,
}

pub struct Confirm {
    action: String,
    fields: Vec<(String, String)>,
    label: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    l: L<'a>,
    title: String,
    message: String,
    confirm: Option<Confirm>,
    back: String,
}

pub struct DocOperation {
    method: String,
    path: String,
    summary: String,
    security: String,
    parameters: Vec<DocParameter>,
    /// The request body's example, as indented JSON text.
    example_body: Option<String>,
    responses: String,
}

pub struct DocParameter {
    /// `name (in): description`
    text: String,
    example: Option<String>,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage<'a> {
    l: L<'a>,
    operations: Vec<DocOperation>,
}

/// An error as a page in the visitor's language.
fn error_page(state: &AppState, ctx: &Ctx, error: &WebError, back: &str) -> Response {
    let l = ctx.layout(state);
    let key = match error {
        WebError::Unauthenticated => "error-unauthenticated",
        WebError::Forbidden(reason) if reason == "csrf" => "error-csrf",
        WebError::Forbidden(_) => "error-forbidden",
        WebError::NotFound(_) => "error-not-found",
        WebError::BadRequest(_) | WebError::Conflict(_) => "error-bad-request",
        WebError::TooManyRequests => "login-too-many",
        WebError::Internal(_) => "error-internal",
    };
    let mut message = l.tr.t(key);
    if let WebError::BadRequest(detail) | WebError::Conflict(detail) = error {
        message = format!("{message} {detail}");
    }
    let page = MessagePage { title: l.tr.t("error-title"), l, message, confirm: None, back: back.to_owned() };
    ctx.page(error.status(), page.render())
}

fn agency_options(
    agencies: &std::collections::BTreeMap<String, casetrail_domain::registry::AgencyState>,
    locale: Locale,
) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = agencies
        .values()
        .map(|a| {
            let name = match locale {
                Locale::Kk => &a.name.kk,
                Locale::Ru => &a.name.ru,
                Locale::En => &a.name.en,
            };
            (a.agency.clone(), name.clone())
        })
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    options
}

// ------------------------------------------------------------------ handlers

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLE)
        .into_response()
}

#[derive(serde::Deserialize)]
struct Next {
    next: Option<String>,
}

/// A path on this site only (no open redirect).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn set_lang(State(state): State<AppState>, Path(code): Path<String>, Query(next): Query<Next>) -> Response {
    let Ok(locale) = Locale::parse(&code) else { return WebError::NotFound("kk, ru or en".into()).into_response() };
    let cookie = format!(
        "{}; Max-Age=31536000",
        auth::set_cookie(LANG_COOKIE, locale.as_str(), state.config.secure_cookies, None)
    );
    let mut response = Redirect::to(&local_path(next.next.as_deref())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let page = LoginPage { l: ctx.layout(&state), message: None };
    ctx.page(StatusCode::OK, page.render())
}

async fn login_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/login");
    }
    let login = field(&form, "login");
    let password = form.get("password").cloned().unwrap_or_default();
    match auth::login(&state, ctx.ip, &login, &password).await {
        Ok((token, session)) => {
            let target = work_page(session.principal.role).map_or("/", |(href, _)| href);
            let mut response = Redirect::to(target).into_response();
            let cookie =
                auth::set_cookie(SESSION_COOKIE, &token, state.config.secure_cookies, Some(auth::SESSION_HOURS * 3600));
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => {
            let l = ctx.layout(&state);
            let message = match error {
                WebError::TooManyRequests => l.tr.t("login-too-many"),
                WebError::Forbidden(_) => l.tr.t("login-failed"),
                other => return error_page(&state, &ctx, &other, "/login"),
            };
            let status = if matches!(error, WebError::TooManyRequests) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            ctx.page(status, LoginPage { l, message: Some(message) }.render())
        }
    }
}

async fn logout(State(state): State<AppState>, ctx: Ctx, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    if let Err(error) = ctx.check_csrf(&form(&body)) {
        return error_page(&state, &ctx, &error, "/");
    }
    if let Some(token) = auth::cookie(&headers, SESSION_COOKIE) {
        state.sessions.close(&token);
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) =
        HeaderValue::from_str(&auth::set_cookie(SESSION_COOKIE, "", state.config.secure_cookies, Some(0)))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn file_form(state: &AppState, ctx: &Ctx, message: Option<String>, status: StatusCode) -> Response {
    let agencies = match state.read(crate::docs::agencies).await {
        Ok(agencies) => agencies,
        Err(error) => return error_page(state, ctx, &error, "/"),
    };
    let l = ctx.layout(state);
    let categories = crate::open311::CATEGORIES.iter().map(|c| ((*c).to_owned(), l.tr.tk("category-", c))).collect();
    let page = FilePage { agencies: agency_options(&agencies, ctx.locale), categories, l, message };
    ctx.page(status, page.render())
}

async fn file_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    file_form(&state, &ctx, None, StatusCode::OK).await
}

async fn file_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/appeals/new");
    }
    let input = api::RegisterAppealDto {
        appeal: None,
        agency: field(&form, "agency"),
        category: field(&form, "category"),
        kind: Some(field(&form, "kind")).filter(|k| !k.is_empty()),
        channel: Some("portal".into()),
        applicant: api::ApplicantDto { iin: field(&form, "iin"), name: Some(field(&form, "name")) },
        text: Some(field(&form, "text")),
    };
    match api::register(&state, ctx.principal.as_ref(), input).await {
        Ok(registered) => {
            let l = ctx.layout(&state);
            let message =
                l.tr.t_args("file-done", "appeal", &registered.appeal, "due", &l.date(registered.statutory_due));
            file_form(&state, &ctx, Some(message), StatusCode::CREATED).await
        }
        Err(error) => error_page(&state, &ctx, &error, "/appeals/new"),
    }
}

#[derive(serde::Deserialize)]
struct NumberQuery {
    appeal: Option<String>,
    uin: Option<String>,
}

async fn track_page(State(state): State<AppState>, ctx: Ctx, Query(query): Query<NumberQuery>) -> Response {
    let page = TrackPage { l: ctx.layout(&state), number: query.appeal.unwrap_or_default(), message: None, view: None };
    ctx.page(StatusCode::OK, page.render())
}

async fn track_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/track");
    }
    let number = field(&form, "appeal");
    let result = api::track(&state, &number, &field(&form, "iin")).await;
    let l = ctx.layout(&state);
    let (status, message, view) = match result {
        Ok(view) => (StatusCode::OK, None, Some(view)),
        Err(WebError::NotFound(_)) => (StatusCode::NOT_FOUND, Some(l.tr.t("track-not-found")), None),
        Err(error) => return error_page(&state, &ctx, &error, "/track"),
    };
    ctx.page(status, TrackPage { l, number, message, view }.render())
}

async fn fines_page(State(state): State<AppState>, ctx: Ctx, Query(query): Query<NumberQuery>) -> Response {
    let page = FinesPage {
        l: ctx.layout(&state),
        uin: query.uin.unwrap_or_default(),
        message: None,
        fine: None,
        qr: None,
        qr_label: String::new(),
    };
    ctx.page(StatusCode::OK, page.render())
}

/// A report cell as text: a string as it is, a number written out.
fn cell(row: &serde_json::Map<String, serde_json::Value>, column: &str) -> String {
    row.get(column).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).unwrap_or_default()
}

/// The Kazakhstan local day of a report's RFC 3339 instant.
fn local_day(instant: &str) -> Option<NaiveDate> {
    let at = chrono::DateTime::parse_from_rfc3339(instant).ok()?;
    Some(casetrail_types::time::local_date(at.with_timezone(&chrono::Utc)))
}

/// The principal who may do `action` anywhere in its scope, or the page
/// that refuses (401 asks to sign in, 403 goes back home).
fn allowed(state: &AppState, ctx: &Ctx, action: auth::Action) -> Result<Principal, Box<Response>> {
    let refused = |error: &WebError| {
        let back = if ctx.principal.is_some() { "/" } else { "/login" };
        Box::new(error_page(state, ctx, error, back))
    };
    auth::authorize(ctx.principal.as_ref(), action, auth::Target::Anywhere).map_err(|error| refused(&error))?;
    ctx.principal.clone().ok_or_else(|| refused(&WebError::Unauthenticated))
}

/// The path diagram of one appeal, in the reader's language.
fn appeal_path_svg(l: &L<'_>, view: &TrackViewDto) -> String {
    let last = view.stops.len().saturating_sub(1);
    let stops: Vec<crate::charts::FlowStop> = view
        .stops
        .iter()
        .enumerate()
        .map(|(index, stop)| crate::charts::FlowStop {
            agency: stop.name.get(l.locale).to_owned(),
            held: Some(l.tr.t_arg("chart-working-days", "days", &stop.working_days_held.to_string())),
            forward_reason: stop.forward_reason.as_ref().map(|reason| l.tr.tk("reason-", reason)),
            outcome: match (&view.outcome, index == last) {
                (Some(outcome), true) => Some(l.tr.tk("outcome-", outcome)),
                _ => None,
            },
        })
        .collect();
    let title = l.tr.t_arg("chart-path-title", "appeal", &view.appeal);
    let text =
        crate::charts::FlowText { title: &title, again: &l.tr.t("chart-again"), no_data: &l.tr.t("chart-no-data") };
    crate::charts::appeal_path(&stops, &text)
}

/// The payment QR code as SVG, of a payment code's text
/// (`casetrail_app::field::payment_payload`, docs/field.md).
pub fn payment_qr(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

async fn fines_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/fines");
    }
    let uin = field(&form, "uin");
    let result = api::fine(&state, &field(&form, "iin"), &uin).await;
    let l = ctx.layout(&state);
    let (status, message, fine) = match result {
        Ok(fine) => (StatusCode::OK, None, Some(fine)),
        Err(WebError::NotFound(_)) => (StatusCode::NOT_FOUND, Some(l.tr.t("fines-not-found")), None),
        Err(error) => return error_page(&state, &ctx, &error, "/fines"),
    };
    let owing = fine.as_ref().filter(|f| Money::parse(&f.owed_today).is_ok_and(|m| m.tiyn() > 0));
    let qr = owing.and_then(|f| {
        let money = |text: &str| Money::parse(text).unwrap_or(Money::ZERO);
        let rest = Money::from_tiyn(money(&f.amount).tiyn() - money(&f.paid).tiyn());
        let until = f.discount_until.filter(|until| *until >= f.as_of);
        payment_qr(&casetrail_app::field::payment_payload(&f.uin, money(&f.owed_today), until, rest))
    });
    let qr_label =
        owing.map(|f| l.tr.t_args("fines-qr", "uin", &f.uin, "amount", &l.money(&f.owed_today))).unwrap_or_default();
    ctx.page(status, FinesPage { l, uin, message, fine, qr, qr_label }.render())
}

async fn officer_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    officer_queue(&state, &ctx, None).await
}

async fn officer_queue(state: &AppState, ctx: &Ctx, message: Option<String>) -> Response {
    let Some(agency) = ctx.principal.as_ref().and_then(|p| p.agency.clone()) else {
        let error =
            if ctx.principal.is_some() { WebError::Forbidden("no agency".into()) } else { WebError::Unauthenticated };
        return error_page(state, ctx, &error, "/login");
    };
    let (agency_state, items) = match api::queue(state, ctx.principal.as_ref(), &agency).await {
        Ok(queue) => queue,
        Err(error) => return error_page(state, ctx, &error, "/"),
    };
    let agencies = match state.read(crate::docs::agencies).await {
        Ok(agencies) => agencies,
        Err(error) => return error_page(state, ctx, &error, "/"),
    };
    let l = ctx.layout(state);
    let name = api::Names { kk: agency_state.name.kk, ru: agency_state.name.ru, en: agency_state.name.en };
    let title = l.tr.t_arg("officer-title", "agency", name.get(ctx.locale));
    let mut options = agency_options(&agencies, ctx.locale);
    options.retain(|(slug, _)| *slug != agency);
    ctx.page(StatusCode::OK, OfficerPage { l, title, message, items, agencies: options }.render())
}

async fn officer_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/officer");
    }
    let principal = ctx.principal.as_ref();
    let result = match action.as_str() {
        "forward" => {
            let input = api::ForwardDto {
                to: field(&form, "to"),
                reason: field(&form, "reason"),
                note: Some(field(&form, "note")),
                confirm: Some(field(&form, "confirm") == "true"),
            };
            if input.reason.is_empty() {
                return error_page(&state, &ctx, &WebError::BadRequest(String::new()), "/officer");
            }
            let result = api::forward(&state, principal, &number, input.clone()).await;
            if let Err(WebError::Conflict(_)) = &result {
                if input.confirm != Some(true) {
                    // The target held it before: warn and ask again.
                    let l = ctx.layout(&state);
                    let message = l.tr.t_arg("forward-warning", "agency", &input.to);
                    let confirm = Confirm {
                        action: format!("/officer/appeals/{number}/forward"),
                        fields: vec![
                            ("to".into(), input.to.clone()),
                            ("reason".into(), input.reason.clone()),
                            ("note".into(), field(&form, "note")),
                        ],
                        label: l.tr.t("forward-confirm"),
                    };
                    let page = MessagePage {
                        title: l.tr.t("action-forward"),
                        l,
                        message,
                        confirm: Some(confirm),
                        back: "/officer".into(),
                    };
                    return ctx.page(StatusCode::CONFLICT, page.render());
                }
            }
            result
        }
        "accept" => api::accept(&state, principal, &number).await,
        "extend" => {
            let Ok(until) = NaiveDate::parse_from_str(&field(&form, "until"), "%Y-%m-%d") else {
                return error_page(&state, &ctx, &WebError::BadRequest(String::new()), "/officer");
            };
            api::extend(&state, principal, &number, api::ExtendDto { until, reason: field(&form, "reason") }).await
        }
        "answer" => api::answer(&state, principal, &number, api::AnswerDto { outcome: field(&form, "outcome") }).await,
        _ => Err(WebError::NotFound(format!("no action {action}"))),
    };
    let tr = Tr { i18n: &state.i18n, locale: ctx.locale };
    match result {
        Ok(done) => officer_queue(&state, &ctx, Some(tr.t_arg("action-done", "seq", &done.seq.to_string()))).await,
        Err(WebError::Conflict(reason)) => {
            officer_queue(&state, &ctx, Some(tr.t_arg("action-refused", "reason", &reason))).await
        }
        Err(error) => error_page(&state, &ctx, &error, "/officer"),
    }
}

/// The browsable API documentation, generated from the OpenAPI document.
async fn api_docs(State(state): State<AppState>, ctx: Ctx) -> Response {
    let document: serde_json::Value = serde_json::from_str(&state.openapi).unwrap_or_default();
    let mut operations = Vec::new();
    if let Some(paths) = document.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            let Some(methods) = item.as_object() else { continue };
            for (method, op) in methods {
                let text = |key: &str| op.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let summary = [text("summary"), text("description")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let security = op
                    .get("security")
                    .and_then(|s| s.as_array())
                    .map(|list| {
                        list.iter()
                            .filter_map(|s| s.as_object())
                            .flat_map(|o| o.keys().cloned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let parameters = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .map(|list| {
                        list.iter()
                            .map(|p| {
                                let get = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                                DocParameter {
                                    text: format!("{} ({}): {}", get("name"), get("in"), get("description")),
                                    example: p
                                        .get("example")
                                        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned)),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let responses = op
                    .get("responses")
                    .and_then(|r| r.as_object())
                    .map(|r| r.keys().cloned().collect::<Vec<_>>().join(" · "))
                    .unwrap_or_default();
                let example_body = op
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(|r| r.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .and_then(|name| document.pointer(&format!("/components/schemas/{name}/example")))
                    .and_then(|example| serde_json::to_string_pretty(example).ok());
                operations.push(DocOperation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary,
                    security,
                    parameters,
                    example_body,
                    responses,
                });
            }
        }
    }
    ctx.page(StatusCode::OK, DocsPage { l: ctx.layout(&state), operations }.render())
}
