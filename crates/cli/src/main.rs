//! `casetrail`: the one binary. A thin edge over `casetrail-app`: parse
//! arguments, show progress, turn errors into a message and an exit code.
//!
//! Exit codes: 0 success; 1 an error (the message says what and what to do);
//! 2 wrong usage (clap); 3 `verify` found the log tampered with.

#![forbid(unsafe_code)]

mod bench;
mod bench_commit;
mod bench_http;
mod bench_scorecard;
mod commands;
mod demo_accounts;
mod demo_live;
mod field;
mod receipt;

/// mimalloc instead of glibc's allocator: the server's request threads and
/// the ledger writer allocate and free small buffers at a high rate, and
/// glibc's free-list upkeep (`malloc_consolidate`, `unlink_chunk`) was ~8 %
/// of their CPU under load (BENCHMARKS.md, HTTP).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "casetrail",
    version,
    about = "One accountable trail for every citizen appeal and administrative fine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--db` and `--key`, shared by every verb that touches data.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// A SQLite file path, or a postgres:// URL.
    #[arg(long, env = "CASETRAIL_DB", default_value = "casetrail.db")]
    pub db: String,
    /// The tree-head signing key (created on first start when missing).
    /// Default: next to a SQLite file, or ./casetrail-signing.key for PostgreSQL.
    #[arg(long, env = "CASETRAIL_SIGNING_KEY")]
    pub key: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a city-year, load it into an embedded database, serve the UI.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Where the demo keeps its database and key.
        #[arg(long, default_value = "casetrail-demo")]
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Serve the web application and API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Payment apps' webhook secrets: a TOML file of `provider = "secret"`
        /// lines (16 bytes or more each), readable by its owner only (chmod
        /// 600). Mounts POST /api/v1/payments/webhook/{provider}
        /// (docs/connectors.md); without it that route answers 503.
        #[arg(long = "webhook-secrets", env = "CASETRAIL_WEBHOOK_SECRETS")]
        webhook_secrets: Option<PathBuf>,
    },
    /// Write a simulated year in the exchange format.
    Simulate {
        #[arg(long, default_value = "city")]
        scale: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 2025)]
        year: i32,
        /// Output file (standard output when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import exchange-format files (JSON Lines), or a connector's format
    /// with --format (docs/connectors.md).
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// The source name (idempotency keys are unique per source).
        /// Default: the file's name (camt: the bank's BIC; csv: required,
        /// it is also the payments' provider, e.g. kassa24).
        #[arg(long)]
        source: Option<String>,
        /// jsonl (the exchange format), camt (ISO 20022 camt.052/053/054)
        /// or csv (a payment register).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: commands::ImportFormat,
        /// camt: the one currency accepted as tenge (entries in any other
        /// are quarantined).
        #[arg(long, default_value = "KZT")]
        currency: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Recompute the whole log; exits 3 naming the first bad entry.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute every projection from the ledger.
    Rebuild {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lines that could not be imported, and their replay.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// A report computed from the projections (see `casetrail report --help`).
    Report {
        #[command(flatten)]
        db: DbArgs,
        /// scorecard, wandering, overdue, forwards, paid-but-referred, enforcement-due, ...
        name: String,
        /// First day included (YYYY-MM-DD).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day included (YYYY-MM-DD).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// The reference day (YYYY-MM-DD); today in Kazakhstan when absent.
        #[arg(long = "as-of")]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Refer a charge to a private bailiff through the enforcement gate:
    /// refused, with the reason, when it is paid, held back by an unmatched
    /// payment, deferred, cancelled, already referred or not yet due.
    Refer {
        #[command(flatten)]
        db: DbArgs,
        /// The charge's 20-digit UIN.
        #[arg(long)]
        uin: String,
        /// The bailiff (an agency slug).
        #[arg(long)]
        bailiff: String,
        /// The enforcement document's number.
        #[arg(long)]
        document: String,
    },
    /// Receipts a citizen can check offline: get one, verify one, get the
    /// current signed tree head (docs/receipts.md).
    Receipt {
        #[command(subcommand)]
        action: ReceiptAction,
    },
    /// The field device (police tablet): a device key, signed protocols,
    /// an offline queue and the payment code (docs/field.md).
    Field {
        #[command(subcommand)]
        action: FieldAction,
    },
    /// Accounts of people who sign in (recorded in the ledger).
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// API keys of connectors and payment providers (recorded hashed in the ledger).
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Benchmarks: `bench import` (also `bench` alone) measures the import
    /// path against a bare insert; `bench matching` camt.054 payments
    /// matched against open charges next to parsing the same files alone;
    /// `bench http` appeal registration over HTTP next to a bare handler;
    /// `bench commit` the web writer's commit path alone, in one thread;
    /// `bench scorecard` the scorecard from projections next to one SQL
    /// GROUP BY over the raw events of an existing database.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        #[command(subcommand)]
        what: Option<BenchWhat>,
        #[command(flatten)]
        db: DbArgs,
        /// Number of simulated records to import.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// The import path against a bare insert of the same rows.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Number of simulated records to import.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
    },
    /// camt.054 payments against open charges: parsing alone, then parse +
    /// match + append into a ledger that holds the charges.
    Matching {
        #[command(flatten)]
        db: DbArgs,
        /// Payments (and as many open charges).
        #[arg(long, default_value_t = 1_000_000)]
        payments: u64,
        /// Payments per camt.054 file.
        #[arg(long, default_value_t = 10_000)]
        per_file: u64,
    },
    /// Registering an appeal over HTTP (durable commit) against a bare
    /// axum handler, both loaded by wrk in the same run.
    Http {
        /// Seconds of load per target.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Open connections (the same for both targets). Group commit
        /// turns concurrency into records per `fsync`: a national service
        /// has hundreds of clients at once, so the default is 256.
        #[arg(long, default_value_t = 256)]
        connections: u32,
        /// wrk threads.
        #[arg(long, default_value_t = 2)]
        threads: u32,
        /// Alternating rounds of both targets (medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Most records per durable transaction (1: no group commit).
        #[arg(long, default_value_t = 1024)]
        batch: usize,
        /// Read-only connections beside the writer (0: reads wait for
        /// commits under the ledger's lock, as before them).
        #[arg(long, default_value_t = 4)]
        readers: usize,
    },
    /// The web writer's commit path alone, in the shape of its group
    /// commits (for callgrind: `--toggle-collect='*write_commits*'`).
    Commit {
        /// Transactions to commit.
        #[arg(long, default_value_t = 100)]
        commits: usize,
        /// Batches each transaction takes (the writer adds the requests
        /// that arrived during a flush a batch at a time).
        #[arg(long, default_value_t = 5)]
        batches: usize,
        /// Registrations a batch.
        #[arg(long = "per-batch", default_value_t = 12)]
        per_batch: usize,
    },
    /// The scorecard from projections (as `report scorecard`) against the
    /// same counts by one SQL GROUP BY over the raw events, on an existing
    /// database (nothing is imported).
    Scorecard {
        #[command(flatten)]
        db: DbArgs,
        /// Timed runs of the scorecard (after one warm-up).
        #[arg(long, default_value_t = 5)]
        rounds: u32,
        /// The reference day (YYYY-MM-DD); today in Kazakhstan when absent.
        #[arg(long = "as-of")]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum ReceiptAction {
    /// Write the receipt of one event: the entry, a signed tree head and the
    /// inclusion proof.
    Get {
        /// A SQLite file path, or a postgres:// URL.
        #[arg(long, env = "CASETRAIL_DB", default_value = "casetrail.db")]
        db: String,
        /// The event's sequence number.
        #[arg(long, required_unless_present_any = ["payment", "uin"], conflicts_with_all = ["payment", "uin"])]
        seq: Option<u64>,
        /// A charge's 20-digit UIN: the receipt of its signed protocol (of
        /// its fine.imposed when it has none, e.g. a camera fine).
        #[arg(long, conflicts_with = "payment")]
        uin: Option<String>,
        /// A payment, as PROVIDER:PAYMENT_ID (e.g. kaspi:K-1; PROVIDER/ID is
        /// also read): the receipt of its payment.received.
        #[arg(long)]
        payment: Option<String>,
        /// Prove against the stored signed head of this size (default: the latest).
        #[arg(long = "head-size")]
        head_size: Option<u64>,
        /// Output file (standard output when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a receipt offline; exits 3 naming what failed.
    Verify {
        file: PathBuf,
        /// A later head statement (`casetrail receipt head --from-size N`):
        /// also check that the log still extends the receipt's tree.
        #[arg(long)]
        against: Option<PathBuf>,
        /// The tree-head public key you trust (base64 or hex); the receipt's
        /// own key is used when absent.
        #[arg(long = "key-pub")]
        key_pub: Option<String>,
    },
    /// Print the latest signed tree head, with the consistency proof from an
    /// earlier size.
    Head {
        /// A SQLite file path, or a postgres:// URL.
        #[arg(long, env = "CASETRAIL_DB", default_value = "casetrail.db")]
        db: String,
        /// The earlier tree size (a receipt's `tree_head.size`).
        #[arg(long = "from-size")]
        from_size: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum FieldAction {
    /// Create the device key (0600) and print the device.enrolled record.
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The device id.
        #[arg(long)]
        device: String,
        /// The police agency's slug.
        #[arg(long)]
        agency: String,
        /// The device number the administrator assigned (1..=99999999, unique):
        /// the device's UINs are made of it.
        #[arg(long)]
        number: u32,
        /// When the enrolment is dated (RFC 3339); now when absent.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Sign a protocol and its fine, queue them, print the payment code.
    Protocol {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        case: String,
        #[arg(long)]
        officer: String,
        #[arg(long = "offender-iin")]
        offender_iin: String,
        /// Article of the Code of Administrative Offences, e.g. 610.1.
        #[arg(long)]
        article: String,
        /// KATO code of the place.
        #[arg(long)]
        place: String,
        /// The fine in MCI (converted at the MCI of the offence date).
        #[arg(long = "amount-mci")]
        amount_mci: u32,
        /// The short procedure: 50% if paid by the 7th working day.
        #[arg(long = "short-procedure")]
        short_procedure: bool,
        /// When it is signed (RFC 3339); now when absent.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Import the queue into the ledger (source device:<id>); the queue stays
    /// until the import commits.
    Sync {
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Create an account; the password is read from standard input (one line).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The login.
        #[arg(long)]
        account: String,
        /// citizen, officer, agency_head, field_officer, prosecutor, analyst,
        /// bailiff, payment_provider, integration or admin.
        #[arg(long)]
        role: String,
        /// The agency the account works for (a slug).
        #[arg(long)]
        agency: Option<String>,
    },
    /// Disable an account.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        account: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum ApikeyAction {
    /// Issue a key; prints it once (`<key_id>.<secret>`), records only the secret's hash.
    Issue {
        #[command(flatten)]
        db: DbArgs,
        /// integration or payment_provider (any role is accepted).
        #[arg(long)]
        role: String,
        #[arg(long)]
        agency: Option<String>,
        /// The payment provider the key speaks for.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Revoke a key.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long = "key-id")]
        key_id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum QuarantineAction {
    /// List quarantined lines with their source, line and reason.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Include resolved entries.
        #[arg(long)]
        all: bool,
    },
    /// Try every open entry again; those that now pass are appended.
    Replay {
        #[command(flatten)]
        db: DbArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { listen, dir, seed } => commands::demo(&dir, &listen, seed),
        Command::Serve { db, listen, webhook_secrets } => commands::serve(&db, &listen, webhook_secrets.as_deref()),
        Command::Simulate { scale, seed, year, out } => commands::simulate(&scale, seed, year, out.as_deref()),
        Command::Import { db, source, format, currency, files } => {
            commands::import(&db, source.as_deref(), format, &currency, &files)
        }
        Command::Verify { db } => commands::verify(&db),
        Command::Rebuild { db } => commands::rebuild(&db),
        Command::Quarantine { action: QuarantineAction::List { db, format, all } } => {
            commands::quarantine_list(&db, format, all)
        }
        Command::Quarantine { action: QuarantineAction::Replay { db } } => commands::quarantine_replay(&db),
        Command::Report { db, name, from, to, as_of, format } => commands::report(&db, &name, from, to, as_of, format),
        Command::Refer { db, uin, bailiff, document } => commands::refer(&db, &uin, &bailiff, &document),
        Command::Bench { what: None, db, records }
        | Command::Bench { what: Some(BenchWhat::Import { db, records }), .. } => bench::run(&db, records),
        Command::Bench { what: Some(BenchWhat::Matching { db, payments, per_file }), .. } => {
            bench::run_matching(&db, payments, per_file)
        }
        Command::Bench { what: Some(BenchWhat::Scorecard { db, rounds, as_of }), .. } => {
            bench_scorecard::run(&db, rounds, as_of)
        }
        Command::Receipt { action: ReceiptAction::Get { db, seq, uin, payment, head_size, out } } => {
            receipt::target(seq, uin, payment).and_then(|target| receipt::get(&db, &target, head_size, out.as_deref()))
        }
        Command::Receipt { action: ReceiptAction::Verify { file, against, key_pub } } => {
            receipt::verify(&file, against.as_deref(), key_pub.as_deref())
        }
        Command::Receipt { action: ReceiptAction::Head { db, from_size, out } } => {
            receipt::head(&db, from_size, out.as_deref())
        }
        Command::Field { action: FieldAction::Init { dir, device, agency, number, at } } => {
            field::init(&dir, &device, &agency, number, at.map(|at| at.with_timezone(&chrono::Utc)))
        }
        Command::Field {
            action:
                FieldAction::Protocol { dir, case, officer, offender_iin, article, place, amount_mci, short_procedure, at },
        } => field::protocol(
            &dir,
            field::ProtocolArgs {
                case,
                officer,
                offender_iin,
                article,
                place,
                amount_mci,
                short_procedure,
                at: at.map(|at| at.with_timezone(&chrono::Utc)),
            },
        ),
        Command::Field { action: FieldAction::Sync { dir, db } } => field::sync(&dir, &db),
        Command::Account { action: AccountAction::Create { db, account, role, agency } } => {
            commands::account_create(&db, &account, &role, agency.as_deref())
        }
        Command::Account { action: AccountAction::Disable { db, account, reason } } => {
            commands::account_disable(&db, &account, &reason)
        }
        Command::Apikey { action: ApikeyAction::Issue { db, role, agency, provider } } => {
            commands::apikey_issue(&db, &role, agency.as_deref(), provider.as_deref())
        }
        Command::Apikey { action: ApikeyAction::Revoke { db, key_id, reason } } => {
            commands::apikey_revoke(&db, &key_id, &reason)
        }
        Command::Bench {
            what: Some(BenchWhat::Http { seconds, connections, threads, rounds, batch, readers }),
            ..
        } => bench_http::run_http(&bench_http::HttpBenchOptions {
            seconds,
            connections,
            threads,
            rounds,
            batch,
            readers,
        }),
        Command::Bench { what: Some(BenchWhat::Commit { commits, batches, per_batch }), .. } => {
            bench_commit::run_commit(&bench_commit::CommitBenchOptions { commits, batches, per_batch })
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
