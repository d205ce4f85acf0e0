//! Receipts and the field device, end to end through the binary, on SQLite
//! and PostgreSQL: `casetrail field` signs and syncs protocols, `casetrail
//! receipt` proves them, and an independent verifier written from RFC 9162
//! (`receipt_verify.py`, Python) agrees with `casetrail receipt verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const IIN: &str = "900101300116";

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casetrail")).args(args).current_dir(dir).output().expect("run casetrail")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn ok(args: &[&str], dir: &Path) -> String {
    let output = run(args, dir);
    assert!(output.status.success(), "casetrail {args:?} failed:\n{}", text(&output));
    text(&output)
}

/// `python3 receipt_verify.py ARGS...`: the independent verifier.
fn python(args: &[&str], dir: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/receipt_verify.py");
    Command::new("python3").arg(script).args(args).current_dir(dir).output().expect("run python3")
}

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
}

fn sqlite(dir: &Path, name: &str) -> Db {
    Db::Sqlite(dir.join(name))
}

fn postgres(_: &Path, _: &str) -> Db {
    let (store, guard) = casetrail_store_postgres::testing::fresh_database();
    drop(store);
    Db::Postgres(Box::new(guard))
}

macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { let dir = tempfile::tempdir().expect("dir"); super::$name(dir.path(), &super::sqlite) } )+ }
        mod on_postgres { $( #[test] fn $name() { let dir = tempfile::tempdir().expect("dir"); super::$name(dir.path(), &super::postgres) } )+ }
    };
}

on_both!(
    receipts_verify_in_rust_and_python,
    receipts_by_business_key,
    altered_records_and_proofs_fail,
    later_heads_extend_receipts_and_forks_fail,
    field_sync_is_idempotent_and_survives_an_unreachable_server,
);

type NewDb = dyn Fn(&Path, &str) -> Db;

fn db_args<'a>(db: &'a str, key: &'a str) -> [&'a str; 4] {
    ["--db", db, "--key", key]
}

/// A device in `dir/name`, enrolled in `db` (signing key `key`).
fn enrolled_device(dir: &Path, name: &str, number: &str, db: &str, key: &str) -> PathBuf {
    let device = dir.join(name);
    let device_arg = device.to_str().expect("path");
    let enrolment = ok(
        &[
            "field",
            "init",
            "--dir",
            device_arg,
            "--device",
            name,
            "--agency",
            "police-astana",
            "--number",
            number,
            "--at",
            "2026-03-01T09:00:00+05:00",
        ],
        dir,
    );
    let line = enrolment.lines().next().expect("the device.enrolled line");
    let file = dir.join(format!("{name}-enrol.jsonl"));
    std::fs::write(&file, format!("{line}\n")).expect("write");
    let mut args = vec!["import"];
    args.extend(db_args(db, key));
    args.extend(["--source", "admin", file.to_str().expect("path")]);
    ok(&args, dir);
    device
}

fn protocol(dir: &Path, device: &Path, case: &str, at: &str, short: bool) -> String {
    let mut args = vec![
        "field",
        "protocol",
        "--dir",
        device.to_str().expect("path"),
        "--case",
        case,
        "--officer",
        "officer-7",
        "--offender-iin",
        IIN,
        "--article",
        "610.1",
        "--place",
        "710000000",
        "--amount-mci",
        "5",
        "--at",
        at,
    ];
    if short {
        args.push("--short-procedure");
    }
    ok(&args, dir)
}

fn sync(dir: &Path, device: &Path, db: &str, key: &str) -> Output {
    let mut args = vec!["field", "sync", "--dir", device.to_str().expect("path")];
    args.extend(db_args(db, key));
    run(&args, dir)
}

fn uin_of(output: &str) -> String {
    let line = output.lines().find(|line| line.starts_with("UIN ")).expect("a UIN line");
    line.split_whitespace().nth(1).expect("the UIN").to_owned()
}

/// A ledger with an enrolled device, two synced protocols and a payment;
/// returns (database, key path, UIN of the first protocol).
fn populated(dir: &Path, new_db: &NewDb) -> (Db, String, String) {
    let db = new_db(dir, "a.db");
    let url = db.url();
    let key = dir.join("ledger.key").display().to_string();
    let device = enrolled_device(dir, "tab-1", "17", &url, &key);
    let first = protocol(dir, &device, "C-1", "2026-03-02T10:15:00+05:00", true);
    protocol(dir, &device, "C-2", "2026-03-02T11:00:00+05:00", false);
    let synced = sync(dir, &device, &url, &key);
    assert!(synced.status.success(), "{}", text(&synced));
    let uin = uin_of(&first);
    let payment = format!(
        r#"{{"type":"payment.received","id":"p-1","at":"2026-03-03T12:00:00+05:00","payment":"p-1","provider":"kaspi","uin":"{uin}","payer":{{"iin":"{IIN}"}},"amount_kzt":"10812.50"}}"#
    );
    let file = dir.join("payments.jsonl");
    std::fs::write(&file, payment + "\n").expect("write");
    let mut args = vec!["import"];
    args.extend(db_args(&url, &key));
    args.extend(["--source", "kaspi", file.to_str().expect("path")]);
    ok(&args, dir);
    (db, key, uin)
}

fn receipt(dir: &Path, db: &str, selector: &[&str], out: &str) -> serde_json::Value {
    let mut args = vec!["receipt", "get", "--db", db, "--out", out];
    args.extend(selector);
    ok(&args, dir);
    serde_json::from_slice(&std::fs::read(dir.join(out)).expect("read")).expect("json")
}

fn verify_both(dir: &Path, args: &[&str]) -> (Output, Output) {
    let mut rust = vec!["receipt", "verify"];
    rust.extend(args);
    (run(&rust, dir), python(args, dir))
}

fn assert_passes(dir: &Path, args: &[&str]) {
    let (rust, python) = verify_both(dir, args);
    assert!(rust.status.success(), "casetrail rejected {args:?}: {}", text(&rust));
    assert!(python.status.success(), "the Python verifier rejected {args:?}: {}", text(&python));
}

fn assert_fails(dir: &Path, args: &[&str], rust_names: &str, python_names: &str) {
    let (rust, python) = verify_both(dir, args);
    assert_eq!(rust.status.code(), Some(3), "casetrail accepted {args:?}: {}", text(&rust));
    assert!(text(&rust).contains(rust_names), "casetrail should name {rust_names:?}: {}", text(&rust));
    assert_eq!(python.status.code(), Some(1), "the Python verifier accepted {args:?}: {}", text(&python));
    assert!(text(&python).contains(python_names), "Python should name {python_names:?}: {}", text(&python));
}

fn receipts_verify_in_rust_and_python(dir: &Path, new_db: &NewDb) {
    let (db, _, uin) = populated(dir, new_db);
    let url = db.url();
    // Event 1 is the enrolment, 2 and 3 the first protocol and its fine.
    let protocol = receipt(dir, &url, &["--seq", "2"], "protocol.json");
    assert_eq!(protocol["entry"]["record"]["type"], "fine.protocol_signed");
    assert_eq!(protocol["entry"]["source"], "device:tab-1");
    let fine = receipt(dir, &url, &["--seq", "3"], "fine.json");
    assert_eq!(fine["entry"]["record"]["uin"], uin.as_str());
    let payment = receipt(dir, &url, &["--payment", "kaspi/p-1"], "payment.json");
    assert_eq!(payment["entry"]["record"]["type"], "payment.received");
    for file in ["protocol.json", "fine.json", "payment.json"] {
        assert_passes(dir, &[file]);
    }
    // Pinned to the ledger's key it passes; pinned to another key it fails.
    let key = protocol["public_key"].as_str().expect("key").to_owned();
    ok(&["receipt", "verify", "protocol.json", "--key-pub", &key], dir);
    let other = "A".repeat(43) + "=";
    let pinned = run(&["receipt", "verify", "protocol.json", "--key-pub", &other], dir);
    assert_eq!(pinned.status.code(), Some(3), "{}", text(&pinned));
    assert!(text(&pinned).contains("not the key you pinned"), "{}", text(&pinned));
    // A receipt proved against an older head still verifies.
    let older = receipt(dir, &url, &["--seq", "2", "--head-size", "5"], "older.json");
    assert_eq!(older["tree_head"]["size"], 5);
    assert_passes(dir, &["older.json"]);
}

/// `--uin` gives the receipt of the charge's signed protocol and
/// `--payment PROVIDER:ID` that of the payment, the same receipts as by
/// their sequence numbers; a camera fine's UIN gives its decision; an
/// unknown key says so; a rebuild keeps the keys.
fn receipts_by_business_key(dir: &Path, new_db: &NewDb) {
    let (db, key, uin) = populated(dir, new_db);
    let url = db.url();
    let by_uin = receipt(dir, &url, &["--uin", &uin], "by-uin.json");
    assert_eq!(by_uin["entry"]["record"]["type"], "fine.protocol_signed");
    assert_eq!(by_uin["entry"]["record"]["case"], "C-1");
    let by_seq = receipt(dir, &url, &["--seq", "2"], "by-seq.json");
    assert_eq!(by_uin["entry"], by_seq["entry"], "the first protocol is event 2");
    let by_payment = receipt(dir, &url, &["--payment", "kaspi:p-1"], "by-payment.json");
    assert_eq!(by_payment["entry"]["record"]["type"], "payment.received");
    assert_eq!(by_payment["entry"]["record"]["payment"], "p-1");
    let old_form = receipt(dir, &url, &["--payment", "kaspi/p-1"], "old-form.json");
    assert_eq!(old_form["entry"], by_payment["entry"]);
    ok(&["receipt", "verify", "by-uin.json"], dir);
    ok(&["receipt", "verify", "by-payment.json"], dir);

    // A camera fine has no protocol: its receipt is the decision's.
    let camera = dir.join("camera.jsonl");
    let fine = r#"{"type":"fine.imposed","id":"i-14","at":"2026-03-02T10:20:00+05:00","case":"CAM-14","uin":"20260000000000000140","amount_kzt":"20000.00","in_force_at":"2026-03-12","short_procedure":false}"#;
    std::fs::write(&camera, format!("{fine}\n")).expect("write");
    let mut args = vec!["import"];
    args.extend(db_args(&url, &key));
    args.extend(["--source", "cameras", camera.to_str().expect("path")]);
    ok(&args, dir);
    let decision = receipt(dir, &url, &["--uin", "20260000000000000140"], "camera.json");
    assert_eq!(decision["entry"]["record"]["type"], "fine.imposed");
    assert_eq!(decision["entry"]["record"]["case"], "CAM-14");

    let refused = |selector: &[&str], says: &str| {
        let mut args = vec!["receipt", "get", "--db", url.as_str()];
        args.extend(selector);
        let output = run(&args, dir);
        assert!(!output.status.success(), "{selector:?} must fail");
        assert!(text(&output).contains(says), "{selector:?} should say {says:?}: {}", text(&output));
    };
    refused(&["--uin", "20260000000000000026"], "no charge with UIN 20260000000000000026");
    refused(&["--uin", "12345"], "is not a UIN");
    refused(&["--payment", "kaspi:p-404"], "no payment \"p-404\" of provider \"kaspi\"");
    refused(&["--payment", "kaspi"], "PROVIDER:PAYMENT_ID");

    // Rebuilt projections still find the events.
    let mut args = vec!["rebuild"];
    args.extend(db_args(&url, &key));
    ok(&args, dir);
    assert_eq!(receipt(dir, &url, &["--uin", &uin], "rebuilt.json")["entry"], by_seq["entry"]);
    assert_eq!(receipt(dir, &url, &["--payment", "kaspi:p-1"], "rebuilt-payment.json")["entry"], by_payment["entry"]);
}

fn rewrite(dir: &Path, from: &str, to: &str, change: impl Fn(&mut serde_json::Value)) {
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(from)).expect("read")).expect("json");
    change(&mut value);
    std::fs::write(dir.join(to), serde_json::to_vec_pretty(&value).expect("json")).expect("write");
}

fn altered_records_and_proofs_fail(dir: &Path, new_db: &NewDb) {
    let (db, _, _) = populated(dir, new_db);
    receipt(dir, &db.url(), &["--seq", "3"], "fine.json");
    assert_passes(dir, &["fine.json"]);
    // One byte of the record: the amount in MCI.
    rewrite(dir, "fine.json", "amount.json", |r| r["entry"]["record"]["amount_mci"] = 6.into());
    assert_fails(dir, &["amount.json"], "inclusion", "inclusion");
    // One character of a string field.
    rewrite(dir, "fine.json", "case.json", |r| r["entry"]["record"]["case"] = "C-9".into());
    assert_fails(dir, &["case.json"], "inclusion", "inclusion");
    // The metadata the leaf binds: the sequence number and the source.
    rewrite(dir, "fine.json", "seq.json", |r| r["entry"]["seq"] = 2.into());
    assert_fails(dir, &["seq.json"], "inclusion", "inclusion");
    rewrite(dir, "fine.json", "source.json", |r| r["entry"]["source"] = "device:tab-2".into());
    assert_fails(dir, &["source.json"], "inclusion", "inclusion");
    // One digit of a proof hash.
    rewrite(dir, "fine.json", "proof.json", |r| {
        let first = r["inclusion_proof"][0].as_str().expect("hash").to_owned();
        let flipped = if first.starts_with('0') { "1" } else { "0" };
        r["inclusion_proof"][0] = format!("{flipped}{}", &first[1..]).into();
    });
    assert_fails(dir, &["proof.json"], "inclusion", "inclusion");
    // A head whose root was replaced to fit an altered record: the signature fails.
    rewrite(dir, "fine.json", "root.json", |r| r["tree_head"]["root"] = "00".repeat(32).into());
    assert_fails(dir, &["root.json"], "head signature", "head signature");
}

fn later_heads_extend_receipts_and_forks_fail(dir: &Path, new_db: &NewDb) {
    let (db, key, _) = populated(dir, new_db);
    let url = db.url();
    let first = receipt(dir, &url, &["--seq", "2"], "protocol.json");
    let size = first["tree_head"]["size"].as_u64().expect("size").to_string();
    // The log grows: a new protocol is synced.
    let device = dir.join("tab-1");
    protocol(dir, &device, "C-3", "2026-03-04T10:00:00+05:00", false);
    assert!(sync(dir, &device, &url, &key).status.success());
    ok(&["receipt", "head", "--db", &url, "--from-size", &size, "--out", "later.json"], dir);
    assert_passes(dir, &["protocol.json", "--against", "later.json"]);

    // A fork: another ledger signed with the same key, whose history differs.
    let fork = new_db(dir, "fork.db");
    let fork_url = fork.url();
    let other_dir = dir.join("fork");
    std::fs::create_dir_all(&other_dir).expect("dir");
    let fork_device = enrolled_device(&other_dir, "tab-9", "18", &fork_url, &key);
    let cases = [
        ("F-1", "2026-03-02T10:00:00+05:00"),
        ("F-2", "2026-03-03T10:00:00+05:00"),
        ("F-3", "2026-03-04T10:00:00+05:00"),
    ];
    for (case, at) in cases {
        protocol(&other_dir, &fork_device, case, at, false);
    }
    assert!(sync(&other_dir, &fork_device, &fork_url, &key).status.success());
    ok(&["receipt", "head", "--db", &fork_url, "--from-size", &size, "--out", "forked.json"], dir);
    let forked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("forked.json")).expect("read")).expect("json");
    assert_eq!(forked["public_key"], first["public_key"], "the fork must be signed by the same key");
    assert_fails(dir, &["protocol.json", "--against", "forked.json"], "consistency", "consistency");
    // A consistency proof from another size is refused, not misread.
    ok(&["receipt", "head", "--db", &url, "--from-size", "1", "--out", "wrong-size.json"], dir);
    assert_fails(dir, &["protocol.json", "--against", "wrong-size.json"], "later head", "later head");
}

fn field_sync_is_idempotent_and_survives_an_unreachable_server(dir: &Path, new_db: &NewDb) {
    let db = new_db(dir, "field.db");
    let url = db.url();
    let key = dir.join("ledger.key").display().to_string();
    let device = enrolled_device(dir, "tab-1", "17", &url, &key);
    let first = protocol(dir, &device, "C-1", "2026-03-02T10:15:00+05:00", true);
    let second = protocol(dir, &device, "C-2", "2026-03-02T11:00:00+05:00", false);
    // The UINs: 9, the device number in 8 digits, the counter in 10, a check digit.
    assert_eq!(&uin_of(&first)[..19], "9000000170000000001");
    assert_eq!(&uin_of(&second)[..19], "9000000170000000002");
    // 5 MCI at the 2026 MCI (4,325 tenge); the short procedure halves it until
    // the 7th working day after Monday 2 March 2026 (8 March, a Sunday, moves
    // its holiday to Monday 9 March).
    assert!(first.contains("pay 10812.50 KZT"), "{first}");
    assert!(first.contains("on or before 2026-03-12"), "{first}");
    assert!(first.contains("&amount=10812.50&until=2026-03-12&full=21625.00"), "{first}");
    assert!(second.contains("pay 21625.00 KZT"), "{second}");
    let svg = std::fs::read_to_string(device.join("codes").join(format!("{}.svg", uin_of(&first)))).expect("svg");
    assert!(svg.contains("<svg"), "{svg}");
    let queue = std::fs::read_to_string(device.join("queue.jsonl")).expect("queue");
    assert_eq!(queue.lines().count(), 4);

    // The server cannot be reached: the sync fails and the queue stays.
    let offline = sync(dir, &device, "postgres://casetrail@127.0.0.1:1/nowhere", &key);
    assert!(!offline.status.success(), "{}", text(&offline));
    assert!(text(&offline).contains("stay in"), "{}", text(&offline));
    assert_eq!(std::fs::read_to_string(device.join("queue.jsonl")).expect("queue"), queue);

    // Reachable: everything is accepted (the signatures verify in the domain).
    let online = sync(dir, &device, &url, &key);
    assert!(online.status.success(), "{}", text(&online));
    assert!(text(&online).contains("4 accepted, 0 already in the ledger, 0 quarantined"), "{}", text(&online));
    assert!(text(&online).contains("case C-1: protocol is event 2, fine is event 3"), "{}", text(&online));
    let quarantine = ok(&["quarantine", "list", "--db", &url, "--key", &key, "--format", "json"], dir);
    assert!(quarantine.trim_start().starts_with("[]"), "{quarantine}");
    let head = || -> serde_json::Value {
        serde_json::from_str(&ok(&["receipt", "head", "--db", &url], dir)).expect("head json")
    };
    let after_first = head();
    assert_eq!(after_first["tree_head"]["size"], 5);

    // Re-syncing the same records (as after a crash between commit and
    // clearing the queue) changes nothing.
    let sent = std::fs::read_to_string(device.join("sent.jsonl")).expect("sent");
    assert_eq!(sent, queue);
    std::fs::write(device.join("queue.jsonl"), &sent).expect("requeue");
    let again = sync(dir, &device, &url, &key);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 accepted, 4 already in the ledger, 0 quarantined"), "{}", text(&again));
    assert_eq!(head()["tree_head"]["root"], after_first["tree_head"]["root"]);
    assert_eq!(head()["tree_head"]["size"], 5);
    // An empty queue syncs to nothing.
    let empty = sync(dir, &device, &url, &key);
    assert!(text(&empty).contains("nothing to sync"), "{}", text(&empty));
    ok(&["verify", "--db", &url, "--key", &key], dir);
}
