//! The camt connector on every sample in `shared/data/standards/camt/` and
//! on files made here (KZT, UINs, payers, reversals, faults).

use std::path::{Path, PathBuf};

use casetrail_connectors::camt::{self, CamtOptions, CamtSummary};
use casetrail_connectors::Item;
use casetrail_exchange::Record;

/// A copy of the shared samples is kept in `data/standards/` (see its
/// PROVENANCE.md); `CASETRAIL_SHARED` names another data directory.
fn samples() -> PathBuf {
    let shared = std::env::var_os("CASETRAIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"));
    shared.join("standards/camt")
}

fn options(currency: &str) -> CamtOptions {
    CamtOptions { currency: currency.into(), fallback_provider: "test-bank".into() }
}

fn read(path: &Path, currency: &str) -> (CamtSummary, Vec<Item>) {
    camt::read_file(path, &options(currency)).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// (file, currency of the sample, payments, reversals, not booked, debits, failure items)
const EXPECTED: &[(&str, &str, u64, u64, u64, u64, usize)] = &[
    ("dvbern-iso20022/camt053__Business_Sample_camt.053.001.04.xml", "SEK", 1, 0, 0, 1, 1),
    ("dvbern-iso20022/camt053__camt.053_P_CH0309000000250090342_380000000_0_2016053100163801.xml", "CHF", 21, 2, 0, 6, 0),
    ("dvbern-iso20022/camt054.v00108__200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727_v2019.xml", "CHF", 2, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054.v00108__camt.054_P_CH2909000000250094239_1111111112_0_2022031011011199_v2019.xml", "CHF", 1, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727_v2009.xml", "CHF", 2, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179_v2009.xml", "CHF", 0, 0, 0, 1, 0),
    ("dvbern-iso20022/camt054__camt.054-ES_P_CH0309000000250090342_38000000_0_2016052723011813.xml", "CHF", 8, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__camt.054_P_CH2909000000250094239_1111111112_0_2022031011011199_v2009.xml", "CHF", 1, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__camt.054_P_CH2909000000250094239_1111111119_0_2022030911011199_v2009.xml", "CHF", 1, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__camt_054_Beispiel_NoCrdtBookedNotReversed.xml", "CHF", 0, 0, 1, 1, 0),
    ("dvbern-iso20022/camt054__camt_054_Beispiel_SammelbuchungEs.xml", "CHF", 2, 0, 0, 0, 0),
    ("dvbern-iso20022/camt054__camt_054_Beispiel_ZA1_ESR_ZE.xml", "CHF", 1, 0, 0, 0, 0),
    ("genkgo-camt/camt052.v8.xml", "SEK", 0, 0, 0, 1, 0),
    ("genkgo-camt/camt053.v2.minimal.xml", "EUR", 1, 0, 0, 0, 0),
    ("genkgo-camt/camt053.v8.xml", "EUR", 1, 0, 0, 0, 0),
    ("genkgo-camt/camt054.v2.xml", "SEK", 0, 0, 0, 1, 0),
    ("genkgo-camt/camt054.v4.xml", "SEK", 0, 0, 0, 1, 0),
    ("genkgo-camt/camt054.v8-with-UETR.xml", "SEK", 0, 0, 0, 1, 0),
    ("genkgo-camt/camt054.v8.xml", "SEK", 0, 0, 0, 1, 0),
];

#[test]
fn every_sample_imports_with_the_expected_counts() {
    let mut seen = 0;
    for folder in ["dvbern-iso20022", "genkgo-camt"] {
        let listing = std::fs::read_dir(samples().join(folder)).unwrap_or_else(|error| panic!("{error}"));
        for file in listing.flatten() {
            let name = format!("{folder}/{}", file.file_name().to_string_lossy());
            if !name.ends_with(".xml") {
                continue;
            }
            seen += 1;
            let Some(&(_, currency, payments, reversals, not_booked, debits, failures)) =
                EXPECTED.iter().find(|row| row.0 == name)
            else {
                panic!("{name} is a new sample: add its expected counts");
            };
            let (summary, items) = read(&file.path(), currency);
            let events: Vec<_> = items.iter().filter_map(|item| item.parsed.as_ref().ok()).collect();
            let failed: Vec<_> = items.iter().filter_map(|item| item.parsed.as_ref().err()).collect();
            assert!(!summary.message.is_empty(), "{name} was refused: {failed:?}");
            assert_eq!(
                (summary.payments, summary.reversals, summary.not_booked, summary.debits, failed.len()),
                (payments, reversals, not_booked, debits, failures),
                "{name}: {summary:?} {failed:?}"
            );
            let received = events.iter().filter(|e| e.record_type() == "payment.received").count() as u64;
            let reversed = events.iter().filter(|e| e.record_type() == "payment.reversed").count() as u64;
            assert_eq!((received, reversed), (payments, reversals), "{name}");
            // Stable: a second reading gives the same events, byte for byte.
            let (_, again) = read(&file.path(), currency);
            let bytes = |items: &[Item]| items.iter().map(|item| item.raw.clone()).collect::<Vec<_>>();
            assert_eq!(bytes(&items), bytes(&again), "{name}");
            // In KZT (the default) none of these foreign files gives a payment.
            let (_, kzt) = read(&file.path(), "KZT");
            assert!(kzt.iter().all(|item| item.parsed.is_err()), "{name}");
        }
    }
    assert_eq!(seen, EXPECTED.len(), "every sample file is checked");
}

/// genkgo's parser output (.json next to the .xml): entries, their bank
/// references, amounts (minor units, negative for debits), indicators and
/// status agree with ours.
#[test]
fn genkgo_entries_agree_with_their_expected_output() {
    for name in ["camt053.v2.minimal", "camt053.v8", "camt054.v2", "camt054.v4", "camt054.v8"] {
        let folder = samples().join("genkgo-camt");
        let json = std::fs::read_to_string(folder.join(format!("{name}.json"))).unwrap_or_else(|e| panic!("{e}"));
        let expected: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        let file = std::fs::File::open(folder.join(format!("{name}.xml"))).unwrap_or_else(|e| panic!("{e}"));
        let ours = camt::entries(std::io::BufReader::new(file)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = expected["getEntries"].as_array().cloned().unwrap_or_default();
        assert_eq!(ours.len(), theirs.len(), "{name}: entries");
        for (entry, reference) in ours.iter().zip(&theirs) {
            let minor = entry.amount.0 / 1000 * if entry.credit { 1 } else { -1 };
            assert_eq!(reference["getAmount"]["getAmount"].as_str(), Some(minor.to_string().as_str()), "{name}");
            assert_eq!(reference["getAmount"]["getCurrency"]["getCode"].as_str(), Some(entry.currency.as_str()));
            assert_eq!(reference["getAccountServicerReference"].as_str(), entry.acct_svcr_ref.as_deref(), "{name}");
            assert_eq!(
                reference["getCreditDebitIndicator"].as_str(),
                Some(if entry.credit { "CRDT" } else { "DBIT" }),
                "{name}"
            );
            if let Some(status) = reference["getStatus"].as_str() {
                assert_eq!(Some(status), entry.status.as_deref(), "{name}");
            }
            assert_eq!(reference["getReversalIndicator"].as_bool().unwrap_or(false), entry.reversal, "{name}");
        }
    }
}

#[test]
fn the_v08_collective_booking_splits_into_its_two_qrr_payments() {
    let path = samples().join(
        "dvbern-iso20022/camt054.v00108__200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727_v2019.xml",
    );
    let (_, items) = read(&path, "CHF");
    let amounts: Vec<String> = items
        .iter()
        .filter_map(|item| match item.parsed.as_ref().map(|e| &e.record) {
            Ok(Record::PaymentReceived(p)) => Some(p.amount_kzt.to_decimal_string()),
            _ => None,
        })
        .collect();
    assert_eq!(amounts, ["778.29", "913.93"]);
}

const KZT_FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-03-03T18:00:00+05:00</CreDtTm></GrpHdr>
  <Ntfctn>
   <Id>N-1</Id>
   <Acct><Id><Othr><Id>KZ123</Id></Othr></Id><Svcr><FinInstnId><BICFI>HSBKKZKX</BICFI></FinInstnId></Svcr></Acct>
   <TxsSummry><TtlNtries><NbOfNtries>4</NbOfNtries><Sum>65300.00</Sum></TtlNtries></TxsSummry>
   <Ntry>
    <Amt Ccy="KZT">27300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-03-03</Dt></BookgDt><AcctSvcrRef>E-1</AcctSvcrRef>
    <NtryDtls>
     <TxDtls>
      <Refs><AcctSvcrRef>T-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <Amt Ccy="KZT">17300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Pty><Nm>A</Nm><Id><PrvtId><Othr><Id>850808310738</Id></Othr></PrvtId></Id></Pty></Dbtr></RltdPties>
      <RmtInf><Strd><CdtrRefInf><Ref>10000000000000000014</Ref></CdtrRefInf></Strd></RmtInf>
     </TxDtls>
     <TxDtls>
      <Refs><EndToEndId>E2E-2</EndToEndId></Refs>
      <Amt Ccy="KZT">10000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Id><OrgId><Othr><Id>940140000385</Id></Othr></OrgId></Id></Dbtr></RltdPties>
      <RmtInf><Ustrd>штраф УИН 10000000000000000014 оплата</Ustrd></RmtInf>
     </TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="KZT">5000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
    <BookgDt><Dt>2026-03-03</Dt></BookgDt><AcctSvcrRef>E-2</AcctSvcrRef>
   </Ntry>
   <Ntry>
    <Amt Ccy="KZT">17300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-03-04T09:30:00+05:00</DtTm></BookgDt><AcctSvcrRef>E-3</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><AcctSvcrRef>T-1</AcctSvcrRef></Refs></TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="KZT">15700.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-03-04</Dt></BookgDt><AcctSvcrRef>E-4</AcctSvcrRef>
   </Ntry>
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|error| panic!("{error}"));
    path
}

#[test]
fn a_kzt_notification_gives_payments_with_uin_payer_and_a_reversal() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let path = write(dir.path(), "kzt.xml", KZT_FILE);
    let (summary, items) = camt::read_file(&path, &CamtOptions::default()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((summary.payments, summary.reversals, summary.not_booked, summary.debits), (2, 1, 1, 1));
    assert_eq!(summary.provider.as_deref(), Some("HSBKKZKX"));
    let records: Vec<Record> =
        items.into_iter().map(|item| item.parsed.unwrap_or_else(|error| panic!("{error}")).record).collect();
    let [Record::PaymentReceived(first), Record::PaymentReceived(second), Record::PaymentReversed(reversed)] =
        records.as_slice()
    else {
        panic!("{records:?}");
    };
    assert_eq!(first.payment.as_str(), "T-1", "the bank's transaction reference comes first");
    assert_eq!(first.provider.as_str(), "HSBKKZKX");
    assert_eq!(first.uin.as_deref(), Some("10000000000000000014"), "structured reference");
    assert_eq!(
        first.payer.as_ref().and_then(|p| p.iin.as_ref()).map(ToString::to_string).as_deref(),
        Some("850808310738")
    );
    assert_eq!(first.amount_kzt.to_decimal_string(), "17300.00");
    assert_eq!(second.payment.as_str(), "E2E-2");
    assert_eq!(second.uin.as_deref(), Some("10000000000000000014"), "found in the free text");
    assert_eq!(
        second.payer.as_ref().and_then(|p| p.bin.as_ref()).map(ToString::to_string).as_deref(),
        Some("940140000385")
    );
    assert_eq!(reversed.payment.as_str(), "T-1");
    assert_eq!(reversed.reason, "reversed by the bank");
}

#[test]
fn a_wrong_summary_a_wrong_collective_sum_and_a_truncated_file_are_refused_with_the_element_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let cases = [
        (
            "summary.xml",
            KZT_FILE.replace("<Sum>65300.00</Sum>", "<Sum>65300.01</Sum>"),
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/TxsSummry/TtlNtries/Sum",
            "add up to 65300.00",
        ),
        (
            "count.xml",
            KZT_FILE.replace("<NbOfNtries>4</NbOfNtries>", "<NbOfNtries>5</NbOfNtries>"),
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/TxsSummry/TtlNtries/NbOfNtries",
            "holds 4",
        ),
        (
            "collective.xml",
            KZT_FILE.replace("<Amt Ccy=\"KZT\">10000.00</Amt>", "<Amt Ccy=\"KZT\">10000.50</Amt>"),
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/Amt",
            "not the sum of its 2 transactions (27300.50)",
        ),
        (
            "truncated.xml",
            KZT_FILE[..KZT_FILE.find("<Ustrd>").unwrap_or(0) + 7].to_owned() + "штраф",
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[2]/RmtInf/Ustrd",
            "truncated",
        ),
        (
            "malformed.xml",
            KZT_FILE.replace("</RltdPties>\n      <RmtInf><Ustrd>", "</RltdPtiez>\n      <RmtInf><Ustrd>"),
            "Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[2]/RltdPties",
            "malformed",
        ),
    ];
    for (name, text, path, reason) in cases {
        let file = write(dir.path(), name, &text);
        let (_, items) = camt::read_file(&file, &CamtOptions::default()).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(items.len(), 1, "{name}: one quarantine item, nothing else");
        let error = items[0].parsed.as_ref().err().unwrap_or_else(|| panic!("{name} was accepted"));
        assert_eq!(error.field.as_deref(), Some(path), "{name}: {error}");
        assert!(error.reason.contains(reason) && error.reason.contains("nothing was imported"), "{name}: {error}");
        assert_eq!(items[0].raw, text.as_bytes(), "{name}: the file's bytes are kept");
        assert!(items[0].line.is_some_and(|line| line > 1), "{name}");
    }
}

#[test]
fn an_entry_in_another_currency_is_quarantined_alone() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let text = KZT_FILE.replace("<Amt Ccy=\"KZT\">15700.00</Amt>", "<Amt Ccy=\"USD\">15700.00</Amt>").replace(
        "<CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\n    <BookgDt><Dt>2026-03-04</Dt>",
        "<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\n    <BookgDt><Dt>2026-03-04</Dt>",
    );
    let file = write(dir.path(), "usd.xml", &text);
    let (summary, items) = camt::read_file(&file, &CamtOptions::default()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(summary.wrong_currency, 1);
    let failures: Vec<_> = items.iter().filter_map(|item| item.parsed.as_ref().err()).collect();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].reason.contains("USD"), "{:?}", failures[0]);
    assert!(items[failures.len()..].iter().any(|item| item.parsed.is_ok()));
    let raw = &items.iter().find(|item| item.parsed.is_err()).map(|item| item.raw.clone()).unwrap_or_default();
    assert!(String::from_utf8_lossy(raw).starts_with("<Ntry>") && String::from_utf8_lossy(raw).contains("USD"));
}
