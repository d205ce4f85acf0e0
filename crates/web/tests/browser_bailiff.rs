//! The bailiff's pages in a real browser: a private bailiff of the city's
//! chamber signs in, sees the charges due for enforcement in the city (not
//! another region's), refers one (it leaves the list), is refused a paid
//! charge with the reason in the page's language, and reads the recalls
//! the simulated city addressed to the chamber. kk, ru, en; desktop and
//! phone; screenshots `bailiff-main-<lang>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine;
use casetrail_types::{Iin, Locale, Money, Uin};
use chrono::NaiveDate;
use ed25519_dalek::{Signer, SigningKey};
use support::app::{account, TestApp};
use support::browser::{Browser, LANGS};

const PASSWORD: &str = "correct horse battery";
/// The simulated city (KATO 71) and its chamber of private bailiffs.
const CITY_POLICE: &str = "police-astana";
const CITY_BAILIFFS: &str = "bailiffs-astana";
/// An agency of another region, registered by the test.
const OTHER_POLICE: &str = "police-bt-almaty";
const AMOUNT: &str = "20000.00";

fn line(source: &str, value: serde_json::Value) -> (String, String) {
    (source.to_owned(), value.to_string())
}

fn iin(serial: u16) -> String {
    Iin::from_parts(NaiveDate::from_ymd_opt(1979, 4, 12).unwrap(), false, serial).unwrap().to_string()
}

fn uin(n: u64) -> String {
    Uin::from_serial(9_000_000_000_000_000_000 + n).unwrap().to_string()
}

/// The charges the test adds: three due in the city, one paid in the
/// city, one due in another region.
struct Charges {
    lines: Vec<(String, String)>,
    due: Vec<String>,
    paid: String,
    elsewhere: String,
    payers: Vec<String>,
}

fn charges() -> Charges {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let public = b64.encode(key.verifying_key().to_bytes());
    let mut lines = vec![line(
        "admin",
        serde_json::json!({"type": "agency.registered", "id": "bt-ag-almaty", "at": "2026-08-01T09:00:00+05:00",
            "agency": OTHER_POLICE, "kind": "police", "region": "750000000",
            "name": {"kk": "Алматы полициясы", "ru": "Полиция Алматы", "en": "Almaty Police"}}),
    )];
    for (agency, device) in [(CITY_POLICE, "bt-tab-city"), (OTHER_POLICE, "bt-tab-other")] {
        lines.push(line(
            "admin",
            serde_json::json!({"type": "device.enrolled", "id": format!("bt-{device}"), "at": "2026-08-01T09:00:00+05:00",
                "device": device, "agency": agency, "public_key": public}),
        ));
    }
    let mut payers = Vec::new();
    let mut charge = |n: u64, agency: &str, device: &str, place: &str| {
        let payer = iin(n as u16 + 100);
        let mut protocol = serde_json::json!({"type": "fine.protocol_signed", "id": format!("bt-prot-{n}"),
            "at": "2026-09-01T10:00:00+05:00", "case": format!("BT-P-{n}"), "agency": agency, "officer": "off-bt",
            "device": device, "offender": {"iin": payer}, "article": "610.1", "place": place,
            "signature": b64.encode([0u8; 64])});
        let unsigned = casetrail_exchange::parse_record(protocol.to_string().as_bytes()).unwrap();
        let bytes = casetrail_domain::registry::signed_bytes(&unsigned).unwrap();
        protocol["signature"] = b64.encode(key.sign(&bytes).to_bytes()).into();
        lines.push((format!("device:{device}"), protocol.to_string()));
        lines.push(line(
            "police",
            serde_json::json!({"type": "fine.imposed", "id": format!("bt-fine-{n}"), "at": "2026-09-01T10:20:00+05:00",
                "case": format!("BT-P-{n}"), "uin": uin(n), "amount_kzt": AMOUNT, "in_force_at": "2026-09-11",
                "short_procedure": false}),
        ));
        payers.push(payer);
        uin(n)
    };
    let due: Vec<String> = (1..=3).map(|n| charge(n, CITY_POLICE, "bt-tab-city", "710000000")).collect();
    let paid = charge(4, CITY_POLICE, "bt-tab-city", "710000000");
    let elsewhere = charge(5, OTHER_POLICE, "bt-tab-other", "750000000");
    lines.push(line(
        "kaspi",
        serde_json::json!({"type": "payment.received", "id": "bt-pay-1", "at": "2026-10-01T12:00:00+05:00",
            "payment": "BT-PAY-1", "provider": "kaspi", "uin": paid, "payer": {"iin": payers[3]}, "amount_kzt": AMOUNT}),
    ));
    Charges { lines, due, paid, elsewhere, payers }
}

/// Words of the refusal of a paid charge, by language.
fn paid_words(lang: &str) -> &'static str {
    match lang {
        "kk" => "айыппұл төленген",
        "ru" => "штраф оплачен",
        _ => "the fine is paid",
    }
}

/// Why a paid fine was recalled, and the notice's words, by language.
fn recall_words(lang: &str) -> (&'static str, &'static str) {
    match lang {
        "kk" => ("Айыппұл төленген", "борышкердің шоттарынан тыйым салуды алып"),
        "ru" => ("Штраф оплачен", "снимите аресты со счетов должника"),
        _ => ("The fine is paid", "release the debtor's accounts"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bailiff_refers_due_charges_is_refused_a_paid_one_and_reads_recalls() {
    let charges = charges();
    let mut extra = charges.lines.clone();
    extra.push(account("bailiff-1", "bailiff", Some(CITY_BAILIFFS), PASSWORD));
    let app = TestApp::start_with(1_500, 300, extra).await;
    let recalled: Vec<&String> =
        app.data.recalled.iter().filter(|(_, bailiff)| *bailiff == CITY_BAILIFFS).map(|(uin, _)| uin).collect();
    assert!(!recalled.is_empty(), "the simulated city recalls some referrals to {CITY_BAILIFFS}");

    for (index, lang) in LANGS.into_iter().enumerate() {
        let locale = Locale::parse(lang).unwrap();
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), "bailiff-1", PASSWORD).await;
        browser.open(&app.url("/bailiff")).await;
        assert_eq!(browser.page_lang().await, lang);

        // What is due: this language's charge and the ones after it (the
        // earlier languages referred theirs), never the paid one nor
        // another region's.
        // WebDriver reads no-break spaces as spaces.
        let owed = Money::parse(AMOUNT).unwrap().format(locale).replace('\u{a0}', " ");
        for uin in &charges.due[index..] {
            let row = browser.row(uin).await.unwrap_or_else(|| panic!("[{lang}] {uin} is not on the list"));
            let text = row.text().await.unwrap();
            assert!(text.contains(&owed), "[{lang}] the row of {uin} does not show {owed:?}: {text}");
            assert!(text.contains("2026"), "[{lang}] the row of {uin} has no first day of enforcement: {text}");
        }
        for uin in &charges.due[..index] {
            assert!(browser.row(uin).await.is_none(), "[{lang}] {uin} was referred but is still listed");
        }
        assert!(browser.row(&charges.paid).await.is_none(), "[{lang}] the paid charge is listed");
        assert!(browser.row(&charges.elsewhere).await.is_none(), "[{lang}] another region's charge is listed");
        let text = browser.page_text().await;
        for payer in &charges.payers {
            assert!(!text.contains(payer.as_str()), "[{lang}] the page shows a payer's whole IIN");
        }
        assert!(text.contains(&format!("{}••••••{}", &charges.payers[index][..4], &charges.payers[index][10..])));
        browser.screenshot("bailiff-main").await;

        // Refer this language's charge: it leaves the list.
        let uin = &charges.due[index];
        let row = browser.row(uin).await.unwrap();
        browser.click_and_wait(&row.find(fantoccini::Locator::Css("button[type=submit]")).await.unwrap()).await;
        let result = browser.text("#result").await;
        assert!(result.contains(uin.as_str()), "[{lang}] the result does not name {uin}: {result}");
        browser.open(&app.url("/bailiff")).await;
        assert!(browser.row(uin).await.is_none(), "[{lang}] {uin} is still listed after the referral");

        // A paid charge: the gate refuses, with the reason in the language.
        browser.fill("#uin", &charges.paid).await;
        browser.click_and_wait(&browser.find("#refer-by-uin [type=submit]").await).await;
        let refusal = browser.text("#result").await;
        assert!(refusal.contains(paid_words(lang)), "[{lang}] the refusal does not say it is paid: {refusal}");
        assert!(refusal.contains("kaspi/BT-PAY-1"), "[{lang}] the refusal does not name the payment: {refusal}");
        browser.screenshot("bailiff-refused").await;

        // Another region's charge is not this bailiff's to take.
        browser.fill("#uin", &charges.elsewhere).await;
        browser.click_and_wait(&browser.find("#refer-by-uin [type=submit]").await).await;
        assert!(browser.count("#result").await == 0, "[{lang}] another region's charge was handled");
        browser.open(&app.url("/bailiff")).await;

        // Recalls addressed to the chamber.
        browser.open(&app.url("/bailiff/recalls")).await;
        for uin in &recalled {
            let row = browser.row(uin).await.unwrap_or_else(|| panic!("[{lang}] the recall of {uin} is missing"));
            let text = row.text().await.unwrap();
            let (why, notice) = recall_words(lang);
            assert!(text.contains(why), "[{lang}] the recall of {uin} does not say the fine is paid: {text}");
            assert!(text.contains(notice), "[{lang}] the recall of {uin} has no notice: {text}");
        }
        browser.screenshot("bailiff-recalls").await;

        browser.phone().await;
        browser.open(&app.url("/bailiff")).await;
        browser.assert_fits_width().await;
        browser.screenshot("bailiff-main-phone").await;
        browser.close().await;
    }
}
