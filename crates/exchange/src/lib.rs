//! Exchange format v1: the one language every source speaks after its
//! connector (DESIGN.md §4). JSON Lines, one record per line.
//!
//! This crate owns the typed records, their validation, RFC 8785 canonical
//! bytes and the JSON Schema. It knows nothing of storage or of the rules
//! that relate one record to another (those live in `casetrail-domain`).

#![forbid(unsafe_code)]

pub mod ident;
pub mod jcs;
mod jcs_ser;
pub mod record;
mod schema;

use std::io::BufRead;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use ident::{AgencySlug, Ident, IdentError};
pub use record::*;
pub use schema::json_schema;

/// The schema version stored with every event of this format.
pub const SCHEMA_VERSION: u16 = 1;
/// Longest line accepted, in bytes.
pub const LINE_BYTES_MAX: usize = 1024 * 1024;

/// A record that parsed and passed the format's own rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: Option<Ident>,
    pub at: DateTime<FixedOffset>,
    pub record: Record,
    /// RFC 8785 bytes of the whole line object, unknown fields included.
    pub canonical: Vec<u8>,
}

impl Event {
    /// Builds an event from typed parts (simulator, connectors, web forms).
    pub fn new(id: Option<Ident>, at: DateTime<FixedOffset>, record: Record) -> Result<Self, RecordError> {
        let instant = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        let mut envelope = vec![("type", record.record_type()), ("at", instant.as_str())];
        if let Some(id) = &id {
            envelope.push(("id", id.as_str()));
        }
        let canonical = record
            .canonical_with(&envelope)
            .map_err(|error| RecordError::new(None, format!("the record has no canonical JSON form: {error}")))?;
        let event = Event { id, at, record, canonical };
        validate(&event)?;
        Ok(event)
    }

    /// The record's `type`.
    pub fn record_type(&self) -> &'static str {
        self.record.record_type()
    }

    /// The instant in UTC.
    pub fn at_utc(&self) -> DateTime<Utc> {
        self.at.with_timezone(&Utc)
    }

    /// The idempotency key within a source: the `id` when present, else
    /// `sha256:` and the hex hash of the canonical bytes.
    pub fn idempotency_key(&self) -> String {
        match &self.id {
            Some(id) => id.as_str().to_owned(),
            None => {
                let mut key = String::with_capacity(7 + 64);
                key.push_str("sha256:");
                push_lower_hex(&mut key, &Sha256::digest(&self.canonical));
                key
            }
        }
    }

    /// One line of JSON Lines (canonical bytes and a newline).
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = self.canonical.clone();
        line.push(b'\n');
        line
    }
}

/// Appends `bytes` as lowercase hex: what `hex::encode` writes, without
/// building the text a character at a time through an iterator (keys and
/// secrets' hashes are written on every request).
pub fn push_lower_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// Why a line is not a valid record: the field (a dotted path such as
/// `applicant.iin`, when one is to blame) and a reason a clerk can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct RecordError {
    pub field: Option<String>,
    pub reason: String,
}

impl RecordError {
    pub fn new(field: Option<&str>, reason: impl Into<String>) -> Self {
        Self { field: field.map(str::to_owned), reason: reason.into() }
    }
}

/// Parses and validates one line (without its newline).
pub fn parse_record(bytes: &[u8]) -> Result<Event, RecordError> {
    if bytes.len() > LINE_BYTES_MAX {
        return Err(RecordError::new(
            None,
            format!("the line is longer than {LINE_BYTES_MAX} bytes; split the record or shorten its text"),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|error| {
        RecordError::new(
            None,
            format!("the line is not valid UTF-8 (byte {}); re-export the file as UTF-8", error.valid_up_to()),
        )
    })?;
    let value: Value = serde_json::from_str(text)
        .map_err(|error| RecordError::new(None, format!("not valid JSON at column {}: {error}", error.column())))?;
    let Value::Object(mut object) = value else {
        return Err(RecordError::new(None, "a record must be a JSON object"));
    };
    let canonical = jcs::canonical_bytes(&Value::Object(object.clone()));
    let record_type = match object.remove("type") {
        Some(Value::String(record_type)) => record_type,
        Some(_) => return Err(RecordError::new(Some("type"), "must be a string")),
        None => {
            return Err(RecordError::new(
                Some("type"),
                format!("is missing; expected one of {}", RECORD_TYPES.join(", ")),
            ))
        }
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => {
            Some(Ident::parse(&id).map_err(|error| RecordError::new(Some("id"), error.to_string()))?)
        }
        Some(_) => return Err(RecordError::new(Some("id"), "must be a string")),
    };
    let at = match object.remove("at") {
        Some(Value::String(at)) => DateTime::parse_from_rfc3339(&at).map_err(|error| {
            RecordError::new(
                Some("at"),
                format!("{at:?} is not an RFC 3339 instant with offset, e.g. 2026-03-02T10:15:00+05:00 ({error})"),
            )
        })?,
        Some(_) => return Err(RecordError::new(Some("at"), "must be a string")),
        None => {
            return Err(RecordError::new(Some("at"), "is missing; give the instant, e.g. 2026-03-02T10:15:00+05:00"))
        }
    };
    let record = match Record::from_value(&record_type, Value::Object(object)) {
        Ok(Some(record)) => record,
        Ok(None) => {
            return Err(RecordError::new(
                Some("type"),
                format!("unknown record type {record_type:?}; expected one of {}", RECORD_TYPES.join(", ")),
            ))
        }
        Err(error) => {
            let path = error.path().to_string();
            let field = if path == "." { None } else { Some(path.as_str()) };
            return Err(RecordError::new(field, error.into_inner().to_string()));
        }
    };
    let event = Event { id, at, record, canonical };
    validate(&event)?;
    Ok(event)
}

/// Rules of the format that serde's types cannot express.
fn validate(event: &Event) -> Result<(), RecordError> {
    match &event.record {
        Record::AppealRegistered(appeal) => {
            match (&appeal.applicant, appeal.anonymous) {
                (Some(party), _) => validate_party("applicant", party)?,
                (None, Some(true)) => {}
                (None, _) => return Err(RecordError::new(Some("applicant"), "is required unless `anonymous` is true")),
            }
            if appeal.text.as_ref().is_some_and(|text| text.len() > record::APPEAL_TEXT_BYTES_MAX) {
                return Err(RecordError::new(
                    Some("text"),
                    format!("is longer than {} bytes", record::APPEAL_TEXT_BYTES_MAX),
                ));
            }
        }
        Record::AppealForwarded(forward) if forward.from == forward.to => {
            return Err(RecordError::new(Some("to"), "an appeal cannot be forwarded to the body that holds it"));
        }
        Record::DeviceEnrolled(device) => {
            decode_base64_exact("public_key", &device.public_key, 32)?;
        }
        Record::ProtocolSigned(protocol) => {
            validate_party("offender", &protocol.offender)?;
            decode_base64_exact("signature", &protocol.signature, 64)?;
        }
        Record::FineImposed(fine) => {
            match (fine.amount_mci, &fine.amount_kzt) {
                (Some(0), None) => return Err(RecordError::new(Some("amount_mci"), "must be positive")),
                (Some(_), None) => {}
                (None, Some(amount)) if amount.tiyn() > 0 => {}
                (None, Some(_)) => return Err(RecordError::new(Some("amount_kzt"), "must be positive")),
                _ => {
                    return Err(RecordError::new(
                        Some("amount_mci"),
                        "give exactly one of `amount_mci` and `amount_kzt`",
                    ))
                }
            }
            in_force_day(&fine.in_force_at).map_err(|reason| RecordError::new(Some("in_force_at"), reason))?;
        }
        Record::PaymentReceived(payment) => {
            if payment.amount_kzt.tiyn() <= 0 {
                return Err(RecordError::new(Some("amount_kzt"), "must be positive; a reversal is a separate record"));
            }
            if let Some(payer) = &payment.payer {
                validate_party("payer", payer)?;
            }
        }
        Record::AccountCreated(account) if !account.password_hash.starts_with("$argon2id$") => {
            return Err(RecordError::new(Some("password_hash"), "must be an Argon2id PHC string ($argon2id$...)"));
        }
        Record::ApiKeyIssued(key)
            if key.secret_hash.len() != 64
                || !key.secret_hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            return Err(RecordError::new(Some("secret_hash"), "must be 64 lower-case hex digits (SHA-256)"));
        }
        Record::ApiKeyIssued(key) if key.key_id.as_str().contains('.') => {
            return Err(RecordError::new(Some("key_id"), "must not contain '.' (it separates the id from the secret)"));
        }
        _ => {}
    }
    Ok(())
}

fn validate_party(field: &str, party: &Party) -> Result<(), RecordError> {
    match (&party.iin, &party.bin) {
        (Some(_), None) | (None, Some(_)) => Ok(()),
        (Some(_), Some(_)) => Err(RecordError::new(Some(field), "give either `iin` or `bin`, not both")),
        (None, None) => Err(RecordError::new(Some(field), "needs `iin` (a person) or `bin` (an organisation)")),
    }
}

/// Decodes standard base64 of an exact length.
pub fn decode_base64_exact(field: &str, text: &str, bytes: usize) -> Result<Vec<u8>, RecordError> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|error| RecordError::new(Some(field), format!("is not standard base64: {error}")))?;
    if decoded.len() != bytes {
        return Err(RecordError::new(Some(field), format!("must decode to {bytes} bytes, got {}", decoded.len())));
    }
    Ok(decoded)
}

/// The Kazakhstan local day of `in_force_at` (a date, or an instant).
pub fn in_force_day(text: &str) -> Result<NaiveDate, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|instant| casetrail_types::time::local_date(instant.with_timezone(&Utc)))
        .map_err(|_| format!("{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 instant"))
}

/// One physical line of a JSON Lines file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLine {
    /// 1-based line number in the file.
    pub line: u64,
    pub bytes: Vec<u8>,
}

/// Streams the non-blank lines of a JSON Lines input, with their numbers;
/// memory stays bounded by the longest line.
pub struct JsonLines<R> {
    reader: R,
    line: u64,
}

impl<R: BufRead> JsonLines<R> {
    pub fn new(reader: R) -> Self {
        Self { reader, line: 0 }
    }
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = std::io::Result<RawLine>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut bytes = Vec::new();
            match self.reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) => return Some(Err(error)),
            }
            self.line += 1;
            while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                bytes.pop();
            }
            if self.line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(RawLine { line: self.line, bytes }));
        }
    }
}

#[cfg(test)]
mod tests;
