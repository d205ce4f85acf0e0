//! `casetrail field`: the field device (police tablet), see `docs/field.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use casetrail_app::field::{FieldDevice, PaymentCode, ProtocolInput, CODES_DIR, ENROLMENT_FILE, QUEUE_FILE};
use chrono::{DateTime, Utc};
use qrcode::render::{svg, unicode};
use qrcode::QrCode;

use crate::DbArgs;

/// The officer's entries for one protocol.
pub struct ProtocolArgs {
    pub case: String,
    pub officer: String,
    pub offender_iin: String,
    pub article: String,
    pub place: String,
    pub amount_mci: u32,
    pub short_procedure: bool,
    pub at: Option<DateTime<Utc>>,
}

#[allow(clippy::disallowed_methods)]
fn now() -> DateTime<Utc> {
    Utc::now()
}

pub fn init(dir: &Path, device: &str, agency: &str, number: u32, at: Option<DateTime<Utc>>) -> Result<ExitCode> {
    let (_, enrolled) = FieldDevice::init(dir, device, agency, number, at.unwrap_or_else(now))?;
    print!("{}", String::from_utf8_lossy(&enrolled.to_line()));
    eprintln!(
        "device {device} created in {} (key {}/device.key, owner-only). Before its protocols are accepted, \
         an administrator imports the device.enrolled record above (also in {}/{ENROLMENT_FILE}).",
        dir.display(),
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn protocol(dir: &Path, args: ProtocolArgs) -> Result<ExitCode> {
    let mut device = FieldDevice::open(dir)?;
    let input = ProtocolInput {
        case: args.case,
        officer: args.officer,
        offender_iin: args.offender_iin,
        article: args.article,
        place: args.place,
        amount_mci: args.amount_mci,
        short_procedure: args.short_procedure,
        at: args.at.unwrap_or_else(now),
    };
    let (_, code) = device.protocol(&input)?;
    eprintln!("protocol for case {} signed and queued in {}/{QUEUE_FILE}", code.case, dir.display());
    show_code(dir, &code)?;
    Ok(ExitCode::SUCCESS)
}

pub fn sync(dir: &Path, db: &DbArgs) -> Result<ExitCode> {
    let device = FieldDevice::open(dir)?;
    let queued = device.queued()?.len();
    if queued == 0 {
        eprintln!("nothing to sync: the queue is empty");
        return Ok(ExitCode::SUCCESS);
    }
    let mut ledger = crate::commands::open(db).with_context(|| {
        format!("the server cannot be reached; the {queued} queued records stay in {}/{QUEUE_FILE}", dir.display())
    })?;
    let report = device.sync(&mut ledger).with_context(|| {
        format!("the sync failed; the {queued} queued records stay in {}/{QUEUE_FILE}", dir.display())
    })?;
    eprintln!(
        "synced {queued} records as source {}: {} accepted, {} already in the ledger, {} quarantined",
        device.source(),
        report.accepted,
        report.duplicates,
        report.quarantined
    );
    for synced in &report.protocols {
        match (synced.protocol_seq, synced.fine_seq) {
            (Some(protocol), Some(fine)) => println!(
                "case {}: protocol is event {protocol}, fine is event {fine} (`casetrail receipt get --seq {protocol}`)",
                synced.code.case
            ),
            _ => println!("case {}: NOT in the ledger (quarantined: see `casetrail quarantine list`)", synced.code.case),
        }
        show_code(dir, &synced.code)?;
    }
    if report.quarantined > 0 {
        anyhow::bail!(
            "{} records were quarantined by the server (is the device enrolled? see `casetrail quarantine list`); \
             they can be replayed there once fixed",
            report.quarantined
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the payment code and its QR code, and writes the QR code as SVG.
fn show_code(dir: &Path, code: &PaymentCode) -> Result<PathBuf> {
    println!("UIN {}  pay {} KZT", code.uin, code.pay_kzt);
    match code.pay_until {
        Some(until) => println!(
            "  short procedure: {} KZT if paid on or before {}, else the full {} KZT",
            code.pay_kzt, until, code.amount_kzt
        ),
        None => println!("  full fine: {} KZT", code.amount_kzt),
    }
    println!("  {}", code.payload);
    let qr = QrCode::new(code.payload.as_bytes()).context("the payment code does not fit a QR code")?;
    let terminal = qr
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    println!("{terminal}");
    let image = qr
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let codes = dir.join(CODES_DIR);
    std::fs::create_dir_all(&codes).with_context(|| format!("cannot create {}", codes.display()))?;
    let path = codes.join(format!("{}.svg", code.uin));
    std::fs::write(&path, image).with_context(|| format!("cannot write {}", path.display()))?;
    println!("  QR code: {}", path.display());
    Ok(path)
}
