//! The first page (`/`): the story of the data in the ledger, told from
//! what casetrail itself computed — the agencies' ratings, the appeal that
//! wandered furthest with its path drawn, a fine that was paid and still
//! referred to a bailiff (and recalled at once), and a receipt that this
//! server makes and verifies as any citizen's tool would. Nothing on it is
//! personal data, so it is public.
//!
//! The facts are computed once per ledger state (keyed by the tree root)
//! and shared between requests; words are added per language.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use casetrail_app::projector::kind;
use casetrail_domain::appeal::AppealState;
use casetrail_domain::registry::AgencyState;
use casetrail_ledger::Store;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{cell, error_page, local_day, Ctx, L};
use crate::api::{self, Names, TrackViewDto};
use crate::docs;
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[include_str!("story.rs"), include_str!("../../templates/story.html")];

/// How many agencies the page names at each end of the ratings.
const RATED_SHOWN: usize = 3;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/", get(story))
}

/// One agency's place in the ratings.
#[derive(Clone, Debug)]
struct Rated {
    name: Names,
    score: String,
    rank: u64,
}

/// The paid fine that reached a bailiff anyway.
#[derive(Clone, Debug)]
struct Caught {
    uin: String,
    paid_on: NaiveDate,
    referred_on: NaiveDate,
    bailiff: Names,
    amount: String,
    days_between: i64,
    recalled_on: Option<NaiveDate>,
}

/// A receipt this server made for the caught fine's payment and checked.
#[derive(Clone, Debug)]
struct ReceiptCheck {
    seq: u64,
    head_size: u64,
    root: String,
    /// Why it failed (English; the check is the operator's to fix).
    failure: Option<String>,
}

/// What the page says, in no language yet.
#[derive(Clone, Debug)]
struct Facts {
    events: u64,
    backend: String,
    root: String,
    quarantine: u64,
    agencies_rated: usize,
    worst: Vec<Rated>,
    best: Vec<Rated>,
    wandering: usize,
    path: Option<TrackViewDto>,
    paid_but_referred: usize,
    caught: Option<Caught>,
    receipt: Option<ReceiptCheck>,
}

/// The facts of the last ledger state asked for.
fn cache() -> &'static Mutex<Option<Arc<Facts>>> {
    static CACHE: OnceLock<Mutex<Option<Arc<Facts>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(None))
}

fn facts(store: &mut dyn Store, today: NaiveDate) -> Result<Facts, WebError> {
    let ledger = store.ledger_state()?;
    let root = hex::encode(ledger.frontier.root());
    if let Some(cached) = cache().lock().map_err(|_| WebError::internal("the story cache is poisoned"))?.as_ref() {
        if cached.root == root && cached.events == ledger.size() {
            return Ok((**cached).clone());
        }
    }
    let agencies = docs::agencies(store)?;
    let params = casetrail_reports::ReportParams { from: None, to: None, as_of: today };
    let run = |store: &mut dyn Store, name: &str| {
        casetrail_reports::run(name, store, &params).map(|table| table.objects()).map_err(WebError::internal)
    };

    let mut ratings = run(store, "scorecard")?;
    ratings.sort_by_key(|row| row.get("rank").and_then(Value::as_u64).unwrap_or(u64::MAX));
    let rated = |row: &Map<String, Value>| Rated {
        name: Names::of(&cell(row, "agency"), &agencies),
        score: cell(row, "score"),
        rank: row.get("rank").and_then(Value::as_u64).unwrap_or_default(),
    };
    let best: Vec<Rated> = ratings.iter().take(RATED_SHOWN).map(rated).collect();
    let worst: Vec<Rated> = ratings.iter().rev().take(RATED_SHOWN).map(rated).collect();

    let wandering = run(store, "wandering")?;
    // The appeal that moved most; the first by number among equals.
    let furthest = wandering
        .iter()
        .map(|row| (row.get("forwards").and_then(Value::as_u64).unwrap_or_default(), cell(row, "appeal")))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
        .map(|(_, appeal)| appeal);
    let path = match furthest {
        Some(number) => match docs::load::<AppealState>(store, kind::APPEAL, &number)? {
            Some(appeal) => Some(api::view_of(&appeal, &agencies, today)?),
            None => None,
        },
        None => None,
    };

    let audit = run(store, "paid-but-referred")?;
    let (caught, receipt) = match audit.first() {
        Some(row) => {
            let (caught, payment_seq) = caught_fine(store, row, &agencies)?;
            let receipt = match payment_seq {
                Some(seq) => Some(receipt_of(store, seq)?),
                None => None,
            };
            (Some(caught), receipt)
        }
        None => (None, None),
    };

    let facts = Facts {
        events: ledger.size(),
        backend: store.backend().to_owned(),
        root,
        quarantine: store.quarantine_open_count()?,
        agencies_rated: ratings.len(),
        worst,
        best,
        wandering: wandering.len(),
        path,
        paid_but_referred: audit.len(),
        caught,
        receipt,
    };
    *cache().lock().map_err(|_| WebError::internal("the story cache is poisoned"))? = Some(Arc::new(facts.clone()));
    Ok(facts)
}

/// The caught fine, and the sequence number of the payment that had
/// covered it when it was referred.
fn caught_fine(
    store: &mut dyn Store,
    row: &Map<String, Value>,
    agencies: &BTreeMap<String, AgencyState>,
) -> Result<(Caught, Option<u64>), WebError> {
    let uin = cell(row, "uin");
    let referred_at = cell(row, "referred_at");
    let unknown = || WebError::internal("the paid-but-referred report gave an unreadable instant");
    let referred = chrono::DateTime::parse_from_rfc3339(&referred_at).map_err(|_| unknown())?;
    let charge = docs::load::<casetrail_domain::charge::ChargeState>(store, kind::CHARGE, &uin)?;
    let referral = charge.as_ref().and_then(|charge| {
        charge.referrals.iter().find(|r| r.at.timestamp() == referred.timestamp()).map(|r| (charge, r))
    });
    let recalled_on = referral.and_then(|(_, r)| r.recalled_at).map(casetrail_types::time::local_date);
    let payment_seq = referral
        .and_then(|(charge, r)| charge.covering_payments(r.at))
        .and_then(|payments| payments.last().map(|payment| payment.seq));
    let caught = Caught {
        uin,
        paid_on: local_day(&cell(row, "paid_at")).ok_or_else(unknown)?,
        referred_on: local_day(&referred_at).ok_or_else(unknown)?,
        bailiff: Names::of(&cell(row, "bailiff"), agencies),
        amount: cell(row, "amount_kzt"),
        days_between: row.get("days_between").and_then(Value::as_i64).unwrap_or_default(),
        recalled_on,
    };
    Ok((caught, payment_seq))
}

/// Makes the receipt of event `seq` and checks it the way `casetrail
/// receipt verify` does.
fn receipt_of(store: &mut dyn Store, seq: u64) -> Result<ReceiptCheck, WebError> {
    let receipt = casetrail_app::receipt::make_receipt(store, seq, None).map_err(WebError::internal)?;
    let check = casetrail_app::receipt::verify_receipt(&receipt, None, None);
    Ok(ReceiptCheck {
        seq,
        head_size: receipt.tree_head.head.size,
        root: hex::encode(receipt.tree_head.head.root),
        failure: check.err().map(|failure| failure.to_string()),
    })
}

#[derive(Template)]
#[template(path = "story.html")]
struct StoryPage<'a> {
    l: L<'a>,
    facts: Facts,
    path: Option<String>,
}

async fn story(State(state): State<AppState>, ctx: Ctx) -> Response {
    let today = state.today();
    match state.read(move |store| facts(store, today)).await {
        Ok(facts) => {
            let l = ctx.layout(&state);
            let path = facts.path.as_ref().map(|view| super::appeal_path_svg(&l, view));
            ctx.page(StatusCode::OK, StoryPage { l, facts, path }.render())
        }
        Err(error) => {
            let mut response = error_page(&state, &ctx, &error, "/");
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}
