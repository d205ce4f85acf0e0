//! The prosecutor's oversight pages in a real browser (headless Chromium
//! over WebDriver) on a simulated city: a prosecutor of the city's own
//! prosecutor's office signs in, lands on the ratings (lowest score first,
//! in the order the API's report gives), changes the period, opens the
//! wandering appeals and the path of the city's most-forwarded appeal, the
//! forward heat map and the trends. Only the agencies of the office's region
//! show. A citizen and an officer are refused.
//!
//! Screenshots: `prosecutor-main-{kk,ru,en}` and the other pages in English.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use support::app::{account, TestApp};
use support::browser::{Browser, LANGS};

const PASSWORD: &str = "correct horse battery";
/// The simulated city's own prosecutor's office (Astana, KATO region 71).
const OFFICE: &str = "prosecutor-astana";

async fn app() -> TestApp {
    TestApp::start_with(
        1_500,
        100,
        vec![
            account("prosecutor-1", "prosecutor", Some(OFFICE), PASSWORD),
            account("citizen-1", "citizen", None, PASSWORD),
            account("officer-1", "officer", Some("akimat-astana"), PASSWORD),
            account("general-1", "prosecutor", Some("prosecutor-general"), PASSWORD),
        ],
    )
    .await
}

/// GET `path` with the browser's session cookie: (status, body).
async fn get_as(app: &TestApp, browser: &Browser, path: &str) -> (u16, String) {
    let cookie = browser.client().get_named_cookie("casetrail_session").await.map(|c| c.value().to_owned());
    let url = app.url(path);
    tokio::task::spawn_blocking(move || {
        let mut request = ureq::get(&url);
        if let Ok(value) = cookie {
            request = request.set("Cookie", &format!("casetrail_session={value}"));
        }
        match request.call() {
            Ok(response) => (response.status(), response.into_string().unwrap()),
            Err(ureq::Error::Status(status, response)) => (status, response.into_string().unwrap_or_default()),
            Err(error) => panic!("GET {url}: {error}"),
        }
    })
    .await
    .unwrap()
}

/// A report through the API, as this browser's account.
async fn report(app: &TestApp, browser: &Browser, name_and_query: &str) -> Vec<serde_json::Map<String, Value>> {
    let (status, body) = get_as(app, browser, &format!("/api/v1/reports/{name_and_query}")).await;
    assert_eq!(status, 200, "the API refused {name_and_query}: {body}");
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    rows.into_iter().map(|row| row.as_object().unwrap().clone()).collect()
}

/// Agency slug → its KATO region code (public list).
async fn regions(app: &TestApp, browser: &Browser) -> BTreeMap<String, Option<String>> {
    let (status, body) = get_as(app, browser, "/api/v1/agencies").await;
    assert_eq!(status, 200);
    let agencies: Vec<Value> = serde_json::from_str(&body).unwrap();
    agencies
        .iter()
        .map(|a| (a["agency"].as_str().unwrap().to_owned(), a.get("region").and_then(Value::as_str).map(str::to_owned)))
        .collect()
}

/// The `data-*` attribute of every element matching `css`, in page order.
async fn attributes(browser: &Browser, css: &str, attribute: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in browser.client().find_all(fantoccini::Locator::Css(css)).await.unwrap() {
        out.push(element.attr(attribute).await.unwrap().unwrap_or_default());
    }
    out
}

async fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in browser.client().find_all(fantoccini::Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

/// The scorecard's agencies lowest score first (equal scores by agency id),
/// as the ratings page must list them.
fn lowest_first(rows: &[serde_json::Map<String, Value>]) -> Vec<String> {
    let mut rows: Vec<(f64, String)> =
        rows.iter().map(|r| (r["score"].as_f64().unwrap(), r["agency"].as_str().unwrap().to_owned())).collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    rows.into_iter().map(|(_, agency)| agency).collect()
}

/// Sets a date field's value (a person picks it in the date picker).
async fn set_date(browser: &Browser, id: &str, value: &str) {
    browser
        .client()
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1]",
            vec![Value::from(id), Value::from(value)],
        )
        .await
        .unwrap();
}

fn show_button(lang: &str) -> &'static str {
    match lang {
        "kk" => "Көрсету",
        "ru" => "Показать",
        _ => "Show",
    }
}

/// 10 March 2026 as each language writes it.
fn march_10(lang: &str) -> &'static str {
    match lang {
        "kk" => "2026 жылғы 10 наурыз",
        "ru" => "10 марта 2026 г.",
        _ => "10 March 2026",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosecutor_reviews_ratings_wandering_forwards_and_trends() {
    let app = app().await;
    let data = &app.data;
    for lang in LANGS {
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), "prosecutor-1", PASSWORD).await;
        let landed = browser.client().current_url().await.unwrap();
        assert_eq!(landed.path(), "/prosecutor", "[{lang}] a prosecutor lands on the ratings");
        assert_eq!(browser.page_lang().await, lang);

        // The scope: only the agencies of the office's region (Astana, 71).
        let region_of = regions(&app, &browser).await;
        let in_scope = |slug: &str| region_of.get(slug).cloned().flatten().is_some_and(|r| r.starts_with("71"));

        // Ratings, lowest first, exactly the API's rows.
        let api_rows = report(&app, &browser, "scorecard").await;
        let expected = lowest_first(&api_rows);
        assert!(expected.len() >= 3, "[{lang}] the city's agencies are rated: {expected:?}");
        assert!(expected.iter().all(|slug| in_scope(slug)), "[{lang}] only Astana's agencies: {expected:?}");
        let shown = attributes(&browser, "#ratings tbody tr", "data-agency").await;
        assert_eq!(shown, expected, "[{lang}] the ratings are the scorecard's rows, lowest score first");
        let names = texts(&browser, "#ratings tbody th").await;
        let expected_names: Vec<String> = expected.iter().map(|slug| data.agency_name(slug, lang)).collect();
        assert_eq!(names, expected_names, "[{lang}] agencies are named in the page's language");
        let scores: Vec<f64> = texts(&browser, "#ratings td.score")
            .await
            .iter()
            .map(|s| s.replace(',', ".").parse::<f64>().unwrap())
            .collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "[{lang}] scores go up: {scores:?}");
        let headers = browser.text("#ratings thead").await;
        assert!(!headers.is_empty());
        // The sub-navigation lists every prosecutor page.
        let links = attributes(&browser, "nav.subnav a", "href").await;
        assert_eq!(
            links,
            [
                "/prosecutor",
                "/prosecutor/wandering",
                "/prosecutor/forwards",
                "/prosecutor/trends",
                "/prosecutor/disputes",
                "/prosecutor/alerts",
                "/prosecutor/audit",
                "/prosecutor/access"
            ]
        );
        browser.screenshot("prosecutor-main").await;

        // A period whose start is after its end is refused, in the language.
        browser.open(&app.url("/prosecutor?from=2026-03-10&to=2026-03-01")).await;
        let error = browser.text("#period-error").await;
        assert!(error.contains(march_10(lang)), "[{lang}] the error names the start date: {error}");
        assert_eq!(browser.count("#ratings").await, 0, "[{lang}] no ratings for a reversed period");

        if lang == "en" {
            browser.phone().await;
            browser.open(&app.url("/prosecutor")).await;
            browser.assert_fits_width().await;
            browser.screenshot("prosecutor-main-phone").await;
            browser.desktop().await;
            the_other_pages(&app, &browser, &in_scope).await;
        }
        browser.close().await;
    }
}

/// The period form, wandering appeals and a path, forwards, trends.
async fn the_other_pages(app: &TestApp, browser: &Browser, in_scope: &dyn Fn(&str) -> bool) {
    let data = &app.data;
    let lang = "en";

    // Change the period: the months in the middle of the simulated year.
    let months: BTreeSet<&String> = data.by_category_month.keys().map(|(_, month)| month).collect();
    let months: Vec<&String> = months.into_iter().collect();
    assert!(months.len() >= 4, "the simulated city spans several months: {months:?}");
    let (from, to) = (format!("{}-01", months[1]), format!("{}-28", months[months.len() - 2]));
    browser.open(&app.url("/prosecutor")).await;
    set_date(browser, "from", &from).await;
    set_date(browser, "to", &to).await;
    browser.click(show_button(lang)).await;
    let url = browser.client().current_url().await.unwrap();
    assert_eq!(url.query(), Some(format!("from={from}&to={to}").as_str()), "the period is in the address");
    let expected = lowest_first(&report(app, browser, &format!("scorecard?from={from}&to={to}")).await);
    let all_time = lowest_first(&report(app, browser, "scorecard").await);
    let shown = attributes(browser, "#ratings tbody tr", "data-agency").await;
    assert_eq!(shown, expected, "the ratings for {from}..{to}");
    let received: u64 =
        texts(browser, "#ratings tbody td:nth-of-type(1)").await.iter().map(|t| t.parse::<u64>().unwrap()).sum();
    let received_all: u64 =
        report(app, browser, "scorecard").await.iter().map(|r| r["received"].as_u64().unwrap()).sum();
    assert!(
        received < received_all,
        "a shorter period counts fewer appeals ({received} vs {received_all}; {all_time:?})"
    );
    let period = browser.text(".period-shown").await;
    assert!(period.contains("From 1 "), "the page says which period it shows: {period}");

    // Wandering appeals, then the path of the city's most-forwarded one.
    let wandering = data.wandering.clone().expect("the simulated city has a forwarded appeal");
    assert!(
        wandering.holders.iter().any(|h| in_scope(h)),
        "the most-forwarded appeal passed through an Astana body: {:?}",
        wandering.holders
    );
    browser.click("Wandering appeals").await;
    let listed = attributes(browser, "#wandering tbody tr", "data-appeal").await;
    let api: Vec<String> =
        report(app, browser, "wandering").await.iter().map(|r| r["appeal"].as_str().unwrap().to_owned()).collect();
    assert_eq!(listed.iter().collect::<BTreeSet<_>>(), api.iter().collect::<BTreeSet<_>>(), "every wandering appeal");
    let row = browser
        .client()
        .find(fantoccini::Locator::Css(&format!("#wandering tr[data-appeal='{}']", wandering.appeal)))
        .await
        .unwrap_or_else(|_| panic!("{} is not among the wandering appeals", wandering.appeal));
    let path_text = row.find(fantoccini::Locator::Css("td.path")).await.unwrap().text().await.unwrap();
    let names: Vec<String> = wandering.holders.iter().map(|h| data.agency_name(h, lang)).collect();
    assert_eq!(path_text, names.join(" → "), "the path as agency names");
    browser.screenshot("prosecutor-wandering").await;
    let link = row.find(fantoccini::Locator::Css("th a")).await.unwrap();
    browser.click_and_wait(&link).await;
    assert_eq!(browser.text("#path h2").await, format!("Path of appeal {}", wandering.appeal));
    assert_eq!(browser.count("#path svg g.stop").await, wandering.holders.len(), "one box per body that held it");
    assert_eq!(texts(browser, "#path table.stops tbody th").await, names, "every body that held it, in order");
    let calendar = casetrail_types::calendar::WorkCalendar::kazakhstan();
    let day = |at: &str| chrono::NaiveDate::parse_from_str(&at[..10], "%Y-%m-%d").unwrap();
    let days = texts(browser, "#path table.stops tbody td.num").await;
    for (i, next) in wandering.received.iter().enumerate().skip(1) {
        let held = calendar.working_days_between(day(&wandering.received[i - 1]), day(next)).unwrap();
        assert_eq!(days[i - 1], held.to_string(), "working days {} held it", wandering.holders[i - 1]);
    }
    browser.screenshot("prosecutor-path").await;

    // Forwards: the heat map's cells are the city's forwards in scope.
    browser.click("Forwards").await;
    assert_eq!(browser.count("#heatmap svg").await, 1, "a heat map");
    let titles = browser
        .client()
        .execute(
            "return Array.from(document.querySelectorAll('#heatmap rect.cell title')).map(t => t.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let titles: Vec<String> = titles.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let expected: BTreeSet<String> = data
        .forwards
        .iter()
        .filter(|((from, to), _)| in_scope(from) || in_scope(to))
        .map(|((from, to), count)| {
            format!("{} → {}: {count} forwards", data.agency_name(from, lang), data.agency_name(to, lang))
        })
        .collect();
    assert!(!expected.is_empty(), "Astana's bodies forward appeals");
    let filled: BTreeSet<String> = titles.iter().filter(|t| !t.ends_with(": 0 forwards")).cloned().collect();
    assert_eq!(filled, expected, "one filled cell per pair that forwarded, with its count");
    let bodies: BTreeSet<&String> = data
        .forwards
        .keys()
        .filter(|(from, to)| in_scope(from) || in_scope(to))
        .flat_map(|(from, to)| [from, to])
        .collect();
    assert_eq!(titles.len(), bodies.len() * bodies.len(), "a square matrix of the bodies in those pairs");
    browser.screenshot("prosecutor-forwards").await;

    // Trends: by category and by region, the API's numbers.
    browser.click("Trends").await;
    let trends = report(app, browser, "trends").await;
    let total: u64 = trends.iter().map(|r| r["appeals"].as_u64().unwrap()).sum();
    assert!(total > 0);
    let text = browser.page_text().await;
    assert!(text.contains(&format!("{total} appeals registered in this period.")), "the total {total}:\n{text}");
    assert!(browser.count("#trend-category polyline").await >= 2, "one line per category");
    assert!(browser.count("#trend-region svg").await == 1, "a chart by region");
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    for row in &trends {
        *by_category.entry(row["category"].as_str().unwrap().to_owned()).or_default() +=
            row["appeals"].as_u64().unwrap();
    }
    let top = by_category.iter().max_by_key(|(_, n)| **n).unwrap();
    let first_row = browser.text("#by-category + figure + div table tbody tr").await;
    assert!(first_row.ends_with(&top.1.to_string()), "the biggest category first: {first_row} vs {top:?}");
    let region_total: u64 =
        texts(browser, "#trend-region + div table tbody td").await.iter().map(|t| t.parse::<u64>().unwrap()).sum();
    assert_eq!(region_total, total, "the regions add up to the total");
    assert!(texts(browser, "#trend-region + div table tbody th").await.contains(&"Astana".to_owned()));
    browser.screenshot("prosecutor-trends").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_officers_and_visitors_may_not_see_the_oversight_pages() {
    let app = app().await;
    let browser = Browser::start("en").await;
    for path in ["/prosecutor", "/prosecutor/wandering", "/prosecutor/forwards", "/prosecutor/trends"] {
        assert_eq!(get_as(&app, &browser, path).await.0, 401, "{path} without signing in");
    }
    for login in ["citizen-1", "officer-1"] {
        browser.client().delete_all_cookies().await.unwrap();
        browser.login(&app.url("/login"), login, PASSWORD).await;
        browser.open(&app.url("/prosecutor")).await;
        assert_eq!(browser.text("[role=alert]").await, "You may not do this.", "{login} on /prosecutor");
        assert_eq!(browser.count("#ratings").await, 0);
        for path in ["/prosecutor", "/prosecutor/wandering?appeal=X", "/prosecutor/forwards", "/prosecutor/trends"] {
            assert_eq!(get_as(&app, &browser, path).await.0, 403, "{login} on {path}");
        }
    }
    browser.close().await;
}

/// The Prosecutor General's Office has no region: its prosecutors rate every
/// agency, national ministries included, still lowest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prosecutor_generals_office_rates_every_agency() {
    let app = app().await;
    let browser = Browser::start("ru").await;
    browser.login(&app.url("/login"), "general-1", PASSWORD).await;
    let shown = attributes(&browser, "#ratings tbody tr", "data-agency").await;
    let expected = lowest_first(&report(&app, &browser, "scorecard").await);
    assert_eq!(shown, expected);
    assert!(shown.iter().any(|slug| slug.starts_with("min-")), "national ministries are rated: {shown:?}");
    assert!(shown.iter().any(|slug| slug.ends_with("-astana")), "and the city's bodies: {shown:?}");
    browser.close().await;
}
