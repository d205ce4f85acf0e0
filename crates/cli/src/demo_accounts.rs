//! The demo's accounts: one per role, on the simulated city's agencies, so
//! that whoever runs `casetrail demo` can sign in as each user of DESIGN.md
//! §2. Passwords are random per demo directory, kept beside the database in
//! a file only its owner may read, and printed on every start.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use casetrail_app::projector::kind;
use casetrail_app::{Incoming, Ledger};
use casetrail_exchange::{AccountCreated, AccountRole, AgencySlug, Event, Ident, Record};

/// The file, in the demo directory, that keeps the demo passwords.
const PASSWORDS_FILE: &str = "demo-accounts.txt";

/// Who the demo lets you be: (login, role, agency).
const ACCOUNTS: &[(&str, AccountRole, Option<&str>)] = &[
    ("officer", AccountRole::Officer, Some("akimat-astana")),
    ("field", AccountRole::FieldOfficer, Some("police-astana")),
    ("prosecutor", AccountRole::Prosecutor, Some("prosecutor-astana")),
    ("prosecutor-general", AccountRole::Prosecutor, Some("prosecutor-general")),
    ("analyst", AccountRole::Analyst, None),
    ("bailiff", AccountRole::Bailiff, Some("bailiffs-astana")),
    ("admin", AccountRole::Admin, None),
];

pub struct DemoAccount {
    pub login: &'static str,
    pub role: AccountRole,
    pub agency: Option<&'static str>,
    pub password: String,
}

/// Creates the demo accounts that do not exist yet and returns all of them
/// with their passwords.
pub fn ensure(ledger: &mut Ledger, dir: &Path) -> Result<Vec<DemoAccount>> {
    let file = dir.join(PASSWORDS_FILE);
    let mut known = read_passwords(&file)?;
    let mut created = Vec::new();
    for (login, role, agency) in ACCOUNTS {
        let exists = ledger.store().doc(kind::ACCOUNT, login)?.is_some();
        if exists && known.iter().any(|(l, _)| l == login) {
            continue;
        }
        anyhow::ensure!(
            !exists,
            "the demo account {login} exists but its password is not in {}; remove the demo directory to start afresh",
            file.display()
        );
        let password = casetrail_web::auth::random_hex(8).map_err(|error| anyhow::anyhow!("{error}"))?;
        let record = Record::AccountCreated(AccountCreated {
            account: Ident::parse(login).map_err(|error| anyhow::anyhow!("{error}"))?,
            role: *role,
            agency: agency.map(AgencySlug::parse).transpose().map_err(|error| anyhow::anyhow!("{error}"))?,
            password_hash: casetrail_web::auth::hash_password(&password)?,
        });
        #[allow(clippy::disallowed_methods)]
        let now = chrono::Utc::now();
        let at = now.with_timezone(&casetrail_types::time::kz_offset_at(now));
        let id = Ident::parse(&format!("demo-account-{login}")).map_err(|error| anyhow::anyhow!("{error}"))?;
        let event = Event::new(Some(id), at, record).map_err(|error| anyhow::anyhow!("{error}"))?;
        created.push(Incoming { line: None, raw: event.canonical.clone(), parsed: Ok(event) });
        known.push(((*login).to_owned(), password));
    }
    if !created.is_empty() {
        // The passwords are written before the accounts exist, so that an
        // interrupted start never leaves an account nobody can sign in to.
        write_passwords(&file, &known)?;
        let wanted = created.len() as u64;
        let summary = ledger.import_batch("demo-admin", created)?;
        anyhow::ensure!(summary.accepted == wanted, "the demo accounts were not all recorded");
    }
    Ok(ACCOUNTS
        .iter()
        .filter_map(|(login, role, agency)| {
            let password = known.iter().find(|(l, _)| l == login)?.1.clone();
            Some(DemoAccount { login, role: *role, agency: *agency, password })
        })
        .collect())
}

fn read_passwords(file: &Path) -> Result<Vec<(String, String)>> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(login, password)| (login.to_owned(), password.to_owned()))
            .collect()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", file.display())),
    }
}

fn write_passwords(file: &Path, known: &[(String, String)]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file).with_context(|| format!("cannot write {}", file.display()))?;
    for (login, password) in known {
        writeln!(out, "{login} {password}")?;
    }
    out.sync_all()?;
    Ok(())
}

/// The accounts as printed on start.
pub fn print(accounts: &[DemoAccount], url: &str) {
    println!("demo accounts (sign in at {url}login):");
    for account in accounts {
        let role = casetrail_web::auth::role_name(account.role);
        let agency = account.agency.unwrap_or("all agencies");
        println!("  {:<20} {:<18} {:<16} {}", account.login, account.password, role, agency);
    }
}

/// The file, in the demo directory, that keeps the demo payment app's
/// webhook secret (the format `serve --webhook-secrets` reads).
const WEBHOOK_SECRETS_FILE: &str = "webhook-secrets.toml";
/// The demo payment app.
pub const DEMO_PROVIDER: &str = "demo-pay";

/// Creates the demo provider's secret once (0600, beside the passwords),
/// loads it as `serve --webhook-secrets` would, and prints how to use it.
pub fn webhook_secrets(dir: &Path, url: &str) -> Result<casetrail_connectors::webhook::Secrets> {
    let file = dir.join(WEBHOOK_SECRETS_FILE);
    if !file.exists() {
        let secret = casetrail_web::auth::random_hex(24).map_err(|error| anyhow::anyhow!("{error}"))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&file).with_context(|| format!("cannot write {}", file.display()))?;
        writeln!(out, "{DEMO_PROVIDER} = \"{secret}\"")?;
        out.sync_all()?;
    }
    let secrets = casetrail_connectors::webhook::Secrets::load(&file).map_err(|error| anyhow::anyhow!("{error}"))?;
    let secret = secrets.get(DEMO_PROVIDER).unwrap_or_default();
    println!("demo payment webhook (docs/connectors.md; secrets in {}):", file.display());
    println!("  POST {url}api/v1/payments/webhook/{DEMO_PROVIDER}");
    println!("  secret {secret}");
    println!("  header X-Casetrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>");
    Ok(secrets)
}
