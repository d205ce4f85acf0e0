//! Sign-in: session cookie flags, CSRF on every form, the login limiter,
//! the officer's queue and actions through the page.

use crate::helpers::*;

fn login_form(server: &Server) -> (String, String) {
    let page = server.get_with_cookies("/login", "");
    assert_eq!(page.status, 200);
    let cookie = cookie_pair(page.cookies.iter().find(|c| c.starts_with("casetrail_csrf=")).expect("a csrf cookie"));
    (cookie, csrf_of(&page.body))
}

#[test]
fn login_sets_a_strict_http_only_session_and_every_form_needs_its_token() {
    let server = Server::start();
    let (cookie, csrf) = login_form(&server);
    let no_token = server.post_form("/login", &cookie, &[("login", "officer-own"), ("password", PASSWORD)]);
    assert_eq!(no_token.status, 403, "a form without its CSRF token is refused");
    let wrong_token =
        server.post_form("/login", &cookie, &[("csrf", "0123"), ("login", "officer-own"), ("password", PASSWORD)]);
    assert_eq!(wrong_token.status, 403);

    let ok = server.post_form("/login", &cookie, &[("csrf", &csrf), ("login", "officer-own"), ("password", PASSWORD)]);
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = ok.cookies.iter().find(|c| c.starts_with("casetrail_session=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    assert!(!session.contains("Secure"), "plain localhost in tests: Secure is a setting");
    let session = cookie_pair(session);

    let queue = server.get_with_cookies("/officer", &session);
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains(AT_AKIMAT_A), "the agency's own appeal is in its queue");
    assert!(!queue.body.contains(AT_AKIMAT_B), "another agency's appeal is not");
    let session_csrf = csrf_of(&queue.body);

    // An action without the session's token is refused; with it, recorded.
    let path = format!("/officer/appeals/{AT_AKIMAT_A}/answer");
    let forged = server.post_form(&path, &session, &[("csrf", &csrf), ("outcome", "explained")]);
    assert_eq!(forged.status, 403, "the anonymous token is not the session's");
    let answered = server.post_form(&path, &session, &[("csrf", &session_csrf), ("outcome", "explained")]);
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(!answered.body.contains(&format!("<th scope=\"row\">{AT_AKIMAT_A}</th>")), "answered: out of the queue");

    // Forwarding back to a body that held it asks for confirmation first.
    let path = format!("/officer/appeals/{BACK_AND_FORTH}/forward");
    let fields = [("csrf", session_csrf.as_str()), ("to", "police-a"), ("reason", "other"), ("note", "")];
    let warned = server.post_form(&path, &session, &fields);
    assert_eq!(warned.status, 409, "{}", warned.body);
    assert!(
        warned.body.contains("police-a") && warned.body.contains("name=\"confirm\" value=\"true\""),
        "{}",
        warned.body
    );
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "true"));
    let forwarded = server.post_form(&path, &session, &confirmed);
    assert_eq!(forwarded.status, 200, "{}", forwarded.body);
    assert!(
        !forwarded.body.contains(&format!("<th scope=\"row\">{BACK_AND_FORTH}</th>")),
        "forwarded: out of the queue"
    );
    let no_reason = server.post_form(
        &format!("/officer/appeals/{FORWARDED}/forward"),
        &session,
        &[("csrf", &session_csrf), ("to", "akimat-b")],
    );
    assert_eq!(no_reason.status, 400, "a reason is required");

    // Logout ends the session.
    let out = server.post_form("/logout", &session, &[("csrf", &session_csrf)]);
    assert_eq!(out.status, 303);
    assert_eq!(server.get_with_cookies("/officer", &session).status, 401);
}

#[test]
fn the_api_refuses_a_forward_back_unless_confirmed_and_requires_a_reason() {
    let server = Server::start();
    let key = api_key("officer", true);
    let url = format!("/api/v1/appeals/{BACK_AND_FORTH}/forward");
    let back = server.post_json(&url, Some(&key), &serde_json::json!({"to": "police-a", "reason": "other"}));
    assert_eq!(back.status, 409, "{}", back.body);
    assert!(back.body.contains("cycle"));
    let no_reason = server.post_json(&url, Some(&key), &serde_json::json!({"to": "akimat-b"}));
    assert_eq!(no_reason.status, 400, "{}", no_reason.body);
    let confirmed =
        server.post_json(&url, Some(&key), &serde_json::json!({"to": "police-a", "reason": "other", "confirm": true}));
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let view =
        server.post_json("/api/v1/appeals/track", None, &serde_json::json!({"appeal": BACK_AND_FORTH, "iin": iin(5)}));
    let view: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    assert_eq!(view["holder"], "police-a");
    assert_eq!(view["forwards"], 2);
}

#[test]
fn failed_logins_are_limited_per_ip_and_login() {
    let server = Server::start();
    let (cookie, csrf) = login_form(&server);
    for attempt in 1..=5 {
        let wrong = server.post_form(
            "/login",
            &cookie,
            &[("csrf", &csrf), ("login", "admin-own"), ("password", "wrong password")],
        );
        assert_eq!(wrong.status, 401, "attempt {attempt}");
    }
    let limited =
        server.post_form("/login", &cookie, &[("csrf", &csrf), ("login", "admin-own"), ("password", PASSWORD)]);
    assert_eq!(limited.status, 429, "even the right password waits after five failures");
    let other_login =
        server.post_form("/login", &cookie, &[("csrf", &csrf), ("login", "officer-own"), ("password", PASSWORD)]);
    assert_eq!(other_login.status, 303, "another login from the same address is not blocked");
}

#[test]
fn an_officer_accepts_an_appeal_once_and_only_in_its_own_agency() {
    let server = Server::start();
    let own = api_key("officer", true);
    let other = api_key("officer", false);
    let url = format!("/api/v1/appeals/{AT_AKIMAT_A}/accept");
    let empty = serde_json::json!({});
    let refused = server.post_json(&url, Some(&other), &empty);
    assert_eq!(refused.status, 403, "another agency's officer may not accept it: {}", refused.body);
    let accepted = server.post_json(&url, Some(&own), &empty);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let again = server.post_json(&url, Some(&own), &empty);
    assert_eq!(again.status, 409, "accepting twice cannot be true: {}", again.body);
    assert!(again.body.contains("already accepted"), "{}", again.body);
    // The queue shows it as taken into work (on the day the server recorded it), due as before.
    let queue = server.get("/api/v1/agencies/akimat-a/queue", Some(&own));
    let items: serde_json::Value = serde_json::from_str(&queue.body).unwrap();
    let item = items.as_array().unwrap().iter().find(|i| i["appeal"] == AT_AKIMAT_A).expect("still in the queue");
    assert!(item["accepted_on"].is_string(), "{item}");
    assert_eq!(item["statutory_due"], "2026-03-02", "accepting moves no clock: {item}");
}
