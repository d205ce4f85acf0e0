//! The field officer's page (`/field`): a protocol signed in the browser.
//!
//! The device key lives in the browser (`assets/field.js`): an Ed25519 key
//! pair made with WebCrypto, the private key not extractable, kept in
//! IndexedDB. The script shows the device id and public key for an
//! administrator to enrol, tells the server its device id (`?device=`) so
//! that the page says whether it is enrolled for the officer's agency,
//! signs each protocol over its RFC 8785 bytes and POSTs it to
//! `/api/v1/protocols`; protocols that could not be sent wait in IndexedDB.
//! The payment code of a signed protocol comes from `/field/charges/{uin}`.
//! Without JavaScript the page points to `casetrail field` (docs/field.md).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use casetrail_app::projector::kind;
use casetrail_domain::charge::ChargeState;
use casetrail_domain::registry::DeviceState;

use super::{error_page, payment_qr, Ctx, L};
use crate::api::Names;
use crate::auth::{authorize, Action, Target};
use crate::docs;
use crate::error::WebError;
use crate::state::{now, AppState};

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[
    include_str!("field.rs"),
    include_str!("../../templates/field/main.html"),
    include_str!("../../templates/field/code.html"),
];

const SCRIPT: &str = include_str!("../../assets/field.js");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/field.js", get(script))
        .route("/field", get(field_page))
        .route("/field/charges/{uin}", get(charge_code))
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SCRIPT)
        .into_response()
}

/// What the page knows of this browser's device.
struct DeviceView {
    id: String,
    /// Enrolled for the officer's agency and not revoked.
    enrolled: bool,
    /// The public key it was enrolled with (the script compares it with its own).
    public_key: String,
    enrolled_on: String,
}

#[derive(Template)]
#[template(path = "field/main.html")]
struct FieldPage<'a> {
    l: L<'a>,
    agency: String,
    agency_name: String,
    officer: String,
    /// The KATO code of the agency's region, to prefill the place.
    region: String,
    /// The UTC offset of Kazakhstan's civil time now, e.g. `+05:00`.
    offset: String,
    device: Option<DeviceView>,
}

#[derive(serde::Deserialize)]
struct DeviceQuery {
    device: Option<String>,
}

async fn field_page(State(state): State<AppState>, ctx: Ctx, Query(query): Query<DeviceQuery>) -> Response {
    let principal = ctx.principal.as_ref();
    let Some(slug) = principal.and_then(|p| p.agency.clone()) else {
        let error = match authorize(principal, Action::SignProtocol, Target::Anywhere) {
            Err(error) => error,
            Ok(()) => WebError::Forbidden("this account has no agency".into()),
        };
        return error_page(&state, &ctx, &error, "/login");
    };
    let device_id = query.device.filter(|id| casetrail_exchange::Ident::parse(id).is_ok() && id.len() <= 64);
    let key = slug.clone();
    let lookup = device_id.clone();
    let found = state
        .read(move |store| {
            let device = match &lookup {
                Some(id) => docs::load::<DeviceState>(store, kind::DEVICE, id)?,
                None => None,
            };
            Ok((docs::agency(store, &key)?, device))
        })
        .await;
    let (agency, device) = match found {
        Ok(found) => found,
        Err(error) => return error_page(&state, &ctx, &error, "/"),
    };
    let region = agency.as_ref().and_then(|a| a.region.clone());
    if let Err(error) =
        authorize(principal, Action::SignProtocol, Target::Agency { slug: &slug, region: region.as_deref() })
    {
        return error_page(&state, &ctx, &error, "/");
    }
    let l = ctx.layout(&state);
    let agency_name = agency
        .as_ref()
        .map(|a| Names { kk: a.name.kk.clone(), ru: a.name.ru.clone(), en: a.name.en.clone() })
        .map(|names| names.get(ctx.locale).to_owned())
        .unwrap_or_else(|| slug.clone());
    // A device of another agency is, for this officer, not enrolled.
    let device = device_id.map(|id| {
        let own = device.filter(|d| d.agency == slug && d.revoked_at.is_none());
        DeviceView {
            id,
            enrolled: own.is_some(),
            public_key: own.as_ref().map(|d| d.public_key.clone()).unwrap_or_default(),
            enrolled_on: own
                .as_ref()
                .map(|d| l.date(casetrail_types::time::local_date(d.enrolled_at)))
                .unwrap_or_default(),
        }
    });
    let current = now();
    let offset = casetrail_types::time::kz_offset_at(current).to_string();
    let page = FieldPage {
        agency: slug,
        agency_name,
        officer: principal.map(|p| p.id.clone()).unwrap_or_default(),
        region: region.unwrap_or_default(),
        offset,
        device,
        l,
    };
    ctx.page(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "field/code.html")]
struct CodeFragment<'a> {
    l: L<'a>,
    uin: String,
    case: String,
    amount: String,
    pay_now: String,
    pay_until: Option<chrono::NaiveDate>,
    voluntary_until: chrono::NaiveDate,
    qr: Option<String>,
    qr_label: String,
}

/// The payment code of a charge of the officer's agency, as an HTML
/// fragment the script shows under the form.
async fn charge_code(State(state): State<AppState>, ctx: Ctx, Path(uin): Path<String>) -> Response {
    let principal = ctx.principal.as_ref();
    if let Err(error) = authorize(principal, Action::SignProtocol, Target::Anywhere) {
        return error_page(&state, &ctx, &error, "/field");
    }
    let key = uin.clone();
    let found = state
        .read(move |store| {
            let Some(charge) = docs::load::<ChargeState>(store, kind::CHARGE, &key)? else { return Ok(None) };
            let agency = match &charge.agency {
                Some(slug) => docs::agency(store, slug)?,
                None => None,
            };
            Ok(Some((charge, agency.and_then(|a| a.region))))
        })
        .await;
    let (charge, region) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(&state, &ctx, &WebError::NotFound(format!("no charge {uin}")), "/field"),
        Err(error) => return error_page(&state, &ctx, &error, "/field"),
    };
    let slug = charge.agency.clone().unwrap_or_default();
    if let Err(error) =
        authorize(principal, Action::SignProtocol, Target::Agency { slug: &slug, region: region.as_deref() })
    {
        return error_page(&state, &ctx, &error, "/field");
    }
    let code = casetrail_app::field::payment_code(&charge, charge.offence_on);
    let l = ctx.layout(&state);
    let qr = payment_qr(&code.payload);
    let qr_label = l.tr.t_args("fines-qr", "uin", &code.uin, "amount", &l.money(&code.pay_kzt));
    let fragment = CodeFragment {
        uin: code.uin,
        case: charge.case.clone(),
        amount: code.amount_kzt,
        pay_now: code.pay_kzt,
        pay_until: code.pay_until,
        voluntary_until: charge.voluntary_until,
        qr,
        qr_label,
        l,
    };
    ctx.page(StatusCode::OK, fragment.render())
}
