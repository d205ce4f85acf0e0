//! The field officer's page in a real browser: a field officer of the
//! city's police signs in on /field; the page makes the device's Ed25519
//! key with WebCrypto and shows it; the test enrols the device as an
//! administrator would (`device.enrolled` into the running server's
//! ledger), reloads, draws up a protocol, signs and sends it, and sees the
//! UIN, the amount, the 50 % deadline and the QR code at once. The ledger
//! then holds the protocol (from this browser's device) and its charge,
//! which the offender finds with the UIN and their IIN. In English, a
//! protocol signed while the network is down waits in the outbox and is
//! sent when it is back. kk, ru, en; screenshots `field-main-<lang>.png`
//! and `field-result-<lang>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use casetrail_ledger::Store;
use casetrail_types::mci::{Mci, MciCount};
use casetrail_types::{Iin, Locale, Money};
use chrono::NaiveDate;
use serde_json::Value;
use support::app::{account, TestApp};
use support::browser::{Browser, LANGS};

const PASSWORD: &str = "correct horse battery";
/// The simulated city's police department.
const CITY_POLICE: &str = "police-astana";
const OFFICER: &str = "field-1";

fn iin(serial: u16) -> String {
    Iin::from_parts(NaiveDate::from_ymd_opt(1990, 6, 15).unwrap(), true, serial).unwrap().to_string()
}

/// Runs `script` (a `return` expression) until it answers something other
/// than null, false or "", or fails after 20 s with `what`.
async fn wait_for(browser: &Browser, script: &str, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = browser.client().execute(script, vec![]).await.unwrap_or(Value::Null);
        if !matches!(&value, Value::Null | Value::Bool(false)) && value != "" {
            return value;
        }
        if Instant::now() > deadline {
            let text = browser.page_text().await;
            panic!("[{}] {what} did not happen within 20 s; the page reads:\n{text}", browser.lang);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn locale(lang: &str) -> Locale {
    Locale::parse(lang).unwrap()
}

/// The fine lookup a citizen makes (public API), from a blocking thread.
async fn lookup(base: String, iin: String, uin: String) -> Value {
    tokio::task::spawn_blocking(move || {
        let answer = ureq::post(&format!("{base}/api/v1/fines/lookup"))
            .set("Content-Type", "application/json")
            .send_string(&serde_json::json!({"iin": iin, "uin": uin}).to_string())
            .expect("the fine is found");
        serde_json::from_str(&answer.into_string().unwrap()).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_officer_signs_a_protocol_in_the_browser_and_shows_the_payment_code() {
    let app = TestApp::start_with(200, 100, vec![account(OFFICER, "field_officer", Some(CITY_POLICE), PASSWORD)]).await;
    for (n, lang) in LANGS.into_iter().enumerate() {
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), OFFICER, PASSWORD).await;
        // Signed in, the officer lands on /field; the script makes the key
        // and tells the server its device id.
        let device = wait_for(
            &browser,
            "return location.pathname === '/field' && new URLSearchParams(location.search).get('device') \
             && document.getElementById('device-key').textContent",
            "the device key",
        )
        .await;
        let public_key = device.as_str().unwrap().to_owned();
        let device_id = browser.text("#device-id").await;
        assert!(device_id.starts_with("web-"), "[{lang}] device id {device_id}");
        let raw = base64_len(&public_key);
        assert_eq!(raw, 32, "[{lang}] the public key is 32 bytes of standard base64: {public_key}");
        assert_eq!(
            browser.find("#device-status").await.attr("data-status").await.unwrap().as_deref(),
            Some("not-enrolled")
        );
        assert_eq!(browser.count("#protocol").await, 0, "[{lang}] no protocol form before enrolment");
        // The private key stays in the browser: IndexedDB holds a CryptoKey
        // that cannot be exported.
        let extractable = browser
            .client()
            .execute_async(
                "const done = arguments[0]; const r = indexedDB.open('casetrail-field'); r.onsuccess = () => { \
                 const g = r.result.transaction('device').objectStore('device').get('self'); \
                 g.onsuccess = () => done([g.result.privateKey instanceof CryptoKey, g.result.privateKey.extractable, \
                 g.result.privateKey.algorithm.name]); };",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(extractable, serde_json::json!([true, false, "Ed25519"]), "[{lang}]");

        // The administrator enrols the device for the city's police.
        let now = casetrail_web::state::now() - chrono::Duration::seconds(60);
        let at = now.with_timezone(&casetrail_types::time::kz_offset_at(now));
        let enrolment = serde_json::json!({"type": "device.enrolled", "id": format!("enrol-{device_id}"),
            "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false), "device": device_id,
            "agency": CITY_POLICE, "public_key": public_key});
        let outcome = app.append("admin", &enrolment.to_string()).await;
        assert!(matches!(outcome, casetrail_web::writer::Outcome::Appended { .. }), "{outcome:?}");
        browser.client().refresh().await.unwrap();
        browser.wait_loaded().await;
        wait_for(&browser, "return document.getElementById('device-key').textContent", "the device after reload").await;
        assert_eq!(
            browser.find("#device-status").await.attr("data-status").await.unwrap().as_deref(),
            Some("enrolled")
        );
        let case = wait_for(&browser, "return document.getElementById('case').value", "a case number").await;
        let mut case = case.as_str().unwrap().to_owned();
        assert!(case.starts_with("P-"), "[{lang}] a fresh case number: {case}");
        browser.screenshot("field-main").await;
        if lang == "kk" {
            // The officer's own case number, not ASCII: the script's RFC 8785
            // bytes must be the server's for the signature to verify.
            case = "ҚР-№7/ә «1»".to_owned();
            browser.fill("#case", &case).await;
            browser.phone().await;
            browser.assert_fits_width().await;
            browser.desktop().await;
        }

        // A protocol: 5 MCI, short procedure.
        let offender = iin(10 + n as u16);
        browser.fill("#offender", &offender).await;
        browser.fill("#article", "610.1").await;
        assert_eq!(browser.find("#place").await.prop("value").await.unwrap().as_deref(), Some("710000000"));
        browser.fill("#amount", "5").await;
        browser.find("#short").await.click().await.unwrap();

        if lang == "en" {
            // The network is down: the protocol is signed and waits.
            browser
                .client()
                .execute(
                    "window.__realFetch = window.fetch; window.fetch = () => Promise.reject(new TypeError('offline'));",
                    vec![],
                )
                .await
                .unwrap();
            browser.find("#protocol button[type=submit]").await.click().await.unwrap();
            wait_for(&browser, "return document.getElementById('outbox-count').textContent === '1'", "the outbox")
                .await;
            assert_eq!(browser.count("#result svg").await, 0);
            let info = browser.text("#field-info").await;
            assert!(info.contains("kept on this device"), "{info}");
            // Back online.
            browser
                .client()
                .execute("window.fetch = window.__realFetch; window.dispatchEvent(new Event('online'));", vec![])
                .await
                .unwrap();
        } else {
            browser.find("#protocol button[type=submit]").await.click().await.unwrap();
        }
        wait_for(&browser, "return document.querySelector('#result .uin')", "the payment code").await;
        let uin = browser.text("#result .uin").await;
        assert_eq!(uin.len(), 20, "[{lang}] {uin}");
        let today = casetrail_types::time::local_date(casetrail_web::state::now());
        let full = Mci::table().amount(MciCount::whole(5), today).unwrap();
        let half = Money::from_tiyn(full.tiyn() / 2);
        // WebDriver reads no-break spaces as spaces.
        let shown = |money: Money| money.format(locale(lang)).replace('\u{a0}', " ");
        assert_eq!(browser.text("#result .amount").await, shown(full), "[{lang}]");
        assert_eq!(browser.text("#result .pay-now").await, shown(half), "[{lang}]");
        assert!(!browser.text("#result .pay-until").await.is_empty(), "[{lang}] the 50 % deadline");
        assert_eq!(browser.count("#result figure.qr svg").await, 1, "[{lang}] the QR code");
        assert_eq!(browser.count("#outbox:not([hidden])").await, 0, "[{lang}] the outbox is empty");
        browser.screenshot("field-result").await;

        // The ledger holds the protocol from this device and its charge.
        let (protocol, charge) = app
            .state
            .read({
                let case = case.clone();
                let uin = uin.clone();
                move |store: &mut dyn Store| {
                    let protocol = store.doc("protocol", &case)?.map(|d| d.doc);
                    let charge = store.doc("charge", &uin)?.map(|d| d.doc);
                    Ok((protocol, charge))
                }
            })
            .await
            .unwrap();
        let protocol: Value = serde_json::from_str(&protocol.expect("the protocol is in the ledger")).unwrap();
        assert_eq!(protocol["device"], device_id.as_str());
        assert_eq!(protocol["officer"], OFFICER);
        assert_eq!(protocol["agency"], CITY_POLICE);
        let charge: Value = serde_json::from_str(&charge.expect("the charge is in the ledger")).unwrap();
        assert_eq!(charge["case"], case.as_str());
        let fine = lookup(app.base.clone(), offender.clone(), uin.clone()).await;
        assert_eq!(fine["amount"], full.to_decimal_string());
        assert_eq!(fine["owed_today"], half.to_decimal_string());
        browser.close().await;
    }
}

/// The number of bytes standard base64 `text` decodes to (0 when it is not base64).
fn base64_len(text: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).map(|b| b.len()).unwrap_or(0)
}
