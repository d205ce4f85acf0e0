//! Protocols from field devices (`POST /api/v1/protocols`): signed in Rust
//! here with ed25519-dalek over the exchange crate's RFC 8785 bytes, as the
//! browser's script signs them; the projector checks the signature against
//! the device enrolled for the agency (`tab-1` of police-a in the
//! scenario, key seed `[7; 32]`).

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};

use crate::helpers::*;

const OFFICER_KEY: &str = "k-field_officer-own";

/// A `fine.protocol_signed` record of police-a by `officer`, signed with
/// `seed` over the JCS bytes of the record without `signature`.
fn protocol(seed: u8, officer: &str, case: &str) -> serde_json::Value {
    let mut record = serde_json::json!({"type": "fine.protocol_signed", "id": format!("protocol-{case}"),
        "at": "2026-02-16T10:15:00+05:00", "case": case, "agency": "police-a", "officer": officer,
        "device": "tab-1", "offender": {"iin": iin(4)}, "article": "610.1", "place": "710000000",
        "amount_mci": 5, "short_procedure": true});
    let canonical = casetrail_exchange::jcs::canonical_bytes(&record);
    let signature = SigningKey::from_bytes(&[seed; 32]).sign(&canonical);
    record["signature"] = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()).into();
    record
}

#[test]
fn a_protocol_signed_by_an_enrolled_device_is_recorded_with_its_charge() {
    let server = Server::start();
    let key = api_key("field_officer", true);
    let record = protocol(7, OFFICER_KEY, "P-100");
    let answer = server.post_json("/api/v1/protocols", Some(&key), &record);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let uin = result["uin"].as_str().unwrap().to_owned();
    assert_eq!(uin, casetrail_web::api::web_protocol_uin("P-100").unwrap().to_string());
    assert!(uin.len() == 20 && uin.starts_with('8'), "a browser device's UIN: {uin}");
    assert_eq!(result["result"], "appended");
    // 5 MCI at 4,325 tenge (2026); 50 % until the 7th working day after 16 February.
    assert_eq!(result["amount"], "21625.00");
    assert_eq!(result["pay_now"], "10812.50");
    assert_eq!(result["pay_until"], "2026-02-25");
    // In force on the 10th day (26 February), 30 days to pay voluntarily.
    assert_eq!(result["voluntary_until"], "2026-03-28");
    assert_eq!(
        result["payment_code"],
        format!("casetrail:pay?uin={uin}&amount=10812.50&until=2026-02-25&full=21625.00")
    );

    // The offender finds the fine with the UIN and their IIN.
    let fine = server.post_json("/api/v1/fines/lookup", None, &serde_json::json!({"iin": iin(4), "uin": uin}));
    assert_eq!(fine.status, 200, "{}", fine.body);
    let fine: serde_json::Value = serde_json::from_str(&fine.body).unwrap();
    assert_eq!((fine["amount"].as_str(), fine["owed_today"].as_str()), (Some("21625.00"), Some("10812.50")));

    // Sent again (a device that did not hear the answer): the same charge, nothing new.
    let status = |server: &Server| -> u64 {
        let body: serde_json::Value = serde_json::from_str(&server.get("/api/v1/status", None).body).unwrap();
        body["events"].as_u64().unwrap()
    };
    let before = status(&server);
    let again = server.post_json("/api/v1/protocols", Some(&key), &record);
    assert_eq!(again.status, 200, "{}", again.body);
    let again: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(again["result"], "duplicate");
    assert_eq!(again["uin"], uin.as_str());
    assert_eq!(
        (again["protocol_seq"].clone(), again["fine_seq"].clone()),
        (result["protocol_seq"].clone(), result["fine_seq"].clone())
    );
    assert_eq!(status(&server), before, "a re-sent protocol appends nothing");
}

#[test]
fn an_altered_or_foreign_key_protocol_is_quarantined_with_the_reason() {
    let server = Server::start();
    let key = api_key("field_officer", true);
    let mut altered = protocol(7, OFFICER_KEY, "P-200");
    altered["article"] = "611.2".into();
    let answer = server.post_json("/api/v1/protocols", Some(&key), &altered);
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(answer.body.contains("quarantined") && answer.body.contains("does not verify"), "{}", answer.body);

    let forged = protocol(8, OFFICER_KEY, "P-201");
    let answer = server.post_json("/api/v1/protocols", Some(&key), &forged);
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(answer.body.contains("signature"), "{}", answer.body);

    let mut unknown = protocol(7, OFFICER_KEY, "P-202");
    unknown["device"] = "tab-404".into();
    let answer = server.post_json("/api/v1/protocols", Some(&key), &unknown);
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(answer.body.contains("unknown device tab-404"), "{}", answer.body);

    // All three wait in the quarantine under the officer's source; no charge.
    let quarantine = server.get("/api/v1/quarantine", Some(&api_key("admin", true)));
    let entries: Vec<serde_json::Value> = serde_json::from_str(&quarantine.body).unwrap();
    let ours = entries.iter().filter(|e| e["source"] == format!("api:{OFFICER_KEY}")).count();
    assert_eq!(ours, 3, "{entries:?}");
    let uin = casetrail_web::api::web_protocol_uin("P-200").unwrap().to_string();
    let fine = server.post_json("/api/v1/fines/lookup", None, &serde_json::json!({"iin": iin(4), "uin": uin}));
    assert_eq!(fine.status, 404, "no charge for a quarantined protocol");
}

#[test]
fn only_a_field_officer_of_the_agency_signs_in_their_own_name() {
    let server = Server::start();
    let record = protocol(7, OFFICER_KEY, "P-300");
    let other = server.post_json("/api/v1/protocols", Some(&api_key("field_officer", false)), &record);
    assert_eq!(other.status, 403, "police-b's field officer: {}", other.body);
    let citizen = server.post_json("/api/v1/protocols", Some(&api_key("citizen", true)), &record);
    assert_eq!(citizen.status, 403, "{}", citizen.body);
    let officer = server.post_json("/api/v1/protocols", Some(&api_key("officer", true)), &record);
    assert_eq!(officer.status, 403, "{}", officer.body);
    let anonymous = server.post_json("/api/v1/protocols", None, &record);
    assert_eq!(anonymous.status, 401);
    let someone_else = protocol(7, "k-someone-else", "P-301");
    let answer = server.post_json("/api/v1/protocols", Some(&api_key("field_officer", true)), &someone_else);
    assert_eq!(answer.status, 403, "another officer's name: {}", answer.body);
    let mut no_amount = protocol(7, OFFICER_KEY, "P-302");
    no_amount.as_object_mut().unwrap().remove("amount_mci");
    let answer = server.post_json("/api/v1/protocols", Some(&api_key("field_officer", true)), &no_amount);
    assert_eq!(answer.status, 400, "{}", answer.body);
    // Nothing of these reached the ledger.
    let quarantine = server.get("/api/v1/quarantine", Some(&api_key("admin", true)));
    assert_eq!(quarantine.body, "[]");
}

#[test]
fn the_field_page_knows_the_device_and_a_session_needs_its_csrf_token() {
    let server = Server::start();
    let login = server.get_with_cookies("/login", "");
    let cookie = cookie_pair(login.cookies.iter().find(|c| c.starts_with("casetrail_csrf=")).expect("a csrf cookie"));
    let ok = server.post_form(
        "/login",
        &cookie,
        &[("csrf", &csrf_of(&login.body)), ("login", "field_officer-own"), ("password", PASSWORD)],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = cookie_pair(ok.cookies.iter().find(|c| c.starts_with("casetrail_session=")).unwrap());

    let page = server.get_with_cookies("/field?device=tab-1", &session);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-status=\"enrolled\""), "tab-1 is police-a's: {}", page.body);
    assert!(page.body.contains("<noscript>") && page.body.contains("casetrail field"), "the way without JavaScript");
    assert!(page.body.contains("<script src=\"/assets/field.js\"></script>"));
    let stranger = server.get_with_cookies("/field?device=web-0123456789abcdef", &session);
    assert!(stranger.body.contains("data-status=\"not-enrolled\""), "{}", stranger.body);
    let csrf = csrf_of(&page.body);

    let record = protocol(7, "field_officer-own", "P-400");
    let post = |token: Option<&str>| {
        let mut request = server
            .agent
            .post(&server.url("/api/v1/protocols"))
            .set("Content-Type", "application/json")
            .set("Cookie", &session);
        if let Some(token) = token {
            request = request.set("X-CSRF-Token", token);
        }
        answer(request.send_string(&record.to_string()))
    };
    assert_eq!(post(None).status, 403, "a session's POST without its CSRF token");
    let sent = post(Some(&csrf));
    assert_eq!(sent.status, 200, "{}", sent.body);
    let uin = serde_json::from_str::<serde_json::Value>(&sent.body).unwrap()["uin"].as_str().unwrap().to_owned();

    let code = server.get_with_cookies(&format!("/field/charges/{uin}"), &session);
    assert_eq!(code.status, 200, "{}", code.body);
    assert!(code.body.contains(&uin) && code.body.contains("<svg"), "{}", code.body);
    let other = server.get_with_cookies(&format!("/field/charges/{UIN}"), "");
    assert_eq!(other.status, 401, "anonymous visitors see no payment code");

    let script = server.get("/assets/field.js", None);
    assert_eq!(script.status, 200);
    assert!(script.content_type.contains("javascript"), "{}", script.content_type);
}
