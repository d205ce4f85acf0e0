//! Reports, computed from projections (never by scanning the ledger).
//!
//! Every report is a [`Table`]: named columns and rows of JSON scalars (or an
//! array of strings, e.g. an appeal's path). The same table renders as a
//! terminal table, as one JSON array of flat objects, or as CSV; column names
//! are part of the contract (DESIGN.md §6 and the issues that ask for each
//! report).

#![forbid(unsafe_code)]

pub mod appeals;
mod fines;
mod render;

use casetrail_ledger::{Store, StoreError};
use chrono::NaiveDate;
use serde_json::Value;

pub use render::{render, Format};

/// The period and reference day a report is asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportParams {
    /// First day included (Kazakhstan local day).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    /// The day the report is "as of" (overdue, enforcement-due); the caller
    /// passes today when the user gives none.
    pub as_of: NaiveDate,
}

impl ReportParams {
    /// Whether `day` falls in `[from, to]`.
    pub fn includes(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }
}

/// A report's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn new(columns: &[&'static str]) -> Self {
        Self { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Rows as JSON objects keyed by column.
    pub fn objects(&self) -> Vec<serde_json::Map<String, Value>> {
        self.rows
            .iter()
            .map(|row| self.columns.iter().map(|c| (*c).to_owned()).zip(row.iter().cloned()).collect())
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report {0:?}; available: {list}", list = names().join(", "))]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Data(String),
}

/// A report: its name, what it shows, and how it is computed.
pub struct Report {
    pub name: &'static str,
    pub summary: &'static str,
    pub compute: fn(&mut dyn Store, &ReportParams) -> Result<Table, ReportError>,
}

/// Every report, by name.
pub const REPORTS: &[Report] = &[
    Report {
        name: "scorecard",
        summary: "agencies rated on their appeals received in the period (docs/ratings.md), rank 1 best",
        compute: appeals::scorecard,
    },
    Report {
        name: "wandering",
        summary: "appeals with two or more forwards or a cycle, with their path",
        compute: appeals::wandering,
    },
    Report {
        name: "overdue",
        summary: "unanswered appeals past their statutory due date as of --as-of",
        compute: appeals::overdue,
    },
    Report { name: "forwards", summary: "agency-to-agency forwards in the period", compute: appeals::forwards },
    Report {
        name: "trends",
        summary: "appeals registered per month by category, region and agency",
        compute: appeals::trends,
    },
    Report {
        name: "enforcement-due",
        summary: "charges a bailiff may receive as of --as-of (the enforcement gate)",
        compute: fines::enforcement_due,
    },
    Report {
        name: "paid-but-referred",
        summary: "every referral made while payments covered the charge",
        compute: fines::paid_but_referred,
    },
];

pub fn names() -> Vec<&'static str> {
    REPORTS.iter().map(|report| report.name).collect()
}

/// Runs the report called `name`.
pub fn run(name: &str, store: &mut dyn Store, params: &ReportParams) -> Result<Table, ReportError> {
    let report =
        REPORTS.iter().find(|report| report.name == name).ok_or_else(|| ReportError::Unknown(name.to_owned()))?;
    (report.compute)(store, params)
}

/// Reads every projection document of `kind`, page by page, and hands each
/// parsed document to `visit`.
pub fn for_each_doc<T: serde::de::DeserializeOwned>(
    store: &mut dyn Store,
    kind: &str,
    mut visit: impl FnMut(&casetrail_ledger::ProjectionDoc, T),
) -> Result<(), ReportError> {
    const PAGE_DOCS: usize = 5_000;
    let mut after = String::new();
    loop {
        let page = store.docs(kind, &after, PAGE_DOCS)?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.key.clone();
        for doc in &page {
            let value: T = serde_json::from_str(&doc.doc).map_err(|error| {
                ReportError::Data(format!(
                    "projection {kind}/{} is unreadable: {error}; run `casetrail rebuild`",
                    doc.key
                ))
            })?;
            visit(doc, value);
        }
    }
}
