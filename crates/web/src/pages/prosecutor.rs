//! The prosecutor's oversight pages (analytics) for prosecutors and
//! analysts: the agencies' ratings lowest first (`/prosecutor`), wandering
//! appeals and one appeal's path (`/prosecutor/wandering`), the forward
//! graph as a heat map (`/prosecutor/forwards`) and monthly trends by
//! category and by region (`/prosecutor/trends`), each for any period.
//!
//! Every page runs its report through [`api::report_rows`], so the API and
//! the pages share one authorization and one scope rule: a regional
//! prosecutor's office sees the rows of its region's agencies, the
//! Prosecutor General's Office all. Nothing here is personal data (no IIN,
//! name or text), so no read is logged.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use casetrail_domain::appeal::AppealState;
use casetrail_domain::registry::AgencyState;
use casetrail_types::{Kato, Locale};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{cell, error_page, Ctx, L};
use crate::api::{self, Names, ReportQuery, TrackViewDto};
use crate::auth::{authorize, Action, Target};
use crate::charts::{self, HeatmapText, TrendStyle, TrendText};
use crate::docs;
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[
    include_str!("prosecutor.rs"),
    include_str!("../../templates/prosecutor/nav.html"),
    include_str!("../../templates/prosecutor/period.html"),
    include_str!("../../templates/prosecutor/ratings.html"),
    include_str!("../../templates/prosecutor/wandering.html"),
    include_str!("../../templates/prosecutor/forwards.html"),
    include_str!("../../templates/prosecutor/trends.html"),
];

/// The rating methodology (docs/ratings.md), published as it is.
const RATINGS_METHOD: &str = include_str!("../../../../docs/ratings.md");

/// Rows a list page shows at most.
const ROWS_SHOWN_MAX: usize = api::LIST_ROWS_MAX;
/// Categories drawn as their own line in the trend chart; the rest are
/// summed as "other" (more lines than this cannot be told apart).
const TREND_CATEGORIES_MAX: usize = 6;
/// Regions drawn as their own bars; the rest are summed as "other".
const TREND_REGIONS_MAX: usize = 6;
/// Agency pairs listed under the heat map.
const FORWARD_PAIRS_LISTED: usize = 25;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/prosecutor", get(ratings))
        .route("/prosecutor/wandering", get(wandering))
        .route("/prosecutor/forwards", get(forwards))
        .route("/prosecutor/trends", get(trends))
        .route("/prosecutor/ratings-method", get(ratings_method))
}

// ------------------------------------------------------------------ period

#[derive(serde::Deserialize, Default)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    appeal: Option<String>,
}

/// The period form as the visitor filled it, and what was wrong with it.
pub struct Period {
    from: String,
    to: String,
    error: Option<String>,
    /// The period, when valid.
    query: Option<ReportQuery>,
}

impl Period {
    /// Reads `from` and `to` (YYYY-MM-DD, each optional); a date that does
    /// not parse or a start after the end is an error in the page's language.
    fn read(query: &PeriodQuery, l: &L<'_>) -> Period {
        let from = query.from.as_deref().unwrap_or_default().trim().to_owned();
        let to = query.to.as_deref().unwrap_or_default().trim().to_owned();
        let parse = |text: &str| -> Result<Option<NaiveDate>, String> {
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| l.tr.t_arg("prosecutor-bad-date", "value", text))
        };
        let checked = parse(&from).and_then(|f| parse(&to).map(|t| (f, t))).and_then(|(f, t)| match (f, t) {
            (Some(f), Some(t)) if f > t => {
                Err(l.tr.t_args("prosecutor-period-reversed", "from", &l.date(f), "to", &l.date(t)))
            }
            _ => Ok(ReportQuery { from: f, to: t, as_of: None }),
        });
        match checked {
            Ok(query) => Period { from, to, error: None, query: Some(query) },
            Err(error) => Period { from, to, error: Some(error), query: None },
        }
    }

    /// The period in words ("all time", "from … to …").
    fn describe(&self, l: &L<'_>) -> String {
        let day = |d: Option<NaiveDate>| d.map(|d| l.date(d));
        match self.query.as_ref().map(|q| (day(q.from), day(q.to))) {
            Some((Some(from), Some(to))) => l.tr.t_args("prosecutor-period-between", "from", &from, "to", &to),
            Some((Some(from), None)) => l.tr.t_arg("prosecutor-period-since", "from", &from),
            Some((None, Some(to))) => l.tr.t_arg("prosecutor-period-until", "to", &to),
            _ => l.tr.t("prosecutor-period-all"),
        }
    }

    /// The query string that keeps this period on links (`from=…&to=…`).
    fn link_query(&self) -> String {
        let mut out = String::new();
        for (name, value) in [("from", &self.from), ("to", &self.to)] {
            if !value.is_empty() {
                out.push_str(if out.is_empty() { "" } else { "&" });
                out.push_str(name);
                out.push('=');
                out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
            }
        }
        out
    }
}

// ------------------------------------------------------------------ helpers

/// One decimal in the locale's way (`87,5` in kk and ru, `87.5` in en);
/// a dash when there is no value.
fn decimal(locale: Locale, value: Option<f64>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) => {
            let text = format!("{v:.1}");
            match locale {
                Locale::Kk | Locale::Ru => text.replace('.', ","),
                Locale::En => text,
            }
        }
    }
}

fn count(row: &Map<String, Value>, column: &str) -> u64 {
    row.get(column).and_then(Value::as_u64).unwrap_or_default()
}

fn name_in(slug: &str, agencies: &BTreeMap<String, AgencyState>, locale: Locale) -> String {
    Names::of(slug, agencies).get(locale).to_owned()
}

/// A category's name in the page's language, its code when none is known.
fn category_label(l: &L<'_>, category: &str) -> String {
    let key = format!("category-{category}");
    let label = l.tr.tk("category-", category);
    if label == key {
        category.to_owned()
    } else {
        label
    }
}

/// The page that refuses a visitor who may not run reports (401 / 403);
/// `None` for prosecutors and analysts.
fn refused(state: &AppState, ctx: &Ctx) -> Option<Response> {
    super::allowed(state, ctx, Action::RunReport).err().map(|refused| *refused)
}

/// A link of the sub-navigation.
pub(super) struct NavLink {
    pub(super) href: &'static str,
    pub(super) label: String,
    pub(super) current: bool,
}

/// Every prosecutor page: these four and the case pages of the other module.
pub(super) fn nav(l: &L<'_>, current: &str) -> Vec<NavLink> {
    [
        ("/prosecutor", l.tr.t("prosecutor-nav-ratings")),
        ("/prosecutor/wandering", l.tr.t("prosecutor-nav-wandering")),
        ("/prosecutor/forwards", l.tr.t("prosecutor-nav-forwards")),
        ("/prosecutor/trends", l.tr.t("prosecutor-nav-trends")),
        ("/prosecutor/disputes", l.tr.t("prosecutor-nav-disputes")),
        ("/prosecutor/alerts", l.tr.t("prosecutor-nav-alerts")),
        ("/prosecutor/audit", l.tr.t("prosecutor-nav-audit")),
        ("/prosecutor/access", l.tr.t("prosecutor-nav-access")),
    ]
    .into_iter()
    .map(|(href, label)| NavLink { href, label, current: href == current })
    .collect()
}

/// Runs a report for the period, or says why it could not.
async fn period_rows(
    state: &AppState,
    ctx: &Ctx,
    period: &Period,
    name: &str,
) -> Result<Option<(Vec<Map<String, Value>>, BTreeMap<String, AgencyState>)>, WebError> {
    match &period.query {
        Some(query) => api::report_rows(state, ctx.principal.as_ref(), name, query).await.map(Some),
        None => Ok(None),
    }
}

fn status_of(period: &Period) -> StatusCode {
    if period.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

// ------------------------------------------------------------------ ratings

/// One agency's row of the ratings, ready to show.
pub struct RatingRow {
    agency: String,
    name: String,
    received: u64,
    on_time: String,
    forwarded: String,
    late_forwards: u64,
    wandering: u64,
    ping_pong: u64,
    repeat: String,
    median_days: String,
    score: String,
    rank: u64,
}

#[derive(Template)]
#[template(path = "prosecutor/ratings.html")]
struct RatingsPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    action: &'static str,
    period: Period,
    period_text: String,
    rows: Vec<RatingRow>,
}

/// The scorecard's rows lowest score first (equal scores by agency id).
fn rating_rows(
    mut rows: Vec<Map<String, Value>>,
    agencies: &BTreeMap<String, AgencyState>,
    locale: Locale,
) -> Vec<RatingRow> {
    let score = |row: &Map<String, Value>| row.get("score").and_then(Value::as_f64).unwrap_or_default();
    rows.sort_by(|a, b| score(a).total_cmp(&score(b)).then_with(|| cell(a, "agency").cmp(&cell(b, "agency"))));
    let pct = |row: &Map<String, Value>, column: &str| decimal(locale, row.get(column).and_then(Value::as_f64));
    rows.iter()
        .map(|row| RatingRow {
            agency: cell(row, "agency"),
            name: name_in(&cell(row, "agency"), agencies, locale),
            received: count(row, "received"),
            on_time: pct(row, "answered_on_time_pct"),
            forwarded: pct(row, "forwarded_pct"),
            late_forwards: count(row, "late_forwards"),
            wandering: count(row, "wandering"),
            ping_pong: count(row, "ping_pong"),
            repeat: pct(row, "repeat_pct"),
            median_days: pct(row, "median_citizen_working_days"),
            score: pct(row, "score"),
            rank: count(row, "rank"),
        })
        .collect()
}

async fn ratings(State(state): State<AppState>, ctx: Ctx, Query(query): Query<PeriodQuery>) -> Response {
    if let Some(page) = refused(&state, &ctx) {
        return page;
    }
    let l = ctx.layout(&state);
    let period = Period::read(&query, &l);
    let rows = match period_rows(&state, &ctx, &period, "scorecard").await {
        Ok(Some((rows, agencies))) => rating_rows(rows, &agencies, ctx.locale),
        Ok(None) => Vec::new(),
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor"),
    };
    let page = RatingsPage {
        nav: nav(&l, "/prosecutor"),
        action: "/prosecutor",
        period_text: period.describe(&l),
        l,
        rows,
        period,
    };
    ctx.page(status_of(&page.period), page.render())
}

/// The methodology as published in the repository (Markdown, English).
async fn ratings_method() -> Response {
    if let Err(error) = authorize(None, Action::Public, Target::Anywhere) {
        return error.into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], RATINGS_METHOD).into_response()
}

// ------------------------------------------------------------------ wandering

pub struct WanderingRow {
    appeal: String,
    forwards: u64,
    cycle: bool,
    path: String,
    citizen_days: u64,
    registered_on: Option<NaiveDate>,
    holder: String,
}

/// One appeal's path, drawn.
pub struct PathView {
    view: TrackViewDto,
    svg: String,
}

#[derive(Template)]
#[template(path = "prosecutor/wandering.html")]
struct WanderingPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    action: &'static str,
    period: Period,
    period_text: String,
    rows: Vec<WanderingRow>,
    total: usize,
    appeal: String,
    path: Option<PathView>,
    path_message: Option<String>,
    link_query: String,
}

/// The appeal `number` for a prosecutor whose scope covers a body that held
/// it (404 when there is no such appeal, 403 when none of its bodies is in
/// scope).
async fn appeal_in_scope(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
) -> Result<(AppealState, BTreeMap<String, AgencyState>), WebError> {
    let key = number.to_owned();
    let (appeal, agencies) = state.read(move |store| Ok((docs::appeal(store, &key)?, docs::agencies(store)?))).await?;
    let principal = ctx.principal.as_ref();
    let Some(appeal) = appeal else {
        authorize(principal, Action::RunReport, Target::Anywhere)?;
        return Err(WebError::NotFound(format!("no appeal {number}")));
    };
    let region = |slug: &str| agencies.get(slug).and_then(|a| a.region.as_deref());
    let covered = appeal
        .holdings
        .iter()
        .map(|h| h.agency.as_str())
        .find(|slug| principal.is_some_and(|p| p.scope.covers(slug, region(slug))))
        .unwrap_or(appeal.holder().as_str());
    authorize(principal, Action::RunReport, Target::Agency { slug: covered, region: region(covered) })?;
    Ok((appeal, agencies))
}

async fn wandering(State(state): State<AppState>, ctx: Ctx, Query(query): Query<PeriodQuery>) -> Response {
    if let Some(page) = refused(&state, &ctx) {
        return page;
    }
    let l = ctx.layout(&state);
    let period = Period::read(&query, &l);
    let appeal = query.appeal.as_deref().unwrap_or_default().trim().to_owned();
    let mut rows = Vec::new();
    let mut total = 0;
    match period_rows(&state, &ctx, &period, "wandering").await {
        Ok(Some((mut found, agencies))) => {
            total = found.len();
            // The furthest wanderers first: most forwards, longest wait.
            found.sort_by(|a, b| {
                (count(b, "forwards"), count(b, "citizen_working_days"), cell(a, "appeal")).cmp(&(
                    count(a, "forwards"),
                    count(a, "citizen_working_days"),
                    cell(b, "appeal"),
                ))
            });
            for row in found.iter().take(ROWS_SHOWN_MAX) {
                let path: Vec<String> = row
                    .get("path")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|slug| name_in(slug, &agencies, ctx.locale))
                    .collect();
                rows.push(WanderingRow {
                    appeal: cell(row, "appeal"),
                    forwards: count(row, "forwards"),
                    cycle: row.get("cycle").and_then(Value::as_bool).unwrap_or_default(),
                    path: path.join(" → "),
                    citizen_days: count(row, "citizen_working_days"),
                    registered_on: NaiveDate::parse_from_str(&cell(row, "registered_on"), "%Y-%m-%d").ok(),
                    holder: name_in(&cell(row, "holder"), &agencies, ctx.locale),
                });
            }
        }
        Ok(None) => {}
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor/wandering"),
    }
    let (mut path, mut path_message) = (None, None);
    let mut status = status_of(&period);
    if !appeal.is_empty() {
        match appeal_in_scope(&state, &ctx, &appeal).await {
            Ok((found, agencies)) => match api::view_of(&found, &agencies, state.today()) {
                Ok(view) => path = Some(PathView { svg: super::appeal_path_svg(&l, &view), view }),
                Err(error) => return error_page(&state, &ctx, &error, "/prosecutor/wandering"),
            },
            Err(WebError::NotFound(_)) => {
                status = StatusCode::NOT_FOUND;
                path_message = Some(l.tr.t_arg("prosecutor-path-not-found", "appeal", &appeal));
            }
            Err(error) => return error_page(&state, &ctx, &error, "/prosecutor/wandering"),
        }
    }
    let page = WanderingPage {
        nav: nav(&l, "/prosecutor/wandering"),
        action: "/prosecutor/wandering",
        period_text: period.describe(&l),
        link_query: period.link_query(),
        l,
        period,
        rows,
        total,
        appeal,
        path,
        path_message,
    };
    ctx.page(status, page.render())
}

// ------------------------------------------------------------------ forwards

pub struct PairRow {
    from: String,
    to: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "prosecutor/forwards.html")]
struct ForwardsPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    action: &'static str,
    period: Period,
    period_text: String,
    heatmap: Option<String>,
    pairs: Vec<PairRow>,
    total: u64,
}

async fn forwards(State(state): State<AppState>, ctx: Ctx, Query(query): Query<PeriodQuery>) -> Response {
    if let Some(page) = refused(&state, &ctx) {
        return page;
    }
    let l = ctx.layout(&state);
    let period = Period::read(&query, &l);
    let (mut heatmap, mut pairs, mut total) = (None, Vec::new(), 0);
    match period_rows(&state, &ctx, &period, "forwards").await {
        Ok(Some((rows, agencies))) => {
            let edges: Vec<(String, String, u64)> =
                rows.iter().map(|row| (cell(row, "from"), cell(row, "to"), count(row, "count"))).collect();
            total = edges.iter().map(|(_, _, n)| n).sum();
            let mut labels: Vec<(String, String)> =
                agencies.keys().map(|slug| (slug.clone(), name_in(slug, &agencies, ctx.locale))).collect();
            labels.sort_by(|a, b| a.1.cmp(&b.1));
            let title = l.tr.t("prosecutor-forwards-chart");
            let (rows_word, columns_word) = (l.tr.t("prosecutor-forwards-from"), l.tr.t("prosecutor-forwards-to"));
            let (unit, legend, no_data) = (
                l.tr.t("prosecutor-forwards-unit"),
                l.tr.t("prosecutor-forwards-legend"),
                l.tr.t("prosecutor-no-data"),
            );
            heatmap = Some(charts::forward_heatmap(
                &edges,
                &labels,
                &HeatmapText {
                    title: &title,
                    rows: &rows_word,
                    columns: &columns_word,
                    unit: &unit,
                    legend: &legend,
                    no_data: &no_data,
                },
            ));
            // The report lists the busiest pairs first.
            pairs = edges
                .iter()
                .take(FORWARD_PAIRS_LISTED)
                .map(|(from, to, n)| PairRow {
                    from: name_in(from, &agencies, ctx.locale),
                    to: name_in(to, &agencies, ctx.locale),
                    count: *n,
                })
                .collect();
        }
        Ok(None) => {}
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor/forwards"),
    }
    let page = ForwardsPage {
        nav: nav(&l, "/prosecutor/forwards"),
        action: "/prosecutor/forwards",
        period_text: period.describe(&l),
        l,
        period,
        heatmap,
        pairs,
        total,
    };
    ctx.page(status_of(&page.period), page.render())
}

// ------------------------------------------------------------------ trends

/// A series' total, for the table under a chart.
pub struct SeriesTotal {
    label: String,
    total: u64,
}

#[derive(Template)]
#[template(path = "prosecutor/trends.html")]
struct TrendsPage<'a> {
    l: L<'a>,
    nav: Vec<NavLink>,
    action: &'static str,
    period: Period,
    period_text: String,
    by_category: Option<String>,
    by_region: Option<String>,
    category_totals: Vec<SeriesTotal>,
    region_totals: Vec<SeriesTotal>,
    total: u64,
}

type Series = Vec<(String, Vec<(String, u64)>)>;

/// Sums `(key, month, count)` into at most `max` series, the biggest first;
/// the others are added up under `other`.
fn series_of(points: Vec<(String, String, u64)>, max: usize, other: &str) -> (Series, Vec<SeriesTotal>) {
    let mut by_key: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (key, month, n) in points {
        *by_key.entry(key).or_default().entry(month).or_default() += n;
    }
    let mut ranked: Vec<(String, BTreeMap<String, u64>)> = by_key.into_iter().collect();
    ranked.sort_by(|a, b| b.1.values().sum::<u64>().cmp(&a.1.values().sum::<u64>()).then_with(|| a.0.cmp(&b.0)));
    let mut rest: BTreeMap<String, u64> = BTreeMap::new();
    if ranked.len() > max {
        for (_, months) in ranked.split_off(max.saturating_sub(1)) {
            for (month, n) in months {
                *rest.entry(month).or_default() += n;
            }
        }
    }
    if !rest.is_empty() {
        ranked.push((other.to_owned(), rest));
    }
    let totals = ranked
        .iter()
        .map(|(label, months)| SeriesTotal { label: label.clone(), total: months.values().sum() })
        .collect();
    let series = ranked.into_iter().map(|(label, months)| (label, months.into_iter().collect())).collect();
    (series, totals)
}

async fn trends(State(state): State<AppState>, ctx: Ctx, Query(query): Query<PeriodQuery>) -> Response {
    if let Some(page) = refused(&state, &ctx) {
        return page;
    }
    let l = ctx.layout(&state);
    let period = Period::read(&query, &l);
    let mut page = TrendsPage {
        nav: nav(&l, "/prosecutor/trends"),
        action: "/prosecutor/trends",
        period_text: period.describe(&l),
        l,
        period,
        by_category: None,
        by_region: None,
        category_totals: Vec::new(),
        region_totals: Vec::new(),
        total: 0,
    };
    match period_rows(&state, &ctx, &page.period, "trends").await {
        Ok(Some((rows, _))) => {
            let l = &page.l;
            let other = l.tr.t("prosecutor-trends-other");
            let no_region = l.tr.t("prosecutor-trends-no-region");
            let region_name =
                |code: &str| Kato::parse(code).ok().and_then(|k| k.region()).map(|r| r.name(l.locale).to_owned());
            let mut categories = Vec::new();
            let mut regions = Vec::new();
            for row in &rows {
                let (month, n) = (cell(row, "month"), count(row, "appeals"));
                page.total += n;
                categories.push((category_label(l, &cell(row, "category")), month.clone(), n));
                let region =
                    row.get("region").and_then(Value::as_str).and_then(region_name).unwrap_or(no_region.clone());
                regions.push((region, month, n));
            }
            let (category_series, category_totals) = series_of(categories, TREND_CATEGORIES_MAX, &other);
            let (region_series, region_totals) = series_of(regions, TREND_REGIONS_MAX, &other);
            let unit = l.tr.t("prosecutor-trends-unit");
            let no_data = l.tr.t("prosecutor-no-data");
            let category_title = l.tr.t("prosecutor-trends-by-category");
            let region_title = l.tr.t("prosecutor-trends-by-region");
            let by_category = charts::trend(
                &category_series,
                TrendStyle::Lines,
                &TrendText { title: &category_title, unit: &unit, no_data: &no_data },
            );
            let by_region = charts::trend(
                &region_series,
                TrendStyle::Bars,
                &TrendText { title: &region_title, unit: &unit, no_data: &no_data },
            );
            page.by_category = Some(by_category);
            page.by_region = Some(by_region);
            page.category_totals = category_totals;
            page.region_totals = region_totals;
        }
        Ok(None) => {}
        Err(error) => return error_page(&state, &ctx, &error, "/prosecutor/trends"),
    }
    ctx.page(status_of(&page.period), page.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    fn layout(i18n: &I18n, locale: Locale) -> L<'_> {
        L {
            lang: locale.as_str(),
            locale,
            tr: super::super::Tr { i18n, locale },
            account: None,
            role: String::new(),
            work: None,
            csrf: String::new(),
            path: "/prosecutor".into(),
        }
    }

    fn query(from: &str, to: &str) -> PeriodQuery {
        PeriodQuery { from: Some(from.into()), to: Some(to.into()), appeal: None }
    }

    #[test]
    fn a_period_that_starts_after_it_ends_is_refused_in_the_language() {
        let i18n = I18n::new();
        let l = layout(&i18n, Locale::Ru);
        let period = Period::read(&query("2026-03-10", "2026-03-01"), &l);
        assert!(period.query.is_none());
        let error = period.error.unwrap();
        assert!(error.contains("10 марта 2026 г.") && error.contains("1 марта 2026 г."), "{error}");
        let l = layout(&i18n, Locale::En);
        let period = Period::read(&query("2026-02-30", ""), &l);
        assert!(period.query.is_none());
        assert!(period.error.unwrap().contains("2026-02-30"));
    }

    #[test]
    fn a_valid_period_is_kept_for_links() {
        let i18n = I18n::new();
        let l = layout(&i18n, Locale::En);
        let period = Period::read(&query(" 2026-01-01 ", ""), &l);
        let q = period.query.as_ref().unwrap();
        assert_eq!((q.from, q.to), (NaiveDate::from_ymd_opt(2026, 1, 1), None));
        assert_eq!(period.link_query(), "from=2026-01-01");
        assert_eq!(period.describe(&l), "From 1 January 2026.");
        let all = Period::read(&PeriodQuery::default(), &l);
        assert_eq!(
            (all.query.is_some(), all.link_query(), all.describe(&l)),
            (true, String::new(), "For the whole record.".into())
        );
    }

    #[test]
    fn decimals_follow_the_locale() {
        assert_eq!(decimal(Locale::Ru, Some(87.46)), "87,5");
        assert_eq!(decimal(Locale::Kk, Some(100.0)), "100,0");
        assert_eq!(decimal(Locale::En, Some(9.5)), "9.5");
        assert_eq!(decimal(Locale::En, None), "—");
    }

    #[test]
    fn small_series_are_summed_as_other() {
        let points = vec![
            ("a".to_owned(), "2026-01".to_owned(), 5),
            ("a".to_owned(), "2026-02".to_owned(), 5),
            ("b".to_owned(), "2026-01".to_owned(), 7),
            ("c".to_owned(), "2026-01".to_owned(), 2),
            ("d".to_owned(), "2026-02".to_owned(), 1),
        ];
        let (series, totals) = series_of(points, 3, "other");
        let labels: Vec<&str> = series.iter().map(|(label, _)| label.as_str()).collect();
        assert_eq!(labels, ["a", "b", "other"]);
        assert_eq!(series[2].1, vec![("2026-01".to_owned(), 2), ("2026-02".to_owned(), 1)]);
        let totals: Vec<u64> = totals.iter().map(|t| t.total).collect();
        assert_eq!(totals, [10, 7, 3]);
    }
}
