//! `casetrail receipt`: receipts a citizen can check offline
//! (`docs/receipts.md`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use casetrail_app::receipt::{self, HeadStatement, Receipt, ReceiptFailure};
use casetrail_app::DbLocation;

/// Exit code when a receipt does not verify (as `verify` on tampering).
const EXIT_RECEIPT_FAILED: u8 = 3;

/// Which event a receipt is for.
pub enum Target<'a> {
    Seq(u64),
    /// `PROVIDER/PAYMENT_ID`: the `payment.received` of that payment.
    Payment(&'a str),
}

pub fn get(db: &str, target: Target<'_>, head_size: Option<u64>, out: Option<&Path>) -> Result<ExitCode> {
    let mut store = DbLocation::parse(db).open().context("cannot open the database")?;
    let seq = match target {
        Target::Seq(seq) => seq,
        Target::Payment(key) => payment_seq(store.as_mut(), key)?,
    };
    let receipt = receipt::make_receipt(store.as_mut(), seq, head_size)?;
    write_json(&receipt, out)?;
    eprintln!(
        "receipt for event {seq} ({}) in the signed tree of {} events{}",
        receipt.entry.record.get("type").and_then(serde_json::Value::as_str).unwrap_or("?"),
        receipt.tree_head.head.size,
        out.map(|path| format!(", written to {}", path.display())).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn payment_seq(store: &mut dyn casetrail_ledger::Store, key: &str) -> Result<u64> {
    let Some(doc) = store.doc(casetrail_app::projector::kind::PAYMENT, key)? else {
        bail!("no payment {key:?} is known; give it as PROVIDER/PAYMENT_ID, as the provider reported it");
    };
    let payment: casetrail_app::projector::PaymentState =
        serde_json::from_str(&doc.doc).with_context(|| format!("the projection of payment {key:?} is damaged"))?;
    if payment.seq == 0 {
        bail!("the projection of payment {key:?} has no sequence number; run `casetrail rebuild`");
    }
    Ok(payment.seq)
}

pub fn head(db: &str, from_size: Option<u64>, out: Option<&Path>) -> Result<ExitCode> {
    let mut store = DbLocation::parse(db).open().context("cannot open the database")?;
    let statement = receipt::head_statement(store.as_mut(), from_size)?;
    write_json(&statement, out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(file: &Path, against: Option<&Path>, key_pub: Option<&str>) -> Result<ExitCode> {
    let pinned = match key_pub {
        Some(text) => Some(receipt::parse_public_key(text).map_err(|error| anyhow::anyhow!("--key-pub: {error}"))?),
        None => None,
    };
    let outcome = read_json::<Receipt>(file).and_then(|receipt| {
        let later = match against {
            Some(path) => Some(read_json::<HeadStatement>(path)?),
            None => None,
        };
        receipt::verify_receipt(&receipt, pinned.as_ref(), later.as_ref())
    });
    match outcome {
        Ok(verified) => {
            println!(
                "OK: event {} is in the tree of {} events (root {}) signed by the receipt's key{}",
                verified.seq,
                verified.head_size,
                hex::encode(verified.root),
                if pinned.is_some() { " (the pinned key)" } else { "" }
            );
            if let Some(later) = verified.later_size {
                println!("OK: the later signed tree of {later} events extends it (consistency proof verified)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!("FAILED: {failure}");
            Ok(ExitCode::from(EXIT_RECEIPT_FAILED))
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReceiptFailure> {
    let bytes = std::fs::read(path)
        .map_err(|error| ReceiptFailure::Format(format!("cannot read {}: {error}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|error| ReceiptFailure::Format(format!("{}: {error}", path.display())))
}

fn write_json(value: &impl serde::Serialize, out: Option<&Path>) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}; check the directory exists and is writable", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
