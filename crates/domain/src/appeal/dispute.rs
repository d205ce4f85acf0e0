//! Competence disputes: a forward back to a body that already held the
//! appeal opens one, addressed to the prosecutor's office of the appeal's
//! region; `appeal.assigned` settles it.

use casetrail_exchange::AgencySlug;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Cycle;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    Open,
    Settled,
}

/// One appeal's competence dispute (the projection document `dispute/{appeal}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeState {
    pub appeal: String,
    pub status: DisputeStatus,
    /// Region-level KATO code the dispute belongs to, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The prosecutor's office that must settle it: its slug, or the region
    /// code when no prosecutor's office of that region is registered, or
    /// `unknown-region`.
    pub addressed_to: String,
    /// The bodies in dispute, in the order they held the appeal.
    pub agencies: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_on: NaiveDate,
    /// Every event that proves a cycle (each new cycle adds its events).
    pub events: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_by: Option<String>,
}

/// Where a dispute goes when no prosecutor's office and no region is known.
pub const UNKNOWN_REGION: &str = "unknown-region";

/// The region-level KATO code (`NN0000000`) of any KATO code.
pub fn region_code(kato: &str) -> Option<String> {
    let prefix: String = kato.chars().take(2).collect();
    (prefix.len() == 2 && prefix.chars().all(|c| c.is_ascii_digit())).then(|| format!("{prefix}0000000"))
}

/// Opens a dispute for a cycle, or adds the cycle to the open one.
pub fn on_cycle(
    current: Option<DisputeState>,
    appeal: &str,
    cycle: &Cycle,
    region: Option<String>,
    prosecutor: Option<String>,
    at: DateTime<Utc>,
) -> DisputeState {
    let agencies = cycle.agencies.iter().map(AgencySlug::to_string);
    match current {
        Some(mut open) if open.status == DisputeStatus::Open => {
            for agency in agencies {
                if !open.agencies.contains(&agency) {
                    open.agencies.push(agency);
                }
            }
            for seq in &cycle.events {
                if !open.events.contains(seq) {
                    open.events.push(*seq);
                }
            }
            open
        }
        _ => DisputeState {
            appeal: appeal.to_owned(),
            status: DisputeStatus::Open,
            addressed_to: prosecutor.or_else(|| region.clone()).unwrap_or_else(|| UNKNOWN_REGION.to_owned()),
            region,
            agencies: agencies.collect(),
            opened_at: at,
            opened_on: casetrail_types::time::local_date(at),
            events: cycle.events.clone(),
            settled_on: None,
            settled_seq: None,
            assigned_to: None,
            assigned_by: None,
        },
    }
}

/// Settles an open dispute by an assignment; `None` when none is open.
pub fn on_assigned(
    current: Option<DisputeState>,
    to: &AgencySlug,
    by: &AgencySlug,
    day: NaiveDate,
    seq: u64,
) -> Option<DisputeState> {
    let mut open = current.filter(|dispute| dispute.status == DisputeStatus::Open)?;
    open.status = DisputeStatus::Settled;
    open.settled_on = Some(day);
    open.settled_seq = Some(seq);
    open.assigned_to = Some(to.to_string());
    open.assigned_by = Some(by.to_string());
    Some(open)
}
