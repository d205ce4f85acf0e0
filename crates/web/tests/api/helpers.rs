//! The scenario and the server for the API tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;
use casetrail_app::{DbLocation, Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_web::WebConfig;
use chrono::NaiveDate;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

/// The day the server counts from.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 2, 16).unwrap()
}

pub const PASSWORD: &str = "correct horse battery";
pub const UIN: &str = "10000000000000000014";
/// Forwarded once: akimat-a (2026-02-02) → police-a (2026-02-04).
pub const FORWARDED: &str = "A-1";
/// Registered at akimat-a, still there.
pub const AT_AKIMAT_A: &str = "A-2";
/// Registered at akimat-b (the other region).
pub const AT_AKIMAT_B: &str = "A-3";
/// Registered at police-a, forwarded to akimat-a: police-a held it before.
pub const BACK_AND_FORTH: &str = "A-4";

pub const ROLES: &[&str] = &[
    "citizen",
    "officer",
    "agency_head",
    "field_officer",
    "prosecutor",
    "analyst",
    "bailiff",
    "payment_provider",
    "integration",
    "admin",
];

/// The agency an account of `role` works for, on the side of agency A
/// ("own") or agency B ("other").
pub fn agency_of(role: &str, own: bool) -> Option<&'static str> {
    let pick = |a, b| Some(if own { a } else { b });
    match role {
        "officer" | "agency_head" | "integration" => pick("akimat-a", "akimat-b"),
        "field_officer" => pick("police-a", "police-b"),
        "prosecutor" | "analyst" => pick("prosecutor-a", "prosecutor-b"),
        "bailiff" => pick("bailiff-a", "bailiff-b"),
        _ => None,
    }
}

pub fn side(own: bool) -> &'static str {
    if own {
        "own"
    } else {
        "other"
    }
}

/// The API key of an account: `k-<role>-<side>.s-<role>-<side>`.
pub fn api_key(role: &str, own: bool) -> String {
    format!("k-{role}-{s}.secret-{role}-{s}", s = side(own))
}

pub fn iin(serial: u16) -> String {
    casetrail_types::Iin::from_parts(NaiveDate::from_ymd_opt(1985, 8, 8).unwrap(), false, serial).unwrap().to_string()
}

/// Every IIN the scenario holds.
pub fn scenario_iins() -> Vec<String> {
    (1..=5).map(iin).collect()
}

fn agency(slug: &str, kind: &str, region: &str, names: [&str; 3]) -> String {
    serde_json::json!({"type": "agency.registered", "id": format!("ag-{slug}"), "at": "2026-01-05T09:00:00+05:00",
        "agency": slug, "name": {"kk": names[0], "ru": names[1], "en": names[2]}, "kind": kind, "region": region})
    .to_string()
}

fn appeal(number: &str, agency: &str, at: &str, applicant: &str) -> String {
    serde_json::json!({"type": "appeal.registered", "id": number, "at": at, "appeal": number, "agency": agency,
        "applicant": {"iin": applicant, "name": "Test Applicant"}, "channel": "portal", "kind": "complaint",
        "category": "roads", "text": "The road is broken"})
    .to_string()
}

/// A protocol signed by an enrolled device and its fine, for `iin(4)`.
fn fine_lines() -> Vec<String> {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
    let enrolled = serde_json::json!({"type": "device.enrolled", "id": "dev-1", "at": "2026-01-10T09:00:00+05:00",
        "device": "tab-1", "agency": "police-a", "public_key": public});
    let mut protocol = serde_json::json!({"type": "fine.protocol_signed", "id": "prot-1", "at": "2026-02-10T10:15:00+05:00",
        "case": "P-1", "agency": "police-a", "officer": "off-7", "device": "tab-1", "offender": {"iin": iin(4)},
        "article": "610.1", "place": "710000000", "signature": base64::engine::general_purpose::STANDARD.encode([0u8; 64])});
    let unsigned = casetrail_exchange::parse_record(protocol.to_string().as_bytes()).unwrap();
    let bytes = casetrail_domain::registry::signed_bytes(&unsigned).unwrap();
    protocol["signature"] =
        serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(key.sign(&bytes).to_bytes()));
    let imposed = serde_json::json!({"type": "fine.imposed", "id": "fine-1", "at": "2026-02-10T10:20:00+05:00",
        "case": "P-1", "uin": UIN, "amount_mci": 5, "in_force_at": "2026-02-20", "short_procedure": true});
    vec![enrolled.to_string(), protocol.to_string(), imposed.to_string()]
}

fn accounts() -> Vec<String> {
    let hash = casetrail_web::auth::hash_password(PASSWORD).unwrap();
    let mut lines = Vec::new();
    for role in ROLES {
        for own in [true, false] {
            let s = side(own);
            let mut account = serde_json::json!({"type": "account.created", "at": "2026-01-06T09:00:00+05:00",
                "account": format!("{role}-{s}"), "role": role, "password_hash": hash});
            let secret_hash = hex::encode(Sha256::digest(format!("secret-{role}-{s}").as_bytes()));
            let mut key = serde_json::json!({"type": "apikey.issued", "at": "2026-01-06T09:00:00+05:00",
                "key_id": format!("k-{role}-{s}"), "role": role, "secret_hash": secret_hash});
            if let Some(agency) = agency_of(role, own) {
                account["agency"] = agency.into();
                key["agency"] = agency.into();
            }
            lines.push(account.to_string());
            lines.push(key.to_string());
        }
    }
    lines
}

pub fn scenario() -> Vec<String> {
    let mut lines = vec![
        agency("akimat-a", "akimat", "710000000", ["Астана әкімдігі", "Акимат Астаны", "Astana Akimat"]),
        agency("police-a", "police", "710000000", ["Астана полициясы", "Полиция Астаны", "Astana Police"]),
        agency("prosecutor-a", "prosecutor", "710000000", ["Астана прокуратурасы", "Прокуратура Астаны", "Astana Prosecutor's Office"]),
        agency("bailiff-a", "bailiff", "710000000", ["Астана ЖСО", "ЧСИ Астаны", "Astana Bailiff"]),
        agency("akimat-b", "akimat", "750000000", ["Алматы әкімдігі", "Акимат Алматы", "Almaty Akimat"]),
        agency("police-b", "police", "750000000", ["Алматы полициясы", "Полиция Алматы", "Almaty Police"]),
        agency("prosecutor-b", "prosecutor", "750000000", ["Алматы прокуратурасы", "Прокуратура Алматы", "Almaty Prosecutor's Office"]),
        agency("bailiff-b", "bailiff", "750000000", ["Алматы ЖСО", "ЧСИ Алматы", "Almaty Bailiff"]),
        appeal(FORWARDED, "akimat-a", "2026-02-02T10:00:00+05:00", &iin(1)),
        serde_json::json!({"type": "appeal.forwarded", "id": "fw-1", "at": "2026-02-04T11:00:00+05:00", "appeal": FORWARDED,
            "from": "akimat-a", "to": "police-a", "reason": "not_in_competence"})
        .to_string(),
        appeal(AT_AKIMAT_A, "akimat-a", "2026-02-09T10:00:00+05:00", &iin(2)),
        appeal(AT_AKIMAT_B, "akimat-b", "2026-02-09T10:00:00+05:00", &iin(3)),
        appeal(BACK_AND_FORTH, "police-a", "2026-02-09T10:00:00+05:00", &iin(5)),
        serde_json::json!({"type": "appeal.forwarded", "id": "fw-4", "at": "2026-02-10T11:00:00+05:00", "appeal": BACK_AND_FORTH,
            "from": "police-a", "to": "akimat-a", "reason": "not_in_competence"})
        .to_string(),
    ];
    lines.extend(fine_lines());
    lines.extend(accounts());
    lines
}

pub struct Server {
    pub base: String,
    pub agent: ureq::Agent,
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(WebConfig { today: Some(today()), ..WebConfig::default() })
    }

    pub fn start_with(config: WebConfig) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("api.db");
        let mut ledger =
            Ledger::open(&DbLocation::parse(&db.to_string_lossy()), Some(&dir.path().join("key"))).unwrap();
        let text = scenario().join("\n");
        let incoming = JsonLines::new(text.as_bytes()).map(|line| Incoming::from_raw(line.unwrap()));
        let summary = ledger.import("scenario", incoming, |_| {}).unwrap();
        let reasons: Vec<String> =
            ledger.store().quarantine(true, 100).unwrap().into_iter().map(|q| q.entry.reason).collect();
        assert_eq!(summary.quarantined, 0, "the scenario imports cleanly: {reasons:?}");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                sender.send(listener.local_addr().unwrap()).unwrap();
                let app = casetrail_web::router_with(ledger, config);
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
            });
        });
        let address = receiver.recv().unwrap();
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        Server { base: format!("http://{address}"), agent, _dir: dir, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A response whatever its status: (status, headers' Set-Cookie, body).
pub struct Answer {
    pub status: u16,
    pub cookies: Vec<String>,
    pub content_type: String,
    pub body: String,
}

pub fn answer(result: Result<ureq::Response, ureq::Error>) -> Answer {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("transport error: {error}"),
    };
    let status = response.status();
    let cookies = response.all("set-cookie").into_iter().map(str::to_owned).collect();
    let content_type = response.content_type().to_owned();
    let body = response.into_string().unwrap();
    Answer { status, cookies, content_type, body }
}

impl Server {
    pub fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        let mut request = self.agent.get(&self.url(path));
        if let Some(key) = bearer {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        answer(request.call())
    }

    pub fn post_json(&self, path: &str, bearer: Option<&str>, body: &serde_json::Value) -> Answer {
        let mut request = self.agent.post(&self.url(path)).set("Content-Type", "application/json");
        if let Some(key) = bearer {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        answer(request.send_string(&body.to_string()))
    }

    /// A form POST with cookies.
    pub fn post_form(&self, path: &str, cookies: &str, fields: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.post(&self.url(path));
        if !cookies.is_empty() {
            request = request.set("Cookie", cookies);
        }
        answer(request.send_form(fields))
    }

    pub fn get_with_cookies(&self, path: &str, cookies: &str) -> Answer {
        let mut request = self.agent.get(&self.url(path));
        if !cookies.is_empty() {
            request = request.set("Cookie", cookies);
        }
        answer(request.call())
    }
}

/// `name=value` of a Set-Cookie line.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().trim().to_owned()
}

/// The value of the hidden `csrf` input of a page.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Paths and methods of the OpenAPI document.
pub fn operations(document: &serde_json::Value) -> BTreeMap<(String, String), serde_json::Value> {
    let mut out = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.insert((path.clone(), method.clone()), op.clone());
        }
    }
    out
}
