//! casetrail in a real browser: headless Chromium (Debian's package) driven
//! over WebDriver, against the server started in-process on a simulated
//! city. Each test is what a person does; each page is checked in Kazakh,
//! Russian and English, on a desktop and on a phone, and photographed into
//! `target/screenshots/<name>-<lang>.png` for review.
//!
//! No test skips: without Chromium they fail and say how to install it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::app::TestApp;
use support::browser::{Browser, LANGS};

/// The one-line description of casetrail, by language, as the status page
/// shows it.
fn tagline(lang: &str) -> &'static str {
    match lang {
        "kk" => "Азаматтардың өтініштері мен әкімшілік айыппұлдардың бірыңғай есебі.",
        "ru" => "Единый учёт обращений граждан и административных штрафов.",
        _ => "One accountable trail for every citizen appeal and administrative fine.",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_shows_the_ledger_in_every_language() {
    let app = TestApp::start(300, 200).await;
    for lang in LANGS {
        let browser = Browser::start(lang).await;
        browser.open(&app.url("/")).await;
        assert_eq!(browser.client().title().await.unwrap(), "casetrail");
        assert_eq!(browser.text("h1").await, "casetrail");
        let text = browser.page_text().await;
        assert!(text.contains(tagline(lang)), "[{lang}] the tagline is missing from:\n{text}");
        let events = app.data.events.to_string();
        assert!(text.contains(&events), "[{lang}] the page does not show the ledger's {events} events:\n{text}");
        let shot = browser.screenshot("status").await;
        eprintln!("screenshot: {}", shot.display());

        browser.phone().await;
        browser.open(&app.url("/")).await;
        browser.screenshot("status-phone").await;
        browser.close().await;
    }
}

/// The words of the charts, by language (the UI's Fluent bundles will own
/// them once the pages use the charts).
struct ChartWords {
    forwards_title: &'static str,
    from: &'static str,
    to: &'static str,
    forwards: &'static str,
    legend: &'static str,
    trend_title: &'static str,
    appeals: &'static str,
    path_title: &'static str,
    again: &'static str,
    no_data: &'static str,
}

fn chart_words(lang: &str) -> ChartWords {
    match lang {
        "kk" => ChartWords {
            forwards_title: "Органдар арасындағы жолдаулар",
            from: "кімнен",
            to: "кімге",
            forwards: "жолдау",
            legend: "Жұп бойынша жолдаулар",
            trend_title: "Санаттар бойынша айлық өтініштер",
            appeals: "өтініш",
            path_title: "Өтініштің жолы",
            again: "қайтадан",
            no_data: "Деректер жоқ",
        },
        "ru" => ChartWords {
            forwards_title: "Переадресации между органами",
            from: "откуда",
            to: "куда",
            forwards: "переадресаций",
            legend: "Переадресаций на пару",
            trend_title: "Обращения по месяцам и категориям",
            appeals: "обращений",
            path_title: "Путь обращения",
            again: "повторно",
            no_data: "Нет данных",
        },
        _ => ChartWords {
            forwards_title: "Forwards between agencies",
            from: "from",
            to: "to",
            forwards: "forwards",
            legend: "Forwards per pair",
            trend_title: "Appeals by month and category",
            appeals: "appeals",
            path_title: "Path of the appeal",
            again: "again",
            no_data: "No data",
        },
    }
}

fn forward_reason<'a>(lang: &str, code: &'a str) -> &'a str {
    match (lang, code) {
        ("kk", "not_in_competence") => "құзыретіне кірмейді",
        ("kk", "partially_competent") => "ішінара құзыретті",
        ("kk", "joint_review") => "бірлесіп қарау",
        ("kk", "other") => "басқа",
        ("ru", "not_in_competence") => "не в компетенции",
        ("ru", "partially_competent") => "частично в компетенции",
        ("ru", "joint_review") => "совместное рассмотрение",
        ("ru", "other") => "другое",
        (_, "not_in_competence") => "not in competence",
        (_, "partially_competent") => "partially competent",
        (_, "joint_review") => "joint review",
        (_, "other") => "other",
        (_, code) => code,
    }
}

/// The three charts of `casetrail_web::charts` on the simulated city, as
/// Chromium draws them: every cell of the forward matrix is there, the
/// legends show, nothing overflows a phone's width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_render_in_chromium_on_desktop_and_phone() {
    use casetrail_web::charts::{self, FlowStop, FlowText, HeatmapText, TrendStyle, TrendText};

    let app = TestApp::start(1_500, 100).await;
    let data = &app.data;
    let wandering = data.wandering.clone().expect("the simulated city has a forwarded appeal");
    let calendar = casetrail_types::calendar::WorkCalendar::kazakhstan();
    let day = |at: &str| chrono::NaiveDate::parse_from_str(&at[..10], "%Y-%m-%d").expect("a date");
    let edges: Vec<(String, String, u64)> =
        data.forwards.iter().map(|((from, to), count)| (from.clone(), to.clone(), *count)).collect();
    let mut agencies_in_graph: Vec<&String> = data.forwards.keys().flat_map(|(from, to)| [from, to]).collect();
    agencies_in_graph.sort();
    agencies_in_graph.dedup();
    let mut categories: std::collections::BTreeMap<String, Vec<(String, u64)>> = Default::default();
    for ((category, month), count) in &data.by_category_month {
        categories.entry(category.clone()).or_default().push((month.clone(), *count));
    }
    let series: Vec<(String, Vec<(String, u64)>)> = categories.into_iter().take(5).collect();

    let i18n = casetrail_web::i18n::I18n::new();
    let mut pages = std::collections::BTreeMap::new();
    for lang in LANGS {
        let words = chart_words(lang);
        let locale = casetrail_types::Locale::parse(lang).expect("a supported language");
        let labels: Vec<(String, String)> =
            data.agencies.keys().map(|slug| (slug.clone(), data.agency_name(slug, lang))).collect();
        let heatmap = charts::forward_heatmap(
            &edges,
            &labels,
            &HeatmapText {
                title: words.forwards_title,
                rows: words.from,
                columns: words.to,
                unit: words.forwards,
                legend: words.legend,
                no_data: words.no_data,
            },
        );
        let trend = charts::trend(
            &series,
            TrendStyle::Lines,
            &TrendText { title: words.trend_title, unit: words.appeals, no_data: words.no_data },
        );
        let stops: Vec<FlowStop> = wandering
            .holders
            .iter()
            .enumerate()
            .map(|(i, holder)| FlowStop {
                agency: data.agency_name(holder, lang),
                held: wandering
                    .received
                    .get(i + 1)
                    .and_then(|next| calendar.working_days_between(day(&wandering.received[i]), day(next)).ok())
                    .map(|days| i18n.t_args(locale, "chart-working-days", &[("days", days.to_string())])),
                forward_reason: wandering.reasons.get(i).map(|code| forward_reason(lang, code).to_owned()),
                outcome: None,
            })
            .collect();
        let path_title = format!("{} {}", words.path_title, wandering.appeal);
        let path =
            charts::appeal_path(&stops, &FlowText { title: &path_title, again: words.again, no_data: words.no_data });
        pages.insert(
            lang,
            format!(
                "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>charts</title>\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <style>body{{margin:8px;font-family:sans-serif}} figure{{margin:0 0 24px}} svg{{max-width:100%;height:auto}}</style>\
                 </head><body><figure id=\"heatmap\">{heatmap}</figure><figure id=\"trend\">{trend}</figure>\
                 <figure id=\"path\">{path}</figure></body></html>"
            ),
        );
    }
    let pages = std::sync::Arc::new(pages);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/charts/{lang}",
        axum::routing::get(move |axum::extract::Path(lang): axum::extract::Path<String>| {
            let pages = pages.clone();
            async move { axum::response::Html(pages.get(lang.as_str()).cloned().unwrap_or_default()) }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let n = agencies_in_graph.len();
    assert!(n >= 2, "the simulated city forwards between at least two agencies");
    for lang in LANGS {
        let words = chart_words(lang);
        let browser = Browser::start(lang).await;
        browser.open(&format!("{base}/charts/{lang}")).await;
        assert_eq!(browser.count("#heatmap rect.cell").await, n * n, "[{lang}] one cell per pair of agencies");
        assert!(browser.count("#heatmap .legend rect.swatch").await >= 2, "[{lang}] a legend");
        assert_eq!(browser.count("#trend polyline").await, series.len(), "[{lang}] one line per category");
        assert_eq!(browser.count("#path g.stop").await, wandering.holders.len(), "[{lang}] one box per holder");
        let text = browser.page_text().await;
        for holder in &wandering.holders {
            let name = data.agency_name(holder, lang);
            let shown: String = name.chars().take(10).collect();
            assert!(text.contains(&shown), "[{lang}] the path does not name {name}:\n{text}");
        }
        assert!(text.contains(words.legend), "[{lang}] the legend's heading is missing");
        browser.screenshot("charts").await;

        browser.phone().await;
        browser.open(&format!("{base}/charts/{lang}")).await;
        browser.assert_fits_width().await;
        let (_, _, width, _) = browser.find("#heatmap svg").await.rectangle().await.unwrap();
        assert!(width <= 390.0, "[{lang}] the heat map is {width} px wide on a 390 px phone");
        browser.screenshot("charts-phone").await;
        browser.close().await;
    }
    server.abort();
}

/// A citizen tracks the most-forwarded appeal of the city by its number and
/// IIN and sees every body that held it, in their language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_tracks_an_appeal_in_every_language() {
    let app = TestApp::start(1_500, 100).await;
    let wandering = app.data.wandering.clone().expect("the simulated city has a forwarded appeal");
    for lang in LANGS {
        let browser = Browser::start(lang).await;
        browser.open(&app.url("/track")).await;
        assert_eq!(browser.page_lang().await, lang, "the page follows Accept-Language");
        browser.fill("#appeal", &wandering.appeal).await;
        browser.fill("#iin", &wandering.iin).await;
        browser.click_and_wait(&browser.find("form[action='/track'] [type=submit]").await).await;

        assert_eq!(browser.text("#result").await, wandering.appeal, "[{lang}] the tracked appeal's number");
        assert_eq!(
            browser.count("ol.timeline > li").await,
            wandering.holders.len(),
            "[{lang}] one step per body that held {}",
            wandering.appeal
        );
        let timeline = browser.text("ol.timeline").await;
        for holder in &wandering.holders {
            let name = app.data.agency_name(holder, lang);
            assert!(timeline.contains(&name), "[{lang}] the timeline does not name {name}:\n{timeline}");
        }
        assert!(!browser.page_text().await.contains(&wandering.iin), "[{lang}] the page shows the IIN back");
        browser.screenshot("citizen-track").await;

        browser.phone().await;
        browser.assert_fits_width().await;
        browser.screenshot("citizen-track-phone").await;
        browser.close().await;
    }
}

/// An agency officer signs in, finds a new appeal in the agency's queue,
/// accepts it, then forwards it to the competent body with a reason; it
/// leaves the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_accepts_and_forwards_an_appeal_from_the_queue_in_every_language() {
    use support::app::{account, appeal};

    // The holder and the receiver of the city's most-forwarded appeal: two
    // agencies that really forward to each other.
    let probe = TestApp::start(1_500, 100).await;
    let wandering = probe.data.wandering.clone().expect("a forwarded appeal");
    drop(probe);
    let (holder, receiver) = (wandering.holders[0].clone(), wandering.holders[1].clone());
    let password = "correct horse battery";
    let mut extra = vec![account("officer-1", "officer", Some(&holder), password)];
    for lang in LANGS {
        extra.push(appeal(&format!("BT-{lang}-1"), &holder, &wandering.iin, "2026-11-16T10:00:00+05:00"));
    }
    let app = TestApp::start_with(1_500, 100, extra).await;

    for lang in LANGS {
        let number = format!("BT-{lang}-1");
        let browser = Browser::start(lang).await;
        browser.login(&app.url("/login"), "officer-1", password).await;
        browser.open(&app.url("/officer")).await;
        assert_eq!(browser.page_lang().await, lang);
        let heading = browser.text("h1").await;
        let holder_name = app.data.agency_name(&holder, lang);
        assert!(heading.contains(&holder_name), "[{lang}] the queue is {holder_name}'s: {heading}");
        let row = browser.row(&number).await.unwrap_or_else(|| panic!("[{lang}] {number} is not in the queue"));
        browser.screenshot("officer-queue").await;

        // Accept: the row's button takes it into work; the row then says so.
        let accept = row.find(fantoccini::Locator::Css("form[action$='/accept'] [type=submit]")).await.unwrap();
        browser.click_and_wait(&accept).await;
        let row = browser.row(&number).await.unwrap_or_else(|| panic!("[{lang}] {number} left the queue on accept"));
        assert!(
            row.find(fantoccini::Locator::Css("p.accepted")).await.is_ok(),
            "[{lang}] {number} is not marked accepted"
        );
        assert!(
            row.find(fantoccini::Locator::Css("form[action$='/accept']")).await.is_err(),
            "[{lang}] an accepted appeal still offers Accept"
        );

        // Forward: open the row's forward form, choose the receiver and the
        // reason, send.
        row.find(fantoccini::Locator::Css("details summary")).await.unwrap().click().await.unwrap();
        let form = row.find(fantoccini::Locator::Css("form[action$='/forward']")).await.unwrap();
        form.find(fantoccini::Locator::Css("select[name=to]")).await.unwrap().select_by_value(&receiver).await.unwrap();
        form.find(fantoccini::Locator::Css("select[name=reason]"))
            .await
            .unwrap()
            .select_by_value("not_in_competence")
            .await
            .unwrap();
        browser.click_and_wait(&form.find(fantoccini::Locator::Css("[type=submit]")).await.unwrap()).await;

        browser.open(&app.url("/officer")).await;
        assert!(browser.row(&number).await.is_none(), "[{lang}] {number} is still in the queue after the forward");
        browser.screenshot("officer-forwarded").await;

        browser.phone().await;
        browser.screenshot("officer-queue-phone").await;
        browser.close().await;
    }
}
