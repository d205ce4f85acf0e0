//! The first minute, in a real Chromium: the story page of a simulated city
//! (ratings, the furthest-wandering appeal's path, a paid fine caught at the
//! gate, a receipt verified) in Kazakh, Russian and English, and a citizen
//! checking a receipt — a genuine one passes, an altered one fails and says
//! which part.
//!
//! What the page must show is computed here from the same database with the
//! reports crate, not copied from the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use casetrail_app::projector::kind;
use casetrail_app::{DbLocation, Ledger};
use casetrail_domain::charge::ChargeState;
use serde_json::Value;
use support::app::TestApp;
use support::browser::{Browser, LANGS};

/// What the story must tell, read from the ledger independently.
struct Expected {
    lowest_agency: String,
    furthest_appeal: String,
    caught_uin: Option<String>,
    /// A genuine receipt (JSON) of the caught fine's payment, or of event 1.
    receipt: String,
}

fn expected(app: &TestApp) -> Expected {
    let key = app.db.with_file_name("casetrail.key");
    let mut ledger = Ledger::open(&DbLocation::parse(&app.db.to_string_lossy()), Some(&key)).expect("open the ledger");
    let store = ledger.store();
    // The server counts from today, as read at its edge.
    #[allow(clippy::disallowed_methods)]
    let today = casetrail_types::time::local_date(chrono::Utc::now());
    let params = casetrail_reports::ReportParams { from: None, to: None, as_of: today };
    let rows = |store: &mut dyn casetrail_ledger::Store, name: &str| {
        casetrail_reports::run(name, store, &params).expect("report").objects()
    };
    let scorecard = rows(store, "scorecard");
    let lowest =
        scorecard.iter().max_by_key(|row| row["rank"].as_u64().unwrap()).expect("agencies are rated")["agency"].clone();
    let wandering = rows(store, "wandering");
    let most = wandering.iter().map(|row| row["forwards"].as_u64().unwrap()).max().expect("some appeal wandered");
    let furthest = wandering
        .iter()
        .filter(|row| row["forwards"].as_u64() == Some(most))
        .map(|row| row["appeal"].as_str().unwrap().to_owned())
        .min()
        .unwrap();
    let audit = rows(store, "paid-but-referred");
    let caught = audit.first().map(|row| row["uin"].as_str().unwrap().to_owned());
    // The payment that had covered the charge when it was referred.
    let seq = match audit.first() {
        Some(row) => {
            let uin = row["uin"].as_str().unwrap();
            let doc = store.doc(kind::CHARGE, uin).unwrap().expect("the charge");
            let charge: ChargeState = serde_json::from_str(&doc.doc).unwrap();
            let referred = chrono::DateTime::parse_from_rfc3339(row["referred_at"].as_str().unwrap()).unwrap();
            charge.covering_payments(referred.with_timezone(&chrono::Utc)).unwrap().last().unwrap().seq
        }
        None => 1,
    };
    let receipt = casetrail_app::receipt::make_receipt(store, seq, None).expect("a receipt");
    Expected {
        lowest_agency: app.data.agency_name(lowest.as_str().unwrap(), "en"),
        furthest_appeal: furthest,
        caught_uin: caught,
        receipt: serde_json::to_string_pretty(&receipt).unwrap(),
    }
}

fn words(lang: &str) -> (&'static str, &'static str, &'static str) {
    // (tagline, receipt genuine, receipt fails)
    match lang {
        "kk" => (
            "Азаматтардың өтініштері мен әкімшілік айыппұлдардың бірыңғай есебі.",
            "Түбіртек түпнұсқа",
            "Түбіртек тексеруден өтпеді",
        ),
        "ru" => (
            "Единый учёт обращений граждан и административных штрафов.",
            "Квитанция подлинная",
            "Квитанция не прошла проверку",
        ),
        _ => (
            "One accountable trail for every citizen appeal and administrative fine.",
            "The receipt is genuine",
            "The receipt does not verify",
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_page_tells_the_citys_story_and_a_receipt_checks_out() {
    // Enough fines that some were paid and referred anyway.
    let app = TestApp::start(1_500, 6_000).await;
    let expected = expected(&app);
    for lang in LANGS {
        let browser = Browser::start(lang).await;
        browser.open(&app.url("/")).await;
        let text = browser.page_text().await;
        let (tagline, genuine, fails) = words(lang);
        assert!(text.contains(tagline), "[{lang}] the tagline is missing:\n{text}");
        assert!(text.contains(&app.data.events.to_string()), "[{lang}] the ledger's size is missing:\n{text}");
        let lowest = if lang == "en" {
            expected.lowest_agency.clone()
        } else {
            let slug = app.data.agencies.iter().find(|(_, n)| n.get("en") == Some(&expected.lowest_agency)).unwrap().0;
            app.data.agency_name(slug, lang)
        };
        let worst = browser.text("table.worst").await;
        assert!(worst.contains(&lowest), "[{lang}] the lowest rated agency {lowest:?} is not named first:\n{worst}");
        assert!(text.contains(&expected.furthest_appeal), "[{lang}] the furthest appeal is not told:\n{text}");
        assert_eq!(browser.count("figure.chart svg").await, 1, "[{lang}] the appeal's path is drawn");
        match &expected.caught_uin {
            Some(uin) => assert!(text.contains(uin), "[{lang}] the caught fine {uin} is missing:\n{text}"),
            None => panic!("the simulated city has no paid-but-referred fine: make the dataset larger"),
        }
        assert_eq!(browser.count("#receipt ~ p.ok").await, 1, "[{lang}] the receipt is verified on the page:\n{text}");
        browser.screenshot("story").await;
        browser.phone().await;
        browser.open(&app.url("/")).await;
        browser.assert_fits_width().await;
        browser.screenshot("story-phone").await;
        browser.desktop().await;

        // A citizen pastes the receipt: genuine.
        browser.open(&app.url("/receipts/verify")).await;
        let set = "document.getElementById('receipt').value = arguments[0]";
        browser.client().execute(set, vec![Value::from(expected.receipt.clone())]).await.unwrap();
        let submit = browser.find("form[action='/receipts/verify'] [type=submit]").await;
        browser.click_and_wait(&submit).await;
        let result = browser.page_text().await;
        assert!(result.contains(genuine), "[{lang}] a genuine receipt passes:\n{result}");
        browser.screenshot("receipt-verified").await;

        // The same receipt with one figure of the record changed: refused,
        // naming the inclusion proof.
        let mut altered: Value = serde_json::from_str(&expected.receipt).unwrap();
        altered["entry"]["seq"] = Value::from(altered["entry"]["seq"].as_u64().unwrap() + 1);
        altered["entry"]["record"]["x_altered"] = Value::from(true);
        browser.client().execute(set, vec![Value::from(altered.to_string())]).await.unwrap();
        let submit = browser.find("form[action='/receipts/verify'] [type=submit]").await;
        browser.click_and_wait(&submit).await;
        let result = browser.page_text().await;
        assert!(result.contains(fails), "[{lang}] an altered receipt fails:\n{result}");
        assert!(result.contains("inclusion"), "[{lang}] the failing part is named:\n{result}");
        browser.screenshot("receipt-altered").await;
        browser.close().await;
    }
}
