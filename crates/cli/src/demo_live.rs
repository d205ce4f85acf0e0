//! The demo's present: the simulated city is a past year, long answered and
//! long enforced, so every role would open an empty work list. On first
//! start the demo adds a few weeks of live work, dated back from now: fresh
//! appeals in Astana's queues (some forwarded, two sent back into a
//! competence dispute, some overdue) and protocols signed on a demo tablet
//! two months ago and still unpaid (due for enforcement), plus two signed
//! today inside the 50 % window.
//!
//! The records go through the ledger like any others (the protocols are
//! signed by an enrolled device), once: a second start finds them.

use std::path::Path;

use anyhow::{Context, Result};
use casetrail_app::field::{FieldDevice, ProtocolInput};
use casetrail_app::projector::kind;
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::{Event, RawLine};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The first live appeal; its presence means the live work was added.
const FIRST: &str = "LIVE-0001";
/// Live appeals, one registered per day back from today.
const APPEALS: i64 = 30;
/// The demo tablet's device number (unique across casetrail).
const TABLET_NUMBER: u32 = 99_000_001;

/// What was added, for the start-up message.
pub struct Added {
    pub appeals: u64,
    pub protocols: u64,
}

pub fn ensure(ledger: &mut Ledger, dir: &Path, now: DateTime<Utc>) -> Result<Option<Added>> {
    if ledger.store().doc(kind::APPEAL, FIRST)?.is_some() {
        return Ok(None);
    }
    let appeals = appeal_lines(now)?;
    let lines = appeals.into_iter().enumerate().map(|(index, bytes)| RawLine { line: index as u64 + 1, bytes });
    let summary = ledger.import("demo-live", lines.map(Incoming::from_raw), |_| {})?;
    anyhow::ensure!(summary.quarantined == 0, "the demo's live appeals were refused: {:?}", summary.refusals);

    let (mut tablet, enrolled) = FieldDevice::init(
        &dir.join("demo-tablet"),
        "demo-tablet",
        "police-astana",
        TABLET_NUMBER,
        now - Duration::days(90),
    )
    .context("cannot set up the demo tablet")?;
    let mut events = vec![enrolled];
    let mut protocols = 0;
    for (index, days_ago) in [62, 61, 60, 58, 57, 55, 0, 0].into_iter().enumerate() {
        let input = ProtocolInput {
            case: format!("LIVE-P-{:03}", index + 1),
            officer: "demo-officer-7".into(),
            offender_iin: iin(index as u16 + 40)?,
            article: if index % 2 == 0 { "610.1".into() } else { "592.1".into() },
            place: "710000000".into(),
            amount_mci: 5 + 5 * (index as u32 % 3),
            short_procedure: days_ago == 0,
            at: now - Duration::days(days_ago) - Duration::hours(3),
        };
        let (signed, _) = tablet.protocol(&input).context("cannot sign a demo protocol")?;
        events.extend(signed);
        protocols += 1;
    }
    let batch = events.into_iter().map(incoming).collect();
    let summary = ledger.import_batch(&tablet.source(), batch)?;
    anyhow::ensure!(summary.quarantined == 0, "the demo's protocols were refused: {:?}", summary.refusals);
    Ok(Some(Added { appeals: APPEALS as u64, protocols }))
}

fn incoming(event: Event) -> Incoming {
    Incoming { line: None, raw: event.canonical.clone(), parsed: Ok(event) }
}

/// The `n`-th valid IIN of people born on one day (some serials have no
/// valid check digit and are skipped).
fn iin(n: u16) -> Result<String> {
    let birth = NaiveDate::from_ymd_opt(1988, 4, 12).context("a birth date")?;
    (1..u16::MAX)
        .filter_map(|serial| casetrail_types::Iin::from_parts(birth, serial % 2 == 0, serial))
        .nth(usize::from(n))
        .map(|iin| iin.to_string())
        .context("a demo IIN")
}

/// An instant `days` before `now`, at 10:00 plus `hours`, in Astana's time.
fn at(now: DateTime<Utc>, days: i64, hours: i64) -> String {
    let day = casetrail_types::time::local_date(now - Duration::days(days));
    let local = day.and_hms_opt(10, 0, 0).unwrap_or_default() + Duration::hours(hours);
    let offset = casetrail_types::time::kz_offset_at(now);
    format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset)
}

/// Appeals registered 1..=30 days ago at Astana's akimat and police; every
/// fourth forwarded to the other body the next day, every eighth sent back
/// the day after (a competence dispute for the prosecutor).
fn appeal_lines(now: DateTime<Utc>) -> Result<Vec<Vec<u8>>> {
    const CATEGORIES: [&str; 5] = ["housing", "roads", "utilities", "land", "public_transport"];
    let mut lines = Vec::new();
    for n in 1..=APPEALS {
        let number = format!("LIVE-{n:04}");
        let days = APPEALS + 1 - n;
        let (holder, other) =
            if n % 3 == 0 { ("police-astana", "akimat-astana") } else { ("akimat-astana", "police-astana") };
        lines.push(serde_json::json!({
            "type": "appeal.registered", "id": format!("{number}-r"), "at": at(now, days, 0),
            "appeal": number, "agency": holder, "region": "710000000",
            "applicant": { "iin": iin(n as u16)? }, "channel": "portal", "kind": "complaint",
            "category": CATEGORIES[n as usize % CATEGORIES.len()],
        }));
        if n % 4 == 0 && days >= 2 {
            lines.push(serde_json::json!({
                "type": "appeal.forwarded", "id": format!("{number}-f1"), "at": at(now, days - 1, 1),
                "appeal": number, "from": holder, "to": other, "reason": "not_in_competence",
            }));
            if n % 8 == 0 && days >= 3 {
                lines.push(serde_json::json!({
                    "type": "appeal.forwarded", "id": format!("{number}-f2"), "at": at(now, days - 2, 2),
                    "appeal": number, "from": other, "to": holder, "reason": "not_in_competence",
                }));
            }
        }
    }
    lines.into_iter().map(|line| serde_json::to_vec(&line).context("a demo line")).collect()
}
