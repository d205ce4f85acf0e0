//! Administration over the API (`/api/v1/admin/...`) and the bailiff's
//! referral scope: what an administrator creates is in the ledger and works
//! (an account signs in, a key authenticates, a device is listed), secrets
//! and passwords never come back, duplicates are refused without touching
//! the quarantine, and a bailiff may take only its own region's charges.

use base64::Engine;

use crate::helpers::*;

const ADMIN: &str = "k-admin-own.secret-admin-own";

fn json(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", answer.body))
}

/// Signs in through the form; the session cookie when it worked.
fn sign_in(server: &Server, login: &str, password: &str) -> Option<String> {
    let page = server.get_with_cookies("/login", "");
    let cookie = cookie_pair(page.cookies.iter().find(|c| c.starts_with("casetrail_csrf=")).unwrap());
    let csrf = csrf_of(&page.body);
    let answer = server.post_form("/login", &cookie, &[("csrf", &csrf), ("login", login), ("password", password)]);
    let session = answer.cookies.iter().find(|c| c.starts_with("casetrail_session="))?;
    (answer.status == 303).then(|| cookie_pair(session))
}

#[test]
fn an_account_created_over_the_api_signs_in_until_it_is_disabled() {
    let server = Server::start();
    let password = "a new initial password";
    let body = serde_json::json!({"account": "clerk-9", "role": "officer", "agency": "akimat-a", "password": password});
    let created = server.post_json("/api/v1/admin/accounts", Some(ADMIN), &body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(!created.body.contains(password));
    assert_eq!(server.post_json("/api/v1/admin/accounts", Some(ADMIN), &body).status, 409, "a second clerk-9");

    let short = serde_json::json!({"account": "clerk-10", "role": "officer", "password": "short"});
    assert_eq!(server.post_json("/api/v1/admin/accounts", Some(ADMIN), &short).status, 400);
    let nowhere =
        serde_json::json!({"account": "clerk-11", "role": "officer", "agency": "nowhere", "password": password});
    assert_eq!(server.post_json("/api/v1/admin/accounts", Some(ADMIN), &nowhere).status, 400);

    let list = server.get("/api/v1/admin/accounts", Some(ADMIN));
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("argon2") && !list.body.contains(password), "the list shows a password or its hash");
    let clerk = json(&list).as_array().unwrap().iter().find(|a| a["account"] == "clerk-9").cloned().unwrap();
    assert_eq!(clerk["role"], "officer");
    assert_eq!(clerk["agency"], "akimat-a");
    assert!(clerk.get("disabled_at").is_none());

    let session = sign_in(&server, "clerk-9", password).expect("the new account signs in");
    assert_eq!(server.get_with_cookies("/officer", &session).status, 200);
    let reason = serde_json::json!({"reason": "left the agency"});
    let disabled = server.post_json("/api/v1/admin/accounts/clerk-9/disable", Some(ADMIN), &reason);
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(server.post_json("/api/v1/admin/accounts/clerk-9/disable", Some(ADMIN), &reason).status, 409);
    assert_eq!(server.post_json("/api/v1/admin/accounts/nobody/disable", Some(ADMIN), &reason).status, 404);
    assert!(sign_in(&server, "clerk-9", password).is_none(), "a disabled account does not sign in");
    let after = server.get_with_cookies("/officer", &session);
    assert_eq!(after.status, 401, "the disabled account's open session is closed: {}", after.status);

    let status = json(&server.get("/api/v1/status", None));
    assert_eq!(status["quarantine_open"], 0, "refusals are answered, not quarantined");
}

#[test]
fn an_issued_key_works_once_shown_and_stops_when_revoked() {
    let server = Server::start();
    let body = serde_json::json!({"role": "integration", "agency": "akimat-a", "provider": "eotinish"});
    let issued = server.post_json("/api/v1/admin/apikeys", Some(ADMIN), &body);
    assert_eq!(issued.status, 201, "{}", issued.body);
    let issued = json(&issued);
    let key = issued["key"].as_str().unwrap().to_owned();
    let key_id = issued["key_id"].as_str().unwrap().to_owned();
    let (id, secret) = key.split_once('.').unwrap();
    assert_eq!(id, key_id);
    assert_eq!(secret.len(), 64);

    let appeal = serde_json::json!({"agency": "akimat-a", "category": "roads", "applicant": {"iin": iin(9)}});
    assert_eq!(server.post_json("/api/v1/appeals", Some(&key), &appeal).status, 201);
    let list = server.get("/api/v1/admin/apikeys", Some(ADMIN));
    assert!(!list.body.contains(secret), "the secret is listed");
    let row = json(&list).as_array().unwrap().iter().find(|k| k["key_id"] == key_id.as_str()).cloned().unwrap();
    assert_eq!(row["provider"], "eotinish");
    assert_eq!(row["role"], "integration");

    let reason = serde_json::json!({"reason": "connector replaced"});
    let path = format!("/api/v1/admin/apikeys/{key_id}/revoke");
    assert_eq!(server.post_json(&path, Some(ADMIN), &reason).status, 200);
    assert_eq!(server.post_json("/api/v1/appeals", Some(&key), &appeal).status, 401, "a revoked key");
    assert_eq!(server.post_json(&path, Some(ADMIN), &reason).status, 409);
}

#[test]
fn devices_need_a_32_byte_key_and_agencies_are_registered_in_three_languages() {
    let server = Server::start();
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let public = b64.encode(key.verifying_key().to_bytes());
    let short = serde_json::json!({"device": "tab-9", "agency": "police-a", "public_key": b64.encode([1u8; 31])});
    let refused = server.post_json("/api/v1/admin/devices", Some(ADMIN), &short);
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("31 bytes"), "{}", refused.body);
    let device = serde_json::json!({"device": "tab-9", "agency": "police-a", "public_key": public});
    assert_eq!(server.post_json("/api/v1/admin/devices", Some(ADMIN), &device).status, 201);
    assert_eq!(server.post_json("/api/v1/admin/devices", Some(ADMIN), &device).status, 409, "enrolled twice");
    let listed = json(&server.get("/api/v1/admin/devices", Some(ADMIN)));
    let row = listed.as_array().unwrap().iter().find(|d| d["device"] == "tab-9").cloned().unwrap();
    assert_eq!(row["agency"], "police-a");
    assert_eq!(row["public_key"], public.as_str());
    let reason = serde_json::json!({"reason": "lost"});
    assert_eq!(server.post_json("/api/v1/admin/devices/tab-9/revoke", Some(ADMIN), &reason).status, 200);
    let listed = json(&server.get("/api/v1/admin/devices", Some(ADMIN)));
    let row = listed.as_array().unwrap().iter().find(|d| d["device"] == "tab-9").cloned().unwrap();
    assert!(row["revoked_at"].is_string(), "{row}");

    let agency = serde_json::json!({"agency": "court-a", "kind": "court", "region": "710000000",
        "name": {"kk": "Астана соты", "ru": "Суд Астаны", "en": "Astana Court"}});
    // The server keeps agencies cached: one it registers is known at once.
    let citizen = api_key("citizen", true);
    let appeal = serde_json::json!({"agency": "court-a", "category": "courts", "applicant": {"iin": iin(8)}});
    assert_eq!(server.post_json("/api/v1/appeals", Some(&citizen), &appeal).status, 400, "no such agency yet");
    assert_eq!(server.post_json("/api/v1/admin/agencies", Some(ADMIN), &agency).status, 201);
    let registered = server.post_json("/api/v1/appeals", Some(&citizen), &appeal);
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(json(&registered)["holder"], "court-a");
    assert_eq!(server.post_json("/api/v1/admin/agencies", Some(ADMIN), &agency).status, 409, "a double submit");
    let agencies = json(&server.get("/api/v1/agencies", None));
    let court = agencies.as_array().unwrap().iter().find(|a| a["agency"] == "court-a").cloned().unwrap();
    assert_eq!(court["name"]["ru"], "Суд Астаны");
    assert_eq!(court["region"], "710000000");
    let nameless =
        serde_json::json!({"agency": "court-b", "kind": "court", "name": {"kk": "", "ru": "Суд", "en": "Court"}});
    assert_eq!(server.post_json("/api/v1/admin/agencies", Some(ADMIN), &nameless).status, 400);
}

#[test]
fn a_bailiff_refers_only_its_regions_charges_and_the_gate_says_why_not() {
    let server = Server::start();
    let body = serde_json::json!({"document": "ED-1"});
    let path = format!("/api/v1/fines/{UIN}/refer");
    // The charge of police-a (region 71). `Ledger::refer` asks the gate on
    // the ledger's own clock, not the server's configured day: before
    // 2026-03-23 it is refused (not in force, or in its voluntary term);
    // after, the first referral passes and a second one is refused.
    let own = server.post_json(&path, Some(&api_key("bailiff", true)), &body);
    match own.status {
        200 => {
            let again = server.post_json(&path, Some(&api_key("bailiff", true)), &body);
            assert_eq!(again.status, 409, "{}", again.body);
            assert!(again.body.contains("already with bailiff bailiff-a"), "{}", again.body);
        }
        409 => assert!(own.body.contains("enters into force") || own.body.contains("voluntary term"), "{}", own.body),
        status => panic!("the own region's bailiff got {status}: {}", own.body),
    }
    let other = server.post_json(&path, Some(&api_key("bailiff", false)), &body);
    assert_eq!(other.status, 403, "another region's bailiff: {}", other.body);
}

#[test]
fn a_bailiff_lists_only_its_regions_due_charges_with_the_payer_masked() {
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let server = Server::start_with(casetrail_web::WebConfig { today: Some(as_of), ..Default::default() });
    let own = server.get("/api/v1/bailiff/due", Some(&api_key("bailiff", true)));
    assert_eq!(own.status, 200, "{}", own.body);
    let rows = json(&own);
    let row = rows.as_array().unwrap().iter().find(|r| r["uin"] == UIN).cloned().expect("the due charge is listed");
    assert_eq!(row["agency"], "police-a");
    assert_eq!(row["due"], "2026-03-23", "the day after the voluntary term");
    let payer = iin(4);
    assert_eq!(row["payer"], format!("{}••••••{}", &payer[..4], &payer[10..]));
    assert!(!own.body.contains(&payer), "the whole IIN is shown");
    let other = server.get("/api/v1/bailiff/due", Some(&api_key("bailiff", false)));
    assert_eq!(other.status, 200);
    assert_eq!(json(&other), serde_json::json!([]), "another region's bailiff sees nothing of region 71");
    let recalls = server.get("/api/v1/bailiff/recalls", Some(&api_key("bailiff", true)));
    assert_eq!(json(&recalls), serde_json::json!([]), "nothing was referred, so nothing recalled");
}

#[test]
fn a_retried_registration_is_the_first_one_and_a_number_taken_by_another_source_is_refused() {
    let server = Server::start();
    let connector = api_key("integration", true);
    let appeal = serde_json::json!({"appeal": "ЖТ-2026-00777001", "agency": "akimat-a", "category": "roads",
        "applicant": {"iin": iin(7)}});
    let first = server.post_json("/api/v1/appeals", Some(&connector), &appeal);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(json(&first)["result"], "appended");
    // The answer was lost; the connector sends the same registration again.
    let retry = server.post_json("/api/v1/appeals", Some(&connector), &appeal);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(json(&retry)["result"], "duplicate");
    assert_eq!(json(&retry)["seq"], json(&first)["seq"], "the first registration's event");
    assert_eq!(json(&retry)["holder"], "akimat-a");
    // Another caller cannot register the same number again.
    let other = server.post_json("/api/v1/appeals", Some(&api_key("citizen", true)), &appeal);
    assert_eq!(other.status, 400, "{}", other.body);
}
