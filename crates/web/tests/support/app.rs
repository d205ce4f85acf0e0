//! A casetrail server for tests: a fresh SQLite ledger in a temporary
//! directory, loaded with a small simulated city, served in-process on
//! 127.0.0.1 at a free port.

use std::collections::BTreeMap;
use std::path::PathBuf;

use casetrail_app::{DbLocation, Incoming, Ledger};
use casetrail_exchange::JsonLines;
use casetrail_sim::{Scale, SimConfig};
use serde_json::Value;

/// An appeal of the dataset that was forwarded at least once, with what a
/// citizen needs to track it.
#[derive(Clone, Debug)]
pub struct ForwardedAppeal {
    pub appeal: String,
    pub iin: String,
    /// Every body that held it, in order (agency slugs).
    pub holders: Vec<String>,
    /// When each body received it (RFC 3339), parallel to `holders`.
    pub received: Vec<String>,
    /// The reason of each forward, parallel to `holders[1..]`.
    pub reasons: Vec<String>,
}

/// What the test knows about the data it loaded.
#[derive(Debug)]
pub struct Dataset {
    /// Events in the ledger after the import.
    pub events: u64,
    /// The appeal with the most forwards (ties: the first registered).
    pub wandering: Option<ForwardedAppeal>,
    /// Agency slug → its names by language.
    pub agencies: BTreeMap<String, BTreeMap<String, String>>,
    /// Forwards between agencies: (from, to) → count.
    pub forwards: BTreeMap<(String, String), u64>,
    /// Appeals registered by (category, `YYYY-MM`).
    pub by_category_month: BTreeMap<(String, String), u64>,
    /// UINs the simulated city recalled (`fine.recalled`) → the bailiff
    /// they had been referred to.
    pub recalled: BTreeMap<String, String>,
}

impl Dataset {
    /// An agency's name in a language (its slug when unnamed).
    pub fn agency_name(&self, slug: &str, lang: &str) -> String {
        self.agencies.get(slug).and_then(|names| names.get(lang)).cloned().unwrap_or_else(|| slug.to_owned())
    }
}

pub struct TestApp {
    /// e.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub base: String,
    pub data: Dataset,
    pub db: PathBuf,
    /// The running server's state (its ledger and writer).
    pub state: casetrail_web::AppState,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Simulates a small city year (`appeals` appeals, `fines` fines), loads
    /// it into a fresh SQLite ledger and serves casetrail on a free port.
    pub async fn start(appeals: u64, fines: u64) -> TestApp {
        Self::start_with(appeals, fines, Vec::new()).await
    }

    /// Like [`TestApp::start`], then appends `extra` records (source, JSON
    /// line) before serving: accounts (source `admin`), appeals a test
    /// works on.
    pub async fn start_with(appeals: u64, fines: u64, extra: Vec<(String, String)>) -> TestApp {
        let dir = tempfile::Builder::new().prefix("casetrail-browser").tempdir().expect("temporary directory");
        let db = dir.path().join("casetrail.db");
        let key = dir.path().join("casetrail.key");
        let (ledger, data) = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || load(&db, &key, appeals, fines, &extra)).await.expect("loading task")
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let state =
            casetrail_web::AppState::new(ledger, casetrail_web::WebConfig::default()).expect("the ledger writer");
        let router = casetrail_web::app(state.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("the test server stopped: {error}");
            }
        });
        TestApp { base: format!("http://{address}"), data, db, state, server, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Appends one exchange-format line from `source` to the running
    /// server's ledger, through its writer (the path every HTTP write
    /// takes), e.g. an administrator's `device.enrolled`.
    pub async fn append(&self, source: &str, json_line: &str) -> casetrail_web::writer::Outcome {
        self.state.writer.append(source, json_line.as_bytes().to_vec()).await.expect("the ledger writer answers")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn load(
    db: &std::path::Path,
    key: &std::path::Path,
    appeals: u64,
    fines: u64,
    extra: &[(String, String)],
) -> (Ledger, Dataset) {
    let mut config = SimConfig::new(Scale::City, 20_251);
    config.appeals_per_year = Some(appeals);
    config.fines_per_year = Some(fines);
    let mut lines = Vec::new();
    casetrail_sim::simulate(&config, &mut lines, &mut |_| {}).expect("simulate");

    let location = DbLocation::parse(&db.to_string_lossy());
    let mut ledger = Ledger::open(&location, Some(key)).expect("open the ledger");
    let incoming = JsonLines::new(&lines[..]).map(|line| Incoming::from_raw(line.expect("simulated line")));
    let summary = ledger.import("sim", incoming, |_| {}).expect("import the simulated city");
    assert_eq!(summary.quarantined, 0, "the simulated city imports without quarantine");
    for (source, line) in extra {
        let incoming = JsonLines::new(line.as_bytes()).map(|line| Incoming::from_raw(line.expect("extra line")));
        let summary = ledger.import(source, incoming, |_| {}).expect("import an extra record");
        assert_eq!(summary.accepted, 1, "the test's own record is appended: {line}");
    }
    let events = ledger.store().ledger_state().expect("ledger state").size();
    (ledger, describe(&lines, events))
}

/// Reads back from the simulated lines what the tests look for on pages.
fn describe(lines: &[u8], events: u64) -> Dataset {
    let mut applicants: BTreeMap<String, String> = BTreeMap::new();
    // appeal → [(holder, received at, reason it arrived with)]
    let mut paths: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let mut forwards = BTreeMap::new();
    let mut by_category_month = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut agencies = BTreeMap::new();
    let mut referred: BTreeMap<String, String> = BTreeMap::new();
    let mut recalled = BTreeMap::new();
    for line in lines.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
        let record: Value = serde_json::from_slice(line).expect("simulated JSON");
        let text = |field: &str| record.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
        match record.get("type").and_then(Value::as_str) {
            Some("agency.registered") => {
                let names = record
                    .get("name")
                    .and_then(Value::as_object)
                    .map(|names| {
                        names.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
                    })
                    .unwrap_or_default();
                agencies.insert(text("agency"), names);
            }
            Some("appeal.registered") => {
                let iin = record.pointer("/applicant/iin").and_then(Value::as_str);
                if let Some(iin) = iin {
                    applicants.insert(text("appeal"), iin.to_owned());
                }
                paths.insert(text("appeal"), vec![(text("agency"), text("at"), String::new())]);
                order.push(text("appeal"));
                let month: String = text("at").chars().take(7).collect();
                *by_category_month.entry((text("category"), month)).or_insert(0) += 1;
            }
            Some("appeal.forwarded") => {
                if let Some(path) = paths.get_mut(&text("appeal")) {
                    path.push((text("to"), text("at"), text("reason")));
                }
                *forwards.entry((text("from"), text("to"))).or_insert(0) += 1;
            }
            Some("fine.referred") => {
                referred.insert(text("uin"), text("bailiff"));
            }
            Some("fine.recalled") => {
                if let Some(bailiff) = referred.get(&text("uin")) {
                    recalled.insert(text("uin"), bailiff.clone());
                }
            }
            _ => {}
        }
    }
    let wandering = order
        .iter()
        .filter(|appeal| applicants.contains_key(*appeal))
        .filter_map(|appeal| paths.get(appeal).map(|path| (appeal, path)))
        .filter(|(_, path)| path.len() > 1)
        .fold(None::<(&String, &Vec<(String, String, String)>)>, |best, (appeal, path)| match best {
            Some((_, best_path)) if best_path.len() >= path.len() => best,
            _ => Some((appeal, path)),
        })
        .map(|(appeal, path)| ForwardedAppeal {
            appeal: appeal.clone(),
            iin: applicants.get(appeal).cloned().unwrap_or_default(),
            holders: path.iter().map(|(holder, _, _)| holder.clone()).collect(),
            received: path.iter().map(|(_, at, _)| at.clone()).collect(),
            reasons: path.iter().skip(1).map(|(_, _, reason)| reason.clone()).collect(),
        });
    Dataset { events, wandering, agencies, forwards, by_category_month, recalled }
}

/// An `account.created` line (source `admin`) for a person who signs in.
pub fn account(login: &str, role: &str, agency: Option<&str>, password: &str) -> (String, String) {
    let hash = casetrail_web::auth::hash_password(password).expect("hash the password");
    let mut record = serde_json::json!({
        "type": "account.created",
        "id": format!("test-account-{login}"),
        "at": "2026-01-05T09:00:00+05:00",
        "account": login,
        "role": role,
        "password_hash": hash,
    });
    if let Some(agency) = agency {
        record["agency"] = agency.into();
    }
    ("admin".to_owned(), record.to_string())
}

/// An `appeal.registered` line for an appeal a test works on.
pub fn appeal(number: &str, agency: &str, iin: &str, at: &str) -> (String, String) {
    let record = serde_json::json!({
        "type": "appeal.registered",
        "id": format!("test-{number}"),
        "at": at,
        "appeal": number,
        "agency": agency,
        "applicant": { "iin": iin },
        "channel": "portal",
        "kind": "complaint",
        "category": "construction",
    });
    ("portal".to_owned(), record.to_string())
}
