//! Open311 GeoReport v2 in JSON and XML: the shape of the spec's examples,
//! our mapping of appeals, and an independent Python client.

use std::collections::BTreeSet;

use crate::helpers::*;

const EXAMPLES: &str = "../../data/standards/open311/spec-examples";

/// The field names of a spec example (some examples are not valid JSON:
/// numbers with leading zeros), read as text.
fn example_fields(name: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLES).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split('"')
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[1].trim_start().starts_with(':'))
        .map(|pair| pair[0].to_owned())
        .collect()
}

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn json_answers_have_the_spec_examples_fields_and_map_appeals() {
    let server = Server::start();
    let services: serde_json::Value =
        serde_json::from_str(&server.get("/open311/v2/services.json", None).body).unwrap();
    let spec = example_fields("json-service-list.json");
    for service in services.as_array().unwrap() {
        assert_eq!(keys(service), spec, "service fields as in the spec");
        assert!(service["service_code"].is_string());
    }
    let answer = server.get("/open311/v2/requests.json", None);
    assert!(answer.content_type.starts_with("application/json"));
    let requests: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let spec = example_fields("json-service-requests.json");
    let forwarded = requests.as_array().unwrap().iter().find(|r| r["service_request_id"] == FORWARDED).expect("A-1");
    let ours = keys(forwarded);
    assert!(ours.is_subset(&spec), "fields beyond the spec: {:?}", ours.difference(&spec).collect::<Vec<_>>());
    for required in [
        "service_request_id",
        "status",
        "service_code",
        "service_name",
        "agency_responsible",
        "requested_datetime",
        "expected_datetime",
        "updated_datetime",
    ] {
        assert!(ours.contains(required), "{required}");
    }
    assert_eq!(forwarded["status"], "open");
    assert_eq!(forwarded["agency_responsible"], "police-a", "the current holder");
    assert_eq!(forwarded["service_code"], "roads");
    assert_eq!(forwarded["requested_datetime"], "2026-02-02T10:00:00+05:00");
    assert_eq!(forwarded["expected_datetime"], "2026-02-25T18:00:00+05:00", "the statutory due date");
    assert!(forwarded["description"].is_null(), "the appeal's text is personal data");

    let ids = |requests: &serde_json::Value| -> Vec<String> {
        requests.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&requests), ["A-2", "A-3", "A-4", "A-1"], "newest first (then by number)");
    let by_code = |code: &str| -> serde_json::Value {
        serde_json::from_str(&server.get(&format!("/open311/v2/requests.json?service_code={code}"), None).body).unwrap()
    };
    assert_eq!(ids(&by_code("roads")).len(), 4);
    assert!(ids(&by_code("housing")).is_empty(), "no appeal in that category");

    let one: serde_json::Value = serde_json::from_str(&server.get("/open311/v2/requests/A-2.json", None).body).unwrap();
    assert_eq!(one.as_array().unwrap().len(), 1, "a list of one");
    let closed: serde_json::Value =
        serde_json::from_str(&server.get("/open311/v2/requests.json?status=closed", None).body).unwrap();
    assert_eq!(closed.as_array().unwrap().len(), 0);
    let filtered: serde_json::Value = serde_json::from_str(
        &server
            .get("/open311/v2/requests.json?start_date=2026-02-05T00:00:00Z&end_date=2026-02-20T00:00:00Z", None)
            .body,
    )
    .unwrap();
    let ids: BTreeSet<&str> =
        filtered.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
    assert_eq!(ids, BTreeSet::from(["A-2", "A-3", "A-4"]));
    let too_long =
        server.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", None);
    assert_eq!(too_long.status, 400);
    let error: serde_json::Value = serde_json::from_str(&too_long.body).unwrap();
    assert_eq!(keys(&error[0]), example_fields("json-errors.json"));
    assert_eq!(error[0]["code"], 400);
    let missing = server.get("/open311/v2/services/nothing.json", None);
    assert_eq!(missing.status, 404);
}

#[test]
fn xml_answers_are_schemaless_utf8_lists() {
    let server = Server::start();
    let answer = server.get("/open311/v2/requests.xml", None);
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/xml"));
    assert!(answer.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(answer.body.contains("<service_requests><request><service_request_id>"));
    assert!(answer.body.contains(&format!("<service_request_id>{FORWARDED}</service_request_id>")));
    assert!(answer.body.contains("<agency_responsible>police-a</agency_responsible>"));
    assert!(answer.body.contains("<expected_datetime>2026-02-25T18:00:00+05:00</expected_datetime>"));
    let services = server.get("/open311/v2/services.xml", None).body;
    assert!(services.contains("<services><service><service_code>housing</service_code>"));
    let definition = server.get("/open311/v2/services/roads.xml", None).body;
    assert!(definition.contains("<service_definition><service_code>roads</service_code><attributes><attribute>"));
    let discovery = server.get("/open311/v2/discovery.xml", None).body;
    assert!(discovery.contains("<specification>http://wiki.open311.org/GeoReport_v2</specification>"));
    let error = server.get("/open311/v2/requests/none.xml", None);
    assert_eq!(error.status, 404);
    assert!(error.body.contains("<errors><error><code>404</code><description>"));
}

#[test]
fn post_creates_an_appeal_with_a_connectors_key_form_encoded() {
    let server = Server::start();
    let key = api_key("integration", true);
    let iin9 = iin(9);
    let created = answer(server.agent.post(&server.url("/open311/v2/requests.json")).send_form(&[
        ("api_key", &key),
        ("service_code", "roads"),
        ("attribute[applicant_iin]", &iin9),
        ("description", "Potholes"),
        ("lat", "51.1"),
        ("long", "71.4"),
    ]));
    assert_eq!(created.status, 201, "{}", created.body);
    let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap().to_owned();
    let view: serde_json::Value =
        serde_json::from_str(&server.get(&format!("/open311/v2/requests/{id}.json"), None).body).unwrap();
    assert_eq!(view[0]["agency_responsible"], "akimat-a", "the key's agency");
    assert!(!view.to_string().contains(&iin9));
    let citizen = answer(
        server
            .agent
            .post(&server.url("/open311/v2/requests.xml"))
            .send_form(&[("api_key", "k-nobody.secret"), ("service_code", "roads")]),
    );
    assert_eq!(citizen.status, 403);
    assert!(citizen.body.contains("<errors><error><code>403</code>"));
}

/// The PyPI `georeport` package (installed by scripts/test) reads our
/// answers in JSON and XML; POST goes through urllib as the spec says.
#[test]
fn an_independent_python_client_reads_and_writes() {
    let server = Server::start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/open311_client.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&server.base)
        .arg(api_key("integration", true))
        .arg(FORWARDED)
        .arg(iin(9))
        .output()
        .expect("python3 runs (scripts/test installs georeport: python3 -m pip install georeport)");
    assert!(
        output.status.success(),
        "the Python client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
}
