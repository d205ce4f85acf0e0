//! The prosecutor's case pages, beside the analytics of [`super::prosecutor`]:
//! competence disputes with the assign action (`/prosecutor/disputes`), the
//! alerts the ledger raised (`/prosecutor/alerts`), the paid-but-referred
//! audit (`/prosecutor/audit`) and the access log (`/prosecutor/access`).
//!
//! Every list comes from projections and is cut to the principal's scope:
//! a regional office sees its region, the Prosecutor General's office all.
//! The access log shows to a regional office the reads made by accounts of
//! its region's agencies (an API key by its agency), to the Prosecutor
//! General's office and administrators every read.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use casetrail_app::projector::{kind, metric, AccessEntry, AccountState, Alert, ApiKeyState};
use casetrail_domain::appeal::dispute::{DisputeState, DisputeStatus};
use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_domain::registry::AgencyState;
use casetrail_reports::appeals::{FIRST_DAY, LAST_DAY};
use casetrail_types::Money;
use chrono::NaiveDate;

use super::prosecutor::{nav, NavLink};
use super::{agency_options, allowed, cell, error_page, field, form, local_day, Ctx, L};
use crate::api::{self, Names, ReportQuery};
use crate::auth::{Action, Principal, Scope};
use crate::docs;
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[
    include_str!("oversight.rs"),
    include_str!("../../templates/oversight/disputes.html"),
    include_str!("../../templates/oversight/alerts.html"),
    include_str!("../../templates/oversight/audit.html"),
    include_str!("../../templates/oversight/access.html"),
];

/// Rows a list shows at most.
const ROWS_MAX: usize = 200;
/// Alerts a page shows.
const ALERTS_PER_PAGE: usize = 50;
/// Settled disputes shown below the open ones.
const SETTLED_SHOWN: usize = 20;
/// Access-log documents read at most per page (filters may skip many).
const ACCESS_SCANNED_MAX: usize = 20_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/prosecutor/disputes", get(disputes_page))
        .route("/prosecutor/disputes/{number}/assign", post(assign_post))
        .route("/prosecutor/alerts", get(alerts_page))
        .route("/prosecutor/audit", get(audit_page))
        .route("/prosecutor/access", get(access_page))
}

fn in_scope(principal: &Principal, agency: &str, agencies: &BTreeMap<String, AgencyState>) -> bool {
    principal.scope.covers(agency, agencies.get(agency).and_then(|a| a.region.as_deref()))
}

// ------------------------------------------------------------------ disputes

struct DisputeRow {
    appeal: String,
    agencies: Vec<Names>,
    opened_on: NaiveDate,
    citizen_working_days: Option<u32>,
    /// The appeal is still unanswered (an answered one needs no assignment).
    appeal_open: bool,
    settled_on: Option<NaiveDate>,
    assigned_to: Option<Names>,
}

#[derive(Template)]
#[template(path = "oversight/disputes.html")]
struct DisputesPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    message: Option<String>,
    open: Vec<DisputeRow>,
    settled: Vec<DisputeRow>,
    /// Agencies an appeal may be assigned to (slug, name).
    agencies: Vec<(String, String)>,
    can_assign: bool,
}

async fn disputes_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    disputes(&state, &ctx, None, StatusCode::OK).await
}

async fn disputes(state: &AppState, ctx: &Ctx, message: Option<String>, status: StatusCode) -> Response {
    let principal = match allowed(state, ctx, Action::RunReport) {
        Ok(principal) => principal,
        Err(refused) => return *refused,
    };
    let today = state.today();
    let scope = principal.scope.clone();
    let found = state
        .read(move |store| {
            let mut disputes = docs::scan::<DisputeState>(store, kind::DISPUTE, |d| match &scope {
                Scope::All => true,
                Scope::Region(prefix) => d.region.as_deref().is_some_and(|r| r.starts_with(prefix.as_str())),
                _ => false,
            })?;
            disputes.sort_by(|a, b| (b.opened_at, &b.appeal).cmp(&(a.opened_at, &a.appeal)));
            let mut rows = Vec::new();
            for dispute in disputes {
                let appeal: Option<AppealState> = match dispute.status {
                    DisputeStatus::Open => docs::appeal(store, &dispute.appeal)?,
                    DisputeStatus::Settled => None,
                };
                let days =
                    appeal.as_ref().map(|a| a.citizen_working_days(today)).transpose().map_err(WebError::internal)?;
                let open = appeal.is_some_and(|a| a.status == AppealStatus::Open);
                rows.push((dispute, days, open));
            }
            Ok((rows, docs::agencies(store)?))
        })
        .await;
    let (rows, agencies) = match found {
        Ok(found) => found,
        Err(error) => return error_page(state, ctx, &error, "/prosecutor"),
    };
    let row = |(dispute, days, appeal_open): (DisputeState, Option<u32>, bool)| DisputeRow {
        appeal_open,
        agencies: dispute.agencies.iter().map(|a| Names::of(a, &agencies)).collect(),
        appeal: dispute.appeal,
        opened_on: dispute.opened_on,
        citizen_working_days: days,
        settled_on: dispute.settled_on,
        assigned_to: dispute.assigned_to.map(|a| Names::of(&a, &agencies)),
    };
    let (open, settled): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(d, _, _)| d.status == DisputeStatus::Open);
    let open: Vec<DisputeRow> = open.into_iter().take(ROWS_MAX).map(row).collect();
    let settled: Vec<DisputeRow> = settled.into_iter().take(SETTLED_SHOWN).map(row).collect();
    let l = ctx.layout(state);
    let page = DisputesPage {
        nav: nav(&l, "/prosecutor/disputes"),
        agencies: agency_options(&agencies, ctx.locale),
        can_assign: Action::SettleDispute.roles().contains(&principal.role),
        l,
        message,
        open,
        settled,
    };
    ctx.page(status, page.render())
}

async fn assign_post(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/prosecutor/disputes");
    }
    let input = api::AssignDto { to: field(&form, "to") };
    let result = api::assign(&state, ctx.principal.as_ref(), &number, input.clone()).await;
    let tr = ctx.layout(&state).tr;
    match result {
        Ok(done) => {
            let message = tr.t_args("oversight-assigned", "appeal", &number, "seq", &done.seq.to_string());
            disputes(&state, &ctx, Some(message), StatusCode::OK).await
        }
        Err(WebError::Conflict(reason) | WebError::BadRequest(reason)) => {
            let message = tr.t_arg("oversight-assign-refused", "reason", &reason);
            disputes(&state, &ctx, Some(message), StatusCode::CONFLICT).await
        }
        Err(error) => error_page(&state, &ctx, &error, "/prosecutor/disputes"),
    }
}

// ------------------------------------------------------------------ alerts

#[derive(serde::Deserialize)]
struct AlertQuery {
    kind: Option<String>,
    /// The page, from 1 (the newest alerts).
    page: Option<usize>,
}

struct AlertRow {
    at: NaiveDate,
    kind: String,
    subject: String,
    agency: Option<Names>,
    events: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "oversight/alerts.html")]
struct AlertsPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    kinds: Vec<(String, usize)>,
    chosen: String,
    total: usize,
    rows: Vec<AlertRow>,
    /// The query strings of the newer and the older page, when there are.
    newer: Option<String>,
    older: Option<String>,
}

/// The query string of a page of alerts of one kind (or all).
fn alerts_query(kind: &str, page: usize) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !kind.is_empty() {
        query.append_pair("kind", kind);
    }
    query.append_pair("page", &page.to_string()).finish()
}

async fn alerts_page(State(state): State<AppState>, ctx: Ctx, Query(query): Query<AlertQuery>) -> Response {
    let principal = match allowed(&state, &ctx, Action::RunReport) {
        Ok(principal) => principal,
        Err(refused) => return *refused,
    };
    let found = state
        .read(move |store| {
            let agencies = docs::agencies(store)?;
            // How many of each kind are in scope: the alerts' counters.
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            for (agency, name, count) in store.counter_sums(metric::ALERT_PREFIX, FIRST_DAY, LAST_DAY)? {
                if let Some(alert_kind) = name.strip_prefix(metric::ALERT_PREFIX) {
                    if count > 0 && in_scope(&principal, &agency, &agencies) {
                        *kinds.entry(alert_kind.to_owned()).or_default() += count as usize;
                    }
                }
            }
            let chosen = query.kind.filter(|k| kinds.contains_key(k)).unwrap_or_default();
            let total = if chosen.is_empty() { kinds.values().sum() } else { kinds.get(&chosen).copied().unwrap_or(0) };
            let pages = total.div_ceil(ALERTS_PER_PAGE).max(1);
            let page = query.page.unwrap_or(1).clamp(1, pages);
            // Documents are keyed by the raising event: the newest last.
            let alerts =
                docs::newest(store, kind::ALERT, (page - 1) * ALERTS_PER_PAGE, ALERTS_PER_PAGE, |alert: &Alert| {
                    alert.agency.as_deref().is_some_and(|agency| in_scope(&principal, agency, &agencies))
                        && (chosen.is_empty() || alert.alert == chosen)
                })?;
            Ok((kinds, chosen, total, page, pages, alerts, agencies))
        })
        .await;
    let (kinds, chosen, total, page, pages, alerts, agencies) = match found {
        Ok(found) => found,
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor"),
    };
    let newer = (page > 1).then(|| alerts_query(&chosen, page - 1));
    let older = (page < pages).then(|| alerts_query(&chosen, page + 1));
    let rows = alerts
        .iter()
        .map(|alert| AlertRow {
            at: casetrail_types::time::local_date(alert.at),
            kind: alert.alert.clone(),
            subject: alert.subject.clone(),
            agency: alert.agency.as_deref().map(|a| Names::of(a, &agencies)),
            events: alert.events.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            detail: alert.detail.clone(),
        })
        .collect();
    let l = ctx.layout(&state);
    let page = AlertsPage {
        nav: nav(&l, "/prosecutor/alerts"),
        l,
        kinds: kinds.into_iter().collect(),
        total,
        chosen,
        rows,
        newer,
        older,
    };
    ctx.page(StatusCode::OK, page.render())
}

// ------------------------------------------------------------------ audit

struct AuditRow {
    uin: String,
    paid_on: String,
    referred_on: String,
    bailiff: Names,
    amount: String,
    days_between: String,
    fee: String,
}

#[derive(Template)]
#[template(path = "oversight/audit.html")]
struct AuditPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    rows: Vec<AuditRow>,
    total_amount: String,
    total_fees: String,
}

async fn audit_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let query = ReportQuery { from: None, to: None, as_of: None };
    let (rows, agencies) = match api::report_rows(&state, ctx.principal.as_ref(), "paid-but-referred", &query).await {
        Ok(found) => found,
        Err(error) => return error_page(&state, &ctx, &error, "/login"),
    };
    let money = |text: &str| Money::parse(text).map(|m| m.tiyn()).unwrap_or(0);
    let total_amount = rows.iter().map(|row| money(&cell(row, "amount_kzt"))).sum::<i64>();
    let total_fees = rows.iter().map(|row| money(&cell(row, "bailiff_fee_kzt"))).sum::<i64>();
    let day = |instant: String| local_day(&instant).map(|day| day.to_string()).unwrap_or(instant);
    let rows = rows
        .iter()
        .map(|row| AuditRow {
            uin: cell(row, "uin"),
            paid_on: day(cell(row, "paid_at")),
            referred_on: day(cell(row, "referred_at")),
            bailiff: Names::of(&cell(row, "bailiff"), &agencies),
            amount: cell(row, "amount_kzt"),
            days_between: cell(row, "days_between"),
            fee: cell(row, "bailiff_fee_kzt"),
        })
        .collect();
    let l = ctx.layout(&state);
    let page = AuditPage {
        nav: nav(&l, "/prosecutor/audit"),
        total_amount: Money::from_tiyn(total_amount).to_decimal_string(),
        total_fees: Money::from_tiyn(total_fees).to_decimal_string(),
        l,
        rows,
    };
    ctx.page(StatusCode::OK, page.render())
}

// ------------------------------------------------------------------ access log

#[derive(serde::Deserialize)]
struct AccessQuery {
    account: Option<String>,
    subject: Option<String>,
    /// The key after which this page starts (the previous page's last).
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "oversight/access.html")]
struct AccessPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    account: String,
    subject: String,
    rows: Vec<AccessEntry>,
    /// The query string of the next page, when there is one.
    next: Option<String>,
}

/// The agency of an account or API key, for the regional view.
fn reader_agency(
    store: &mut dyn casetrail_ledger::Store,
    reader: &str,
    known: &mut HashMap<String, Option<String>>,
) -> Result<Option<String>, WebError> {
    if let Some(agency) = known.get(reader) {
        return Ok(agency.clone());
    }
    let agency = match docs::load::<AccountState>(store, kind::ACCOUNT, reader)? {
        Some(account) => account.agency,
        None => docs::load::<ApiKeyState>(store, kind::APIKEY, reader)?.and_then(|key| key.agency),
    };
    known.insert(reader.to_owned(), agency.clone());
    Ok(agency)
}

async fn access_page(State(state): State<AppState>, ctx: Ctx, Query(query): Query<AccessQuery>) -> Response {
    let principal = match allowed(&state, &ctx, Action::ReadAccessLog) {
        Ok(principal) => principal,
        Err(refused) => return *refused,
    };
    let account = query.account.map(|a| a.trim().to_owned()).unwrap_or_default();
    let subject = query.subject.map(|s| s.trim().to_owned()).unwrap_or_default();
    let after = query.after.unwrap_or_default();
    let (want_account, want_subject) = (account.clone(), subject.clone());
    let found = state
        .read(move |store| {
            let agencies = docs::agencies(store)?;
            let mut known = HashMap::new();
            let mut rows = Vec::new();
            let mut cursor = after;
            let mut scanned = 0;
            // Whether the last document was read (nothing left after the cursor).
            let mut at_end = false;
            'pages: while scanned < ACCESS_SCANNED_MAX {
                let page = store.docs(kind::ACCESS, &cursor, 500)?;
                at_end = page.len() < 500;
                for (index, doc) in page.iter().enumerate() {
                    scanned += 1;
                    cursor = doc.key.clone();
                    let entry: AccessEntry = serde_json::from_str(&doc.doc).map_err(WebError::internal)?;
                    if (!want_account.is_empty() && entry.account != want_account)
                        || (!want_subject.is_empty() && entry.subject != want_subject)
                    {
                        continue;
                    }
                    let visible = matches!(principal.scope, Scope::All)
                        || reader_agency(store, &entry.account, &mut known)?
                            .is_some_and(|agency| in_scope(&principal, &agency, &agencies));
                    if visible {
                        rows.push(entry);
                        if rows.len() == ROWS_MAX {
                            at_end = at_end && index + 1 == page.len();
                            break 'pages;
                        }
                    }
                }
                if at_end {
                    break;
                }
            }
            let more = !at_end;
            Ok((rows, more.then_some(cursor)))
        })
        .await;
    let (rows, next_key) = match found {
        Ok(found) => found,
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor"),
    };
    let next = next_key.map(|key| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("account", &account)
            .append_pair("subject", &subject)
            .append_pair("after", &key)
            .finish()
    });
    let l = ctx.layout(&state);
    let page = AccessPage { nav: nav(&l, "/prosecutor/access"), l, account, subject, rows, next };
    ctx.page(StatusCode::OK, page.render())
}

#[cfg(test)]
mod tests {
    use casetrail_domain::appeal::ViolationKind;
    use casetrail_types::Locale;

    use crate::i18n::I18n;

    #[test]
    fn every_alert_kind_has_a_name_in_every_language() {
        let i18n = I18n::new();
        // The fines projector's alerts, and every appeal violation.
        let fines = ["paid_but_referred", "cancelled_but_referred", "referred_while_held"];
        let kinds = ViolationKind::ALL.iter().map(|kind| kind.as_str()).chain(fines);
        for kind in kinds {
            let key = format!("oversight-alert-{kind}");
            for locale in [Locale::Kk, Locale::Ru, Locale::En] {
                assert_ne!(i18n.t(locale, &key), key, "{locale} lacks {key}");
            }
        }
    }
}
