//! The verbs. Each returns an exit code or an error whose message says what
//! went wrong and what to do.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use casetrail_app::{DbLocation, ImportSummary, Incoming, Ledger, Upgrade};
use casetrail_sim::{Scale, SimConfig};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{DbArgs, OutputFormat};

/// Exit code when `verify` finds the log altered.
const EXIT_TAMPERED: u8 = 3;

/// Opens the ledger; a database from before some projection gets it first,
/// with a progress line (it reads every appeal document once).
pub fn open(db: &DbArgs) -> Result<Ledger> {
    let location = DbLocation::parse(&db.db);
    let mut shown: Option<(Upgrade, ProgressBar)> = None;
    let ledger = Ledger::open_reporting(&location, db.key.as_deref(), &mut |upgrade, read| {
        if shown.as_ref().is_none_or(|(current, _)| *current != upgrade) {
            if let Some((_, bar)) = shown.take() {
                bar.finish();
            }
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos} documents read ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(format!("first opening since an upgrade: building {}", upgrade.describe()));
            shown = Some((upgrade, bar));
        }
        if let Some((_, bar)) = &shown {
            bar.set_position(read);
        }
    });
    if let Some((_, bar)) = shown {
        bar.finish();
    }
    ledger.with_context(|| format!("cannot open the ledger at {}", shown_db(&db.db)))
}

/// The database location without a password, for messages.
fn shown_db(db: &str) -> String {
    match (db.find("://"), db.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &db[..scheme], &db[at + 1..]),
        _ => db.to_owned(),
    }
}

fn bar(length: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn simulate(scale: &str, seed: u64, year: i32, out: Option<&Path>) -> Result<ExitCode> {
    let scale: Scale =
        scale.parse().map_err(|_| anyhow::anyhow!("unknown scale {scale:?}; use city, region or national"))?;
    let mut config = SimConfig::new(scale, seed);
    config.year = year;
    let progress = bar(0, "{spinner} simulating: {pos} records ({per_sec})");
    let mut report = |records: u64| progress.set_position(records);
    let summary = match out {
        Some(path) => {
            let file = File::create(path).with_context(|| {
                format!("cannot create {}; check the directory exists and is writable", path.display())
            })?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            let summary = casetrail_sim::simulate(&config, &mut writer, &mut report)?;
            writer.flush().with_context(|| format!("cannot write {}", path.display()))?;
            summary
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = BufWriter::with_capacity(1 << 20, stdout.lock());
            let summary = casetrail_sim::simulate(&config, &mut writer, &mut report)?;
            writer.flush()?;
            summary
        }
    };
    progress.finish_and_clear();
    eprintln!(
        "simulated {} records: {} appeals ({} forwarded, {} wandering), {} fines, {} payments, {} referrals ({} of them already paid)",
        summary.records, summary.appeals, summary.forwarded_appeals, summary.wandering_appeals, summary.fines, summary.payments,
        summary.referrals, summary.paid_but_referred
    );
    Ok(ExitCode::SUCCESS)
}

/// What `casetrail import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// The exchange format (JSON Lines).
    Jsonl,
    /// ISO 20022 camt.052/053/054 bank files.
    Camt,
    /// A payment register (`;`-separated, UTF-8 or Windows-1251).
    Csv,
}

pub fn import(
    db: &DbArgs,
    source: Option<&str>,
    format: ImportFormat,
    currency: &str,
    files: &[PathBuf],
) -> Result<ExitCode> {
    if format == ImportFormat::Csv && source.is_none() {
        bail!("a CSV register needs --source: the terminal network or post office that sent it (e.g. --source kassa24); it names the payments' provider");
    }
    let mut ledger = open(db)?;
    let mut total = ImportSummary::default();
    for path in files {
        let summary = match format {
            ImportFormat::Jsonl => import_file(&mut ledger, source, path)?,
            ImportFormat::Camt => import_camt(&mut ledger, source, currency, path)?,
            ImportFormat::Csv => import_csv(&mut ledger, source.unwrap_or_default(), path)?,
        };
        total.accepted += summary.accepted;
        total.duplicates += summary.duplicates;
        total.quarantined += summary.quarantined;
    }
    if files.len() > 1 {
        eprintln!(
            "total: {} accepted, {} duplicates, {} quarantined",
            total.accepted, total.duplicates, total.quarantined
        );
    }
    if total.quarantined > 0 {
        eprintln!(
            "{} lines were quarantined with their reasons: see `casetrail quarantine list --db {}`; fix the source and re-import, or replay them once what they refer to has arrived",
            total.quarantined,
            shown_db(&db.db)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import_file(ledger: &mut Ledger, source: Option<&str>, path: &Path) -> Result<ImportSummary> {
    let file = File::open(path).with_context(|| format!("cannot open {}; check the path", path.display()))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let source = match source {
        Some(source) => source.to_owned(),
        None => path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into()),
    };
    let progress = bar(length, "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})");
    progress.set_message(format!("importing {}", path.display()));
    let reader = BufReader::with_capacity(1 << 20, progress.wrap_read(file));
    let (summary, read_error) = ledger.import_json_lines(&source, reader, |running| {
        progress.set_message(format!("importing {}: {} accepted", path.display(), running.accepted));
    });
    let summary = summary.with_context(|| {
        format!(
            "import of {} stopped; batches before the error are committed, re-running the import is safe",
            path.display()
        )
    })?;
    progress.finish_and_clear();
    if let Some(error) = read_error {
        bail!(
            "reading {} failed after {} records: {error}; re-running the import is safe",
            path.display(),
            summary.accepted + summary.duplicates + summary.quarantined
        );
    }
    eprintln!(
        "{}: {} accepted, {} duplicates, {} quarantined",
        path.display(),
        summary.accepted,
        summary.duplicates,
        summary.quarantined
    );
    Ok(summary)
}

fn incoming(item: casetrail_connectors::Item) -> Incoming {
    Incoming { line: item.line, raw: item.raw, parsed: item.parsed }
}

fn report_file(path: &Path, summary: &ImportSummary, detail: &str) {
    eprintln!(
        "{}: {} accepted, {} duplicates, {} quarantined{detail}",
        path.display(),
        summary.accepted,
        summary.duplicates,
        summary.quarantined
    );
}

/// A camt file: read once to check it (a fault refuses the whole file: one
/// quarantine entry with the element path), then streamed into the ledger.
/// The source is the bank's BIC unless given, so a file delivered again
/// under another name gives duplicates.
pub fn import_camt(ledger: &mut Ledger, source: Option<&str>, currency: &str, path: &Path) -> Result<ImportSummary> {
    use casetrail_connectors::camt;
    let options =
        camt::CamtOptions { currency: currency.to_owned(), fallback_provider: source.unwrap_or("camt").to_owned() };
    let open = || -> Result<BufReader<File>> {
        let file = File::open(path).with_context(|| format!("cannot open {}; check the path", path.display()))?;
        Ok(BufReader::with_capacity(1 << 20, file))
    };
    let file_name = || path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "camt".into());
    let summary = match camt::check(open()?, &options) {
        Err(fault) => {
            let item = camt::refused(path, &fault).with_context(|| format!("cannot read {}", path.display()))?;
            let source = source.map(str::to_owned).unwrap_or_else(file_name);
            let summary = ledger.import(&source, std::iter::once(incoming(item)), |_| {})?;
            report_file(path, &summary, &format!(" (the whole file is refused: {fault})"));
            return Ok(summary);
        }
        Ok(summary) => summary,
    };
    let source = source.map(str::to_owned).or_else(|| summary.provider.clone()).unwrap_or_else(|| "camt".into());
    let mut fault = None;
    let items = camt::CamtEvents::new(open()?, options).map_while(|item| match item {
        Ok(item) => Some(incoming(item)),
        Err(error) => {
            fault = Some(error);
            None
        }
    });
    let imported = ledger.import(&source, items, |_| {}).with_context(|| {
        format!("import of {} stopped; re-running the import is safe (duplicates only)", path.display())
    })?;
    if let Some(fault) = fault {
        bail!("{} changed while it was imported ({fault}); re-run the import", path.display());
    }
    report_file(
        path,
        &imported,
        &format!(
            " ({}: {} payments, {} reversals; skipped {} not booked, {} debits, {} other credits)",
            summary.version,
            summary.payments,
            summary.reversals,
            summary.not_booked,
            summary.debits,
            summary.other_credits
        ),
    );
    Ok(imported)
}

/// A payment register: good rows land, bad rows are quarantined with their
/// line and column.
pub fn import_csv(ledger: &mut Ledger, source: &str, path: &Path) -> Result<ImportSummary> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}; check the path", path.display()))?;
    let (_, encoding) = casetrail_connectors::csv::decode(&bytes);
    let items = casetrail_connectors::csv::read(&bytes, source);
    let summary = ledger.import(source, items.into_iter().map(incoming), |_| {})?;
    report_file(path, &summary, &format!(" ({encoding})"));
    Ok(summary)
}

pub fn verify(db: &DbArgs) -> Result<ExitCode> {
    let mut ledger = open(db)?;
    let progress = bar(0, "{spinner} verifying: {pos} events ({per_sec})");
    let result = ledger.verify(|done| progress.set_position(done));
    progress.finish_and_clear();
    match result {
        Ok(report) => {
            println!(
                "ok: {} events, {} signed tree heads, root {}",
                report.events,
                report.tree_heads,
                hex::encode(report.root)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(casetrail_app::VerifyFailure::Store(error)) => Err(error.into()),
        Err(failure) => {
            eprintln!("verify FAILED: {failure}");
            eprintln!(
                "the log no longer matches what was signed; restore the database from a backup and report the incident"
            );
            Ok(ExitCode::from(EXIT_TAMPERED))
        }
    }
}

pub fn rebuild(db: &DbArgs) -> Result<ExitCode> {
    let mut ledger = open(db)?;
    let progress = bar(0, "{spinner} rebuilding projections: {pos} events");
    let events = ledger.rebuild(|done| progress.set_position(done))?;
    progress.finish_and_clear();
    println!("rebuilt projections from {events} events");
    Ok(ExitCode::SUCCESS)
}

pub fn quarantine_list(db: &DbArgs, format: OutputFormat, all: bool) -> Result<ExitCode> {
    let mut ledger = open(db)?;
    let entries = ledger.store().quarantine(!all, usize::MAX)?;
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            serde_json::json!({
                "id": entry.id,
                "status": entry.status.as_str(),
                "source": entry.entry.source,
                "line": entry.entry.line,
                "field": entry.entry.field,
                "reason": entry.entry.reason,
                "received_at": entry.entry.received_at.to_rfc3339(),
                "resolved_seq": entry.resolved_seq,
                "raw": String::from_utf8_lossy(&entry.entry.raw),
            })
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::Value::Array(rows))?,
        OutputFormat::Csv => {
            writeln!(out, "id,status,source,line,field,reason")?;
            for entry in &entries {
                let line = entry.entry.line.map(|l| l.to_string()).unwrap_or_default();
                let field = entry.entry.field.clone().unwrap_or_default();
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    entry.id,
                    entry.status.as_str(),
                    csv(&entry.entry.source),
                    line,
                    csv(&field),
                    csv(&entry.entry.reason)
                )?;
            }
        }
        OutputFormat::Table => {
            if entries.is_empty() {
                writeln!(out, "the quarantine is empty")?;
            }
            for entry in &entries {
                let line = entry.entry.line.map(|l| format!(":{l}")).unwrap_or_default();
                let field = entry.entry.field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default();
                writeln!(
                    out,
                    "#{} [{}] {}{} — {}{}",
                    entry.id,
                    entry.status.as_str(),
                    entry.entry.source,
                    line,
                    field,
                    entry.entry.reason
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn csv(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub fn quarantine_replay(db: &DbArgs) -> Result<ExitCode> {
    let mut ledger = open(db)?;
    let summary = ledger.replay_quarantine()?;
    println!(
        "replayed: {} accepted, {} already in the ledger, {} still quarantined",
        summary.accepted, summary.duplicates, summary.quarantined
    );
    Ok(ExitCode::SUCCESS)
}

pub fn serve(db: &DbArgs, listen: &str, webhook_secrets: Option<&Path>) -> Result<ExitCode> {
    let mut config = casetrail_web::WebConfig::from_env(listen)?;
    if let Some(path) = webhook_secrets {
        let secrets = casetrail_connectors::webhook::Secrets::load(path)
            .map_err(|error| anyhow::anyhow!("--webhook-secrets: {error}"))?;
        anyhow::ensure!(
            secrets.providers().next().is_some(),
            "--webhook-secrets: {} names no provider; add `provider = \"secret\"` lines",
            path.display()
        );
        eprintln!("payment webhook: providers {}", secrets.providers().collect::<Vec<_>>().join(", "));
        config.webhook_secrets = Some(secrets);
    }
    let ledger = open(db)?;
    casetrail_web::serve(ledger, listen, config)?;
    Ok(ExitCode::SUCCESS)
}

pub fn demo(dir: &Path, listen: &str, seed: u64) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let data = dir.join(format!("city-seed{seed}.jsonl"));
    if !data.exists() {
        eprintln!("simulating a city-year (seed {seed}) into {}", data.display());
        simulate("city", seed, 2025, Some(&data))?;
    }
    let db = DbArgs { db: dir.join("demo.db").to_string_lossy().into_owned(), key: None };
    let mut ledger = open(&db)?;
    import_file(&mut ledger, Some("demo"), &data)?;
    let report =
        ledger.verify(|_| {}).map_err(|failure| anyhow::anyhow!("the demo ledger does not verify: {failure}"))?;
    eprintln!("verified {} events; root {}", report.events, hex::encode(report.root));
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    if let Some(added) = crate::demo_live::ensure(&mut ledger, dir, now)? {
        eprintln!(
            "added the present: {} appeals of the last weeks and {} protocols from a demo tablet",
            added.appeals, added.protocols
        );
    }
    let accounts = crate::demo_accounts::ensure(&mut ledger, dir)?;
    crate::demo_accounts::print(&accounts, &format!("http://{listen}/"));
    let mut config = casetrail_web::WebConfig::from_env(listen)?;
    config.webhook_secrets = Some(crate::demo_accounts::webhook_secrets(dir, &format!("http://{listen}/"))?);
    casetrail_web::serve(ledger, listen, config)?;
    Ok(ExitCode::SUCCESS)
}

pub fn report(
    db: &DbArgs,
    name: &str,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    as_of: Option<chrono::NaiveDate>,
    format: OutputFormat,
) -> Result<ExitCode> {
    if let (Some(from), Some(to)) = (from, to) {
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}; swap them");
    }
    #[allow(clippy::disallowed_methods)]
    let today = casetrail_types::time::local_date(chrono::Utc::now());
    let params = casetrail_reports::ReportParams { from, to, as_of: as_of.unwrap_or(today) };
    let mut ledger = open(db)?;
    let table = casetrail_reports::run(name, ledger.store(), &params)?;
    let format = match format {
        OutputFormat::Table => casetrail_reports::Format::Table,
        OutputFormat::Json => casetrail_reports::Format::Json,
        OutputFormat::Csv => casetrail_reports::Format::Csv,
    };
    print!("{}", casetrail_reports::render(&table, format));
    Ok(ExitCode::SUCCESS)
}

pub fn refer(db: &DbArgs, uin: &str, bailiff: &str, document: &str) -> Result<ExitCode> {
    let mut ledger = open(db)?;
    let seq = ledger.refer(uin, bailiff, document)?;
    println!("referred charge {uin} to {bailiff} under document {document} (event {seq})");
    Ok(ExitCode::SUCCESS)
}

/// Appends records written by the CLI (accounts, keys) under the source
/// `admin`; fails unless every one is appended.
fn append_admin(db: &DbArgs, records: Vec<casetrail_exchange::Record>) -> Result<Vec<u64>> {
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let at = now.with_timezone(&casetrail_types::time::kz_offset_at(now));
    let mut batch = Vec::with_capacity(records.len());
    for record in records {
        let event = casetrail_exchange::Event::new(None, at, record).map_err(|error| anyhow::anyhow!("{error}"))?;
        batch.push(Incoming { line: None, raw: event.canonical.clone(), parsed: Ok(event) });
    }
    let wanted = batch.len() as u64;
    let mut ledger = open(db)?;
    let summary = ledger.import_batch("admin", batch)?;
    if summary.accepted != wanted {
        let reasons: Vec<String> = ledger
            .store()
            .quarantine(true, 1_000_000)?
            .into_iter()
            .filter(|entry| entry.entry.source == "admin")
            .map(|entry| entry.entry.reason)
            .collect();
        bail!("not recorded: {}", reasons.last().map(String::as_str).unwrap_or("a duplicate of an earlier record"));
    }
    Ok(summary.sequences)
}

fn parse_role(role: &str) -> Result<casetrail_exchange::AccountRole> {
    serde_json::from_value(serde_json::Value::String(role.to_owned())).map_err(|_| {
        anyhow::anyhow!(
            "unknown role {role:?}; use citizen, officer, agency_head, field_officer, prosecutor, analyst, bailiff, payment_provider, integration or admin"
        )
    })
}

fn parse_agency(agency: Option<&str>) -> Result<Option<casetrail_exchange::AgencySlug>> {
    agency
        .map(|slug| casetrail_exchange::AgencySlug::parse(slug).map_err(|error| anyhow::anyhow!("--agency: {error}")))
        .transpose()
}

fn ident(text: &str, what: &str) -> Result<casetrail_exchange::Ident> {
    casetrail_exchange::Ident::parse(text).map_err(|error| anyhow::anyhow!("{what}: {error}"))
}

pub fn account_create(db: &DbArgs, account: &str, role: &str, agency: Option<&str>) -> Result<ExitCode> {
    let role = parse_role(role)?;
    let agency = parse_agency(agency)?;
    let account = ident(account, "--account")?;
    eprint!("password for {account} (one line on standard input): ");
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(
        password.chars().count() >= casetrail_web::auth::PASSWORD_CHARS_MIN,
        "the password must have at least {} characters",
        casetrail_web::auth::PASSWORD_CHARS_MIN
    );
    let password_hash = casetrail_web::auth::hash_password(password)?;
    let record = casetrail_exchange::Record::AccountCreated(casetrail_exchange::AccountCreated {
        account: account.clone(),
        role,
        agency,
        password_hash,
    });
    let seqs = append_admin(db, vec![record])?;
    eprintln!();
    println!("created account {account} (event {})", seqs.first().copied().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

pub fn account_disable(db: &DbArgs, account: &str, reason: &str) -> Result<ExitCode> {
    let record = casetrail_exchange::Record::AccountDisabled(casetrail_exchange::AccountDisabled {
        account: ident(account, "--account")?,
        reason: reason.to_owned(),
    });
    append_admin(db, vec![record])?;
    println!("disabled account {account}");
    Ok(ExitCode::SUCCESS)
}

pub fn apikey_issue(db: &DbArgs, role: &str, agency: Option<&str>, provider: Option<&str>) -> Result<ExitCode> {
    let role = parse_role(role)?;
    let agency = parse_agency(agency)?;
    let provider = provider.map(|p| ident(p, "--provider")).transpose()?;
    let key = casetrail_web::auth::NewApiKey::generate()?;
    let record = casetrail_exchange::Record::ApiKeyIssued(casetrail_exchange::ApiKeyIssued {
        key_id: ident(&key.key_id, "key id")?,
        role,
        agency,
        provider,
        secret_hash: key.secret_hash.clone(),
    });
    append_admin(db, vec![record])?;
    eprintln!("the key is shown once; casetrail keeps only the hash of its secret");
    println!("{}", key.bearer());
    Ok(ExitCode::SUCCESS)
}

pub fn apikey_revoke(db: &DbArgs, key_id: &str, reason: &str) -> Result<ExitCode> {
    let record = casetrail_exchange::Record::ApiKeyRevoked(casetrail_exchange::ApiKeyRevoked {
        key_id: ident(key_id, "--key-id")?,
        reason: reason.to_owned(),
    });
    append_admin(db, vec![record])?;
    println!("revoked API key {key_id}");
    Ok(ExitCode::SUCCESS)
}
