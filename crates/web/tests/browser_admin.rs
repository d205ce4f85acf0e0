//! The administrator's page in a real browser: an administrator signs in,
//! creates an officer account (who can then sign in), enrols a field
//! device with a freshly generated Ed25519 key (and is refused a key that
//! is not 32 bytes), issues an API key whose secret is shown once and
//! works against the API, revokes it and it stops working. kk, ru, en;
//! screenshots `admin-main-<lang>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine;
use fantoccini::Locator;
use support::app::{account, TestApp};
use support::browser::{Browser, LANGS};

const PASSWORD: &str = "correct horse battery";
const AKIMAT: &str = "akimat-astana";
const POLICE: &str = "police-astana";

/// Registers an appeal over the API with a bearer key; the HTTP status.
async fn register_appeal(base: String, key: String, serial: u16) -> u16 {
    tokio::task::spawn_blocking(move || {
        let iin = casetrail_types::Iin::from_parts(chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(), true, serial)
            .unwrap()
            .to_string();
        let body = serde_json::json!({"agency": AKIMAT, "category": "roads", "applicant": {"iin": iin}});
        let result = ureq::post(&format!("{base}/api/v1/appeals"))
            .set("Authorization", &format!("Bearer {key}"))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        match result {
            Ok(response) => response.status(),
            Err(ureq::Error::Status(status, _)) => status,
            Err(error) => panic!("transport error: {error}"),
        }
    })
    .await
    .unwrap()
}

async fn select(browser: &Browser, css: &str, value: &str) {
    browser
        .find(css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("cannot choose {value} in {css}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_creates_an_account_enrols_a_device_and_issues_and_revokes_a_key() {
    let app = TestApp::start_with(300, 50, vec![account("admin-1", "admin", None, PASSWORD)]).await;
    for (index, lang) in LANGS.into_iter().enumerate() {
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), "admin-1", PASSWORD).await;
        browser.open(&app.url("/admin")).await;
        assert_eq!(browser.page_lang().await, lang);
        for section in ["#users", "#agencies", "#devices", "#keys", "#quarantine"] {
            assert_eq!(browser.count(section).await, 1, "[{lang}] no section {section}");
        }
        assert!(browser.row(AKIMAT).await.is_some(), "[{lang}] the city's akimat is not in the agency list");
        browser.screenshot("admin-main").await;

        // A new officer account; the password never comes back.
        let login = format!("officer-bt-{lang}");
        let password = format!("initial password {lang} 42");
        browser.fill("#account-login", &login).await;
        select(&browser, "#account-role", "officer").await;
        select(&browser, "#account-agency", AKIMAT).await;
        browser.fill("#account-password", &password).await;
        browser.click_and_wait(&browser.find("#new-account [type=submit]").await).await;
        assert_eq!(browser.count("#result").await, 1, "[{lang}] no result after creating the account");
        let row = browser.row(&login).await.unwrap_or_else(|| panic!("[{lang}] {login} is not listed"));
        assert!(row.text().await.unwrap().contains(AKIMAT));
        assert!(!browser.page_text().await.contains(&password), "[{lang}] the password is echoed");
        let officer = Browser::start(lang).await;
        officer.login(&app.url("/login"), &login, &password).await;
        assert!(officer.client().current_url().await.unwrap().path().starts_with("/officer"));
        officer.close().await;

        // Disabled, the account no longer signs in.
        let row = browser.row(&login).await.unwrap();
        row.find(Locator::Css("details summary")).await.unwrap().click().await.unwrap();
        let form = row.find(Locator::Css("form")).await.unwrap();
        form.find(Locator::Css("input[name=reason]")).await.unwrap().send_keys("moved on").await.unwrap();
        browser.click_and_wait(&form.find(Locator::Css("[type=submit]")).await.unwrap()).await;
        let row = browser.row(&login).await.unwrap();
        assert_eq!(
            row.find_all(Locator::Css("form")).await.unwrap().len(),
            0,
            "[{lang}] {login} can be disabled again"
        );
        let officer = Browser::start(lang).await;
        officer.open(&app.url("/login")).await;
        officer.fill("#login", &login).await;
        officer.fill("#password", &password).await;
        officer.click_and_wait(&officer.find("form[action='/login'] [type=submit]").await).await;
        assert_eq!(officer.count("form[action='/login']").await, 1, "[{lang}] a disabled account signed in");
        officer.close().await;

        // A device with a generated Ed25519 key; a 31-byte key is refused.
        let key = ed25519_dalek::SigningKey::from_bytes(&[index as u8 + 1; 32]);
        let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
        let device = format!("tab-bt-{lang}");
        browser.fill("#device-id", &format!("{device}-bad")).await;
        select(&browser, "#device-agency", POLICE).await;
        browser.fill("#device-key", &base64::engine::general_purpose::STANDARD.encode([7u8; 31])).await;
        browser.click_and_wait(&browser.find("#new-device [type=submit]").await).await;
        assert!(browser.text("#result").await.contains("31"), "[{lang}] a 31-byte key is not refused");
        assert!(browser.row(&format!("{device}-bad")).await.is_none(), "[{lang}] the bad device was enrolled");
        browser.fill("#device-id", &device).await;
        select(&browser, "#device-agency", POLICE).await;
        browser.fill("#device-key", &public).await;
        browser.click_and_wait(&browser.find("#new-device [type=submit]").await).await;
        let row = browser.row(&device).await.unwrap_or_else(|| panic!("[{lang}] {device} is not listed"));
        let text = row.text().await.unwrap();
        assert!(text.contains(POLICE) && text.contains(&public), "[{lang}] the device row: {text}");

        // An API key for a connector: shown once, works, then revoked.
        select(&browser, "#key-role", "integration").await;
        select(&browser, "#key-agency", AKIMAT).await;
        browser.fill("#key-provider", "connector-bt").await;
        browser.click_and_wait(&browser.find("#new-key [type=submit]").await).await;
        let bearer = browser.text("#new-key-value").await;
        let (key_id, secret) = bearer.split_once('.').expect("a key `<id>.<secret>`");
        assert_eq!(secret.len(), 64, "[{lang}] 32 bytes of secret in hex");
        assert_eq!(register_appeal(app.base.clone(), bearer.clone(), 600 + index as u16).await, 201);
        browser.open(&app.url("/admin")).await;
        assert!(!browser.page_text().await.contains(secret), "[{lang}] the secret is shown again");
        let row = browser.row(key_id).await.unwrap_or_else(|| panic!("[{lang}] {key_id} is not listed"));
        row.find(Locator::Css("details summary")).await.unwrap().click().await.unwrap();
        let form = row.find(Locator::Css("form")).await.unwrap();
        form.find(Locator::Css("input[name=reason]")).await.unwrap().send_keys("test over").await.unwrap();
        browser.click_and_wait(&form.find(Locator::Css("[type=submit]")).await.unwrap()).await;
        assert_eq!(browser.count("#result").await, 1);
        assert_eq!(register_appeal(app.base.clone(), bearer.clone(), 700 + index as u16).await, 401);

        browser.phone().await;
        browser.open(&app.url("/admin")).await;
        browser.assert_fits_width().await;
        browser.screenshot("admin-main-phone").await;
        browser.close().await;
    }
}
