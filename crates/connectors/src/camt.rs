//! ISO 20022 bank-to-customer cash management: camt.054
//! (`BkToCstmrDbtCdtNtfctn`), camt.053 (`BkToCstmrStmt`) and camt.052
//! (`BkToCstmrAcctRpt`), any version (.001.02 to .001.08 and the Swiss 2019
//! variants are tested): elements are matched on their local names, so the
//! namespace of the version does not matter.
//!
//! Streaming: the file is read with `quick-xml` one event at a time; at
//! most one entry (`Ntry`, with its transactions and its raw bytes) is held
//! in memory.
//!
//! A file is all or nothing. [`check`] reads it once and returns the first
//! fault (malformed or truncated XML, an entry whose transactions do not add
//! up to it, a summary `TxsSummry` whose counts or sums disagree with the
//! entries) with its element path, e.g.
//! `Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[2]/NtryDtls/TxDtls[3]/Amt`.
//! Only a file that passes is read again by [`CamtEvents`], which yields one
//! [`Item`] per transaction:
//!
//! - booked (`Sts` or `Sts/Cd` = `BOOK`) credit entries become
//!   `payment.received`; pending and information-only entries are skipped
//!   and counted;
//! - booked debit entries with `RvslInd` true (a credit taken back) or with
//!   return information (`RtrInf`) become `payment.reversed`; other debit
//!   entries (the account's own payments) are skipped and counted;
//! - an entry in another currency than the accepted one (KZT unless the
//!   options say otherwise) is a failure item, quarantined on its own.
//!
//! The payment id is the most specific reference the bank gives, in this
//! order: `Refs/UETR` (globally unique, kept by reversals and returns);
//! `Refs/AcctSvcrRef` (the bank's own unique reference of the transaction);
//! `Refs/TxId`; `Refs/EndToEndId` unless `NOTPROVIDED`; `Refs/InstrId`; the
//! entry's `AcctSvcrRef`; the record's `Id` and the entry's `NtryRef`; the
//! record's `Id` and the entry's position (`/n` is added for the n-th
//! transaction of a collective entry in the last three cases). All of them
//! come from the file, so importing the same file again gives the same ids:
//! duplicates only (and a camt.053 that repeats a camt.054 too, as long as
//! the bank gives a transaction or entry reference, which banks do).

use std::io::BufRead;

use casetrail_exchange::{Event, Ident, Party, PaymentReceived, PaymentReversed, Record};
use casetrail_types::{time, Bin, Iin, Uin};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use quick_xml::events::Event as Xml;
use quick_xml::Reader;

use crate::decimal::Decimal;
use crate::Item;

/// The largest prefix of a refused file kept in quarantine.
pub const QUARANTINE_RAW_MAX: usize = 1024 * 1024;

/// How a camt file is read.
#[derive(Clone, Debug)]
pub struct CamtOptions {
    /// The only currency accepted as tenge (`KZT`). Tests of foreign sample
    /// files set the samples' currency; amounts are then taken as they are.
    pub currency: String,
    /// The provider when the file names no account servicer (BIC).
    pub fallback_provider: String,
}

impl Default for CamtOptions {
    fn default() -> Self {
        Self { currency: "KZT".into(), fallback_provider: "camt".into() }
    }
}

/// A fault that refuses the whole file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path} (line {line}): {reason}")]
pub struct CamtError {
    /// The element path of the fault.
    pub path: String,
    pub line: u64,
    pub reason: String,
}

/// What a file holds, by the first reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CamtSummary {
    /// `camt.054`, `camt.053` or `camt.052`.
    pub message: &'static str,
    /// The namespace's version, e.g. `camt.054.001.08`.
    pub version: String,
    /// The account servicer's BIC, the provider of the payments.
    pub provider: Option<String>,
    pub entries: u64,
    /// Transactions that become `payment.received`.
    pub payments: u64,
    /// Transactions that become `payment.reversed`.
    pub reversals: u64,
    /// Entries skipped because they are not booked (PDNG, INFO, ...).
    pub not_booked: u64,
    /// Booked debit entries that are neither reversals nor returns.
    pub debits: u64,
    /// Credit entries that reverse a debit (not a payment to us).
    pub other_credits: u64,
    /// Entries in another currency than the accepted one (quarantined).
    pub wrong_currency: u64,
    /// Transactions without any reference to identify them (quarantined).
    pub unidentified: u64,
    /// Collective entries whose transactions carry no amounts in the
    /// entry's currency (quarantined whole: they cannot be split).
    pub unsplit: u64,
}

/// Reads a whole file and checks it; nothing is produced.
pub fn check<R: BufRead>(reader: R, options: &CamtOptions) -> Result<CamtSummary, CamtError> {
    let mut parser = Parser::new(reader);
    let mut summary = CamtSummary::default();
    while let Some(entry) = parser.next_entry()? {
        let provider = parser.provider(options);
        let items = entry_items(&entry, &provider, options, &mut summary);
        drop(items);
    }
    summary.message = parser.message;
    summary.version = parser.version.clone();
    summary.provider = parser.servicer.clone();
    Ok(summary)
}

/// One entry as read, for cross-checks with other parsers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryView {
    pub path: String,
    pub amount: Decimal,
    pub currency: String,
    pub credit: bool,
    pub reversal: bool,
    pub status: Option<String>,
    pub acct_svcr_ref: Option<String>,
    pub transactions: usize,
}

/// Every entry of a file (all in memory: for tests and small files).
pub fn entries<R: BufRead>(reader: R) -> Result<Vec<EntryView>, CamtError> {
    let mut parser = Parser::new(reader);
    let mut views = Vec::new();
    while let Some(entry) = parser.next_entry()? {
        views.push(EntryView {
            path: entry.path,
            amount: entry.amount.value.unwrap_or_default(),
            currency: entry.amount.currency,
            credit: entry.credit == Some(true),
            reversal: entry.reversal,
            status: entry.status,
            acct_svcr_ref: entry.acct_svcr_ref,
            transactions: entry.txs.len(),
        });
    }
    Ok(views)
}

/// The items of a file that [`check`] accepted, entry by entry.
pub struct CamtEvents<R: BufRead> {
    parser: Parser<R>,
    options: CamtOptions,
    pending: std::collections::VecDeque<Item>,
    summary: CamtSummary,
    failed: bool,
}

impl<R: BufRead> CamtEvents<R> {
    pub fn new(reader: R, options: CamtOptions) -> Self {
        Self {
            parser: Parser::new(reader),
            options,
            pending: Default::default(),
            summary: CamtSummary::default(),
            failed: false,
        }
    }

    /// What was read so far.
    pub fn summary(&self) -> &CamtSummary {
        &self.summary
    }
}

impl<R: BufRead> Iterator for CamtEvents<R> {
    type Item = Result<Item, CamtError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.failed {
                return None;
            }
            match self.parser.next_entry() {
                Ok(Some(entry)) => {
                    let provider = self.parser.provider(&self.options);
                    self.pending = entry_items(&entry, &provider, &self.options, &mut self.summary).into();
                }
                Ok(None) => return None,
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// Reads and checks a file, then yields its items: the whole file's
/// events, or one failure item (the element path of the fault and the
/// file's first [`QUARANTINE_RAW_MAX`] bytes) when it is refused.
pub fn read_file(path: &std::path::Path, options: &CamtOptions) -> std::io::Result<(CamtSummary, Vec<Item>)> {
    let open = || std::fs::File::open(path).map(|file| std::io::BufReader::with_capacity(1 << 16, file));
    match check(open()?, options) {
        Ok(summary) => {
            let mut items = Vec::new();
            for item in CamtEvents::new(open()?, options.clone()) {
                match item {
                    Ok(item) => items.push(item),
                    Err(error) => return Ok((summary, vec![refused(path, &error)?])),
                }
            }
            Ok((summary, items))
        }
        Err(error) => Ok((CamtSummary::default(), vec![refused(path, &error)?])),
    }
}

/// The one quarantine item of a refused file: its first bytes (with a note
/// when cut), the fault's line and element path.
pub fn refused(path: &std::path::Path, error: &CamtError) -> std::io::Result<Item> {
    use std::io::Read;
    let mut raw = Vec::new();
    std::fs::File::open(path)?.take(QUARANTINE_RAW_MAX as u64 + 1).read_to_end(&mut raw)?;
    let mut reason = format!("the whole file is refused, nothing was imported: {}", error.reason);
    if raw.len() > QUARANTINE_RAW_MAX {
        raw.truncate(QUARANTINE_RAW_MAX);
        reason.push_str(&format!(" (only the file's first {QUARANTINE_RAW_MAX} bytes are kept here)"));
    }
    Ok(Item::failure(Some(error.line), raw, Some(&error.path), reason))
}

/// One element open on the way down, with the counts of its children by
/// name (for `[n]` in paths).
struct Frame {
    name: String,
    index: u32,
    children: Vec<(String, u32)>,
}

/// Elements shown with their index in paths even when first.
const INDEXED: &[&str] = &["Ntfctn", "Stmt", "Rpt", "Ntry", "TxDtls"];

#[derive(Clone, Debug, Default)]
struct Amount {
    value: Option<Decimal>,
    currency: String,
    path: String,
}

#[derive(Clone, Debug, Default)]
struct Tx {
    path: String,
    line: u64,
    uetr: Option<String>,
    acct_svcr_ref: Option<String>,
    tx_id: Option<String>,
    end_to_end: Option<String>,
    instr_id: Option<String>,
    amount: Option<Amount>,
    debtor_ids: Vec<String>,
    structured_refs: Vec<String>,
    unstructured: Vec<String>,
    return_reason: Option<String>,
    accepted_at: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    path: String,
    line: u64,
    raw: Vec<u8>,
    amount: Amount,
    credit: Option<bool>,
    reversal: bool,
    status: Option<String>,
    booked_at: Option<String>,
    value_at: Option<String>,
    acct_svcr_ref: Option<String>,
    /// `NtryRef`, unique within the record.
    entry_ref: Option<String>,
    /// The record's id and the entry's position, the last resort.
    fallback_id: Option<String>,
    txs: Vec<Tx>,
}

/// Running totals of one statement / notification / report, checked
/// against its `TxsSummry` at its end.
#[derive(Default)]
struct RecordTotals {
    path: String,
    line: u64,
    entries: u64,
    sum: Decimal,
    credits: u64,
    credit_sum: Decimal,
    debits: u64,
    debit_sum: Decimal,
    /// (path, count) of `TtlNtries/NbOfNtries`, etc.
    stated: Vec<(&'static str, String, String)>,
}

/// Counts newlines and, on demand, keeps a copy of what the XML reader
/// consumed (the raw bytes of the entry being read).
struct Recorder<R> {
    inner: R,
    line: u64,
    recording: Option<Vec<u8>>,
}

impl<R: BufRead> std::io::Read for Recorder<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Recorder<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            let taken = &buffer[..amount.min(buffer.len())];
            self.line += taken.iter().filter(|b| **b == b'\n').count() as u64;
            if let Some(recording) = self.recording.as_mut() {
                if recording.len() < QUARANTINE_RAW_MAX {
                    recording.extend_from_slice(taken);
                }
            }
        }
        self.inner.consume(amount);
    }
}

struct Parser<R: BufRead> {
    reader: Reader<Recorder<R>>,
    buf: Vec<u8>,
    stack: Vec<Frame>,
    text: String,
    message: &'static str,
    version: String,
    servicer: Option<String>,
    entry: Option<Entry>,
    totals: Option<RecordTotals>,
    /// `Stmt/Id` (or `Ntfctn/Id`, `Rpt/Id`) of the record being read.
    record_id: Option<String>,
    done: bool,
}

impl<R: BufRead> Parser<R> {
    fn new(reader: R) -> Self {
        let mut reader = Reader::from_reader(Recorder { inner: reader, line: 1, recording: None });
        let config = reader.config_mut();
        config.trim_text(true);
        config.check_end_names = true;
        Self {
            reader,
            buf: Vec::with_capacity(4096),
            stack: Vec::with_capacity(16),
            text: String::new(),
            message: "",
            version: String::new(),
            servicer: None,
            entry: None,
            totals: None,
            record_id: None,
            done: false,
        }
    }

    fn provider(&self, options: &CamtOptions) -> String {
        self.servicer.clone().unwrap_or_else(|| options.fallback_provider.clone())
    }

    fn line(&self) -> u64 {
        self.reader.get_ref().line
    }

    fn path(&self) -> String {
        let mut path = String::with_capacity(96);
        for (i, frame) in self.stack.iter().enumerate() {
            if i > 0 {
                path.push('/');
            }
            path.push_str(&frame.name);
            if frame.index > 1 || INDEXED.contains(&frame.name.as_str()) {
                path.push_str(&format!("[{}]", frame.index));
            }
        }
        path
    }

    fn fault(&self, reason: impl Into<String>) -> CamtError {
        CamtError { path: self.path(), line: self.line(), reason: reason.into() }
    }

    /// The names below the element at `depth`.
    fn below(&self, depth: usize) -> Vec<&str> {
        self.stack.iter().skip(depth + 1).map(|frame| frame.name.as_str()).collect()
    }

    fn names(&self) -> Vec<&str> {
        self.stack.iter().map(|frame| frame.name.as_str()).collect()
    }

    fn push(&mut self, name: String) {
        let index = match self.stack.last_mut() {
            Some(parent) => match parent.children.iter_mut().find(|(child, _)| *child == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    parent.children.push((name.clone(), 1));
                    1
                }
            },
            None => 1,
        };
        self.stack.push(Frame { name, index, children: Vec::new() });
    }

    /// Reads on until the next complete entry (or the end of the file).
    fn next_entry(&mut self) -> Result<Option<Entry>, CamtError> {
        if self.done {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event.into_owned(),
                Err(error) => return Err(self.fault(format!("the XML is malformed: {error}"))),
            };
            match event {
                Xml::Start(start) => {
                    let (name, currency, namespace) = self.describe(&start);
                    self.push(name);
                    self.text.clear();
                    self.on_start(currency, namespace)?;
                }
                Xml::Empty(start) => {
                    let (name, currency, namespace) = self.describe(&start);
                    self.push(name);
                    self.text.clear();
                    self.on_start(currency, namespace)?;
                    let finished = self.on_end()?;
                    self.stack.pop();
                    if let Some(entry) = finished {
                        return Ok(Some(entry));
                    }
                }
                Xml::End(_) => {
                    let finished = self.on_end()?;
                    self.stack.pop();
                    self.text.clear();
                    if let Some(entry) = finished {
                        return Ok(Some(entry));
                    }
                }
                Xml::Text(text) => {
                    let text = text.unescape().map_err(|error| self.fault(format!("bad text: {error}")))?;
                    self.text.push_str(&text);
                }
                Xml::CData(data) => self.text.push_str(&String::from_utf8_lossy(&data)),
                Xml::Eof => {
                    if !self.stack.is_empty() {
                        return Err(self.fault("the file ends here: it is truncated (elements are left open)"));
                    }
                    if self.message.is_empty() {
                        return Err(CamtError {
                            path: String::new(),
                            line: self.line(),
                            reason: "not a camt.052/053/054 document (no Document element)".into(),
                        });
                    }
                    self.done = true;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }

    /// An element's local name, its `Ccy` attribute and (for the root) its
    /// namespace.
    fn describe(&self, start: &quick_xml::events::BytesStart<'_>) -> (String, Option<String>, Option<String>) {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let mut currency = None;
        let mut namespace = None;
        for attribute in start.attributes().flatten() {
            if attribute.key.local_name().as_ref() == b"Ccy" {
                currency = Some(String::from_utf8_lossy(&attribute.value).into_owned());
            } else if self.stack.is_empty() && attribute.key.as_ref() == b"xmlns" {
                namespace = Some(String::from_utf8_lossy(&attribute.value).into_owned());
            }
        }
        (name, currency, namespace)
    }

    fn on_start(&mut self, currency: Option<String>, namespace: Option<String>) -> Result<(), CamtError> {
        let depth = self.stack.len();
        let name = self.stack.last().map(|frame| frame.name.clone()).unwrap_or_default();
        match depth {
            1 => {
                if name != "Document" {
                    return Err(self.fault(format!("not a camt document: the root element is {name}, not Document")));
                }
                if let Some(namespace) = namespace {
                    self.version = namespace.rsplit(':').next().unwrap_or_default().to_owned();
                }
            }
            2 => {
                self.message = match name.as_str() {
                    "BkToCstmrDbtCdtNtfctn" => "camt.054",
                    "BkToCstmrStmt" => "camt.053",
                    "BkToCstmrAcctRpt" => "camt.052",
                    _ => {
                        return Err(self.fault(format!(
                            "{name} is not a camt.052/053/054 message (BkToCstmrAcctRpt, BkToCstmrStmt, BkToCstmrDbtCdtNtfctn)"
                        )))
                    }
                };
            }
            3 if matches!(name.as_str(), "Ntfctn" | "Stmt" | "Rpt") => {
                self.totals = Some(RecordTotals { path: self.path(), line: self.line(), ..Default::default() });
            }
            4 if name == "Ntry" && self.totals.is_some() => {
                let mut raw = b"<Ntry>".to_vec();
                raw.reserve(4096);
                self.reader.get_mut().recording = Some(raw);
                let index = self.stack.last().map_or(0, |frame| frame.index);
                self.entry = Some(Entry {
                    path: self.path(),
                    line: self.line(),
                    fallback_id: self.record_id.as_ref().map(|id| format!("{id}/{index}")),
                    ..Default::default()
                });
            }
            _ => {}
        }
        if self.entry.is_none() || depth < 5 {
            return Ok(());
        }
        let path = self.path();
        let line = self.line();
        let below: Vec<String> = self.below(3).into_iter().map(str::to_owned).collect();
        let below: Vec<&str> = below.iter().map(String::as_str).collect();
        let Some(entry) = self.entry.as_mut() else { return Ok(()) };
        match below.as_slice() {
            ["Amt"] => entry.amount = Amount { value: None, currency: currency.unwrap_or_default(), path },
            ["NtryDtls", "TxDtls"] => entry.txs.push(Tx { path, line, ..Default::default() }),
            ["NtryDtls", "TxDtls", "Amt"] => {
                if let Some(tx) = entry.txs.last_mut() {
                    tx.amount = Some(Amount { value: None, currency: currency.unwrap_or_default(), path });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_end(&mut self) -> Result<Option<Entry>, CamtError> {
        let depth = self.stack.len();
        let text = std::mem::take(&mut self.text);
        let names: Vec<String> = self.names().into_iter().map(str::to_owned).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // The servicer of the account (the bank) and the summary.
        if depth >= 4 && self.entry.is_none() {
            let below: Vec<&str> = names[3..].to_vec();
            match below.as_slice() {
                ["Id"] => self.record_id = Some(text.clone()),
                ["Acct", "Svcr", "FinInstnId", "BICFI" | "BIC"] if self.servicer.is_none() => {
                    self.servicer = Some(text.clone());
                }
                ["TxsSummry", group @ ("TtlNtries" | "TtlCdtNtries" | "TtlDbtNtries"), field @ ("NbOfNtries" | "Sum")] =>
                {
                    let key: &'static str = match (*group, *field) {
                        ("TtlNtries", "NbOfNtries") => "TtlNtries/NbOfNtries",
                        ("TtlNtries", _) => "TtlNtries/Sum",
                        ("TtlCdtNtries", "NbOfNtries") => "TtlCdtNtries/NbOfNtries",
                        ("TtlCdtNtries", _) => "TtlCdtNtries/Sum",
                        ("TtlDbtNtries", "NbOfNtries") => "TtlDbtNtries/NbOfNtries",
                        _ => "TtlDbtNtries/Sum",
                    };
                    let path = self.path();
                    if let Some(totals) = self.totals.as_mut() {
                        totals.stated.push((key, path, text.clone()));
                    }
                }
                _ => {}
            }
        }
        if depth == 3 && self.totals.is_some() {
            self.check_totals()?;
            self.totals = None;
            return Ok(None);
        }
        if depth == 4 && self.entry.is_some() && names.get(3) == Some(&"Ntry") {
            let mut entry = self.entry.take().unwrap_or_default();
            entry.raw = self.reader.get_mut().recording.take().unwrap_or_default();
            self.check_entry(&entry)?;
            if let Some(totals) = self.totals.as_mut() {
                let value = entry.amount.value.unwrap_or_default();
                totals.entries += 1;
                totals.sum = totals.sum.checked_add(value).unwrap_or(totals.sum);
                if entry.credit == Some(true) {
                    totals.credits += 1;
                    totals.credit_sum = totals.credit_sum.checked_add(value).unwrap_or(totals.credit_sum);
                } else {
                    totals.debits += 1;
                    totals.debit_sum = totals.debit_sum.checked_add(value).unwrap_or(totals.debit_sum);
                }
            }
            return Ok(Some(entry));
        }
        if depth < 5 || self.entry.is_none() {
            return Ok(None);
        }
        let below: Vec<String> = names[4..].iter().map(|s| (*s).to_owned()).collect();
        let below: Vec<&str> = below.iter().map(String::as_str).collect();
        let fault_path = self.path();
        let line = self.line();
        let Some(entry) = self.entry.as_mut() else { return Ok(None) };
        let parse_amount =
            |text: &str| Decimal::parse(text).map_err(|reason| CamtError { path: fault_path.clone(), line, reason });
        match below.as_slice() {
            ["Amt"] => entry.amount.value = Some(parse_amount(&text)?),
            ["CdtDbtInd"] => {
                entry.credit = Some(match text.as_str() {
                    "CRDT" => true,
                    "DBIT" => false,
                    other => {
                        return Err(CamtError {
                            path: fault_path,
                            line,
                            reason: format!("{other:?} is neither CRDT nor DBIT"),
                        })
                    }
                })
            }
            ["RvslInd"] => entry.reversal = text == "true" || text == "1",
            ["Sts"] | ["Sts", "Cd"] if !text.is_empty() => entry.status = Some(text),
            ["BookgDt", "Dt" | "DtTm"] => entry.booked_at = Some(text),
            ["ValDt", "Dt" | "DtTm"] => entry.value_at = Some(text),
            ["AcctSvcrRef"] => entry.acct_svcr_ref = Some(text),
            ["NtryRef"] => entry.entry_ref = Some(text),
            ["NtryDtls", "TxDtls", rest @ ..] => {
                let Some(tx) = entry.txs.last_mut() else { return Ok(None) };
                match rest {
                    ["Refs", "UETR"] => tx.uetr = Some(text),
                    ["Refs", "AcctSvcrRef"] => tx.acct_svcr_ref = Some(text),
                    ["Refs", "TxId"] => tx.tx_id = Some(text),
                    ["Refs", "EndToEndId"] => tx.end_to_end = Some(text),
                    ["Refs", "InstrId"] => tx.instr_id = Some(text),
                    ["Amt"] => {
                        let value = parse_amount(&text)?;
                        if let Some(amount) = tx.amount.as_mut() {
                            amount.value = Some(value);
                        }
                    }
                    ["RltdPties", "Dbtr", "Id" | "Pty", ..] if rest.ends_with(&["Othr", "Id"]) => {
                        tx.debtor_ids.push(text)
                    }
                    ["RmtInf", "Ustrd"] => tx.unstructured.push(text),
                    ["RmtInf", "Strd", "CdtrRefInf", "Ref"] => tx.structured_refs.push(text),
                    ["RmtInf", "Strd", "AddtlRmtInf"] => tx.unstructured.push(text),
                    ["RtrInf", "Rsn", "Cd" | "Prtry"] => tx.return_reason = Some(text),
                    ["RtrInf", ..] if tx.return_reason.is_none() => tx.return_reason = Some(String::new()),
                    ["RltdDts", "AccptncDtTm"] => tx.accepted_at = Some(text),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// An entry's own consistency: an amount and an indicator, and several
    /// transactions adding up to it.
    fn check_entry(&self, entry: &Entry) -> Result<(), CamtError> {
        let at = |path: &str, reason: String| CamtError { path: path.to_owned(), line: entry.line, reason };
        let Some(total) = entry.amount.value else {
            return Err(at(&entry.path, "the entry has no Amt".into()));
        };
        if total.0 < 0 {
            return Err(at(&entry.amount.path, format!("the amount {total} is negative")));
        }
        if entry.credit.is_none() {
            return Err(at(&entry.path, "the entry has no CdtDbtInd".into()));
        }
        // Transactions in the entry's currency must add up to the entry when
        // there are several (a collective booking); transactions quoted in
        // another currency (a conversion) are not comparable.
        let comparable: Vec<&Tx> = entry
            .txs
            .iter()
            .filter(|tx| tx.amount.as_ref().is_some_and(|a| a.currency == entry.amount.currency))
            .collect();
        if entry.txs.len() > 1 && comparable.len() == entry.txs.len() {
            let mut sum = Decimal::default();
            for tx in &comparable {
                let value = tx.amount.as_ref().and_then(|a| a.value).unwrap_or_default();
                sum = sum.checked_add(value).ok_or_else(|| at(&tx.path, "the amounts overflow".into()))?;
            }
            if sum != total {
                return Err(at(
                    &entry.amount.path,
                    format!(
                        "the entry's amount {total} {} is not the sum of its {} transactions ({sum})",
                        entry.amount.currency,
                        entry.txs.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `TxsSummry` against the entries read.
    fn check_totals(&self) -> Result<(), CamtError> {
        let Some(totals) = self.totals.as_ref() else { return Ok(()) };
        for (key, path, text) in &totals.stated {
            let fault = |reason: String| CamtError { path: path.clone(), line: totals.line, reason };
            let (count, sum) = match *key {
                "TtlNtries/NbOfNtries" | "TtlNtries/Sum" => (totals.entries, totals.sum),
                "TtlCdtNtries/NbOfNtries" | "TtlCdtNtries/Sum" => (totals.credits, totals.credit_sum),
                _ => (totals.debits, totals.debit_sum),
            };
            if key.ends_with("NbOfNtries") {
                let stated: u64 = text.trim().parse().map_err(|_| fault(format!("{text:?} is not a count")))?;
                if stated != count {
                    return Err(fault(format!("states {stated} entries but {} holds {count}", totals.path)));
                }
            } else {
                let stated = Decimal::parse(text).map_err(fault)?;
                if stated != sum {
                    return Err(fault(format!(
                        "states a sum of {stated} but the entries of {} add up to {sum}",
                        totals.path
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The items one entry gives.
fn entry_items(entry: &Entry, provider: &str, options: &CamtOptions, summary: &mut CamtSummary) -> Vec<Item> {
    summary.entries += 1;
    let line = Some(entry.line);
    if !entry.status.as_deref().is_some_and(|status| status.eq_ignore_ascii_case("BOOK")) {
        summary.not_booked += 1;
        return Vec::new();
    }
    let credit = entry.credit == Some(true);
    let returned = entry.txs.iter().any(|tx| tx.return_reason.is_some());
    enum Kind {
        Payment,
        Reversal,
    }
    let kind = match (credit, entry.reversal, returned) {
        (true, false, false) => Kind::Payment,
        (true, _, _) => {
            summary.other_credits += 1;
            return Vec::new();
        }
        (false, true, _) | (false, false, true) => Kind::Reversal,
        (false, false, false) => {
            summary.debits += 1;
            return Vec::new();
        }
    };
    if !entry.amount.currency.eq_ignore_ascii_case(&options.currency) {
        summary.wrong_currency += 1;
        return vec![Item::failure(
            line,
            entry.raw.clone(),
            Some(&format!("{}/Amt", entry.path)),
            format!("the entry is in {} but only {} is accepted", entry.amount.currency, options.currency),
        )];
    }
    let single = Tx::default();
    let txs: Vec<&Tx> = if entry.txs.is_empty() { vec![&single] } else { entry.txs.iter().collect() };
    let collective = txs.len() > 1;
    if let Some(unsplit) = txs.iter().find(|tx| {
        collective && !tx.amount.as_ref().is_some_and(|a| a.currency == entry.amount.currency && a.value.is_some())
    }) {
        summary.unsplit += 1;
        return vec![Item::failure(
            line,
            entry.raw.clone(),
            Some(&unsplit.path),
            format!(
                "a collective entry of {} transactions whose amounts are not all given in {}: it cannot be split into payments; match it by hand",
                txs.len(),
                entry.amount.currency
            ),
        )];
    }
    let mut items = Vec::with_capacity(txs.len());
    for (i, tx) in txs.iter().enumerate() {
        let path = if tx.path.is_empty() { entry.path.as_str() } else { tx.path.as_str() };
        let tx_line = Some(if tx.line > 0 { tx.line } else { entry.line });
        let failure = |field: &str, reason: String| {
            Item::failure(tx_line, entry.raw.clone(), Some(&format!("{path}/{field}")), reason)
        };
        let Some(id) = payment_id(entry, tx, i, collective) else {
            summary.unidentified += 1;
            items.push(failure("Refs", "the transaction carries no reference (UETR, AcctSvcrRef, TxId, EndToEndId, InstrId) and the entry no AcctSvcrRef: it cannot be told apart from another".into()));
            continue;
        };
        let (amount, amount_path) = match tx.amount.as_ref() {
            // A single transaction quoted in another currency (a
            // conversion) is credited with the entry's amount.
            Some(amount) if amount.currency == entry.amount.currency => (amount.value, amount.path.as_str()),
            _ => (entry.amount.value, entry.amount.path.as_str()),
        };
        let amount = match amount.map(Decimal::to_money) {
            Some(Ok(money)) if money.tiyn() > 0 => money,
            Some(Ok(_)) => {
                items.push(Item::failure(tx_line, entry.raw.clone(), Some(amount_path), "the amount is zero"));
                continue;
            }
            Some(Err(reason)) => {
                items.push(Item::failure(tx_line, entry.raw.clone(), Some(amount_path), reason));
                continue;
            }
            None => {
                items.push(Item::failure(tx_line, entry.raw.clone(), Some(amount_path), "no amount"));
                continue;
            }
        };
        let at = match instant(tx.accepted_at.as_deref().or(entry.booked_at.as_deref()).or(entry.value_at.as_deref())) {
            Ok(at) => at,
            Err(reason) => {
                items.push(failure("BookgDt", reason));
                continue;
            }
        };
        let (Ok(payment), Ok(provider_id)) = (Ident::parse(&id), Ident::parse(provider)) else {
            items.push(failure(
                "Refs",
                format!("the reference {id:?} or provider {provider:?} is not a usable identifier"),
            ));
            continue;
        };
        let (record, event_id) = match kind {
            Kind::Payment => {
                summary.payments += 1;
                let record = Record::PaymentReceived(PaymentReceived {
                    payment,
                    provider: provider_id,
                    uin: quoted_uin(tx),
                    payer: payer(&tx.debtor_ids),
                    amount_kzt: amount,
                });
                (record, id.clone())
            }
            Kind::Reversal => {
                summary.reversals += 1;
                let reason = match (&tx.return_reason, entry.reversal) {
                    (Some(code), _) if !code.is_empty() => format!("returned to the payer ({code})"),
                    (Some(_), _) => "returned to the payer".to_owned(),
                    (None, _) => "reversed by the bank".to_owned(),
                };
                let record = Record::PaymentReversed(PaymentReversed {
                    payment,
                    provider: provider_id,
                    reason,
                    amount_kzt: Some(amount),
                });
                (record, format!("reversal:{id}"))
            }
        };
        let event = Ident::parse(&event_id)
            .map_err(|error| casetrail_exchange::RecordError::new(Some("id"), error.to_string()))
            .and_then(|ident| Event::new(Some(ident), at, record));
        items.push(match event {
            Ok(event) => Item::event(tx_line, event),
            Err(error) => Item { line: tx_line, raw: entry.raw.clone(), parsed: Err(error) },
        });
    }
    items
}

/// The payment id: see the module's documentation for the order.
fn payment_id(entry: &Entry, tx: &Tx, index: usize, collective: bool) -> Option<String> {
    fn useful(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("NOTPROVIDED"))
    }
    useful(&tx.uetr)
        .or(useful(&tx.acct_svcr_ref))
        .or(useful(&tx.tx_id))
        .or(useful(&tx.end_to_end))
        .or(useful(&tx.instr_id))
        .map(str::to_owned)
        .or_else(|| {
            let record_ref = || {
                useful(&entry.entry_ref).zip(entry.fallback_id.as_deref()).map(|(r, id)| {
                    let record = id.rsplit_once('/').map_or(id, |(record, _)| record);
                    format!("{record}/{r}")
                })
            };
            useful(&entry.acct_svcr_ref)
                .map(str::to_owned)
                .or_else(record_ref)
                .or_else(|| entry.fallback_id.clone())
                .map(|r| if collective { format!("{r}/{}", index + 1) } else { r })
        })
}

/// A valid UIN from the structured reference, else found in the free
/// text; else the structured reference as quoted (it may be wrong).
fn quoted_uin(tx: &Tx) -> Option<String> {
    for reference in &tx.structured_refs {
        if let Ok(uin) = Uin::parse(reference.trim()) {
            return Some(uin.to_string());
        }
    }
    for text in tx.structured_refs.iter().chain(&tx.unstructured) {
        if let Some(uin) = Uin::find_in_text(text) {
            return Some(uin.to_string());
        }
    }
    tx.structured_refs.first().map(|r| r.trim().chars().take(140).collect())
}

/// The debtor's IIN or BIN, when one of its identifications is one.
fn payer(ids: &[String]) -> Option<Party> {
    for id in ids {
        let id = id.trim();
        if let Ok(iin) = Iin::parse(id) {
            return Some(Party { iin: Some(iin), bin: None, name: None });
        }
        if let Ok(bin) = Bin::parse(id) {
            return Some(Party { iin: None, bin: Some(bin), name: None });
        }
    }
    None
}

/// An ISO date or date-time: with an offset as given; without one, as
/// Kazakhstan's local time; a date alone is its local midnight.
fn instant(text: Option<&str>) -> Result<DateTime<FixedOffset>, String> {
    let Some(text) = text.map(str::trim) else {
        return Err("the entry has no booking or value date".into());
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at);
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|day| day.and_time(chrono::NaiveTime::MIN)))
        .map_err(|_| format!("{text:?} is not an ISO date or date-time"))?;
    Ok(kz_local(local))
}

/// A Kazakhstan wall-clock time as an instant with its offset.
pub fn kz_local(local: NaiveDateTime) -> DateTime<FixedOffset> {
    let day_start = time::local_midnight_utc(local.date());
    let utc: DateTime<Utc> = day_start + (local - local.date().and_time(chrono::NaiveTime::MIN));
    utc.with_timezone(&time::kz_offset_at(utc))
}
