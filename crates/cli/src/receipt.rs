//! `casetrail receipt`: receipts a citizen can check offline
//! (`docs/receipts.md`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use casetrail_app::receipt::{self, HeadStatement, Receipt, ReceiptFailure, ReceiptFor};
use casetrail_app::DbLocation;

/// Exit code when a receipt does not verify (as `verify` on tampering).
const EXIT_RECEIPT_FAILED: u8 = 3;

/// Which event a receipt is for, from `--seq`, `--uin` or `--payment`.
pub fn target(seq: Option<u64>, uin: Option<String>, payment: Option<String>) -> Result<ReceiptFor> {
    match (seq, uin, payment) {
        (_, Some(uin), _) => Ok(ReceiptFor::Uin(uin)),
        (_, _, Some(payment)) => {
            let Some((provider, id)) = payment.split_once(':').or_else(|| payment.split_once('/')) else {
                bail!("--payment {payment:?}: give it as PROVIDER:PAYMENT_ID, e.g. kaspi:K-1");
            };
            anyhow::ensure!(
                !provider.is_empty() && !id.is_empty(),
                "--payment {payment:?}: give it as PROVIDER:PAYMENT_ID, e.g. kaspi:K-1"
            );
            Ok(ReceiptFor::Payment { provider: provider.to_owned(), payment: id.to_owned() })
        }
        (Some(seq), None, None) => Ok(ReceiptFor::Seq(seq)),
        (None, None, None) => bail!("say which receipt: --seq N, --uin UIN or --payment PROVIDER:PAYMENT_ID"),
    }
}

pub fn get(db: &str, target: &ReceiptFor, head_size: Option<u64>, out: Option<&Path>) -> Result<ExitCode> {
    let mut store = DbLocation::parse(db).open().context("cannot open the database")?;
    let found = receipt::find_event(store.as_mut(), target)?;
    let seq = found.seq;
    let receipt = receipt::make_receipt(store.as_mut(), seq, head_size)?;
    write_json(&receipt, out)?;
    eprintln!(
        "receipt for event {seq} ({}, {}) in the signed tree of {} events{}",
        receipt.entry.record.get("type").and_then(serde_json::Value::as_str).unwrap_or("?"),
        found.what,
        receipt.tree_head.head.size,
        out.map(|path| format!(", written to {}", path.display())).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
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
