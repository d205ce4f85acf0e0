//! No IIN reaches an anonymous client, on any endpoint; reads of personal
//! data by officers are recorded in the ledger.

use crate::helpers::*;

#[test]
fn no_iin_in_any_answer_to_an_anonymous_client() {
    let server = Server::start();
    let iins = scenario_iins();
    let mut bodies: Vec<(String, String)> = Vec::new();
    let mut get = |path: &str| {
        let answer = server.get(path, None);
        bodies.push((format!("GET {path} ({})", answer.status), answer.body));
    };
    for path in [
        "/",
        "/track",
        "/fines",
        "/login",
        "/appeals/new",
        "/officer",
        "/api/docs",
        "/api/openapi.json",
        "/metrics",
        "/healthz",
        "/readyz",
        "/open311/v2/discovery.json",
        "/open311/v2/services.json",
        "/open311/v2/services.xml",
        "/open311/v2/services/roads.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/requests/A-1.json",
        "/open311/v2/requests/A-1.xml",
        "/open311/v2/requests.json?service_request_id=A-1,A-2,A-3",
    ] {
        get(path);
    }
    // Every operation of the API document, without credentials.
    let document: serde_json::Value = serde_json::from_str(&server.get("/api/openapi.json", None).body).unwrap();
    for ((path, method), _) in operations(&document) {
        let url = path
            .replace("{number}", FORWARDED)
            .replace("{agency}", "akimat-a")
            .replace("{name}", "wandering")
            .replace("{uin}", UIN);
        let answer = match method.as_str() {
            "get" => server.get(&url, None),
            _ => server.post_json(&url, None, &serde_json::json!({"appeal": FORWARDED, "iin": iin(1), "uin": UIN})),
        };
        bodies.push((format!("{method} {url} ({})", answer.status), answer.body));
    }
    // The citizen's own lookups, with the right IINs, and the pages' forms.
    for (appeal, number) in [(FORWARDED, 1), (AT_AKIMAT_A, 2), (AT_AKIMAT_B, 3)] {
        let answer =
            server.post_json("/api/v1/appeals/track", None, &serde_json::json!({"appeal": appeal, "iin": iin(number)}));
        assert_eq!(answer.status, 200);
        bodies.push((format!("track {appeal}"), answer.body));
    }
    let fine = server.post_json("/api/v1/fines/lookup", None, &serde_json::json!({"iin": iin(4), "uin": UIN}));
    assert_eq!(fine.status, 200);
    bodies.push(("fine".into(), fine.body));
    let form = server.get_with_cookies("/track", "");
    let cookie = cookie_pair(&form.cookies[0]);
    let csrf = csrf_of(&form.body);
    let page = server.post_form("/track", &cookie, &[("csrf", &csrf), ("appeal", FORWARDED), ("iin", &iin(1))]);
    assert_eq!(page.status, 200);
    bodies.push(("track page".into(), page.body));

    assert!(bodies.len() > 30);
    for (what, body) in &bodies {
        for iin in &iins {
            assert!(!body.contains(iin.as_str()), "{what} shows IIN {iin}");
        }
        assert!(!body.contains("Test Applicant"), "{what} shows an applicant's name");
        assert!(!body.contains("The road is broken"), "{what} shows an appeal's text");
    }
}

#[test]
fn an_officers_read_of_an_applicant_is_recorded_in_the_ledger() {
    let server = Server::start();
    let detail = server.get(&format!("/api/v1/appeals/{AT_AKIMAT_A}"), Some(&api_key("officer", true)));
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(detail.body.contains(&iin(2)), "the officer sees the applicant");
    let mut ledger = casetrail_app::Ledger::open(
        &casetrail_app::DbLocation::parse(&server.db.to_string_lossy()),
        Some(&server.db.with_file_name("key")),
    )
    .unwrap();
    let events = ledger.store().events_after(0, 100_000).unwrap();
    let logged: Vec<String> = events
        .iter()
        .filter(|e| e.record_type == "access.logged")
        .map(|e| String::from_utf8_lossy(&e.canonical).into_owned())
        .collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("\"account\":\"k-officer-own\"") && logged[0].contains(&format!("appeal/{AT_AKIMAT_A}"))
    );
    assert!(logged[0].contains("\"iin\""));
}

#[test]
fn metrics_count_requests_by_route_and_show_the_ledger() {
    let server = Server::start();
    server.get("/api/v1/status", None);
    server.get(&format!("/open311/v2/requests/{FORWARDED}.json"), None);
    let metrics = server.get("/metrics", None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("casetrail_http_requests_total{route=\"/api/v1/status\",method=\"GET\",status=\"200\"} 1"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("route=\"/open311/v2/requests/{file}\""),
        "routes are patterns, never concrete numbers"
    );
    assert!(!metrics.body.contains(FORWARDED));
    assert!(metrics.body.contains("casetrail_http_request_duration_seconds_bucket"));
    assert!(metrics.body.contains("casetrail_appeals_overdue 0"));
    assert!(metrics.body.contains("casetrail_quarantine_open 0"));
    assert!(metrics.body.lines().any(|l| l.starts_with("casetrail_ledger_events ") && !l.ends_with(" 0")));
    assert!(metrics.body.contains("casetrail_fines_enforcement_due"));
    // The server's today is 2026-02-16: the calendar covers through 2027,
    // the MCI table through 2026.
    assert!(
        metrics.body.contains("casetrail_reference_data_days_left{table=\"working_calendar\"} 683"),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("casetrail_reference_data_days_left{table=\"mci\"} 318"), "{}", metrics.body);
}

#[test]
fn the_operator_is_warned_before_a_reference_table_runs_out() {
    use chrono::NaiveDate;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert!(casetrail_web::metrics::reference_data_warnings(day(2026, 2, 16)).is_empty());
    let warnings = casetrail_web::metrics::reference_data_warnings(day(2026, 12, 5));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("mci") && warnings[0].contains("2026-12-31") && warnings[0].contains("26 days"),
        "{}",
        warnings[0]
    );
    assert_eq!(casetrail_web::metrics::reference_data_warnings(day(2027, 12, 1)).len(), 2);
}
