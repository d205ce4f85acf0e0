//! A deterministic, streaming simulator of one year of citizen appeals and
//! administrative fines in Kazakhstan, written in the casetrail exchange
//! format (DESIGN.md §4): `casetrail simulate --scale city|region|national`.
//!
//! # How it works
//!
//! The simulator walks the year day by day. Each day it draws that day's new
//! appeals and fines (with weekly and monthly seasonality) and *plans* each
//! case's whole life at once: every future record of the case (forwards,
//! extension, answer, contest; protocol, fine, payments, referral, recall)
//! goes into one priority queue ordered by (instant, sequence number). Then
//! it writes every queued record due before the next midnight, in order.
//! Only open cases live in the queue, so memory is bounded by the number of
//! cases open at once (weeks of traffic), never by the year's total; after
//! the last day the queue is drained, so cases opened in December finish in
//! the following year.
//!
//! Because every record of a case is queued in causal order with
//! non-decreasing instants, and the queue breaks ties by insertion order,
//! the output is sorted by `at` and every record comes after the records it
//! refers to (agency, device, appeal registration, fine).
//!
//! Everything random comes from one ChaCha8 stream seeded with the seed
//! (device keys from a second ChaCha20 stream), nothing depends on hash-map
//! order or the clock: the same (scale, seed, year, rates) give the same
//! bytes.
//!
//! # Protocol signatures
//!
//! `fine.protocol_signed` carries a real Ed25519 signature by the enrolled
//! tablet's key over the RFC 8785 (JCS) bytes of the *whole line object*
//! (`type`, `id`, `at` and every field) without its `signature` member. A
//! verifier parses the line, removes `signature`, canonicalises the rest with
//! `casetrail_exchange::jcs::canonical_bytes` and checks the signature with
//! the `public_key` of the `device.enrolled` record named by `device`.
//!
//! # Truthfulness
//!
//! [`SimSummary`] counts exactly what was written; its definitions are on its
//! fields.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod people;
mod workdays;
mod world;

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use base64::Engine;
use casetrail_exchange::{
    jcs, AgencyRegistered, AppealAnswered, AppealAssigned, AppealContestResolved, AppealContested, AppealExtended,
    AppealForwarded, AppealKind, AppealRegistered, Channel, DeviceEnrolled, DeviceRevoked, Event, FineCancelled,
    FineImposed, FineRecalled, FineReferred, ForwardReason, Ident, Outcome, PaymentReceived, ProtocolSigned, Record,
};
use casetrail_types::mci::Mci;
use casetrail_types::{Money, Uin};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
use ed25519_dalek::{Signer, SigningKey};
use rand::{Rng, SeedableRng};
use rand_chacha::{ChaCha20Rng, ChaCha8Rng};

use people::{Applicant, People};
use workdays::WorkDays;
use world::{World, ARTICLES, CATEGORIES, PROVIDERS};

/// How much of the country to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Astana and the national bodies it deals with: 45,000 appeals and
    /// 18,000 fines a year (about 150,000 records).
    City,
    /// Karaganda region and the national bodies: ten times the city.
    Region,
    /// The whole country: 21 million appeals and 5 million fines a year.
    National,
}

impl Scale {
    /// Appeals per year at this scale (first appeals and repeats together).
    pub fn appeals_per_year(self) -> u64 {
        match self {
            Scale::City => 45_000,
            Scale::Region => 450_000,
            Scale::National => 21_000_000,
        }
    }

    /// Fines per year at this scale.
    pub fn fines_per_year(self) -> u64 {
        match self {
            Scale::City => 18_000,
            Scale::Region => 180_000,
            Scale::National => 5_000_000,
        }
    }

    /// People who may appeal or be fined.
    fn population(self) -> u32 {
        match self {
            Scale::City => 900_000,
            Scale::Region => 1_100_000,
            Scale::National => 13_000_000,
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scale::City => "city",
            Scale::Region => "region",
            Scale::National => "national",
        })
    }
}

/// An unknown scale name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleError(pub String);

impl fmt::Display for ScaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown scale {:?}; use city, region or national", self.0)
    }
}

impl std::error::Error for ScaleError {}

impl FromStr for Scale {
    type Err = ScaleError;
    fn from_str(text: &str) -> Result<Scale, ScaleError> {
        match text {
            "city" => Ok(Scale::City),
            "region" => Ok(Scale::Region),
            "national" => Ok(Scale::National),
            other => Err(ScaleError(other.to_owned())),
        }
    }
}

/// What to simulate. Rates are probabilities in `0.0..=1.0`.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub scale: Scale,
    pub seed: u64,
    /// The calendar year whose appeals and fines are simulated (default
    /// 2025). Cases opened late in the year finish in the next one.
    pub year: i32,
    /// Overrides the scale's appeals per year (e.g. small runs in tests).
    pub appeals_per_year: Option<u64>,
    /// Overrides the scale's fines per year.
    pub fines_per_year: Option<u64>,

    // --- appeals ---
    /// Share of appeals forwarded at least once (0.10: DESIGN.md §1).
    pub forward_rate: f64,
    /// Share of forwarded appeals that return to a body that already held
    /// them (A→B→A ping-pong, sometimes A→B→C→A) (0.15).
    pub cycle_share_of_forwarded: f64,
    /// Share of forwarded appeals passed on 3–5 times between distinct
    /// bodies ("hot potato") (0.10).
    pub long_chain_share_of_forwarded: f64,
    /// Share of forwarded appeals forwarded exactly twice without a cycle
    /// (0.10).
    pub two_forwards_share_of_forwarded: f64,
    /// Share of forwards made after the 3-working-day limit (0.05).
    pub late_forward_rate: f64,
    /// Share of forwards made on the last day of the holder's own 15-day
    /// term (0.03).
    pub last_day_forward_rate: f64,
    /// Share of cycling appeals that the regional prosecutor's office
    /// resolves with `appeal.assigned` (0.35).
    pub assigned_after_cycle_rate: f64,
    /// Share of answers given after the holder's due date, extensions aside
    /// (0.07).
    pub late_answer_rate: f64,
    /// Share of appeals whose term the holder extends (0.04).
    pub extension_rate: f64,
    /// Share of extended appeals still answered after the extension (0.10).
    pub late_after_extension_rate: f64,
    /// Share of answers the applicant contests (0.02).
    pub contest_rate: f64,
    /// Share of contests upheld (0.30).
    pub contest_upheld_rate: f64,
    /// Probability that an applicant not satisfied by the answer appeals
    /// again on the same category within weeks (0.06).
    pub repeat_appeal_rate: f64,
    /// Share of anonymous appeals (0.01).
    pub anonymous_rate: f64,
    /// Share of appeals from organisations (BIN) (0.05).
    pub organisation_rate: f64,

    // --- fines ---
    /// Share of fines imposed from cameras, without a protocol (0.55).
    pub camera_share: f64,
    /// Share of short-procedure fines paid at 50% within 7 working days of
    /// the offence (0.55).
    pub pay_in_discount_rate: f64,
    /// Share of fines never paid, hence referred to a bailiff (0.12).
    pub unpaid_rate: f64,
    /// Share of fines paid only after referral (0.05).
    pub late_payment_rate: f64,
    /// Share of payments that quote no UIN, only the payer (0.05).
    pub payment_without_uin_rate: f64,
    /// Share of fines paid in two parts (0.03).
    pub partial_payment_rate: f64,
    /// Share of referrals made although payments already covered the fine:
    /// the "52,000" problem (0.01).
    pub paid_but_referred_rate_of_referrals: f64,
    /// Share of those wrongful referrals later recalled (0.6).
    pub recall_rate_of_paid_but_referred: f64,
    /// Share of referrals recalled after a late payment (0.5).
    pub recall_rate_of_late_payments: f64,
    /// Share of fines cancelled (0.01).
    pub cancel_rate: f64,
    /// Share of tablets revoked (lost, damaged, ...) per year and replaced
    /// (0.05).
    pub device_revocation_rate: f64,
}

impl SimConfig {
    /// The documented defaults for a scale and seed, year 2025.
    pub fn new(scale: Scale, seed: u64) -> Self {
        SimConfig {
            scale,
            seed,
            year: 2025,
            appeals_per_year: None,
            fines_per_year: None,
            forward_rate: 0.10,
            cycle_share_of_forwarded: 0.15,
            long_chain_share_of_forwarded: 0.10,
            two_forwards_share_of_forwarded: 0.10,
            late_forward_rate: 0.05,
            last_day_forward_rate: 0.03,
            assigned_after_cycle_rate: 0.35,
            late_answer_rate: 0.07,
            extension_rate: 0.04,
            late_after_extension_rate: 0.10,
            contest_rate: 0.02,
            contest_upheld_rate: 0.30,
            repeat_appeal_rate: 0.06,
            anonymous_rate: 0.01,
            organisation_rate: 0.05,
            camera_share: 0.55,
            pay_in_discount_rate: 0.55,
            unpaid_rate: 0.12,
            late_payment_rate: 0.05,
            payment_without_uin_rate: 0.05,
            partial_payment_rate: 0.03,
            paid_but_referred_rate_of_referrals: 0.01,
            recall_rate_of_paid_but_referred: 0.6,
            recall_rate_of_late_payments: 0.5,
            cancel_rate: 0.01,
            device_revocation_rate: 0.05,
        }
    }

    fn appeals(&self) -> u64 {
        self.appeals_per_year.unwrap_or_else(|| self.scale.appeals_per_year())
    }

    fn fines(&self) -> u64 {
        self.fines_per_year.unwrap_or_else(|| self.scale.fines_per_year())
    }
}

/// What a run wrote. Every count is of records actually written or of cases
/// whose records were written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimSummary {
    /// Lines written.
    pub records: u64,
    pub agencies: u64,
    /// `device.enrolled` records (initial tablets and replacements).
    pub devices: u64,
    /// `device.revoked` records.
    pub revoked_devices: u64,
    /// `appeal.registered` records.
    pub appeals: u64,
    /// Appeals registered again by the same applicant on the same category
    /// after an unsatisfying answer (included in `appeals`).
    pub repeat_appeals: u64,
    pub anonymous_appeals: u64,
    /// Appeals forwarded at least once.
    pub forwarded_appeals: u64,
    /// `appeal.forwarded` records.
    pub forwards: u64,
    /// Appeals forwarded at least twice or returned to a body that already
    /// held them.
    pub wandering_appeals: u64,
    /// Appeals returned to a body that already held them (each counted once).
    pub cycles: u64,
    /// Appeals forwarded 3–5 times between distinct bodies.
    pub long_chains: u64,
    /// Forwards made after the 3rd working day after the holder received
    /// the appeal (a non-working receipt day counting as the next working
    /// day).
    pub late_forwards: u64,
    /// Forwards made on the holder's own due date (15th working day).
    pub last_day_forwards: u64,
    /// `appeal.assigned` records.
    pub assignments: u64,
    /// `appeal.extended` records.
    pub extensions: u64,
    /// `appeal.answered` records.
    pub answers: u64,
    /// Answers given after the holder's statutory due date (15th working day
    /// after the holder received it) or, when extended, after `until`.
    pub late_answers: u64,
    /// Answers given after the 15th working day from the first registration
    /// (the citizen's clock, which forwards and extensions do not restart).
    pub late_by_citizen_clock: u64,
    /// `appeal.contested` records (each later resolved).
    pub contests: u64,
    /// Fines (`fine.imposed` records).
    pub fines: u64,
    /// `fine.protocol_signed` records (the rest of the fines are cameras').
    pub protocols: u64,
    /// `payment.received` records.
    pub payments: u64,
    /// Payments of exactly 50% within the discount window.
    pub discount_payments: u64,
    /// Payments that quote no UIN.
    pub payments_without_uin: u64,
    /// Fines paid in two parts.
    pub partially_paid_fines: u64,
    /// Fines paid only after referral.
    pub late_paid_fines: u64,
    /// Fines never paid (referred and left with the bailiff).
    pub unpaid_fines: u64,
    /// `fine.referred` records.
    pub referrals: u64,
    /// Referrals of fines that payments had already covered.
    pub paid_but_referred: u64,
    /// `fine.recalled` records.
    pub recalls: u64,
    /// `fine.cancelled` records.
    pub cancellations: u64,
    /// Largest number of planned, not yet written records held at once (a
    /// measure of the memory the run needed).
    pub peak_pending: u64,
}

/// Simulates one year and writes it to `out` as JSON Lines, calling
/// `progress` with the number of records written every 10,000 records and
/// at the end.
pub fn simulate(config: &SimConfig, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> io::Result<SimSummary> {
    let world = World::build(config.scale).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.0))?;
    let start = NaiveDate::from_ymd_opt(config.year, 1, 1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("year {} is out of range", config.year)))?;
    let end = NaiveDate::from_ymd_opt(config.year, 12, 31).unwrap_or(start);
    Mci::table().value_on(start).and_then(|_| Mci::table().value_on(end)).map_err(|error| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("cannot simulate fines in {}: {error}", config.year))
    })?;
    let index_from = start.checked_sub_days(Days::new(40)).unwrap_or(start);
    let index_to = end.checked_add_days(Days::new(400)).unwrap_or(end);
    let mut sim = Sim {
        config,
        people: People::new(config.scale.population(), config.seed),
        days: WorkDays::new(index_from, index_to),
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        key_rng: ChaCha20Rng::seed_from_u64(config.seed ^ 0x0005_EED0_FDE7_1CE5),
        world,
        queue: BinaryHeap::new(),
        seq: 0,
        last_at: i64::MIN,
        summary: SimSummary::default(),
        devices: Vec::new(),
        active: Vec::new(),
        counters: Counters::default(),
        year_end: end,
        out,
        progress,
    };
    sim.run(start, end)?;
    Ok(sim.summary)
}

/// A planned record, kept compact: identifiers are numbers until written.
#[derive(Clone, Debug)]
enum Step {
    AppealRegistered {
        appeal: u32,
        agency: u16,
        applicant: Applicant,
        channel: Channel,
        kind: AppealKind,
        category: u8,
        region: u8,
    },
    AppealForwarded {
        appeal: u32,
        from: u16,
        to: u16,
        reason: ForwardReason,
    },
    AppealExtended {
        appeal: u32,
        agency: u16,
        until: NaiveDate,
    },
    AppealAnswered {
        appeal: u32,
        agency: u16,
        outcome: Outcome,
    },
    AppealContested {
        appeal: u32,
        to: u16,
    },
    AppealContestResolved {
        appeal: u32,
        upheld: bool,
    },
    AppealAssigned {
        appeal: u32,
        to: u16,
        by: u16,
    },
    /// Not a record: the applicant comes back with a new appeal.
    RepeatAppeal {
        applicant: Applicant,
        category: u8,
        region: u8,
    },
    DeviceEnrolled {
        device: u32,
    },
    DeviceRevoked {
        device: u32,
        reason: u8,
    },
    ProtocolSigned {
        case: u32,
        device: u32,
        officer: u32,
        offender: Applicant,
        article: u8,
        region: u8,
    },
    FineImposed {
        case: u32,
        uin: u64,
        article: u8,
        in_force: NaiveDate,
        short: bool,
    },
    PaymentReceived {
        payment: u32,
        provider: u8,
        uin: u64,
        quote_uin: bool,
        payer: Applicant,
        amount_tiyn: i64,
    },
    FineReferred {
        uin: u64,
        bailiff: u16,
        document: u32,
    },
    FineRecalled {
        uin: u64,
        reason: u8,
    },
    FineCancelled {
        uin: u64,
        reason: u8,
    },
}

struct Queued {
    at: i64,
    seq: u64,
    step: Step,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    /// Reversed, so that `BinaryHeap` pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct Device {
    ident: Ident,
    agency: u16,
    key: SigningKey,
    /// Stable tablet slot in its department (officers belong to slots).
    slot: u32,
}

#[derive(Default)]
struct Counters {
    appeal: u32,
    case: u32,
    uin: u64,
    payment: u32,
    document: u32,
}

const DEVICE_REVOKE_REASONS: &[&str] = &["lost", "damaged", "stolen", "decommissioned"];
const RECALL_REASONS: &[&str] = &["paid before referral", "paid after referral"];
const CANCEL_REASONS: &[&str] =
    &["decision overturned on appeal", "protocol drawn up in error", "vehicle owner not the offender"];
const EXTENSION_REASONS: &[&str] =
    &["information requested from another body", "on-site inspection required", "expert opinion required"];
/// Set in a planned appeal number when the applicant is an organisation.
const ORGANISATION_APPEAL: u32 = 1 << 31;
/// Officers per tablet slot.
const OFFICERS_PER_SLOT: u32 = 4;
/// Protocols per tablet per year, to size the fleet.
const PROTOCOLS_PER_TABLET: u64 = 400;
/// Report progress every this many records.
const PROGRESS_EVERY: u64 = 10_000;

struct Sim<'a> {
    config: &'a SimConfig,
    world: World,
    people: People,
    days: WorkDays,
    rng: ChaCha8Rng,
    key_rng: ChaCha20Rng,
    queue: BinaryHeap<Queued>,
    seq: u64,
    last_at: i64,
    summary: SimSummary,
    devices: Vec<Device>,
    /// Active device per (region, slot).
    active: Vec<Vec<u32>>,
    counters: Counters,
    year_end: NaiveDate,
    out: &'a mut dyn Write,
    progress: &'a mut dyn FnMut(u64),
}

fn midnight(day: NaiveDate) -> i64 {
    casetrail_types::time::local_midnight_utc(day).timestamp()
}

fn local_day(at: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(at, 0).map_or(NaiveDate::MIN, casetrail_types::time::local_date)
}

fn plus_days(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(day)
}

fn other(error: impl fmt::Display) -> io::Error {
    io::Error::other(error.to_string())
}

/// Weighted index into `weights` for a uniform `u` in [0, 1).
fn weighted(weights: impl Iterator<Item = f64> + Clone, u: f64) -> usize {
    let total: f64 = weights.clone().sum();
    let mut target = u * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if w <= 0.0 {
            continue;
        }
        last = i;
        if target < w {
            return i;
        }
        target -= w;
    }
    last
}

/// Relative weight of appeals registered on `day`.
fn appeal_weight(day: NaiveDate, working: bool) -> f64 {
    const MONTH: [f64; 12] = [0.80, 0.95, 1.10, 1.15, 1.05, 0.92, 0.78, 0.85, 1.10, 1.15, 1.10, 0.95];
    let month = MONTH[day.month0() as usize];
    let holidays =
        if (day.month() == 12 && day.day() >= 25) || (day.month() == 1 && day.day() <= 8) { 0.7 } else { 1.0 };
    let week = if !working {
        0.12
    } else {
        match day.weekday() {
            Weekday::Mon => 1.15,
            Weekday::Tue => 1.10,
            Weekday::Wed => 1.05,
            Weekday::Thu => 1.0,
            Weekday::Fri => 0.90,
            // A transferred working Saturday or Sunday.
            Weekday::Sat | Weekday::Sun => 0.6,
        }
    };
    month * holidays * week
}

/// Relative weight of fines on `day`: more traffic in summer, less at
/// weekends.
fn fine_weight(day: NaiveDate, working: bool) -> f64 {
    const MONTH: [f64; 12] = [0.88, 0.9, 0.95, 1.0, 1.05, 1.1, 1.12, 1.1, 1.05, 1.0, 0.95, 0.9];
    MONTH[day.month0() as usize] * if working { 1.0 } else { 0.75 }
}

/// Portal traffic by hour of day.
const PORTAL_HOURS: [f64; 24] = [
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.4, 1.5, 1.5, 1.3, 1.4, 1.5, 1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.6,
    0.4, 0.3,
];

impl Sim<'_> {
    fn run(&mut self, start: NaiveDate, end: NaiveDate) -> io::Result<()> {
        self.register_agencies(start)?;
        self.enrol_initial_devices(start)?;
        let appeal_plan = self.daily_counts(start, end, self.fresh_appeals(), appeal_weight);
        let fine_plan = self.daily_counts(start, end, self.config.fines(), fine_weight);
        let mut day = start;
        let mut index = 0;
        while day <= end {
            self.revoke_devices(day)?;
            for _ in 0..appeal_plan.get(index).copied().unwrap_or(0) {
                self.new_appeal(day);
            }
            for _ in 0..fine_plan.get(index).copied().unwrap_or(0) {
                self.new_fine(day)?;
            }
            let next = plus_days(day, 1);
            self.drain(Some(midnight(next)))?;
            day = next;
            index += 1;
        }
        self.drain(None)?;
        self.out.flush()?;
        (self.progress)(self.summary.records);
        Ok(())
    }

    /// First appeals so that, with repeats (~75% of answers are not
    /// "satisfied"), the year holds about `appeals_per_year` appeals.
    fn fresh_appeals(&self) -> u64 {
        let factor = 1.0 + self.config.repeat_appeal_rate * 0.75;
        (self.config.appeals() as f64 / factor).round() as u64
    }

    /// Splits `total` over the days with the weights and ±10% noise; exact
    /// total.
    fn daily_counts(
        &mut self,
        start: NaiveDate,
        end: NaiveDate,
        total: u64,
        weight: fn(NaiveDate, bool) -> f64,
    ) -> Vec<u64> {
        let mut weights = Vec::new();
        let mut day = start;
        while day <= end {
            let noise = 0.9 + 0.2 * self.rng.gen::<f64>();
            weights.push(weight(day, self.days.is_working(day)) * noise);
            day = plus_days(day, 1);
        }
        let sum: f64 = weights.iter().sum();
        let mut carry = 0.0;
        let mut counts = Vec::with_capacity(weights.len());
        let mut given = 0u64;
        for w in &weights {
            carry += total as f64 * w / sum;
            let n = carry.floor().max(0.0);
            carry -= n;
            counts.push(n as u64);
            given += n as u64;
        }
        if let Some(last) = counts.last_mut() {
            *last += total.saturating_sub(given);
        }
        counts
    }

    fn push(&mut self, at: i64, step: Step) {
        self.seq += 1;
        self.queue.push(Queued { at, seq: self.seq, step });
        self.summary.peak_pending = self.summary.peak_pending.max(self.queue.len() as u64);
    }

    /// Writes every planned record before `until` (all when `None`).
    fn drain(&mut self, until: Option<i64>) -> io::Result<()> {
        while let Some(top) = self.queue.peek() {
            if until.is_some_and(|until| top.at >= until) {
                break;
            }
            let Some(Queued { at, step, .. }) = self.queue.pop() else { break };
            self.emit(at, step)?;
        }
        Ok(())
    }

    /// An instant on `day` between `from_hour` and `to_hour` local time,
    /// strictly after `after`.
    fn time_on(&mut self, day: NaiveDate, after: i64, from_hour: i64, to_hour: i64) -> i64 {
        let base = midnight(day);
        let low = (base + from_hour * 3600).max(after.saturating_add(60));
        let mut high = base + to_hour * 3600 - 1;
        if high <= low {
            high = (base + 86_399).max(low + 60);
        }
        self.rng.gen_range(low..=high)
    }

    fn agency_slug(&self, index: u16) -> io::Result<casetrail_exchange::AgencySlug> {
        self.world.agencies.get(usize::from(index)).map(|a| a.slug.clone()).ok_or_else(|| other("unknown agency index"))
    }

    fn register_agencies(&mut self, start: NaiveDate) -> io::Result<()> {
        let at = midnight(start);
        for agency in self.world.agencies.clone() {
            let record = Record::AgencyRegistered(AgencyRegistered {
                agency: agency.slug,
                name: agency.name,
                kind: agency.kind,
                region: agency.region,
                parent: agency.parent,
            });
            self.write(at, record)?;
            self.summary.agencies += 1;
        }
        Ok(())
    }

    fn enrol_initial_devices(&mut self, start: NaiveDate) -> io::Result<()> {
        let fines = self.config.fines() as f64 * (1.0 - self.config.camera_share);
        let total_weight: f64 = self.world.regions.iter().map(|r| r.weight).sum();
        let at = midnight(start) + 300;
        for region in 0..self.world.regions.len() {
            let share = self.world.regions[region].weight / total_weight;
            let tablets = ((fines * share) as u64 / PROTOCOLS_PER_TABLET).clamp(3, 100_000) as u32;
            let mut slots = Vec::new();
            for slot in 0..tablets {
                let device = self.new_device(region, slot)?;
                slots.push(device);
                self.push(at, Step::DeviceEnrolled { device });
            }
            self.active.push(slots);
        }
        Ok(())
    }

    fn new_device(&mut self, region: usize, slot: u32) -> io::Result<u32> {
        let police = self.world.regions[region].police;
        let number = self.devices.len() as u32;
        let slug = self.world.agencies[usize::from(police)].slug.as_str().to_owned();
        let ident = Ident::parse(&format!("{slug}-tablet-{number:05}")).map_err(other)?;
        let key = SigningKey::from_bytes(&self.key_rng.gen::<[u8; 32]>());
        self.devices.push(Device { ident, agency: police, key, slot });
        Ok(number)
    }

    fn revoke_devices(&mut self, day: NaiveDate) -> io::Result<()> {
        let probability = self.config.device_revocation_rate / 365.0;
        if probability <= 0.0 {
            return Ok(());
        }
        let mut at = midnight(day) + 6 * 3600;
        for region in 0..self.active.len() {
            for slot in 0..self.active[region].len() {
                if self.rng.gen::<f64>() >= probability {
                    continue;
                }
                let old = self.active[region][slot];
                let reason = self.rng.gen_range(0..DEVICE_REVOKE_REASONS.len()) as u8;
                self.push(at, Step::DeviceRevoked { device: old, reason });
                let replacement = self.new_device(region, slot as u32)?;
                self.active[region][slot] = replacement;
                self.push(at + 60, Step::DeviceEnrolled { device: replacement });
                at += 120;
            }
        }
        Ok(())
    }

    fn pick_region(&mut self) -> usize {
        let u = self.rng.gen::<f64>();
        weighted(self.world.regions.iter().map(|r| r.weight), u)
    }

    // ----- appeals -----

    fn new_appeal(&mut self, day: NaiveDate) {
        let working = self.days.is_working(day);
        let channel = if working {
            match self.rng.gen::<f64>() {
                u if u < 0.70 => Channel::Portal,
                u if u < 0.82 => Channel::Paper,
                u if u < 0.90 => Channel::Reception,
                u if u < 0.95 => Channel::Email,
                _ => Channel::Phone,
            }
        } else if self.rng.gen::<f64>() < 0.85 {
            Channel::Portal
        } else {
            Channel::Email
        };
        let at = match channel {
            Channel::Portal | Channel::Email => {
                let u = self.rng.gen::<f64>();
                let hour = weighted(PORTAL_HOURS.iter().copied(), u) as i64;
                midnight(day) + hour * 3600 + self.rng.gen_range(0..3600)
            }
            _ => self.time_on(day, i64::MIN, 9, 18),
        };
        let kind = match self.rng.gen::<f64>() {
            u if u < 0.69 => AppealKind::Application,
            u if u < 0.83 => AppealKind::Inquiry,
            u if u < 0.89 => AppealKind::Complaint,
            u if u < 0.94 => AppealKind::Proposal,
            _ => AppealKind::Response,
        };
        let u = self.rng.gen::<f64>();
        let category = weighted(CATEGORIES.iter().map(|c| c.weight), u);
        let region = self.pick_region();
        let applicant = match self.rng.gen::<f64>() {
            u if u < self.config.anonymous_rate => Applicant::Anonymous,
            u if u < self.config.anonymous_rate + self.config.organisation_rate => {
                Applicant::Organisation(self.rng.gen_range(0..self.people.organisations))
            }
            _ => Applicant::Person(self.rng.gen_range(0..self.people.persons)),
        };
        self.plan_appeal(at, day, applicant, category, region, kind, channel);
    }

    /// A random candidate body for `region` not in `exclude`.
    fn pick_other(&mut self, candidates: &[u16], exclude: &[u16]) -> u16 {
        for _ in 0..64 {
            let pick = candidates[self.rng.gen_range(0..candidates.len())];
            if !exclude.contains(&pick) {
                return pick;
            }
        }
        candidates.iter().copied().find(|c| !exclude.contains(c)).unwrap_or(candidates[0])
    }

    fn wrong_reason(&mut self) -> ForwardReason {
        if self.rng.gen::<f64>() < 0.85 {
            ForwardReason::NotInCompetence
        } else {
            ForwardReason::Other
        }
    }

    /// Plans a whole appeal: registration, forwards, assignment, extension,
    /// answer, contest and a possible repeat appeal.
    #[allow(clippy::too_many_arguments)]
    fn plan_appeal(
        &mut self,
        at: i64,
        day: NaiveDate,
        applicant: Applicant,
        category: usize,
        region: usize,
        kind: AppealKind,
        channel: Channel,
    ) {
        let flag = if matches!(applicant, Applicant::Organisation(_)) { ORGANISATION_APPEAL } else { 0 };
        let appeal = self.counters.appeal | flag;
        self.counters.appeal += 1;
        let correct = self.world.competent(category, region);
        let candidates = self.world.candidates(region);
        let mut hops: Vec<(u16, ForwardReason)> = Vec::new();
        let mut first = correct;
        let mut cycle = false;
        let mut chain = false;
        let mut assign_to = None;
        if self.rng.gen::<f64>() < self.config.forward_rate {
            let shape = self.rng.gen::<f64>();
            let c = &self.config;
            let (cycle_cut, chain_cut, two_cut) = (
                c.cycle_share_of_forwarded,
                c.cycle_share_of_forwarded + c.long_chain_share_of_forwarded,
                c.cycle_share_of_forwarded + c.long_chain_share_of_forwarded + c.two_forwards_share_of_forwarded,
            );
            if shape < cycle_cut {
                cycle = true;
                let a = if self.rng.gen::<f64>() < 0.6 { correct } else { self.pick_other(&candidates, &[correct]) };
                let b = self.pick_other(&candidates, &[a, correct]);
                first = a;
                if self.rng.gen::<f64>() < 0.2 {
                    let third = self.pick_other(&candidates, &[a, b, correct]);
                    hops.extend([
                        (b, ForwardReason::NotInCompetence),
                        (third, ForwardReason::NotInCompetence),
                        (a, ForwardReason::Other),
                    ]);
                } else {
                    hops.extend([(b, ForwardReason::NotInCompetence), (a, ForwardReason::NotInCompetence)]);
                }
                if self.rng.gen::<f64>() < self.config.assigned_after_cycle_rate {
                    assign_to = Some(correct);
                } else if a != correct {
                    hops.push((correct, ForwardReason::NotInCompetence));
                }
            } else if shape < chain_cut {
                chain = true;
                let forwards = self.rng.gen_range(3..=5);
                let mut visited = vec![correct];
                for _ in 0..forwards {
                    let next = self.pick_other(&candidates, &visited);
                    visited.push(next);
                }
                first = visited[1];
                for &body in &visited[2..] {
                    let reason = self.wrong_reason();
                    hops.push((body, reason));
                }
                hops.push((correct, ForwardReason::NotInCompetence));
            } else if shape < two_cut {
                let w1 = self.pick_other(&candidates, &[correct]);
                let w2 = self.pick_other(&candidates, &[correct, w1]);
                first = w1;
                let reason = self.wrong_reason();
                hops.extend([(w2, reason), (correct, ForwardReason::NotInCompetence)]);
            } else if self.rng.gen::<f64>() < 0.8 {
                first = self.pick_other(&candidates, &[correct]);
                let reason = self.wrong_reason();
                hops.push((correct, reason));
            } else {
                let partner = self.pick_other(&candidates, &[correct]);
                let reason = if self.rng.gen::<f64>() < 0.7 {
                    ForwardReason::PartiallyCompetent
                } else {
                    ForwardReason::JointReview
                };
                hops.push((partner, reason));
            }
        }
        if !hops.is_empty() {
            self.summary.forwarded_appeals += 1;
        }
        if hops.len() >= 2 || cycle {
            self.summary.wandering_appeals += 1;
        }
        self.summary.cycles += u64::from(cycle);
        self.summary.long_chains += u64::from(chain);

        self.push(
            at,
            Step::AppealRegistered {
                appeal,
                agency: first,
                applicant,
                channel,
                kind,
                category: category as u8,
                region: region as u8,
            },
        );
        let (mut holder, mut received_on, mut received_at) = (first, day, at);
        for (to, reason) in hops {
            let (forward_on, forward_at) = self.forward_time(received_on, received_at);
            self.push(forward_at, Step::AppealForwarded { appeal, from: holder, to, reason });
            holder = to;
            received_on = forward_on;
            received_at = forward_at;
        }
        if let Some(to) = assign_to {
            let by = self.world.regions[region].prosecutor;
            let offset = self.rng.gen_range(2..=8);
            let assign_on = self.days.add(received_on, offset);
            let assign_at = self.time_on(assign_on, received_at, 9, 18);
            self.push(assign_at, Step::AppealAssigned { appeal, to, by });
            if to != holder {
                holder = to;
                received_on = assign_on;
            }
            received_at = assign_at;
        }
        self.plan_answer(appeal, holder, day, received_on, received_at, applicant, category, region, kind);
    }

    /// When the holder forwards an appeal it received on `received_on`.
    fn forward_time(&mut self, received_on: NaiveDate, received_at: i64) -> (NaiveDate, i64) {
        let u = self.rng.gen::<f64>();
        let effective = self.days.on_or_after(received_on);
        let day = if u < self.config.last_day_forward_rate {
            self.days.due(received_on, 15)
        } else if u < self.config.last_day_forward_rate + self.config.late_forward_rate {
            let offset = self.rng.gen_range(4..=10);
            self.days.add(effective, offset)
        } else {
            let offset = weighted([0.3, 0.35, 0.22, 0.13].into_iter(), self.rng.gen::<f64>()) as u32;
            self.days.add(effective, offset)
        };
        let at = self.time_on(day, received_at, 9, 18);
        let day = local_day(at);
        if day > self.days.due(received_on, 3) {
            self.summary.late_forwards += 1;
        }
        if day == self.days.due(received_on, 15) {
            self.summary.last_day_forwards += 1;
        }
        (day, at)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_answer(
        &mut self,
        appeal: u32,
        holder: u16,
        first_day: NaiveDate,
        received_on: NaiveDate,
        received_at: i64,
        applicant: Applicant,
        category: usize,
        region: usize,
        kind: AppealKind,
    ) {
        let due = self.days.due(received_on, 15);
        let effective = self.days.on_or_after(received_on);
        let mut deadline = due;
        let mut after = received_at;
        let answer_on = if self.rng.gen::<f64>() < self.config.extension_rate {
            let offset = self.rng.gen_range(3..=12);
            let extended_on = self.days.add(effective, offset);
            let extended_at = self.time_on(extended_on, after, 9, 18);
            let two_months = received_on.checked_add_months(Months::new(2)).unwrap_or(due);
            let wanted = self.rng.gen_range(5..=25);
            let until = self.days.add(due, wanted).min(two_months).max(plus_days(local_day(extended_at), 1));
            self.push(extended_at, Step::AppealExtended { appeal, agency: holder, until });
            self.summary.extensions += 1;
            deadline = until;
            after = extended_at;
            if self.rng.gen::<f64>() < self.config.late_after_extension_rate {
                let offset = self.rng.gen_range(1..=10);
                self.days.add(until, offset)
            } else {
                let span = self.days_between(local_day(extended_at), until).max(1);
                let offset = self.rng.gen_range(1..=span);
                self.days.add(local_day(extended_at), offset).min(until).max(local_day(extended_at))
            }
        } else if self.rng.gen::<f64>() < self.config.late_answer_rate {
            let offset = self.rng.gen_range(1..=12);
            self.days.add(due, offset)
        } else {
            // Most answers come in the second and third week.
            let offset = weighted(
                (1..=15).map(|k| {
                    if k < 5 {
                        0.5
                    } else if k < 13 {
                        1.2
                    } else {
                        0.9
                    }
                }),
                self.rng.gen::<f64>(),
            ) as u32
                + 1;
            self.days.add(effective, offset).min(due)
        };
        let answer_at = self.time_on(answer_on, after, 9, 19);
        let answered = local_day(answer_at);
        self.summary.late_answers += u64::from(answered > deadline);
        self.summary.late_by_citizen_clock += u64::from(answered > self.days.due(first_day, 15));
        let outcome = if applicant == Applicant::Anonymous {
            if self.rng.gen::<f64>() < 0.9 {
                Outcome::LeftWithoutConsideration
            } else {
                Outcome::Explained
            }
        } else {
            let weights: [f64; 5] = if kind == AppealKind::Complaint {
                [0.15, 0.12, 0.33, 0.35, 0.05]
            } else {
                [0.25, 0.10, 0.15, 0.45, 0.05]
            };
            match weighted(weights.into_iter(), self.rng.gen::<f64>()) {
                0 => Outcome::Satisfied,
                1 => Outcome::PartiallySatisfied,
                2 => Outcome::Rejected,
                3 => Outcome::Explained,
                _ => Outcome::LeftWithoutConsideration,
            }
        };
        self.push(answer_at, Step::AppealAnswered { appeal, agency: holder, outcome });
        if applicant != Applicant::Anonymous && self.rng.gen::<f64>() < self.config.contest_rate {
            let contest_on = plus_days(answered, self.rng.gen_range(2..=20));
            let contest_at = self.time_on(contest_on, answer_at, 8, 22);
            let to = if self.rng.gen::<f64>() < 0.6 {
                self.world.regions[region].prosecutor
            } else {
                self.world.regions[region].court
            };
            self.push(contest_at, Step::AppealContested { appeal, to });
            let offset = self.rng.gen_range(5..=25);
            let resolved_on = self.days.add(local_day(contest_at), offset);
            let resolved_at = self.time_on(resolved_on, contest_at, 9, 18);
            let upheld = self.rng.gen::<f64>() < self.config.contest_upheld_rate;
            self.push(resolved_at, Step::AppealContestResolved { appeal, upheld });
        }
        if applicant != Applicant::Anonymous
            && outcome != Outcome::Satisfied
            && self.rng.gen::<f64>() < self.config.repeat_appeal_rate
        {
            let again_on = plus_days(answered, self.rng.gen_range(3..=30));
            if again_on <= self.year_end {
                let again_at = self.time_on(again_on, answer_at, 8, 22);
                self.push(again_at, Step::RepeatAppeal { applicant, category: category as u8, region: region as u8 });
            }
        }
    }

    /// Working days `d` with `a < d <= b`.
    fn days_between(&self, a: NaiveDate, b: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = a;
        while d < b && n < 400 {
            d = self.days.add(d, 1);
            if d <= b {
                n += 1;
            }
        }
        n
    }

    fn repeat_appeal(&mut self, at: i64, applicant: Applicant, category: u8, region: u8) {
        self.summary.repeat_appeals += 1;
        let kind = if self.rng.gen::<f64>() < 0.5 { AppealKind::Complaint } else { AppealKind::Application };
        self.plan_appeal(
            at,
            local_day(at),
            applicant,
            usize::from(category),
            usize::from(region),
            kind,
            Channel::Portal,
        );
    }

    // ----- fines -----

    fn new_fine(&mut self, day: NaiveDate) -> io::Result<()> {
        let camera = self.rng.gen::<f64>() < self.config.camera_share;
        let u = self.rng.gen::<f64>();
        let article = if camera {
            weighted(ARTICLES.iter().map(|a| a.camera_weight), u)
        } else {
            weighted(ARTICLES.iter().map(|a| a.officer_weight), u)
        };
        let spec = &ARTICLES[article];
        let short = self.rng.gen::<f64>() < spec.short_procedure_share;
        let region = self.pick_region();
        let offender = if camera && self.rng.gen::<f64>() < 0.08 {
            Applicant::Organisation(self.rng.gen_range(0..self.people.organisations))
        } else {
            Applicant::Person(self.rng.gen_range(0..self.people.persons))
        };
        let case = self.counters.case;
        self.counters.case += 1;
        self.counters.uin += 1;
        let uin = (self.config.year.rem_euclid(10_000) as u64) * 1_000_000_000_000_000 + self.counters.uin;
        let in_force = plus_days(day, 10);
        let imposed_at = if camera {
            let at = self.time_on(day, i64::MIN, 0, 24);
            self.push(at, Step::FineImposed { case, uin, article: article as u8, in_force, short });
            at
        } else {
            let slots = &self.active[region];
            let slot = self.rng.gen_range(0..slots.len());
            let device = slots[slot];
            let officer =
                self.devices[device as usize].slot * OFFICERS_PER_SLOT + self.rng.gen_range(0..OFFICERS_PER_SLOT);
            let signed_at = self.time_on(day, i64::MIN, 7, 22);
            self.push(
                signed_at,
                Step::ProtocolSigned { case, device, officer, offender, article: article as u8, region: region as u8 },
            );
            let at = signed_at + self.rng.gen_range(120..2400);
            self.push(at, Step::FineImposed { case, uin, article: article as u8, in_force, short });
            at
        };
        let mci = Mci::table().value_on(day).map_err(other)?.tenge.tiyn();
        let full = mci * i64::from(spec.mci);
        let discount_end = self.days.add(day, 7);
        let voluntary_end = plus_days(in_force, 30);
        let lag = self.rng.gen_range(0..=3);
        let referral_on = self.days.add(self.days.on_or_after(plus_days(voluntary_end, 1)), lag);
        let bailiff = self.world.regions[region].bailiff;
        let c = self.config;
        let paid_share = (1.0 - c.cancel_rate - c.unpaid_rate - c.late_payment_rate).max(1e-9);
        let u = self.rng.gen::<f64>();
        if u < c.cancel_rate {
            let offset = self.rng.gen_range(1..=20);
            let on = self.days.add(day, offset);
            let at = self.time_on(on, imposed_at, 9, 18);
            let reason = self.rng.gen_range(0..CANCEL_REASONS.len()) as u8;
            self.push(at, Step::FineCancelled { uin, reason });
        } else if u < c.cancel_rate + c.unpaid_rate {
            self.summary.unpaid_fines += 1;
            self.refer(referral_on, imposed_at, uin, bailiff);
        } else if u < c.cancel_rate + c.unpaid_rate + c.late_payment_rate {
            self.summary.late_paid_fines += 1;
            let referred_at = self.refer(referral_on, imposed_at, uin, bailiff);
            let paid_on = plus_days(local_day(referred_at), self.rng.gen_range(3..=60));
            let paid_at = self.payment_time(paid_on, referred_at);
            self.pay(paid_at, uin, offender, full, true);
            if self.rng.gen::<f64>() < c.recall_rate_of_late_payments {
                let on = self.days.add(local_day(paid_at), self.rng.gen_range(1..=7));
                let at = self.time_on(on, paid_at, 9, 18);
                self.push(at, Step::FineRecalled { uin, reason: 1 });
            }
        } else {
            let discount = short && self.rng.gen::<f64>() < (c.pay_in_discount_rate / paid_share).min(1.0);
            let partial = !discount && self.rng.gen::<f64>() < (c.partial_payment_rate / paid_share).min(1.0);
            let wrongful_share = c.paid_but_referred_rate_of_referrals * (c.unpaid_rate + c.late_payment_rate)
                / ((1.0 - c.paid_but_referred_rate_of_referrals).max(1e-9) * paid_share);
            let wrongly_referred = self.rng.gen::<f64>() < wrongful_share;
            // Payments of wrongly referred fines always quote the UIN, so
            // that an audit can prove they were covered.
            let allow_without_uin = !wrongly_referred;
            let last_paid;
            if discount {
                let on = if self.rng.gen::<f64>() < 0.25 {
                    day
                } else {
                    plus_days(day, self.rng.gen_range(0..=(discount_end - day).num_days().max(0) as u64))
                };
                let at = self.payment_time(on, imposed_at);
                if local_day(at) <= discount_end {
                    self.summary.discount_payments += 1;
                    self.pay(at, uin, offender, full / 2, allow_without_uin);
                } else {
                    self.pay(at, uin, offender, full, allow_without_uin);
                }
                last_paid = at;
            } else {
                let from = if short { plus_days(discount_end, 1) } else { day };
                let span = (voluntary_end - from).num_days().max(0) as u64;
                let on = plus_days(from, self.rng.gen_range(0..=span));
                if partial && span >= 2 {
                    self.summary.partially_paid_fines += 1;
                    let first_on = plus_days(from, self.rng.gen_range(0..span));
                    let first_at = self.payment_time(first_on, imposed_at);
                    let rest_span = (voluntary_end - local_day(first_at)).num_days().max(1) as u64;
                    let second_on = plus_days(local_day(first_at), self.rng.gen_range(1..=rest_span));
                    let second_at = self.payment_time(second_on, first_at);
                    let first_amount = (full * self.rng.gen_range(30..=70) / 100) / 100 * 100;
                    self.pay(first_at, uin, offender, first_amount, false);
                    self.pay(second_at, uin, offender, full - first_amount, false);
                    last_paid = second_at;
                } else {
                    let at = self.payment_time(on, imposed_at);
                    self.pay(at, uin, offender, full, allow_without_uin);
                    last_paid = at;
                }
            }
            if wrongly_referred {
                self.summary.paid_but_referred += 1;
                let referred_at = self.refer(referral_on.max(local_day(last_paid)), last_paid, uin, bailiff);
                if self.rng.gen::<f64>() < c.recall_rate_of_paid_but_referred {
                    let on = plus_days(local_day(referred_at), self.rng.gen_range(2..=30));
                    let on = self.days.on_or_after(on);
                    let at = self.time_on(on, referred_at, 9, 18);
                    self.push(at, Step::FineRecalled { uin, reason: 0 });
                }
            }
        }
        Ok(())
    }

    fn refer(&mut self, on: NaiveDate, after: i64, uin: u64, bailiff: u16) -> i64 {
        let at = self.time_on(on, after, 9, 18);
        let document = self.counters.document;
        self.counters.document += 1;
        self.push(at, Step::FineReferred { uin, bailiff, document });
        at
    }

    fn payment_time(&mut self, on: NaiveDate, after: i64) -> i64 {
        self.time_on(on, after, 8, 23)
    }

    /// A payment of `amount_tiyn` on the charge. Only whole payments (the
    /// amount owed on the day) may omit the UIN: the payer's IIN/BIN then
    /// identifies the one charge owing exactly that amount, so casetrail's
    /// automatic matching can place it.
    fn pay(&mut self, at: i64, uin: u64, offender: Applicant, amount_tiyn: i64, allow_without_uin: bool) {
        let quote_uin = !(allow_without_uin && self.rng.gen::<f64>() < self.config.payment_without_uin_rate);
        let payer = if !quote_uin || self.rng.gen::<f64>() < 0.85 { offender } else { Applicant::Anonymous };
        let provider = weighted(PROVIDERS.iter().map(|p| p.1), self.rng.gen::<f64>()) as u8;
        let payment = self.counters.payment;
        self.counters.payment += 1;
        self.push(at, Step::PaymentReceived { payment, provider, uin, quote_uin, payer, amount_tiyn });
    }

    // ----- writing -----

    fn write(&mut self, at: i64, record: Record) -> io::Result<()> {
        let event = self.event(at, record)?;
        self.out.write_all(&event.to_line())?;
        self.count_written();
        Ok(())
    }

    fn event(&self, at: i64, record: Record) -> io::Result<Event> {
        let instant = DateTime::<Utc>::from_timestamp(at, 0).ok_or_else(|| other("instant out of range"))?;
        let at = instant.with_timezone(&casetrail_types::time::kz_offset_at(instant));
        let id = Ident::parse(&format!("sim{}-{}", self.config.seed, self.summary.records + 1)).map_err(other)?;
        Event::new(Some(id), at, record).map_err(|error| other(format!("simulated record is invalid: {error}")))
    }

    fn count_written(&mut self) {
        self.summary.records += 1;
        if self.summary.records.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(self.summary.records);
        }
    }

    /// The appeal number: e-Otinish style, `ЖТ-…` for people (and
    /// anonymous appeals), `ЗТ-…` for organisations ([`ORGANISATION_APPEAL`]
    /// set in the planned number).
    fn appeal_ident(&self, appeal: u32) -> io::Result<Ident> {
        let prefix = if appeal & ORGANISATION_APPEAL != 0 { "ЗТ" } else { "ЖТ" };
        let number = appeal & !ORGANISATION_APPEAL;
        Ident::parse(&format!("{prefix}-{}-{number:08}", self.config.year)).map_err(other)
    }

    fn emit(&mut self, at: i64, step: Step) -> io::Result<()> {
        // Planned instants never go back in time; this keeps the file sorted
        // even if a plan were to.
        let at = at.max(self.last_at);
        self.last_at = at;
        let record = match step {
            Step::RepeatAppeal { applicant, category, region } => {
                self.repeat_appeal(at, applicant, category, region);
                return Ok(());
            }
            Step::ProtocolSigned { case, device, officer, offender, article, region } => {
                return self.emit_protocol(at, case, device, officer, offender, article, region);
            }
            Step::AppealRegistered { appeal, agency, applicant, channel, kind, category, region } => {
                self.summary.appeals += 1;
                self.summary.anonymous_appeals += u64::from(applicant == Applicant::Anonymous);
                Record::AppealRegistered(AppealRegistered {
                    appeal: self.appeal_ident(appeal)?,
                    agency: self.agency_slug(agency)?,
                    applicant: self.people.party(applicant),
                    channel,
                    kind,
                    category: Ident::parse(CATEGORIES[usize::from(category)].slug).map_err(other)?,
                    region: Some(self.world.regions[usize::from(region)].kato),
                    text: None,
                    anonymous: (applicant == Applicant::Anonymous).then_some(true),
                })
            }
            Step::AppealForwarded { appeal, from, to, reason } => {
                self.summary.forwards += 1;
                Record::AppealForwarded(AppealForwarded {
                    appeal: self.appeal_ident(appeal)?,
                    from: self.agency_slug(from)?,
                    to: self.agency_slug(to)?,
                    reason,
                    note: None,
                })
            }
            Step::AppealExtended { appeal, agency, until } => Record::AppealExtended(AppealExtended {
                appeal: self.appeal_ident(appeal)?,
                agency: self.agency_slug(agency)?,
                until,
                reason: EXTENSION_REASONS[appeal as usize % EXTENSION_REASONS.len()].to_owned(),
            }),
            Step::AppealAnswered { appeal, agency, outcome } => {
                self.summary.answers += 1;
                Record::AppealAnswered(AppealAnswered {
                    appeal: self.appeal_ident(appeal)?,
                    agency: self.agency_slug(agency)?,
                    outcome,
                })
            }
            Step::AppealContested { appeal, to } => {
                self.summary.contests += 1;
                Record::AppealContested(AppealContested {
                    appeal: self.appeal_ident(appeal)?,
                    to: self.agency_slug(to)?,
                })
            }
            Step::AppealContestResolved { appeal, upheld } => {
                Record::AppealContestResolved(AppealContestResolved { appeal: self.appeal_ident(appeal)?, upheld })
            }
            Step::AppealAssigned { appeal, to, by } => {
                self.summary.assignments += 1;
                Record::AppealAssigned(AppealAssigned {
                    appeal: self.appeal_ident(appeal)?,
                    to: self.agency_slug(to)?,
                    by: self.agency_slug(by)?,
                })
            }
            Step::DeviceEnrolled { device } => {
                self.summary.devices += 1;
                let device = &self.devices[device as usize];
                Record::DeviceEnrolled(DeviceEnrolled {
                    device: device.ident.clone(),
                    agency: self.agency_slug(device.agency)?,
                    public_key: base64::engine::general_purpose::STANDARD.encode(device.key.verifying_key().to_bytes()),
                })
            }
            Step::DeviceRevoked { device, reason } => {
                self.summary.revoked_devices += 1;
                let device = &self.devices[device as usize];
                Record::DeviceRevoked(DeviceRevoked {
                    device: device.ident.clone(),
                    agency: self.agency_slug(device.agency)?,
                    reason: DEVICE_REVOKE_REASONS[usize::from(reason)].to_owned(),
                })
            }
            Step::FineImposed { case, uin, article, in_force, short } => {
                self.summary.fines += 1;
                Record::FineImposed(FineImposed {
                    case: self.case_ident(case)?,
                    uin: Uin::from_serial(uin).map_err(other)?,
                    amount_mci: Some(ARTICLES[usize::from(article)].mci),
                    amount_kzt: None,
                    in_force_at: in_force.format("%Y-%m-%d").to_string(),
                    short_procedure: short,
                })
            }
            Step::PaymentReceived { payment, provider, uin, quote_uin, payer, amount_tiyn } => {
                self.summary.payments += 1;
                self.summary.payments_without_uin += u64::from(!quote_uin);
                Record::PaymentReceived(PaymentReceived {
                    payment: self.payment_ident(provider, payment)?,
                    provider: Ident::parse(PROVIDERS[usize::from(provider)].0).map_err(other)?,
                    uin: if quote_uin { Some(Uin::from_serial(uin).map_err(other)?.to_string()) } else { None },
                    payer: self.people.party(payer),
                    amount_kzt: Money::from_tiyn(amount_tiyn),
                })
            }
            Step::FineReferred { uin, bailiff, document } => {
                self.summary.referrals += 1;
                Record::FineReferred(FineReferred {
                    uin: Uin::from_serial(uin).map_err(other)?,
                    bailiff: self.agency_slug(bailiff)?,
                    document: Ident::parse(&format!("ИД-{}-{document:08}", self.config.year)).map_err(other)?,
                })
            }
            Step::FineRecalled { uin, reason } => {
                self.summary.recalls += 1;
                Record::FineRecalled(FineRecalled {
                    uin: Uin::from_serial(uin).map_err(other)?,
                    reason: RECALL_REASONS[usize::from(reason)].to_owned(),
                })
            }
            Step::FineCancelled { uin, reason } => {
                self.summary.cancellations += 1;
                Record::FineCancelled(FineCancelled {
                    uin: Uin::from_serial(uin).map_err(other)?,
                    reason: CANCEL_REASONS[usize::from(reason)].to_owned(),
                })
            }
        };
        self.write(at, record)
    }

    /// A provider's payment id: its own prefix, the year and a number.
    fn payment_ident(&self, provider: u8, payment: u32) -> io::Result<Ident> {
        let prefix = PROVIDERS[usize::from(provider)].2;
        Ident::parse(&format!("{prefix}{}{payment:010}", self.config.year)).map_err(other)
    }

    fn case_ident(&self, case: u32) -> io::Result<Ident> {
        Ident::parse(&format!("ЕРАП-{}-{case:09}", self.config.year)).map_err(other)
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_protocol(
        &mut self,
        at: i64,
        case: u32,
        device: u32,
        officer: u32,
        offender: Applicant,
        article: u8,
        region: u8,
    ) -> io::Result<()> {
        let offender = self.people.party(offender).ok_or_else(|| other("offender without an identity"))?;
        let device = &self.devices[device as usize];
        let police = device.agency;
        let mut protocol = ProtocolSigned {
            case: self.case_ident(case)?,
            agency: self.agency_slug(police)?,
            officer: Ident::parse(&format!("{}-officer-{officer:05}", self.agency_slug(police)?)).map_err(other)?,
            device: device.ident.clone(),
            offender,
            article: ARTICLES[usize::from(article)].article.to_owned(),
            place: self.world.regions[usize::from(region)].kato,
            signature: base64::engine::general_purpose::STANDARD.encode([0u8; 64]),
        };
        // Sign the JCS bytes of the whole line object without `signature`.
        let unsigned = self.event(at, Record::ProtocolSigned(protocol.clone()))?;
        let message = unsigned_bytes(&unsigned.canonical)?;
        let signature = device.key.sign(&message);
        protocol.signature = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes());
        self.summary.protocols += 1;
        self.write(at, Record::ProtocolSigned(protocol))
    }
}

/// The RFC 8785 bytes of a canonical line object without its `signature`
/// member: what a `fine.protocol_signed` signature covers.
pub fn unsigned_bytes(canonical_line: &[u8]) -> io::Result<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(canonical_line).map_err(other)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("signature");
    }
    Ok(jcs::canonical_bytes(&value))
}
