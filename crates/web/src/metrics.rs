//! Prometheus metrics at `/metrics`, in the text exposition format written
//! by hand (no client library needed for counters and one histogram).
//!
//! Request counters and latencies are kept per matched route (the pattern,
//! never the concrete path: no appeal number or IIN becomes a label). The
//! ledger gauges are read from the store at scrape time; the appeal and fine
//! gauges scan projections and are cached for [`GAUGE_CACHE_SECONDS`].
//! The reference-data gauges say how many days the working-day calendar and
//! the MCI table still cover ([`reference_data_horizon`]).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::state::AppState;
use crate::writer::Outcome;

/// Days of cover below which `casetrail serve` warns on start.
pub const REFERENCE_DATA_WARN_DAYS: i64 = 60;

/// The embedded tables that end at a date, each with its last covered day
/// and what to add after it: the working-day calendar (appeal terms) and the
/// MCI table (fine amounts). Past that day casetrail refuses to guess, so an
/// operator must add the new year before it comes.
pub fn reference_data_horizon() -> [(&'static str, Option<chrono::NaiveDate>, &'static str); 2] {
    [
        (
            "working_calendar",
            casetrail_types::calendar::WorkCalendar::kazakhstan().known_through(),
            "add data/calendar/kz-YEAR.toml for the next year",
        ),
        ("mci", casetrail_types::mci::Mci::table().known_through(), "add the next year's MCI to data/mci.toml"),
    ]
}

/// Warnings for the tables that cover fewer than
/// [`REFERENCE_DATA_WARN_DAYS`] days after `today`.
pub fn reference_data_warnings(today: chrono::NaiveDate) -> Vec<String> {
    reference_data_horizon()
        .into_iter()
        .filter_map(|(table, through, remedy)| match through {
            None => Some(format!("warning: the {table} table is empty or invalid; {remedy}")),
            Some(through) if (through - today).num_days() < REFERENCE_DATA_WARN_DAYS => Some(format!(
                "warning: the {table} table ends on {through} ({} days from {today}); terms or amounts after it \
                 will be refused: {remedy} and rebuild casetrail",
                (through - today).num_days()
            )),
            Some(_) => None,
        })
        .collect()
}

/// Latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// How long the scanned gauges (overdue appeals, fines due) are reused.
pub const GAUGE_CACHE_SECONDS: u64 = 60;

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One route's counters: requests by method and status, and latencies.
#[derive(Default)]
struct RouteStats {
    requests: Vec<(String, u16, u64)>,
    latency: Histogram,
}

#[derive(Default)]
struct Inner {
    /// By route pattern; a route's entry is made on its first request, so
    /// that counting one allocates nothing.
    routes: BTreeMap<String, RouteStats>,
    imports: BTreeMap<&'static str, u64>,
    scanned: Option<(Instant, u64, u64)>,
}

#[derive(Default)]
pub struct Metrics(Mutex<Inner>);

impl Metrics {
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut inner) = self.0.lock() else { return };
        if !inner.routes.contains_key(route) {
            inner.routes.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = inner.routes.get_mut(route) else { return };
        match stats.requests.iter_mut().find(|(m, s, _)| m == method && *s == status) {
            Some((_, _, count)) => *count += 1,
            None => stats.requests.push((method.to_owned(), status, 1)),
        }
        let histogram = &mut stats.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.buckets[i] += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts a record written over HTTP by what became of it.
    pub fn count_import(&self, outcome: &Outcome) {
        let Ok(mut inner) = self.0.lock() else { return };
        let key = match outcome {
            Outcome::Appended { .. } => "appended",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Quarantined { .. } => "quarantined",
        };
        *inner.imports.entry(key).or_default() += 1;
    }

    fn render(&self, out: &mut String) {
        let Ok(inner) = self.0.lock() else { return };
        let _ = writeln!(out, "# HELP casetrail_http_requests_total HTTP requests by route, method and status.");
        let _ = writeln!(out, "# TYPE casetrail_http_requests_total counter");
        for (route, stats) in &inner.routes {
            let mut requests: Vec<_> = stats.requests.iter().collect();
            requests.sort_unstable();
            for (method, status, count) in requests {
                let _ = writeln!(
                    out,
                    "casetrail_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(out, "# HELP casetrail_http_request_duration_seconds Request latency by route.");
        let _ = writeln!(out, "# TYPE casetrail_http_request_duration_seconds histogram");
        for (route, RouteStats { latency: h, .. }) in &inner.routes {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "casetrail_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "casetrail_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "casetrail_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "casetrail_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        let _ = writeln!(out, "# HELP casetrail_http_records_total Records written over HTTP by outcome.");
        let _ = writeln!(out, "# TYPE casetrail_http_records_total counter");
        for outcome in ["appended", "duplicate", "quarantined"] {
            let count = inner.imports.get(outcome).copied().unwrap_or_default();
            let _ = writeln!(out, "casetrail_http_records_total{{outcome=\"{outcome}\"}} {count}");
        }
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One request being counted by its route pattern and timed.
pub struct RequestTimer {
    route: Option<MatchedPath>,
    method: axum::http::Method,
    started: Instant,
}

impl RequestTimer {
    /// Starts timing. Both are shared, not copied: a matched path is
    /// reference-counted and a standard method is a constant.
    pub fn start(request: &Request) -> Self {
        RequestTimer {
            route: request.extensions().get::<MatchedPath>().cloned(),
            method: request.method().clone(),
            started: Instant::now(),
        }
    }

    /// Counts the request with its answer's status and duration.
    pub fn finish(self, state: &AppState, response: &Response) {
        state.metrics.observe(
            self.route.as_ref().map_or("unmatched", MatchedPath::as_str),
            self.method.as_str(),
            response.status().as_u16(),
            self.started.elapsed().as_secs_f64(),
        );
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, WebError> {
    let today = state.today();
    let cached = state.metrics.0.lock().ok().and_then(|inner| inner.scanned);
    let fresh = cached.filter(|(at, _, _)| at.elapsed() < Duration::from_secs(GAUGE_CACHE_SECONDS));
    let (events, quarantine, overdue, due) = state
        .read(move |store| {
            let events = store.ledger_state()?.size();
            let quarantine = store.quarantine_open_count()?;
            let (overdue, due) = match fresh {
                Some((_, overdue, due)) => (overdue, due),
                None => {
                    let params = casetrail_reports::ReportParams { from: None, to: None, as_of: today };
                    let overdue = casetrail_reports::run("overdue", store, &params).map_err(WebError::internal)?;
                    let due = casetrail_reports::run("enforcement-due", store, &params).map_err(WebError::internal)?;
                    (overdue.rows.len() as u64, due.rows.len() as u64)
                }
            };
            Ok((events, quarantine, overdue, due))
        })
        .await?;
    if fresh.is_none() {
        if let Ok(mut inner) = state.metrics.0.lock() {
            inner.scanned = Some((Instant::now(), overdue, due));
        }
    }
    let mut out = String::new();
    state.metrics.render(&mut out);
    for (name, help, value) in [
        ("casetrail_ledger_events", "Events in the ledger.", events),
        ("casetrail_quarantine_open", "Open quarantine entries.", quarantine),
        ("casetrail_appeals_overdue", "Unanswered appeals past their statutory due date today.", overdue),
        ("casetrail_fines_enforcement_due", "Charges due for enforcement today.", due),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
    }
    let name = "casetrail_reference_data_days_left";
    let _ = writeln!(
        out,
        "# HELP {name} Days from today to the last day an embedded table covers (negative: already past).\n# TYPE {name} gauge"
    );
    for (table, through, _) in reference_data_horizon() {
        let days = through.map_or(-1, |through| (through - today).num_days());
        let _ = writeln!(out, "{name}{{table=\"{table}\"}} {days}");
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
