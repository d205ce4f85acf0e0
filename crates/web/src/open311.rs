//! Open311 GeoReport v2 under `/open311/v2/`, in JSON and XML.
//!
//! Services are the appeal categories; requests are appeals
//! (`service_request_id` = the appeal number, `agency_responsible` = the
//! current holder, `expected_datetime` = the statutory due date). No answer
//! carries personal data: neither the applicant nor the appeal's text.
//! Identifiers are JSON strings (clients break on numbers). When neither
//! `start_date` nor `end_date` is given, the newest 1,000 requests are
//! answered (the spec's 90-day default would hide a simulated past year).

use std::fmt::Write;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_types::Locale;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::api::{self, ApplicantDto, RegisterAppealDto};
use crate::auth::{authorize, Action, Target};
use crate::docs;
use crate::error::WebError;
use crate::state::AppState;

/// The appeal categories, as services.
pub const CATEGORIES: &[&str] = &[
    "housing",
    "utilities",
    "roads",
    "land",
    "public_transport",
    "education",
    "health",
    "social_benefits",
    "employment",
    "police_conduct",
    "traffic",
    "courts",
    "law_enforcement",
    "enforcement_proceedings",
    "civil_registration",
    "ecology",
    "taxes",
    "public_services",
    "agriculture",
    "emergencies",
    "energy",
    "culture_and_media",
    "higher_education",
    "construction",
    "transport",
    "economy_and_prices",
];

/// Most requests one answer lists.
const REQUESTS_MAX: usize = 1_000;
/// Most appeals one answer reads to apply a `status` filter (the request
/// list knows categories, not statuses): a rare status among the newest
/// appeals costs a bounded read, and the answer lists what it found.
const REQUESTS_EXAMINED_MAX: usize = 50_000;
/// Longest span of `start_date`..`end_date`, in days (the spec's limit).
const SPAN_DAYS_MAX: i64 = 90;
/// Longest `description` accepted (the spec's limit), in characters.
const DESCRIPTION_CHARS_MAX: usize = 4_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(root_get).post(create_request))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn split(file: &str) -> Option<(&str, Format)> {
    if let Some(name) = file.strip_suffix(".json") {
        Some((name, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|name| (name, Format::Xml))
    }
}

/// A value of an Open311 answer: text, a boolean, or nothing (empty).
enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    Null,
}

type Object = Vec<(&'static str, Value)>;

fn text(value: impl Into<String>) -> Value {
    Value::Text(value.into())
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders a list of objects: a JSON array, or `<root><item>...</item></root>`.
fn render(format: Format, root: &str, item: &str, objects: &[Object], status: StatusCode) -> Response {
    let (content_type, body) = match format {
        Format::Json => {
            let array: Vec<serde_json::Value> = objects
                .iter()
                .map(|object| {
                    serde_json::Value::Object(
                        object
                            .iter()
                            .map(|(key, value)| {
                                let value = match value {
                                    Value::Text(t) => serde_json::Value::String(t.clone()),
                                    Value::Int(i) => serde_json::Value::from(*i),
                                    Value::Bool(b) => serde_json::Value::Bool(*b),
                                    Value::Null => serde_json::Value::Null,
                                };
                                ((*key).to_owned(), value)
                            })
                            .collect(),
                    )
                })
                .collect();
            ("application/json; charset=utf-8", serde_json::Value::Array(array).to_string())
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            let _ = write!(out, "<{root}>");
            for object in objects {
                let _ = write!(out, "<{item}>");
                for (key, value) in object {
                    match value {
                        Value::Text(t) => {
                            let _ = write!(out, "<{key}>{}</{key}>", xml_escape(t));
                        }
                        Value::Int(i) => {
                            let _ = write!(out, "<{key}>{i}</{key}>");
                        }
                        Value::Bool(b) => {
                            let _ = write!(out, "<{key}>{b}</{key}>");
                        }
                        Value::Null => {
                            let _ = write!(out, "<{key}/>");
                        }
                    }
                }
                let _ = write!(out, "</{item}>");
            }
            let _ = write!(out, "</{root}>");
            ("text/xml; charset=utf-8", out)
        }
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// An Open311 error list with the matching HTTP status.
fn error(format: Format, error: &WebError) -> Response {
    let status = error.status();
    let object = vec![("code", Value::Int(i64::from(status.as_u16()))), ("description", text(error.to_string()))];
    render(format, "errors", "error", &[object], status)
}

fn kz(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&casetrail_types::time::kz_offset_at(instant))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The end of the working day (18:00 local) of a due date.
fn due_instant(day: NaiveDate) -> String {
    let midnight = casetrail_types::time::local_midnight_utc(day);
    kz(midnight + chrono::Duration::hours(18))
}

fn service_name(state: &AppState, locale: Locale, code: &str) -> String {
    state.i18n.t(locale, &format!("category-{code}"))
}

fn request_object(state: &AppState, locale: Locale, appeal: &AppealState) -> Object {
    let open = appeal.status == AppealStatus::Open;
    let updated = appeal.answered_at.unwrap_or(appeal.current().received_at);
    vec![
        ("service_request_id", text(appeal.appeal.clone())),
        ("status", text(if open { "open" } else { "closed" })),
        ("status_notes", Value::Null),
        ("service_name", text(service_name(state, locale, &appeal.category))),
        ("service_code", text(appeal.category.clone())),
        ("description", Value::Null),
        ("agency_responsible", text(appeal.holder().to_string())),
        ("service_notice", Value::Null),
        ("requested_datetime", text(kz(appeal.first().received_at))),
        ("updated_datetime", text(kz(updated))),
        ("expected_datetime", text(due_instant(appeal.statutory_due()))),
        ("address", Value::Null),
        ("lat", Value::Null),
        ("long", Value::Null),
        ("media_url", Value::Null),
    ]
}

async fn root_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(Format::Xml, &WebError::NotFound("use .json or .xml".into()));
    };
    let locale = crate::i18n::negotiate(&headers);
    match name {
        "discovery" => discovery(format),
        "services" => services(&state, locale, format),
        "requests" => match requests(&state, locale, &query).await {
            Ok(objects) => render(format, "service_requests", "request", &objects, StatusCode::OK),
            Err(e) => error(format, &e),
        },
        _ => error(format, &WebError::NotFound(format!("no Open311 resource {name}"))),
    }
}

fn discovery(format: Format) -> Response {
    let endpoint = vec![
        ("specification", text("http://wiki.open311.org/GeoReport_v2")),
        ("url", text("/open311/v2")),
        ("changeset", text("2026-03-01T00:00:00+05:00")),
        ("type", text("production")),
    ];
    // Discovery nests endpoints and formats: written out by hand.
    match format {
        Format::Json => {
            let mut object: serde_json::Map<String, serde_json::Value> = endpoint
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::Text(t) => Some((k.to_owned(), serde_json::Value::String(t))),
                    _ => None,
                })
                .collect();
            object.insert("formats".into(), serde_json::json!(["text/xml", "application/json"]));
            let body = serde_json::json!({
                "changeset": "2026-03-01T00:00:00+05:00",
                "contact": "casetrail operators",
                "key_service": "API keys are issued by the administrators (casetrail apikey issue)",
                "endpoints": [object],
            });
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
        }
        Format::Xml => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<discovery><changeset>2026-03-01T00:00:00+05:00</changeset>\
                <contact>casetrail operators</contact><key_service>API keys are issued by the administrators (casetrail apikey issue)</key_service>\
                <endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification><url>/open311/v2</url>\
                <changeset>2026-03-01T00:00:00+05:00</changeset><type>production</type><formats><format>text/xml</format>\
                <format>application/json</format></formats></endpoint></endpoints></discovery>";
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
        }
    }
}

fn services(state: &AppState, locale: Locale, format: Format) -> Response {
    let objects: Vec<Object> = CATEGORIES
        .iter()
        .map(|code| {
            vec![
                ("service_code", text(*code)),
                ("service_name", text(service_name(state, locale, code))),
                ("description", text(service_name(state, locale, code))),
                ("metadata", Value::Bool(true)),
                ("type", text("realtime")),
                ("keywords", text(*code)),
                ("group", text("appeals")),
            ]
        })
        .collect();
    render(format, "services", "service", &objects, StatusCode::OK)
}

async fn service_definition(Path(file): Path<String>) -> Response {
    let Some((code, format)) = split(&file) else {
        return error(Format::Xml, &WebError::NotFound("use .json or .xml".into()));
    };
    if !CATEGORIES.contains(&code) {
        return error(format, &WebError::NotFound(format!("no service {code}")));
    }
    let attributes = [
        ("applicant_iin", "string", true, 1, "The applicant's IIN (12 digits); never shown in any answer"),
        ("agency", "string", false, 2, "The agency slug; default: the API key's agency"),
    ];
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = attributes
                .iter()
                .map(|(code, datatype, required, order, description)| {
                    serde_json::json!({"variable": true, "code": code, "datatype": datatype, "required": required,
                        "datatype_description": null, "order": order, "description": description, "values": []})
                })
                .collect();
            let body = serde_json::json!({"service_code": code, "attributes": list});
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
        }
        Format::Xml => {
            let mut out = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<service_definition><service_code>{}</service_code><attributes>",
                xml_escape(code)
            );
            for (code, datatype, required, order, description) in attributes {
                let _ = write!(
                    out,
                    "<attribute><variable>true</variable><code>{code}</code><datatype>{datatype}</datatype>\
                     <required>{required}</required><datatype_description/><order>{order}</order>\
                     <description>{}</description><values/></attribute>",
                    xml_escape(description)
                );
            }
            out.push_str("</attributes></service_definition>");
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

fn parse_instant(field: &str, value: Option<&String>) -> Result<Option<DateTime<FixedOffset>>, WebError> {
    match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{field} must be a W3C datetime with a time zone"))),
    }
}

fn list_filter(query: &std::collections::HashMap<String, String>, field: &str) -> Vec<String> {
    query
        .get(field)
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

async fn requests(
    state: &AppState,
    locale: Locale,
    query: &std::collections::HashMap<String, String>,
) -> Result<Vec<Object>, WebError> {
    authorize(None, Action::Public, Target::Anywhere)?;
    let ids = list_filter(query, "service_request_id");
    if !ids.is_empty() {
        let appeals = state
            .read(move |store| {
                let mut found = Vec::new();
                for id in ids.iter().take(REQUESTS_MAX) {
                    if let Some(appeal) = docs::appeal(store, id)? {
                        found.push(appeal);
                    }
                }
                Ok(found)
            })
            .await?;
        return Ok(appeals.iter().map(|a| request_object(state, locale, a)).collect());
    }
    let codes = list_filter(query, "service_code");
    let statuses = list_filter(query, "status");
    if let Some(bad) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
        return Err(WebError::BadRequest(format!("status {bad:?}: use open or closed")));
    }
    let mut start = parse_instant("start_date", query.get("start_date"))?.map(|d| d.with_timezone(&Utc));
    let mut end = parse_instant("end_date", query.get("end_date"))?.map(|d| d.with_timezone(&Utc));
    let span = chrono::Duration::days(SPAN_DAYS_MAX);
    match (start, end) {
        (Some(s), Some(e)) if e - s > span => {
            return Err(WebError::BadRequest(format!("start_date..end_date may span at most {SPAN_DAYS_MAX} days")))
        }
        (Some(s), None) => end = Some(s + span),
        (None, Some(e)) => start = Some(e - span),
        _ => {}
    }
    let appeals = state
        .read(move |store| {
            docs::requested(
                store,
                start,
                end,
                REQUESTS_MAX,
                REQUESTS_EXAMINED_MAX,
                |category| codes.is_empty() || codes.iter().any(|code| code == category),
                |a| statuses.is_empty() || statuses.iter().any(|s| (s == "open") == (a.status == AppealStatus::Open)),
            )
        })
        .await?;
    Ok(appeals.iter().map(|a| request_object(state, locale, a)).collect())
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((id, format)) = split(&file) else {
        return error(Format::Xml, &WebError::NotFound("use .json or .xml".into()));
    };
    let locale = crate::i18n::negotiate(&headers);
    let key = id.to_owned();
    match state.read(move |store| docs::appeal(store, &key)).await {
        Ok(Some(appeal)) => {
            render(format, "service_requests", "request", &[request_object(&state, locale, &appeal)], StatusCode::OK)
        }
        Ok(None) => error(format, &WebError::NotFound(format!("no service request {id}"))),
        Err(e) => error(format, &e),
    }
}

/// `POST requests.{json,xml}`: form-encoded, with a connector's `api_key`.
async fn create_request(State(state): State<AppState>, Path(file): Path<String>, body: Bytes) -> Response {
    let Some(("requests", format)) = split(&file) else {
        return error(Format::Xml, &WebError::NotFound("POST requests.json or requests.xml".into()));
    };
    match create(&state, &body).await {
        Ok(registered) => {
            let object = vec![
                ("service_request_id", text(registered.appeal)),
                ("service_notice", text(format!("statutory due date {}", registered.statutory_due))),
                ("account_id", Value::Null),
            ];
            render(format, "service_requests", "request", &[object], StatusCode::CREATED)
        }
        Err(e) => error(format, &e),
    }
}

async fn create(state: &AppState, body: &[u8]) -> Result<api::RegisteredDto, WebError> {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.clone());
    let Some(api_key) = field("api_key") else { return Err(WebError::Forbidden("api_key is required".into())) };
    let mut headers = HeaderMap::new();
    let bearer =
        format!("Bearer {api_key}").parse().map_err(|_| WebError::Forbidden("the api_key is not valid".into()))?;
    headers.insert(header::AUTHORIZATION, bearer);
    let principal = match crate::auth::authenticate(state, &headers).await {
        Ok(Some((principal, _))) => principal,
        _ => return Err(WebError::Forbidden("the api_key is not valid".into())),
    };
    let Some(code) = field("service_code") else { return Err(WebError::BadRequest("service_code is required".into())) };
    if !CATEGORIES.contains(&code.as_str()) {
        return Err(WebError::NotFound(format!("no service {code}")));
    }
    let Some(iin) = field("attribute[applicant_iin]") else {
        return Err(WebError::BadRequest("attribute[applicant_iin] is required".into()));
    };
    let Some(agency) = field("attribute[agency]").or_else(|| principal.agency.clone()) else {
        return Err(WebError::BadRequest("attribute[agency] is required for a key without an agency".into()));
    };
    let description = field("description");
    if description.as_ref().is_some_and(|d| d.chars().count() > DESCRIPTION_CHARS_MAX) {
        return Err(WebError::BadRequest(format!("description is longer than {DESCRIPTION_CHARS_MAX} characters")));
    }
    let name = [field("first_name"), field("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let input = RegisterAppealDto {
        appeal: None,
        agency,
        category: code,
        kind: Some("complaint".into()),
        channel: Some("portal".into()),
        applicant: ApplicantDto { iin, name: Some(name).filter(|n| !n.is_empty()) },
        text: description,
    };
    api::register(state, Some(&principal), input).await
}
