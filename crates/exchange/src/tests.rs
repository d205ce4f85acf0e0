use super::*;

const OK: &str = include_str!("../tests/samples/ok.jsonl");
const ERR: &str = include_str!("../tests/samples/err.jsonl");

#[test]
fn every_record_type_has_a_valid_sample() {
    let mut seen = std::collections::BTreeSet::new();
    for (number, line) in OK.lines().enumerate() {
        let event =
            parse_record(line.as_bytes()).unwrap_or_else(|error| panic!("ok.jsonl line {}: {error}", number + 1));
        seen.insert(event.record_type());
    }
    let all: std::collections::BTreeSet<&str> = RECORD_TYPES.iter().copied().collect();
    assert_eq!(seen, all, "ok.jsonl must hold a sample of every record type");
}

#[test]
fn bad_lines_name_the_field_and_the_reason() {
    for (number, line) in ERR.lines().enumerate() {
        let (record, expected) = line.split_once('\t').expect("sample<TAB>expected error");
        let error = parse_record(record.as_bytes()).expect_err(&format!("err.jsonl line {} must fail", number + 1));
        assert!(
            error.to_string().contains(expected),
            "err.jsonl line {}: {error:?} does not mention {expected:?}",
            number + 1
        );
    }
}

#[test]
fn typed_round_trip_reproduces_the_canonical_bytes() {
    for line in OK.lines() {
        let parsed = parse_record(line.as_bytes()).expect("valid");
        let rebuilt = Event::new(parsed.id.clone(), parsed.at, parsed.record.clone()).expect("valid");
        assert_eq!(
            String::from_utf8_lossy(&rebuilt.canonical),
            String::from_utf8_lossy(&jcs::canonicalize(line.as_bytes()).expect("json")),
        );
        // And back: an event built from typed parts is exactly what parsing
        // its bytes gives, so a writer may take it without parsing again
        // (`casetrail_app::Incoming::from_event`).
        assert_eq!(parse_record(&rebuilt.canonical).expect("its own bytes parse"), rebuilt, "{line}");
    }
}

#[test]
fn unknown_fields_are_kept_in_the_canonical_bytes() {
    let line = br#"{"type":"fine.recalled","at":"2026-05-02T10:00:00+05:00","uin":"20260000000000000425","reason":"paid","x_extra":1}"#;
    let event = parse_record(line).expect("valid");
    assert!(String::from_utf8_lossy(&event.canonical).contains("x_extra"));
}

#[test]
fn idempotency_key_is_the_id_or_the_canonical_hash() {
    let with_id = parse_record(OK.lines().next().expect("line").as_bytes()).expect("valid");
    assert_eq!(with_id.idempotency_key(), "ag-1");
    let a = parse_record(
        br#"{"at":"2026-05-02T10:00:00+05:00","type":"fine.recalled","uin":"20260000000000000425","reason":"paid"}"#,
    )
    .expect("valid");
    let b = parse_record(br#"{ "type":"fine.recalled", "reason":"paid", "uin":"20260000000000000425", "at":"2026-05-02T10:00:00+05:00" }"#).expect("valid");
    // Keys already in ledgers must not change: `sha256:` and the hash's lowercase hex.
    use sha2::Digest;
    assert_eq!(a.idempotency_key(), format!("sha256:{}", hex::encode(sha2::Sha256::digest(&a.canonical))));
    assert_eq!(a.idempotency_key(), b.idempotency_key(), "the key does not depend on member order or spacing");
}

#[test]
fn lower_hex_is_what_hex_encode_writes() {
    let bytes: Vec<u8> = (0..=255).collect();
    let mut out = String::from("x:");
    crate::push_lower_hex(&mut out, &bytes);
    assert_eq!(out, format!("x:{}", hex::encode(&bytes)));
}

#[test]
fn json_lines_reader_numbers_lines_and_skips_blank_ones() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\r\n\n   \n{\"b\":2}";
    let lines: Vec<RawLine> = JsonLines::new(&input[..]).collect::<Result<_, _>>().expect("read");
    assert_eq!(
        lines,
        vec![RawLine { line: 1, bytes: b"{\"a\":1}".to_vec() }, RawLine { line: 4, bytes: b"{\"b\":2}".to_vec() }]
    );
}

#[test]
fn committed_json_schema_matches_the_types() {
    let generated = serde_json::to_string_pretty(&json_schema()).expect("schema") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/exchange-v1.schema.json");
    if std::env::var_os("CASETRAIL_BLESS").is_some() {
        std::fs::write(path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/exchange-v1.schema.json is stale: run `CASETRAIL_BLESS=1 cargo test -p casetrail-exchange` and commit it"
    );
}

#[test]
fn amounts_in_local_notation_parse_to_tiyn_and_keep_the_source_bytes() {
    let line = r#"{"type":"payment.received","at":"2026-03-03T12:00:00+05:00","payment":"T-5","provider":"kassa24","payer":{"bin":"940140000385"},"amount_kzt":"17 300,00"}"#;
    let event = parse_record(line.as_bytes()).expect("valid");
    let Record::PaymentReceived(payment) = &event.record else { panic!("payment") };
    assert_eq!(payment.amount_kzt.tiyn(), 1_730_000);
    assert!(String::from_utf8_lossy(&event.canonical).contains("17 300,00"), "the hashed bytes are the source's");
}

#[test]
fn every_role_is_listed_once_in_its_place() {
    for (place, role) in crate::AccountRole::ALL.iter().enumerate() {
        assert_eq!(role.index(), place, "{role:?}");
    }
}
