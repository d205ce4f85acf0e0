//! `casetrail import --format camt|csv` as a user runs it: a bank file
//! imports, the same file again gives duplicates only, a truncated copy is
//! refused whole with the element path, a reversal reaches its payment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_casetrail");

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN).args(args).current_dir(dir).env_remove("CASETRAIL_DB").output().expect("run casetrail")
}

fn ok(args: &[&str], dir: &Path) -> String {
    let output = run(args, dir);
    assert!(output.status.success(), "casetrail {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn sample(name: &str) -> PathBuf {
    let shared = std::env::var_os("CASETRAIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"));
    shared.join("standards/camt").join(name)
}

const SWISS_V08: &str =
    "dvbern-iso20022/camt054.v00108__200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727_v2019.xml";

#[test]
fn a_camt_file_imports_once_and_a_truncated_copy_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("swiss.xml");
    std::fs::copy(sample(SWISS_V08), &file).unwrap();
    let db = d.join("t.db");
    let db = db.to_str().unwrap();
    let base = ["import", "--db", db, "--format", "camt", "--currency", "CHF", "--source", "postfinance"];
    let first = ok(&[&base[..], &[file.to_str().unwrap()]].concat(), d);
    assert!(first.contains("2 accepted, 0 duplicates, 0 quarantined"), "{first}");
    let again = ok(&[&base[..], &[file.to_str().unwrap()]].concat(), d);
    assert!(again.contains("0 accepted, 2 duplicates, 0 quarantined"), "{again}");

    let text = std::fs::read_to_string(&file).unwrap();
    let cut = text.find("<TxDtls>").unwrap() + 200;
    let truncated = d.join("truncated.xml");
    std::fs::write(&truncated, &text[..cut]).unwrap();
    let refused = ok(&[&base[..], &[truncated.to_str().unwrap()]].concat(), d);
    assert!(refused.contains("0 accepted, 0 duplicates, 1 quarantined"), "{refused}");
    let listed = ok(&["quarantine", "list", "--db", db, "--format", "json"], d);
    assert!(listed.contains("Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[1]"), "{listed}");
    assert!(listed.contains("truncated"), "{listed}");

    // In tenge (the default) the Swiss francs are quarantined, nothing lands.
    let kzt = ok(&["import", "--db", db, "--format", "camt", "--source", "other", file.to_str().unwrap()], d);
    assert!(kzt.contains("0 accepted"), "{kzt}");
}

#[test]
fn a_reversal_reaches_its_payment_and_an_unknown_one_waits_in_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("t.db");
    let db = db.to_str().unwrap();
    let payment = d.join("payment.jsonl");
    std::fs::write(
        &payment,
        "{\"type\":\"payment.received\",\"id\":\"p-1\",\"at\":\"2026-03-03T12:00:00+05:00\",\"payment\":\"T-1\",\"provider\":\"HSBKKZKX\",\"amount_kzt\":\"17300.00\"}\n",
    )
    .unwrap();
    ok(&["import", "--db", db, payment.to_str().unwrap()], d);
    let camt = |reference: &str| {
        format!(
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.04\"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId></GrpHdr><Ntfctn><Id>N</Id>\
             <Acct><Svcr><FinInstnId><BIC>HSBKKZKX</BIC></FinInstnId></Svcr></Acct>\
             <Ntry><Amt Ccy=\"KZT\">17300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-04</Dt></BookgDt>\
             <NtryDtls><TxDtls><Refs><AcctSvcrRef>{reference}</AcctSvcrRef></Refs></TxDtls></NtryDtls></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
        )
    };
    let known = d.join("reversal.xml");
    std::fs::write(&known, camt("T-1")).unwrap();
    let out = ok(&["import", "--db", db, "--format", "camt", known.to_str().unwrap()], d);
    assert!(out.contains("1 accepted, 0 duplicates, 0 quarantined"), "{out}");
    let unknown = d.join("unknown.xml");
    std::fs::write(&unknown, camt("T-404")).unwrap();
    let out = ok(&["import", "--db", db, "--format", "camt", unknown.to_str().unwrap()], d);
    assert!(out.contains("0 accepted, 0 duplicates, 1 quarantined"), "{out}");
    let listed = ok(&["quarantine", "list", "--db", db, "--format", "json"], d);
    assert!(listed.contains("reported no payment T-404"), "{listed}");
}

#[test]
fn a_csv_register_needs_its_source_and_lands_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("t.db");
    let db = db.to_str().unwrap();
    let register = d.join("kassa24.csv");
    let (bytes, _, _) = encoding_rs_free_1251("Дата;Номер платежа;Сумма\n02.03.2026;K-1;17 300,00\n02.03.2026;K-2;x\n");
    std::fs::write(&register, bytes).unwrap();
    let refused = run(&["import", "--db", db, "--format", "csv", register.to_str().unwrap()], d);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--source"));
    let out = ok(&["import", "--db", db, "--format", "csv", "--source", "kassa24", register.to_str().unwrap()], d);
    assert!(out.contains("1 accepted, 0 duplicates, 1 quarantined") && out.contains("windows-1251"), "{out}");
}

/// Windows-1251 bytes of Cyrillic and ASCII text (no extra dependency).
fn encoding_rs_free_1251(text: &str) -> (Vec<u8>, (), ()) {
    let bytes = text
        .chars()
        .map(|c| match c {
            'А'..='я' => (c as u32 - 'А' as u32 + 0xC0) as u8,
            'Ё' => 0xA8,
            'ё' => 0xB8,
            c => c as u8,
        })
        .collect();
    (bytes, (), ())
}
