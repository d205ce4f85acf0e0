//! The CLI as a user runs it: simulate, import, verify, quarantine — on
//! SQLite and on PostgreSQL — and an attacker with the database file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_casetrail");

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN).args(args).current_dir(dir).env_remove("CASETRAIL_DB").output().expect("run casetrail")
}

fn ok(args: &[&str], dir: &Path) -> String {
    let output = run(args, dir);
    assert!(
        output.status.success(),
        "casetrail {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// A database under test: a SQLite file or a fresh PostgreSQL database.
enum Db {
    Sqlite(PathBuf),
    Postgres(Box<casetrail_store_postgres::testing::TestDatabase>),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => path.display().to_string(),
            Db::Postgres(guard) => guard.url().to_owned(),
        }
    }

    /// Runs SQL as an attacker who owns the database and has disabled the
    /// append-only triggers.
    fn tamper(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).expect("open");
                connection
                    .execute_batch(&format!(
                        "DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete; {sql}"
                    ))
                    .expect("tamper");
            }
            Db::Postgres(guard) => {
                let mut client = postgres::Client::connect(guard.url(), postgres::NoTls).expect("connect");
                client.batch_execute(&format!("ALTER TABLE events DISABLE TRIGGER USER; {sql}")).expect("tamper");
            }
        }
    }
}

fn sqlite(dir: &Path) -> Db {
    Db::Sqlite(dir.join("x.db"))
}

fn postgres(_: &Path) -> Db {
    let (store, guard) = casetrail_store_postgres::testing::fresh_database();
    drop(store);
    Db::Postgres(Box::new(guard))
}

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { let dir = tempfile::tempdir().expect("dir"); super::$name(dir.path(), super::sqlite(dir.path())) } )+ }
        mod on_postgres { $( #[test] fn $name() { let dir = tempfile::tempdir().expect("dir"); super::$name(dir.path(), super::postgres(dir.path())) } )+ }
    };
}

on_both!(
    simulate_import_verify,
    reimport_changes_nothing_and_reports_duplicates,
    malformed_lines_land_in_quarantine,
    changed_byte_is_found,
    deleted_event_is_found,
    reordered_events_are_found,
);

/// A small simulated file, shared by the tests of one process.
fn simulated(dir: &Path) -> PathBuf {
    let path = dir.join("sim.jsonl");
    ok(&["simulate", "--scale", "city", "--seed", "1", "--out", path.to_str().expect("path")], dir);
    path
}

fn key_arg(dir: &Path) -> String {
    dir.join("signing.key").display().to_string()
}

fn simulate_import_verify(dir: &Path, db: Db) {
    let file = simulated(dir);
    let lines = std::fs::read_to_string(&file).expect("read").lines().count();
    assert!(lines >= 100_000, "a city-year has at least 100,000 records, got {lines}");
    let out = ok(&["import", "--db", &db.url(), "--key", &key_arg(dir), file.to_str().expect("path")], dir);
    assert!(out.contains(&format!("{lines} accepted, 0 duplicates, 0 quarantined")), "{out}");
    let out = ok(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
    let events: usize = out
        .split("ok: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("verify did not say ok: {out}"));
    // Every line, plus the recalls casetrail appended itself for fines that
    // were referred although already paid.
    assert!(events > lines, "{events} events for {lines} lines: {out}");
}

const SMALL: &str = include_str!("../../app/tests/data/scenario.jsonl");

fn reimport_changes_nothing_and_reports_duplicates(dir: &Path, db: Db) {
    let file = dir.join("small.jsonl");
    std::fs::write(&file, SMALL).expect("write");
    let lines = SMALL.lines().count();
    let first = ok(&["import", "--db", &db.url(), "--key", &key_arg(dir), file.to_str().expect("path")], dir);
    assert!(first.contains(&format!("{lines} accepted, 0 duplicates")), "{first}");
    let verify_first = ok(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
    let second = ok(&["import", "--db", &db.url(), "--key", &key_arg(dir), file.to_str().expect("path")], dir);
    assert!(second.contains(&format!("0 accepted, {lines} duplicates, 0 quarantined")), "{second}");
    let verify_second = ok(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
    let root = |text: &str| text.split("root ").nth(1).map(|r| r.trim().to_owned());
    assert_eq!(root(&verify_first), root(&verify_second), "the tree is unchanged by a re-import");
}

const BAD: &str = include_str!("../../app/tests/data/with-bad-lines.jsonl");

fn malformed_lines_land_in_quarantine(dir: &Path, db: Db) {
    let file = dir.join("bad.jsonl");
    std::fs::write(&file, BAD).expect("write");
    let out = ok(&["import", "--db", &db.url(), "--key", &key_arg(dir), file.to_str().expect("path")], dir);
    assert!(out.contains("3 accepted, 0 duplicates, 3 quarantined"), "{out}");
    let listed = ok(&["quarantine", "list", "--db", &db.url(), "--key", &key_arg(dir), "--format", "json"], dir);
    let rows: serde_json::Value = serde_json::from_str(listed.lines().next().expect("json line")).expect("json");
    let rows = rows.as_array().expect("array");
    let lines: Vec<u64> = rows.iter().map(|row| row["line"].as_u64().expect("line")).collect();
    assert_eq!(lines, vec![2, 4, 6]);
    assert_eq!(rows[1]["field"], "applicant.iin");
    assert!(rows.iter().all(|row| row["source"] == "bad.jsonl" && !row["reason"].as_str().unwrap_or("").is_empty()));
    ok(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
}

fn imported_small(dir: &Path, db: &Db) {
    let file = dir.join("small.jsonl");
    std::fs::write(&file, SMALL).expect("write");
    ok(&["import", "--db", &db.url(), "--key", &key_arg(dir), file.to_str().expect("path")], dir);
    ok(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
}

fn verify_fails_naming(dir: &Path, db: &Db, expected: &str) {
    let output = run(&["verify", "--db", &db.url(), "--key", &key_arg(dir)], dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "verify must exit 3 on tampering; stderr: {stderr}");
    assert!(stderr.contains(expected), "verify must name the entry ({expected}); said: {stderr}");
}

fn changed_byte_is_found(dir: &Path, db: Db) {
    imported_small(dir, &db);
    // One byte of event 5's JSON: "paper" becomes "Paper".
    match &db {
        Db::Sqlite(_) => db.tamper("UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'paper', 'Paper') AS BLOB) WHERE seq = 5"),
        Db::Postgres(_) => db.tamper("UPDATE events SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), 'paper', 'Paper'), 'UTF8') WHERE seq = 5"),
    }
    verify_fails_naming(dir, &db, "event 5");
}

fn deleted_event_is_found(dir: &Path, db: Db) {
    imported_small(dir, &db);
    db.tamper("DELETE FROM events WHERE seq = 7");
    verify_fails_naming(dir, &db, "event 7 is missing");
}

fn reordered_events_are_found(dir: &Path, db: Db) {
    imported_small(dir, &db);
    db.tamper("UPDATE events SET seq = 1000003 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = 1000003;");
    verify_fails_naming(dir, &db, "event 3");
}

#[test]
fn simulate_is_byte_identical_for_a_seed() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    for path in [&a, &b] {
        ok(&["simulate", "--scale", "city", "--seed", "7", "--out", path.to_str().expect("path")], dir.path());
    }
    assert!(std::fs::read(&a).expect("a") == std::fs::read(&b).expect("b"), "same seed, same bytes");
}

#[test]
fn errors_say_what_to_do_and_exit_non_zero() {
    let dir = tempfile::tempdir().expect("dir");
    let output = run(&["import", "--db", "x.db", "missing.jsonl"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing.jsonl") && stderr.contains("check the path"), "{stderr}");
    // A file that opens but cannot be read (a directory): the import says
    // where it stopped instead of reporting a clean, empty import.
    std::fs::create_dir(dir.path().join("folder.jsonl")).expect("mkdir");
    let output = run(&["import", "--db", "x.db", "folder.jsonl"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reading folder.jsonl failed after 0 records"), "{stderr}");
    let output = run(&["simulate", "--scale", "planet"], dir.path());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("city, region or national"));
}

/// `bench commit` takes every registration it makes, one event each, in the
/// shape asked for (it fails when one is refused or lost).
#[test]
fn bench_commit_writes_every_registration_in_the_shape_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&["bench", "commit", "--commits", "3", "--batches", "2", "--per-batch", "4"], dir.path());
    assert!(out.contains("24 registrations in 3 commits of 2 batches × 4 records"), "{out}");
}
