//! `casetrail bench`: the import path against a bare insert of the same rows
//! into the same table, measured in the same run on the same machine.
//!
//! Both runs start from an empty database of the chosen backend. The
//! baseline reads the same file and inserts one row per line into `events`
//! in batches of the same size, with one commit per batch, but without
//! parsing, validation, deduplication, hashing, projections or signing.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use casetrail_app::{DbLocation, Incoming, Ledger, IMPORT_BATCH_RECORDS};
use casetrail_exchange::JsonLines;
use casetrail_ledger::{Store, StoredEvent};
use casetrail_sim::{Scale, SimConfig};

use crate::DbArgs;

pub fn run(db: &DbArgs, records: u64) -> Result<ExitCode> {
    let work =
        tempfile::Builder::new().prefix("casetrail-bench").tempdir().context("cannot create a temporary directory")?;
    let data = work.path().join("records.jsonl");
    eprintln!("simulating {records} records …");
    let written = simulate_records(&data, records)?;
    let location = DbLocation::parse(&db.db);
    let (baseline_db, import_db) = fresh_databases(&location, work.path())?;

    eprintln!("baseline: bare batched insert of {written} rows …");
    let started = Instant::now();
    bare_insert(baseline_db.location.open()?, &data)?;
    let baseline_secs = started.elapsed().as_secs_f64();

    eprintln!("casetrail import of the same {written} records …");
    let key_path = work.path().join("bench.key");
    let mut ledger = Ledger::open(&import_db.location, Some(&key_path))?;
    let started = Instant::now();
    let file = BufReader::with_capacity(1 << 20, File::open(&data)?);
    // The same path as `casetrail import`: parsing on a second thread.
    let (summary, read_error) = ledger.import_json_lines("bench", file, |_| {});
    let summary = summary?;
    if let Some(error) = read_error {
        anyhow::bail!("reading the simulated records failed: {error}");
    }
    let import_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(summary.accepted == written, "the import accepted {} of {written} records", summary.accepted);

    let baseline_rate = written as f64 / baseline_secs;
    let import_rate = written as f64 / import_secs;
    println!("backend:            {}", ledger.store().backend());
    println!("records:            {written}");
    println!("baseline (bare):    {baseline_rate:>10.0} records/s  ({baseline_secs:.1} s)");
    println!("casetrail import:   {import_rate:>10.0} records/s  ({import_secs:.1} s)");
    println!("ratio:              {:.2} of the baseline", import_rate / baseline_rate);
    if let Some(peak) = peak_rss_kib() {
        println!("peak RSS (process): {} MiB", peak / 1024);
    }
    drop(ledger);
    baseline_db.drop_database()?;
    import_db.drop_database()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes at least `records` simulated records (region scale, truncated).
fn simulate_records(path: &Path, records: u64) -> Result<u64> {
    let scale = if records <= 100_000 { Scale::City } else { Scale::Region };
    let config = SimConfig::new(scale, 42);
    let mut file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut limited = LimitedLines { out: &mut file, lines: 0, max: records };
    casetrail_sim::simulate(&config, &mut limited, &mut |_| {})?;
    let written = limited.lines;
    file.flush()?;
    Ok(written)
}

/// Keeps the first `max` lines and silently drops the rest.
struct LimitedLines<'a> {
    out: &'a mut dyn Write,
    lines: u64,
    max: u64,
}

impl Write for LimitedLines<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            if self.lines >= self.max {
                break;
            }
            self.out.write_all(chunk)?;
            if chunk.ends_with(b"\n") {
                self.lines += 1;
            }
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bare_insert(mut store: Box<dyn Store>, data: &Path) -> Result<()> {
    let file = BufReader::with_capacity(1 << 20, File::open(data)?);
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let mut batch = Vec::with_capacity(IMPORT_BATCH_RECORDS);
    let mut seq = 0u64;
    let mut flush = |batch: &mut Vec<StoredEvent>| -> Result<()> {
        let mut tx = store.begin()?;
        tx.insert_events(batch)?;
        tx.commit()?;
        batch.clear();
        Ok(())
    };
    for line in JsonLines::new(file) {
        let line = line?;
        seq += 1;
        batch.push(StoredEvent {
            seq,
            recorded_at: now,
            source: "bench".into(),
            idempotency_key: format!("b-{seq}"),
            record_type: "bench".into(),
            schema_version: 1,
            at: now,
            canonical: line.bytes,
            leaf_hash: [0; 32],
            tree_root: [0; 32],
        });
        if batch.len() == IMPORT_BATCH_RECORDS {
            flush(&mut batch)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch)?;
    }
    Ok(())
}

struct BenchDb {
    location: DbLocation,
    admin_url: Option<String>,
    name: String,
}

impl BenchDb {
    fn drop_database(self) -> Result<()> {
        if let Some(admin) = self.admin_url {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))?;
        }
        Ok(())
    }
}

/// Two empty databases of the backend `location` names: SQLite files in the
/// work directory, or new PostgreSQL databases on the same server.
fn fresh_databases(location: &DbLocation, work: &Path) -> Result<(BenchDb, BenchDb)> {
    let make = |name: &str| -> Result<BenchDb> {
        match location {
            DbLocation::Sqlite(_) => Ok(BenchDb {
                location: DbLocation::Sqlite(PathBuf::from(work).join(format!("{name}.db"))),
                admin_url: None,
                name: name.into(),
            }),
            DbLocation::Postgres(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls)
                    .with_context(|| "cannot connect to PostgreSQL to create the benchmark databases")?;
                let database = format!("casetrail_bench_{name}_{}", std::process::id());
                // Two statements: DROP/CREATE DATABASE cannot run in a transaction.
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))?;
                client.batch_execute(&format!("CREATE DATABASE {database}"))?;
                let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(url);
                Ok(BenchDb {
                    location: DbLocation::Postgres(format!("{base}/{database}")),
                    admin_url: Some(url.clone()),
                    name: database,
                })
            }
        }
    };
    Ok((make("baseline")?, make("import")?))
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `casetrail bench matching`: `payments` open charges (a signed protocol
/// naming the payer and a `fine.imposed` each) are loaded into a fresh
/// ledger; camt.054 files carry one payment for each (most quote the UIN,
/// every tenth only the payer's IIN). In the same run: (a) the files are
/// parsed alone into events (the check pass and the event pass, as the
/// import does), then (b) imported into the ledger (parse + match +
/// append). Matching costs less than parsing when (b) − (a) < (a).
pub fn run_matching(db: &DbArgs, payments: u64, per_file: u64) -> Result<ExitCode> {
    use casetrail_connectors::camt;
    let work = tempfile::Builder::new()
        .prefix("casetrail-bench-matching")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let per_file = per_file.max(1);
    eprintln!("writing {payments} open charges and camt.054 files carrying {payments} payments …");
    let started = Instant::now();
    let charges = work.path().join("charges.jsonl");
    let files = matching_data::write(work.path(), &charges, payments, per_file)?;
    eprintln!("  written in {:.1} s ({} camt.054 files)", started.elapsed().as_secs_f64(), files.len());

    let location = DbLocation::parse(&db.db);
    let (_, import_db) = fresh_databases(&location, work.path())?;
    let key_path = work.path().join("bench.key");
    let mut ledger = Ledger::open(&import_db.location, Some(&key_path))?;
    eprintln!("loading the charges …");
    let started = Instant::now();
    let file = BufReader::with_capacity(1 << 20, File::open(&charges)?);
    let lines = JsonLines::new(file).map_while(|line| line.ok().map(Incoming::from_raw));
    let loaded = ledger.import("bench-charges", lines, |_| {})?;
    anyhow::ensure!(loaded.quarantined == 0, "{} charge records were quarantined", loaded.quarantined);
    eprintln!("  {} records in {:.1} s", loaded.accepted, started.elapsed().as_secs_f64());

    let options = camt::CamtOptions::default();
    let open = |path: &Path| -> Result<BufReader<File>> { Ok(BufReader::with_capacity(1 << 20, File::open(path)?)) };

    eprintln!("(a) parsing the camt.054 files alone …");
    let started = Instant::now();
    let mut parsed = 0u64;
    for path in &files {
        camt::check(open(path)?, &options).map_err(|fault| anyhow::anyhow!("{}: {fault}", path.display()))?;
        for item in camt::CamtEvents::new(open(path)?, options.clone()) {
            let item = item.map_err(|fault| anyhow::anyhow!("{}: {fault}", path.display()))?;
            anyhow::ensure!(item.parsed.is_ok(), "{}: a payment did not parse", path.display());
            parsed += 1;
        }
    }
    let parse_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(parsed == payments, "parsed {parsed} of {payments} payments");

    eprintln!("(b) importing them: parse + match + append …");
    let started = Instant::now();
    let mut imported = 0u64;
    for path in &files {
        camt::check(open(path)?, &options).map_err(|fault| anyhow::anyhow!("{}: {fault}", path.display()))?;
        let items = camt::CamtEvents::new(open(path)?, options.clone())
            .map_while(|item| item.ok().map(|item| Incoming { line: item.line, raw: item.raw, parsed: item.parsed }));
        let summary = ledger.import(matching_data::BANK, items, |_| {})?;
        anyhow::ensure!(summary.quarantined == 0, "{}: {} quarantined", path.display(), summary.quarantined);
        imported += summary.accepted;
    }
    let import_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(imported == payments, "imported {imported} of {payments} payments");
    let (matched, by_payer) = matching_data::check_matched(&mut ledger, payments)?;

    let parse_rate = payments as f64 / parse_secs;
    let import_rate = payments as f64 / import_secs;
    let extra = import_secs - parse_secs;
    println!("backend:                       {}", ledger.store().backend());
    println!("open charges:                  {payments}");
    println!("payments (camt.054):           {payments} in {} files", files.len());
    println!("(a) parse alone:               {parse_rate:>10.0} payments/s  ({parse_secs:.1} s)");
    println!("(b) parse + match + append:    {import_rate:>10.0} payments/s  ({import_secs:.1} s)");
    println!("matching and appending cost:   {extra:.1} s over parsing, {:.2} × the parse time", extra / parse_secs);
    println!("sampled payments matched:      {matched} (of them by payer, no UIN: {by_payer})");
    println!("goal (matching costs less than parsing): {}", if extra < parse_secs { "met" } else { "not met" });
    if let Some(peak) = peak_rss_kib() {
        println!("peak RSS (process):            {} MiB", peak / 1024);
    }
    drop(ledger);
    import_db.drop_database()?;
    Ok(ExitCode::SUCCESS)
}

/// The data of `bench matching`.
mod matching_data {
    use std::fs::File;
    use std::io::{BufWriter, Write};
    use std::path::{Path, PathBuf};

    use anyhow::{Context, Result};
    use base64::Engine;
    use casetrail_app::Ledger;
    use casetrail_exchange::{
        AgencyKind, AgencyRegistered, AgencySlug, DeviceEnrolled, Event, FineImposed, Ident, LocalizedName, Party,
        ProtocolSigned, Record,
    };
    use casetrail_types::{Iin, Kato, Money, Uin};
    use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
    use ed25519_dalek::{Signer, SigningKey};

    /// The bank whose BIC names the payments' provider.
    pub const BANK: &str = "HSBKKZKX";
    const AMOUNT: &str = "17300.00";

    fn at(text: &str) -> Result<DateTime<FixedOffset>> {
        Ok(DateTime::parse_from_rfc3339(text)?)
    }

    /// The payer of charge `i`: distinct valid IINs.
    fn payers(count: u64) -> Vec<Iin> {
        let mut out = Vec::with_capacity(count as usize);
        let first = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default();
        let mut candidate = 0u64;
        while (out.len() as u64) < count {
            let day = first + TimeDelta::days((candidate % 20_000) as i64);
            let serial = (candidate / 20_000) as u16;
            if let Some(iin) = Iin::from_parts(day, candidate % 2 == 1, serial) {
                out.push(iin);
            }
            candidate += 1;
        }
        out
    }

    fn line(out: &mut impl Write, event: &Event) -> Result<()> {
        out.write_all(&event.to_line())?;
        Ok(())
    }

    /// Writes the charges (JSON Lines) and the camt.054 files; returns the files.
    pub fn write(dir: &Path, charges: &Path, count: u64, per_file: u64) -> Result<Vec<PathBuf>> {
        let payers = payers(count);
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let agency = AgencySlug::parse("mvd-astana")?;
        let device = Ident::parse("tab-bench")?;
        let place = Kato::parse("710000000")?;
        let signed_at = at("2026-03-02T10:15:00+05:00")?;
        let mut out = BufWriter::with_capacity(1 << 20, File::create(charges)?);
        let name = |text: &str| LocalizedName { kk: text.into(), ru: text.into(), en: text.into() };
        line(
            &mut out,
            &Event::new(
                None,
                at("2026-01-01T09:00:00+05:00")?,
                Record::AgencyRegistered(AgencyRegistered {
                    agency: agency.clone(),
                    name: name("Police of Astana"),
                    kind: AgencyKind::Police,
                    region: None,
                    parent: None,
                }),
            )?,
        )?;
        line(
            &mut out,
            &Event::new(
                None,
                at("2026-01-02T09:00:00+05:00")?,
                Record::DeviceEnrolled(DeviceEnrolled {
                    device: device.clone(),
                    agency: agency.clone(),
                    public_key: base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes()),
                }),
            )?,
        )?;
        for (i, payer) in payers.iter().enumerate() {
            let case = Ident::parse(&format!("C-{i}"))?;
            let mut protocol = ProtocolSigned {
                case: case.clone(),
                agency: agency.clone(),
                officer: Ident::parse("officer-1")?,
                device: device.clone(),
                offender: Party { iin: Some(*payer), bin: None, name: None },
                article: "610.1".into(),
                place,
                signature: base64::engine::general_purpose::STANDARD.encode([0u8; 64]),
            };
            let unsigned = Event::new(None, signed_at, Record::ProtocolSigned(protocol.clone()))?;
            let message = casetrail_sim::unsigned_bytes(&unsigned.canonical)?;
            protocol.signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&message).to_bytes());
            line(&mut out, &Event::new(None, signed_at, Record::ProtocolSigned(protocol))?)?;
            let fine = FineImposed {
                case,
                uin: Uin::from_serial(i as u64 + 1)?,
                amount_mci: None,
                amount_kzt: Some(Money::parse(AMOUNT)?),
                in_force_at: "2026-03-02".into(),
                short_procedure: false,
            };
            line(&mut out, &Event::new(None, signed_at, Record::FineImposed(fine))?)?;
        }
        out.flush()?;
        drop(out);

        let mut files = Vec::new();
        let mut start = 0u64;
        while start < count {
            let end = (start + per_file).min(count);
            let path = dir.join(format!("camt054-{:05}.xml", files.len() + 1));
            write_camt(&path, &payers, start, end).with_context(|| format!("cannot write {}", path.display()))?;
            files.push(path);
            start = end;
        }
        Ok(files)
    }

    /// One camt.054.001.08 notification with payments `start..end`: every
    /// tenth without a UIN (only the payer's IIN), the others quoting it in
    /// the structured reference.
    fn write_camt(path: &Path, payers: &[Iin], start: u64, end: u64) -> Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let entries = end - start;
        let sum = Money::parse(AMOUNT)?
            .tiyn()
            .checked_mul(entries as i64)
            .map(Money::from_tiyn)
            .context("the sum overflows")?;
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\n<BkToCstmrDbtCdtNtfctn>\n<GrpHdr><MsgId>BENCH-{start}</MsgId><CreDtTm>2026-03-10T18:00:00+05:00</CreDtTm></GrpHdr>\n<Ntfctn><Id>N-{start}</Id>\n<Acct><Id><Othr><Id>KZ000BENCH</Id></Othr></Id><Svcr><FinInstnId><BICFI>{BANK}</BICFI></FinInstnId></Svcr></Acct>\n<TxsSummry><TtlNtries><NbOfNtries>{entries}</NbOfNtries><Sum>{}</Sum></TtlNtries></TxsSummry>\n",
            sum.to_decimal_string()
        )?;
        for i in start..end {
            let payer = payers.get(i as usize).context("no payer")?;
            let remittance = if i % 10 == 9 {
                "<RmtInf><Ustrd>штраф</Ustrd></RmtInf>".to_owned()
            } else {
                format!(
                    "<RmtInf><Strd><CdtrRefInf><Ref>{}</Ref></CdtrRefInf></Strd></RmtInf>",
                    Uin::from_serial(i + 1)?
                )
            };
            write!(
                out,
                "<Ntry><Amt Ccy=\"KZT\">{AMOUNT}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-10</Dt></BookgDt><ValDt><Dt>2026-03-10</Dt></ValDt><AcctSvcrRef>E-{i}</AcctSvcrRef>\n<NtryDtls><TxDtls><Refs><AcctSvcrRef>P-{i}</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs><Amt Ccy=\"KZT\">{AMOUNT}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\n<RltdPties><Dbtr><Pty><Nm>Payer</Nm><Id><PrvtId><Othr><Id>{payer}</Id></Othr></PrvtId></Id></Pty></Dbtr></RltdPties>\n{remittance}</TxDtls></NtryDtls></Ntry>\n"
            )?;
        }
        write!(out, "</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n")?;
        out.flush()?;
        Ok(())
    }

    /// Every payment of a sample (one in a thousand, and every tenth of
    /// those without a UIN) is matched to its own charge.
    pub fn check_matched(ledger: &mut Ledger, count: u64) -> Result<(u64, u64)> {
        let (mut matched, mut by_payer) = (0, 0);
        let step = (count / 1000).max(1);
        let mut i = 0;
        while i < count {
            for j in [i, i + 9] {
                if j >= count {
                    continue;
                }
                let key = format!("{BANK}/P-{j}");
                let doc = ledger.store().doc("payment", &key)?.with_context(|| format!("payment {key} is missing"))?;
                let state: serde_json::Value = serde_json::from_str(&doc.doc)?;
                let expected = Uin::from_serial(j + 1)?.to_string();
                anyhow::ensure!(
                    state["matched_uin"].as_str() == Some(expected.as_str()),
                    "payment {key} is not matched to {expected}: {state}"
                );
                matched += 1;
                if j % 10 == 9 {
                    by_payer += 1;
                }
            }
            i += step;
        }
        Ok((matched, by_payer))
    }
}
