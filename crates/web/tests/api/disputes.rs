//! Competence disputes over HTTP: a forward back to a body that held the
//! appeal opens one for the prosecutor's office of the region, which alone
//! may settle it by assigning the appeal; the assigned body can then no
//! longer forward it.

use crate::helpers::*;

#[test]
fn the_regions_prosecutor_assigns_a_disputed_appeal_and_the_assignee_cannot_forward_it() {
    let server = Server::start();
    let officer = api_key("officer", true);
    let url = |action: &str| format!("/api/v1/appeals/{BACK_AND_FORTH}/{action}");
    let to_akimat = serde_json::json!({"to": "akimat-a"});

    // No dispute yet: nothing to settle.
    let early = server.post_json(&url("assign"), Some(&api_key("prosecutor", true)), &to_akimat);
    assert_eq!(early.status, 409, "{}", early.body);

    // akimat-a sends it back to police-a, which held it: a cycle, a dispute.
    let back = serde_json::json!({"to": "police-a", "reason": "not_in_competence", "confirm": true});
    let forwarded = server.post_json(&url("forward"), Some(&officer), &back);
    assert_eq!(forwarded.status, 200, "{}", forwarded.body);

    for (key, who) in [(api_key("prosecutor", false), "another region's prosecutor"), (officer.clone(), "an officer")] {
        let refused = server.post_json(&url("assign"), Some(&key), &to_akimat);
        assert_eq!(refused.status, 403, "{who} may not settle it: {}", refused.body);
    }
    let unknown =
        server.post_json(&url("assign"), Some(&api_key("prosecutor", true)), &serde_json::json!({"to": "nobody"}));
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    let assigned = server.post_json(&url("assign"), Some(&api_key("prosecutor", true)), &to_akimat);
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    let again = server.post_json(&url("assign"), Some(&api_key("prosecutor", true)), &to_akimat);
    assert_eq!(again.status, 409, "the dispute is settled: {}", again.body);

    // The appeal is akimat-a's now, and it cannot pass it on.
    let queue = server.get("/api/v1/agencies/akimat-a/queue", Some(&officer));
    assert!(queue.body.contains(BACK_AND_FORTH), "{}", queue.body);
    let onward = serde_json::json!({"to": "akimat-b", "reason": "other", "confirm": true});
    let refused = server.post_json(&url("forward"), Some(&officer), &onward);
    assert_eq!(refused.status, 409, "an assigned appeal is not forwarded: {}", refused.body);
}

#[test]
fn the_case_pages_ask_a_visitor_to_sign_in() {
    let server = Server::start();
    for page in ["/prosecutor/disputes", "/prosecutor/alerts", "/prosecutor/audit", "/prosecutor/access"] {
        assert_eq!(server.get_with_cookies(page, "").status, 401, "{page}");
    }
}
