//! Every operation of the OpenAPI document × every role × an account of the
//! resource's own agency (or region) and of another: 401 without
//! credentials, 403 for a role or scope that may not, the operation's own
//! answer otherwise. The expected table is written here, independently of
//! the server's `authorize`.

use crate::helpers::*;

/// Who may call an operation: `Public`, or the roles with whether the
/// "other" side (another agency or region) is allowed too.
enum Rule {
    Public,
    Roles(&'static [(&'static str, bool)]),
}

fn rule(operation_id: &str) -> Rule {
    match operation_id {
        "status" | "list_agencies" | "track_appeal" | "fine_lookup" => Rule::Public,
        "register_appeal" => Rule::Roles(&[("citizen", true), ("integration", false), ("officer", false)]),
        "appeal_detail" => Rule::Roles(&[("officer", false), ("agency_head", false), ("prosecutor", false)]),
        "accept_appeal" | "forward_appeal" | "extend_appeal" | "answer_appeal" | "agency_queue" => {
            Rule::Roles(&[("officer", false), ("agency_head", false)])
        }
        // Reports filter rows by scope instead of refusing.
        "report" => Rule::Roles(&[("prosecutor", true), ("analyst", true)]),
        // A bailiff refers to its own chamber, and only charges of its region.
        "assign_appeal" => Rule::Roles(&[("prosecutor", false)]),
        "refer_fine" => Rule::Roles(&[("bailiff", false)]),
        // Lists filtered to the chamber's region and its own referrals.
        "bailiff_due" | "bailiff_recalls" => Rule::Roles(&[("bailiff", true)]),
        "quarantine"
        | "admin_accounts"
        | "admin_create_account"
        | "admin_disable_account"
        | "admin_register_agency"
        | "admin_devices"
        | "admin_enrol_device"
        | "admin_revoke_device"
        | "admin_api_keys"
        | "admin_issue_api_key"
        | "admin_revoke_api_key" => Rule::Roles(&[("admin", true)]),
        // The agency is the record's, checked after the body (tests/api/field.rs):
        // every field officer passes the role check and gets 400 for `{}`.
        "sign_protocol" => Rule::Roles(&[("field_officer", true)]),
        other => panic!("operation {other} has no expected rule: add it to this test"),
    }
}

fn concrete(path: &str) -> String {
    path.replace("{number}", AT_AKIMAT_A)
        .replace("{agency}", "akimat-a")
        .replace("{name}", "overdue")
        .replace("{uin}", UIN)
        .replace("{account}", "officer-own")
        .replace("{device}", "tab-1")
        .replace("{key_id}", "k-citizen-own")
}

fn body(operation_id: &str) -> serde_json::Value {
    match operation_id {
        "register_appeal" => {
            serde_json::json!({"agency": "akimat-a", "category": "roads", "applicant": {"iin": iin(9)}})
        }
        "track_appeal" => serde_json::json!({"appeal": AT_AKIMAT_A, "iin": iin(2)}),
        "fine_lookup" => serde_json::json!({"iin": iin(4), "uin": UIN}),
        // Handlers check the caller before the body: an empty body gets
        // 400 only from someone allowed to send one.
        _ => serde_json::json!({}),
    }
}

#[test]
fn every_operation_every_role_own_and_other_agency() {
    let server = Server::start();
    let document: serde_json::Value = serde_json::from_str(&server.get("/api/openapi.json", None).body).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let operations = operations(&document);
    assert!(operations.len() >= 13, "{} operations", operations.len());
    let mut checked = 0;
    let mut failures = Vec::new();
    for ((path, method), op) in &operations {
        let id = op["operationId"].as_str().unwrap();
        let url = concrete(path);
        let call = |key: Option<&str>| match method.as_str() {
            "get" => server.get(&url, key),
            "post" => server.post_json(&url, key, &body(id)),
            other => panic!("unexpected method {other}"),
        };
        let anonymous = call(None);
        let expected_anonymous = matches!(rule(id), Rule::Public);
        if expected_anonymous != (200..300).contains(&anonymous.status)
            || (!expected_anonymous && anonymous.status != 401)
        {
            failures.push(format!("{method} {path} anonymous: {} {}", anonymous.status, anonymous.body));
        }
        for role in ROLES {
            for own in [true, false] {
                let key = api_key(role, own);
                let answer = call(Some(&key));
                let allowed = match rule(id) {
                    Rule::Public => true,
                    Rule::Roles(roles) => roles.iter().any(|(r, other_too)| r == role && (own || *other_too)),
                };
                let ok = if allowed {
                    if method == "get" || matches!(id, "register_appeal" | "track_appeal" | "fine_lookup") {
                        (200..300).contains(&answer.status)
                    } else {
                        !matches!(answer.status, 401 | 403) && answer.status < 500
                    }
                } else {
                    answer.status == 403
                };
                if !ok {
                    failures.push(format!(
                        "{method} {path} as {role} ({}), allowed={allowed}: {} {}",
                        side(own),
                        answer.status,
                        answer.body
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_wrong_or_revoked_credential_is_401_not_anonymous() {
    let server = Server::start();
    let wrong = server.get("/api/v1/quarantine", Some("k-admin-own.not-the-secret"));
    assert_eq!(wrong.status, 401);
    let garbage = server.get("/api/v1/agencies/akimat-a/queue", Some("nonsense"));
    assert_eq!(garbage.status, 401, "a malformed credential");
    let revoked_unknown = server.get("/api/v1/agencies/akimat-a/queue", Some("k-nobody.secret"));
    assert_eq!(revoked_unknown.status, 401, "an unknown key");
}

#[test]
fn reports_are_scoped_to_the_prosecutors_region() {
    let server = Server::start();
    let rows = |key: &str| -> Vec<serde_json::Value> {
        let answer = server.get("/api/v1/reports/overdue?as_of=2026-06-01", Some(key));
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    };
    let holders = |rows: Vec<serde_json::Value>| -> Vec<String> {
        let mut holders: Vec<String> = rows.iter().map(|r| r["holder"].as_str().unwrap().to_owned()).collect();
        holders.sort();
        holders.dedup();
        holders
    };
    assert_eq!(holders(rows(&api_key("prosecutor", true))), ["akimat-a", "police-a"]);
    assert_eq!(holders(rows(&api_key("prosecutor", false))), ["akimat-b"]);
}

#[test]
fn openid_connect_tokens_map_claims_to_a_role_and_are_checked() {
    use base64::Engine;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"}]}).to_string()).unwrap();
    let oidc = casetrail_web::OidcConfig::from_file("https://idp.example.kz", &jwks, None).unwrap();
    let server =
        Server::start_with(casetrail_web::WebConfig { today: Some(today()), oidc: Some(oidc), ..Default::default() });
    // PKCS#8 v1 DER of an Ed25519 private key: fixed prefix + the 32-byte seed.
    let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
    der.extend_from_slice(&key.to_bytes());
    let encoding = EncodingKey::from_ed_der(&der);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".into());
    let token = |issuer: &str, role: &str| {
        let claims = serde_json::json!({"iss": issuer, "sub": "user-42", "exp": 4_102_444_800u64,
            "casetrail_role": role, "casetrail_agency": "prosecutor-a"});
        encode(&header, &claims, &encoding).unwrap()
    };
    let ok = server.get("/api/v1/reports/overdue", Some(&token("https://idp.example.kz", "prosecutor")));
    assert_eq!(ok.status, 200, "{}", ok.body);
    let citizen = server.get("/api/v1/reports/overdue", Some(&token("https://idp.example.kz", "citizen")));
    assert_eq!(citizen.status, 403);
    let stranger = server.get("/api/v1/reports/overdue", Some(&token("https://evil.example", "prosecutor")));
    assert_eq!(stranger.status, 401, "another issuer");
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[10u8; 32]);
    let mut other_der = hex::decode("302e020100300506032b657004220420").unwrap();
    other_der.extend_from_slice(&other_key.to_bytes());
    let forged = encode(
        &header,
        &serde_json::json!({"iss": "https://idp.example.kz", "sub": "x", "exp": 4_102_444_800u64, "casetrail_role": "admin"}),
        &EncodingKey::from_ed_der(&other_der),
    )
    .unwrap();
    assert_eq!(server.get("/api/v1/quarantine", Some(&forged)).status, 401, "a token signed by another key");
}
