//! The bailiff's pages: the charges due for enforcement in the chamber's
//! region (with a Refer button that goes through the enforcement gate) and
//! the recalls addressed to the chamber.
//!
//! Scope: a private bailiff works for a regional chamber (an agency of kind
//! `bailiff`); it sees and may take only charges imposed by agencies whose
//! KATO region shares the chamber's two digits ([`crate::auth::Scope::of`]).
//! The payer's IIN is masked on the list, so no personal data is read.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use casetrail_app::projector::kind;
use casetrail_domain::charge::{ChargeState, NotDue};

use super::{error_page, field, form, Ctx, Tr, L};
use crate::api::{self, DueChargeDto, RecallDto};
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[
    include_str!("bailiff.rs"),
    include_str!("../../templates/bailiff/due.html"),
    include_str!("../../templates/bailiff/recalls.html"),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/bailiff", get(due_page))
        .route("/bailiff/refer", post(refer_post))
        .route("/bailiff/recalls", get(recalls_page))
}

#[derive(Template)]
#[template(path = "bailiff/due.html")]
struct DuePage<'a> {
    l: L<'a>,
    message: Option<String>,
    refused: bool,
    items: Vec<DueChargeDto>,
}

#[derive(Template)]
#[template(path = "bailiff/recalls.html")]
struct RecallsPage<'a> {
    l: L<'a>,
    items: Vec<RecallDto>,
}

async fn due_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    due_list(&state, &ctx, None, false).await
}

async fn due_list(state: &AppState, ctx: &Ctx, message: Option<String>, refused: bool) -> Response {
    let items = match api::enforcement_due(state, ctx.principal.as_ref()).await {
        Ok(items) => items,
        Err(error) => return error_page(state, ctx, &error, "/login"),
    };
    let status = if refused { StatusCode::CONFLICT } else { StatusCode::OK };
    ctx.page(status, DuePage { l: ctx.layout(state), message, refused, items }.render())
}

async fn refer_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/bailiff");
    }
    let uin = field(&form, "uin");
    // The enforcement document this referral stands for.
    let document = format!("ED-{}-{}", state.today().format("%Y%m%d"), uin);
    let tr = Tr { i18n: &state.i18n, locale: ctx.locale };
    match api::refer(&state, ctx.principal.as_ref(), &uin, &document).await {
        Ok(done) => {
            let message = tr.t_args("bailiff-referred", "uin", &uin, "seq", &done.seq.to_string());
            due_list(&state, &ctx, Some(message), false).await
        }
        Err(WebError::Conflict(reason)) => {
            let why = refusal(&state, &ctx, &uin).await.unwrap_or(reason);
            let message = tr.t_args("bailiff-refused", "uin", &uin, "reason", &why);
            due_list(&state, &ctx, Some(message), true).await
        }
        Err(error) => error_page(&state, &ctx, &error, "/bailiff"),
    }
}

/// Why the gate refuses the charge today, in the visitor's language.
async fn refusal(state: &AppState, ctx: &Ctx, uin: &str) -> Option<String> {
    let key = casetrail_types::Uin::parse(uin.trim()).ok()?.to_string();
    let charge: Option<ChargeState> =
        state.read(move |store| crate::docs::load(store, kind::CHARGE, &key)).await.ok()?;
    let l = ctx.layout(state);
    let Some(charge) = charge else { return Some(l.tr.t("bailiff-refused-unknown")) };
    let why = charge.gate(state.today()).err()?;
    Some(match why {
        NotDue::NotImposed => l.tr.t("bailiff-refused-not-imposed"),
        NotDue::Cancelled => l.tr.t("bailiff-refused-cancelled"),
        NotDue::Covered(payments) => l.tr.t_arg("bailiff-refused-covered", "payments", &payments.join(", ")),
        NotDue::Referred { bailiff, document } => {
            l.tr.t_args("bailiff-refused-referred", "bailiff", &bailiff, "document", &document)
        }
        NotDue::Held(payments) => l.tr.t_arg("bailiff-refused-held", "payments", &payments.join(", ")),
        NotDue::NotInForce(day) => l.tr.t_arg("bailiff-refused-not-in-force", "date", &l.date(day)),
        NotDue::VoluntaryTerm(day) => l.tr.t_arg("bailiff-refused-voluntary", "date", &l.date(day)),
        NotDue::Deferred(day) => l.tr.t_arg("bailiff-refused-deferred", "date", &l.date(day)),
        NotDue::OnInstalments(day) => l.tr.t_arg("bailiff-refused-instalments", "date", &l.date(day)),
    })
}

async fn recalls_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    match api::recalls(&state, ctx.principal.as_ref()).await {
        Ok(items) => ctx.page(StatusCode::OK, RecallsPage { l: ctx.layout(&state), items }.render()),
        Err(error) => error_page(&state, &ctx, &error, "/login"),
    }
}
