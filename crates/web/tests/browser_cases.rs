//! A regional prosecutor at work in a real Chromium: settles a competence
//! dispute of the region by assigning the appeal, reads the alerts of one
//! kind, the paid-but-referred audit and the access log that shows the
//! prosecutor's own read of an applicant's data — in Kazakh, Russian and
//! English, with screenshots.
//!
//! What the pages must list is read from the same database independently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use casetrail_app::projector::{kind, Alert};
use casetrail_app::{DbLocation, Ledger};
use casetrail_domain::appeal::dispute::{DisputeState, DisputeStatus};
use casetrail_domain::appeal::{AppealState, AppealStatus};
use casetrail_domain::registry::AgencyState;
use support::app::{account, appeal, TestApp};
use support::browser::{Browser, LANGS};

const PASSWORD: &str = "correct horse battery";

/// The region's open disputes of unanswered appeals (appeal numbers).
fn open_disputes(app: &TestApp) -> Vec<String> {
    let key = app.db.with_file_name("casetrail.key");
    let mut ledger = Ledger::open(&DbLocation::parse(&app.db.to_string_lossy()), Some(&key)).unwrap();
    let docs = ledger.store().docs(kind::DISPUTE, "", 100_000).unwrap();
    let disputes: Vec<DisputeState> =
        docs.iter().map(|doc| serde_json::from_str::<DisputeState>(&doc.doc).unwrap()).collect();
    let mut open: Vec<DisputeState> = disputes
        .into_iter()
        .filter(|d| d.status == DisputeStatus::Open && d.region.as_deref().is_some_and(|r| r.starts_with("71")))
        .filter(|d| {
            // Only an unanswered appeal can be assigned.
            let doc = ledger.store().doc(kind::APPEAL, &d.appeal).unwrap().expect("the disputed appeal");
            serde_json::from_str::<AppealState>(&doc.doc).unwrap().status == AppealStatus::Open
        })
        .collect();
    open.sort_by(|a, b| (b.opened_at, &b.appeal).cmp(&(a.opened_at, &a.appeal)));
    open.into_iter().map(|d| d.appeal).collect()
}

/// How many alerts the region's agencies raised.
fn region_alerts(app: &TestApp) -> usize {
    let key = app.db.with_file_name("casetrail.key");
    let mut ledger = Ledger::open(&DbLocation::parse(&app.db.to_string_lossy()), Some(&key)).unwrap();
    let regions: std::collections::HashMap<String, Option<String>> = ledger
        .store()
        .docs(kind::AGENCY, "", 100_000)
        .unwrap()
        .iter()
        .map(|doc| serde_json::from_str::<AgencyState>(&doc.doc).unwrap())
        .map(|agency| (agency.agency, agency.region))
        .collect();
    let alerts = ledger.store().docs(kind::ALERT, "", 1_000_000).unwrap();
    alerts
        .iter()
        .map(|doc| serde_json::from_str::<Alert>(&doc.doc).unwrap())
        .filter(|alert| {
            let region = alert.agency.as_ref().and_then(|agency| regions.get(agency).cloned().flatten());
            region.is_some_and(|region| region.starts_with("71"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regional_prosecutor_settles_a_dispute_and_reads_alerts_audit_and_access_log() {
    // The simulated year is long answered: three fresh appeals of this
    // month go akimat → police → akimat, a cycle each.
    let probe = TestApp::start(300, 10).await;
    let iin = probe.data.wandering.clone().expect("a forwarded appeal").iin;
    drop(probe);
    let mut extra = vec![account("prosecutor-1", "prosecutor", Some("prosecutor-astana"), PASSWORD)];
    for lang in LANGS {
        let number = format!("D-{lang}-1");
        extra.push(appeal(&number, "akimat-astana", &iin, "2026-11-16T10:00:00+05:00"));
        for (step, (from, to)) in
            [("akimat-astana", "police-astana"), ("police-astana", "akimat-astana")].iter().enumerate()
        {
            let forward = serde_json::json!({
                "type": "appeal.forwarded", "id": format!("test-{number}-f{step}"),
                "at": format!("2026-11-1{}T10:00:00+05:00", 7 + step), "appeal": number,
                "from": from, "to": to, "reason": "not_in_competence",
            });
            extra.push(("portal".to_owned(), forward.to_string()));
        }
    }
    let app = TestApp::start_with(1_500, 6_000, extra).await;
    let disputes = open_disputes(&app);
    assert!(disputes.len() >= LANGS.len(), "the simulated city has too few disputes: {disputes:?}");

    for (index, lang) in LANGS.into_iter().enumerate() {
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), "prosecutor-1", PASSWORD).await;

        // Disputes: the region's open ones, newest first; settle the first.
        browser.open(&app.url("/prosecutor/disputes")).await;
        assert_eq!(browser.page_lang().await, lang);
        let appeal = disputes[index].clone();
        let row = browser.row(&appeal).await.unwrap_or_else(|| panic!("[{lang}] dispute {appeal} is not listed"));
        browser.screenshot("cases-disputes").await;
        let form = row.find(fantoccini::Locator::Css("form[action$='/assign']")).await.unwrap();
        let to = form.find(fantoccini::Locator::Css("select[name=to]")).await.unwrap();
        to.select_by_value("akimat-astana").await.unwrap();
        browser.click_and_wait(&form.find(fantoccini::Locator::Css("[type=submit]")).await.unwrap()).await;
        let notice = browser.text("p.notice").await;
        assert!(notice.contains(&appeal), "[{lang}] the assignment is confirmed: {notice}");
        let open = browser.text("#disputes").await;
        assert!(!open.contains(&appeal), "[{lang}] {appeal} is still open after the assignment");
        assert!(browser.text("#settled").await.contains(&appeal), "[{lang}] {appeal} is not among the settled");

        if lang == "en" {
            // Every alert of the region, 50 a page, the newest first.
            let total = region_alerts(&app);
            assert!(total > 50, "the city has alerts for more than one page: {total}");
            browser.open(&app.url("/prosecutor/alerts")).await;
            assert_eq!(browser.count("#alerts tbody tr").await, 50);
            let count = browser.page_text().await;
            assert!(count.contains(&format!("Showing 50 of {total}.")), "the counters agree with the alerts: {count}");
            assert_eq!(browser.count("a[rel=prev]").await, 0, "the first page is the newest");
            let first = browser.text("#alerts tbody").await;
            browser.click_and_wait(&browser.find("a[rel=next]").await).await;
            assert_eq!(browser.count("#alerts tbody tr").await, (total - 50).min(50), "the second page");
            assert_ne!(browser.text("#alerts tbody").await, first, "the second page lists older alerts");
            assert_eq!(browser.count("a[rel=prev]").await, 1, "the second page leads back to the newer alerts");

            // Alerts of one kind only.
            browser.open(&app.url("/prosecutor/alerts?kind=ping_pong")).await;
            let kinds = browser.client().find_all(fantoccini::Locator::Css("#alerts tbody tr")).await.unwrap();
            assert!(!kinds.is_empty(), "the city has ping-pong alerts");
            for row in kinds {
                assert_eq!(row.attr("data-kind").await.unwrap().as_deref(), Some("ping_pong"));
            }
            browser.screenshot("cases-alerts").await;

            // The audit counts what the API's report gives this prosecutor.
            browser.open(&app.url("/api/v1/reports/paid-but-referred")).await;
            let json = browser.page_text().await;
            let rows: Vec<serde_json::Value> = serde_json::from_str(&json).expect("the report as JSON");
            browser.open(&app.url("/prosecutor/audit")).await;
            assert_eq!(browser.count("#audit tbody tr").await, rows.len(), "one line per referral of a paid fine");
            for row in &rows {
                let uin = row["uin"].as_str().unwrap();
                assert!(browser.row(uin).await.is_some(), "{uin} is in the audit");
            }
            browser.screenshot("cases-audit").await;

            // The prosecutor reads the applicant's data of the appeal just
            // assigned (now held in the region); the access log says so.
            browser.open(&app.url(&format!("/api/v1/appeals/{appeal}"))).await;
            assert!(browser.page_text().await.contains("applicant"), "the detail is shown to the region's prosecutor");
            browser.open(&app.url("/prosecutor/access?account=prosecutor-1")).await;
            let log = browser.text("#access").await;
            assert!(log.contains(&format!("appeal/{appeal}")), "the read is logged:\n{log}");
            browser.screenshot("cases-access").await;
        }
        browser.close().await;
    }
}
