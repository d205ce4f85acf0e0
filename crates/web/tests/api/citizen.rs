//! The citizen's view of one forwarded appeal, number by number (computed
//! by hand from the rules and the 2026 calendar: no holiday in February).

use crate::helpers::*;

#[test]
fn citizen_view_of_a_forwarded_appeal_has_both_clocks_and_every_body() {
    let server = Server::start();
    let view =
        server.post_json("/api/v1/appeals/track", None, &serde_json::json!({"appeal": FORWARDED, "iin": iin(1)}));
    assert_eq!(view.status, 200, "{}", view.body);
    let view: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    assert_eq!(view["status"], "open");
    assert_eq!(view["holder"], "police-a");
    assert_eq!(view["holder_name"]["kk"], "Астана полициясы");
    assert_eq!(view["holder_name"]["ru"], "Полиция Астаны");
    assert_eq!(view["holder_name"]["en"], "Astana Police");
    assert_eq!(view["registered_on"], "2026-02-02");
    // Statutory clock restarts at police-a (received 4 Feb): 15 working days → 25 Feb.
    assert_eq!(view["statutory_due"], "2026-02-25");
    // 5, 6, 9–13, 16 February.
    assert_eq!(view["statutory_working_days"], 8);
    // The citizen's clock from 2 Feb: 15 working days → 23 Feb; 3–6, 9–13, 16 Feb = 10 days.
    assert_eq!(view["citizen_due"], "2026-02-23");
    assert_eq!(view["citizen_working_days"], 10);
    assert_eq!(view["overdue"], false);
    assert_eq!(view["forwards"], 1);
    let stops = view["stops"].as_array().unwrap();
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0]["agency"], "akimat-a");
    assert_eq!(stops[0]["via"], "registered");
    assert_eq!(stops[0]["left_on"], "2026-02-04");
    assert_eq!(stops[0]["departure"], "forwarded");
    assert_eq!(stops[0]["forward_reason"], "not_in_competence");
    assert_eq!(stops[0]["working_days_held"], 2);
    assert_eq!(stops[0]["statutory_due"], "2026-02-23");
    assert_eq!(stops[1]["agency"], "police-a");
    assert_eq!(stops[1]["via"], "forwarded");
    assert!(stops[1].get("left_on").is_none());
    assert_eq!(stops[1]["working_days_held"], 8);
    assert!(!view.to_string().contains(&iin(1)), "the view carries no IIN");
}

#[test]
fn a_wrong_iin_looks_exactly_like_an_unknown_appeal() {
    let server = Server::start();
    let wrong =
        server.post_json("/api/v1/appeals/track", None, &serde_json::json!({"appeal": FORWARDED, "iin": iin(2)}));
    let unknown =
        server.post_json("/api/v1/appeals/track", None, &serde_json::json!({"appeal": "A-404", "iin": iin(1)}));
    assert_eq!((wrong.status, unknown.status), (404, 404));
    assert_eq!(wrong.body, unknown.body.replace("A-404", FORWARDED));
}

#[test]
fn the_track_page_shows_the_timeline_in_each_language() {
    let server = Server::start();
    for (lang, holder, days) in [
        ("kk", "Астана полициясы", "Берген күннен бергі жұмыс күндері"),
        ("ru", "Полиция Астаны", "Рабочих дней с подачи"),
        ("en", "Astana Police", "Working days since you filed"),
    ] {
        let form = server.agent.get(&server.url("/track")).set("Accept-Language", lang).call().unwrap();
        let cookie = cookie_pair(form.header("set-cookie").unwrap());
        let page = form.into_string().unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        let csrf = csrf_of(&page);
        let iin1 = iin(1);
        let result = answer(
            server.agent.post(&server.url("/track")).set("Cookie", &cookie).set("Accept-Language", lang).send_form(&[
                ("csrf", &csrf),
                ("appeal", FORWARDED),
                ("iin", &iin1),
            ]),
        );
        assert_eq!(result.status, 200, "{lang}: {}", result.body);
        assert!(result.body.contains(holder), "{lang}: holder name");
        assert!(result.body.contains(days), "{lang}: the citizen's clock");
        assert_eq!(result.body.matches("<li>").count(), 2, "{lang}: one step per body");
        assert!(!result.body.contains(&iin1), "{lang}: the IIN is not echoed");
    }
}

#[test]
fn fines_lookup_shows_what_is_owed_today_with_the_fifty_percent_deadline_and_a_qr_code() {
    let server = Server::start();
    let fine = server.post_json("/api/v1/fines/lookup", None, &serde_json::json!({"iin": iin(4), "uin": UIN}));
    assert_eq!(fine.status, 200, "{}", fine.body);
    let fine: serde_json::Value = serde_json::from_str(&fine.body).unwrap();
    // 5 MCI × 4,325 (2026) = 21,625.00; half inside 7 working days after 10 Feb (→ 19 Feb).
    assert_eq!(fine["amount"], "21625.00");
    assert_eq!(fine["owed_today"], "10812.50");
    assert_eq!(fine["discount_until"], "2026-02-19");
    assert_eq!(fine["status"], "open");
    let other = server.post_json("/api/v1/fines/lookup", None, &serde_json::json!({"iin": iin(1), "uin": UIN}));
    assert_eq!(other.status, 404, "another person's IIN finds nothing");

    let form = server.agent.get(&server.url("/fines")).set("Accept-Language", "ru").call().unwrap();
    let cookie = cookie_pair(form.header("set-cookie").unwrap());
    let csrf = csrf_of(&form.into_string().unwrap());
    let iin4 = iin(4);
    let page = answer(
        server.agent.post(&server.url("/fines")).set("Cookie", &cookie).set("Accept-Language", "ru").send_form(&[
            ("csrf", &csrf),
            ("iin", &iin4),
            ("uin", UIN),
        ]),
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "a payment QR code");
    assert!(page.body.contains("10\u{a0}812,50\u{a0}₸"), "money per locale:\n{}", page.body);
    assert!(page.body.contains("19 февраля 2026 г."), "the 50% deadline as a Russian date");
    assert!(!page.body.contains(&iin4));
}
