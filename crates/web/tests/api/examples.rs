//! The OpenAPI document's request examples, sent as a client copies them:
//! an administrator sets up what they refer to with the documented
//! examples, a citizen registers the example appeal and tracks it.

use crate::helpers::*;

const ADMIN: &str = "k-admin-own.secret-admin-own";

fn example(document: &serde_json::Value, schema: &str) -> serde_json::Value {
    let example = document["components"]["schemas"][schema]["example"].clone();
    assert!(example.is_object(), "{schema} has no example");
    example
}

#[test]
fn the_documented_examples_work_against_the_server() {
    let server = Server::start();
    let document: serde_json::Value = serde_json::from_str(&server.get("/api/openapi.json", None).body).unwrap();
    let post = |path: &str, key: Option<&str>, body: &serde_json::Value, expected: u16| {
        let answer = server.post_json(path, key, body);
        assert_eq!(answer.status, expected, "POST {path} {body}: {}", answer.body);
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()
    };

    // The agencies the other examples name, then the agency example itself.
    for (slug, kind, names) in [
        ("akimat-astana", "akimat", ["Астана қаласының әкімдігі", "Акимат города Астаны", "Akimat of Astana"]),
        (
            "police-astana",
            "police",
            ["Астана қаласының Полиция департаменті", "Департамент полиции города Астаны", "Astana Police Department"],
        ),
    ] {
        let agency = serde_json::json!({"agency": slug, "kind": kind, "region": "710000000",
            "name": {"kk": names[0], "ru": names[1], "en": names[2]}});
        post("/api/v1/admin/agencies", Some(ADMIN), &agency, 201);
    }
    post("/api/v1/admin/agencies", Some(ADMIN), &example(&document, "NewAgencyDto"), 201);
    post("/api/v1/admin/devices", Some(ADMIN), &example(&document, "NewDeviceDto"), 201);
    post("/api/v1/admin/accounts", Some(ADMIN), &example(&document, "NewAccountDto"), 201);
    let issued = post("/api/v1/admin/apikeys", Some(ADMIN), &example(&document, "NewApiKeyDto"), 201);
    assert!(issued["key"].as_str().unwrap().starts_with(issued["key_id"].as_str().unwrap()), "{issued}");

    // Where the examples say "<… IIN>", the client puts a person's IIN.
    let mut registration = example(&document, "RegisterAppealDto");
    registration["applicant"]["iin"] = iin(9).into();
    let registered = post("/api/v1/appeals", Some(&api_key("citizen", true)), &registration, 201);
    assert_eq!(registered["appeal"], registration["appeal"]);
    assert_eq!(registered["holder"], "akimat-astana");
    assert_eq!(registered["result"], "appended");
    let again = post("/api/v1/appeals", Some(&api_key("citizen", true)), &registration, 201);
    assert_eq!((&again["result"], &again["seq"]), (&serde_json::json!("duplicate"), &registered["seq"]), "a retry");

    let placeholder = example(&document, "RegisterAppealDto")["applicant"]["iin"].clone();
    assert_eq!(
        server
            .post_json("/api/v1/appeals", Some(&api_key("citizen", true)), &example(&document, "RegisterAppealDto"))
            .status,
        400,
        "the placeholder {placeholder} is not an IIN"
    );
    let mut track = example(&document, "TrackDto");
    assert_eq!(track["iin"], placeholder);
    track["iin"] = iin(9).into();
    let tracked = post("/api/v1/appeals/track", None, &track, 200);
    assert_eq!(tracked["appeal"], registration["appeal"], "{tracked}");
    assert_eq!(tracked["statutory_due"], registered["statutory_due"], "{tracked}");

    // The browsable docs show them too (in Kazakh, the default).
    let docs = server.get("/api/docs", None);
    assert_eq!(docs.status, 200);
    assert!(docs.body.contains("Сұрау денесінің үлгісі"), "{}", docs.body);
    assert!(docs.body.contains("ЖТ-2026-00000123"), "the registration's example");
    assert!(docs.body.contains("мысалы <code>scorecard</code>"), "a parameter's example");
}
