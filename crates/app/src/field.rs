//! The field device (`casetrail field`): a police tablet that keeps its own
//! Ed25519 key, signs protocols, queues them while offline and syncs them
//! into the ledger when the server is reachable. `docs/field.md` describes
//! the files, the UIN scheme and the payment code.
//!
//! Everything that decides (the signed bytes, the amount, the discount
//! deadline) is the domain's: the device builds the records with
//! `Event::new`, signs `registry::signed_bytes` and computes the charge with
//! `charge::apply`, exactly as the server will.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use casetrail_domain::{charge, registry};
use casetrail_exchange::{
    parse_record, AgencySlug, DeviceEnrolled, Event, FineImposed, Ident, Party, ProtocolSigned, Record,
};
use casetrail_ledger::keys;
use casetrail_types::{Iin, Kato, Money, Uin};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, Timelike, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

use crate::{AppError, Incoming, Ledger};

/// The device's settings and counter.
pub const CONFIG_FILE: &str = "device.json";
/// The device's Ed25519 secret seed (hex), mode 0600.
pub const KEY_FILE: &str = "device.key";
/// Records waiting to be synced, one exchange-format line each.
pub const QUEUE_FILE: &str = "queue.jsonl";
/// Records already synced (appended after each successful sync).
pub const SENT_FILE: &str = "sent.jsonl";
/// The `device.enrolled` record the administrator imports.
pub const ENROLMENT_FILE: &str = "enrolment.jsonl";
/// Payment codes as SVG, one file per UIN.
pub const CODES_DIR: &str = "codes";

/// Field UINs start with this digit; the simulator's and the bulk sources'
/// serials start with a year (1…2), so they never meet.
const FIELD_UIN_PREFIX: u64 = 9;
/// Device numbers are 8 digits, counters 10 digits.
pub const DEVICE_NUMBER_MAX: u32 = 99_999_999;
pub const DEVICE_COUNTER_MAX: u64 = 9_999_999_999;
/// Calendar days after the protocol's day on which the decision enters into
/// force when nobody appeals (the device cannot know of an appeal).
pub const IN_FORCE_AFTER_DAYS: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error("{dir} already holds a device ({CONFIG_FILE}); a device is initialised once")]
    AlreadyInitialised { dir: String },
    #[error("{dir} holds no device: run `casetrail field init --dir {dir}` first")]
    NotInitialised { dir: String },
    #[error("cannot {action} {path}: {error}")]
    Io { action: &'static str, path: String, error: std::io::Error },
    #[error("{path} is damaged: {reason}")]
    Damaged { path: String, reason: String },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// The device's settings, kept in `device.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    pub device: String,
    pub agency: String,
    /// The administrator-assigned device number (1 ..= 99,999,999), unique
    /// across casetrail: it makes the device's UINs its own.
    pub number: u32,
    /// Ed25519 public key, standard base64.
    pub public_key: String,
    /// The counter the next protocol takes.
    pub next_counter: u64,
}

/// What an officer enters for a protocol.
#[derive(Clone, Debug)]
pub struct ProtocolInput {
    pub case: String,
    pub officer: String,
    pub offender_iin: String,
    pub article: String,
    pub place: String,
    pub amount_mci: u32,
    pub short_procedure: bool,
    /// When it is signed (the edge passes the clock).
    pub at: DateTime<Utc>,
}

/// What to pay, to show the offender on the spot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentCode {
    pub case: String,
    pub uin: String,
    /// The full fine, decimal tenge.
    pub amount_kzt: String,
    /// What pays the fine now: the discounted share inside the short-procedure
    /// window, else the full fine.
    pub pay_kzt: String,
    /// The last day `pay_kzt` is enough (short procedure only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_until: Option<NaiveDate>,
    /// The QR code's text (`docs/field.md`).
    pub payload: String,
}

/// A field device living in a directory.
pub struct FieldDevice {
    dir: PathBuf,
    config: DeviceConfig,
    key: SigningKey,
}

/// The UIN of a device's `counter`-th protocol: `9`, the device number in 8
/// digits and the counter in 10 digits, then the check digit.
pub fn field_uin(number: u32, counter: u64) -> Result<Uin, FieldError> {
    if number == 0 || number > DEVICE_NUMBER_MAX {
        return Err(FieldError::Invalid { field: "number", reason: format!("must be 1 ..= {DEVICE_NUMBER_MAX}") });
    }
    if counter > DEVICE_COUNTER_MAX {
        return Err(FieldError::Invalid {
            field: "counter",
            reason: "the device has used all its UINs; enrol a new device".into(),
        });
    }
    let serial = FIELD_UIN_PREFIX * 10u64.pow(18) + u64::from(number) * 10u64.pow(10) + counter;
    Uin::from_serial(serial).map_err(|error| FieldError::Invalid { field: "uin", reason: error.to_string() })
}

impl FieldDevice {
    /// Creates the device in `dir`: its key (0600), its settings, and the
    /// `device.enrolled` record for the administrator (returned and written
    /// to `enrolment.jsonl`).
    pub fn init(
        dir: &Path,
        device: &str,
        agency: &str,
        number: u32,
        at: DateTime<Utc>,
    ) -> Result<(FieldDevice, Event), FieldError> {
        let config_path = dir.join(CONFIG_FILE);
        if config_path.exists() || dir.join(KEY_FILE).exists() {
            return Err(FieldError::AlreadyInitialised { dir: dir.display().to_string() });
        }
        field_uin(number, 0)?;
        let device_id = ident("device", device)?;
        let agency_slug = AgencySlug::parse(agency)
            .map_err(|error| FieldError::Invalid { field: "agency", reason: error.to_string() })?;
        fs::create_dir_all(dir).map_err(io("create", dir))?;
        let key = keys::load_or_create(&dir.join(KEY_FILE))?;
        let public_key = BASE64.encode(key.verifying_key().to_bytes());
        let config = DeviceConfig {
            device: device.to_owned(),
            agency: agency.to_owned(),
            number,
            public_key: public_key.clone(),
            next_counter: 1,
        };
        let enrolled = Event::new(
            Some(ident("device", &format!("enrol-{device}"))?),
            kz_instant(at),
            Record::DeviceEnrolled(DeviceEnrolled { device: device_id, agency: agency_slug, public_key }),
        )
        .map_err(|error| FieldError::Invalid { field: "device", reason: error.to_string() })?;
        let device = FieldDevice { dir: dir.to_owned(), config, key };
        device.save_config()?;
        write_file(&dir.join(ENROLMENT_FILE), &enrolled.to_line())?;
        Ok((device, enrolled))
    }

    /// Opens the device in `dir`.
    pub fn open(dir: &Path) -> Result<FieldDevice, FieldError> {
        let config_path = dir.join(CONFIG_FILE);
        let text = match fs::read_to_string(&config_path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(FieldError::NotInitialised { dir: dir.display().to_string() })
            }
            Err(error) => return Err(io("read", &config_path)(error)),
        };
        let config: DeviceConfig = serde_json::from_str(&text).map_err(|error| FieldError::Damaged {
            path: config_path.display().to_string(),
            reason: error.to_string(),
        })?;
        let key = keys::load_or_create(&dir.join(KEY_FILE))?;
        if BASE64.encode(key.verifying_key().to_bytes()) != config.public_key {
            return Err(FieldError::Damaged {
                path: dir.join(KEY_FILE).display().to_string(),
                reason: "the key does not match the public key the device was enrolled with".into(),
            });
        }
        Ok(FieldDevice { dir: dir.to_owned(), config, key })
    }

    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// The ledger source the device's records are imported under.
    pub fn source(&self) -> String {
        format!("device:{}", self.config.device)
    }

    /// Signs a protocol and its `fine.imposed`, queues both, and returns the
    /// payment code. The counter is saved before the records are queued, so
    /// a UIN is never used twice even if the device dies in between.
    pub fn protocol(&mut self, input: &ProtocolInput) -> Result<(Vec<Event>, PaymentCode), FieldError> {
        let counter = self.config.next_counter;
        let uin = field_uin(self.config.number, counter)?;
        let at = kz_instant(input.at);
        let mut protocol = ProtocolSigned {
            case: ident("case", &input.case)?,
            agency: AgencySlug::parse(&self.config.agency)
                .map_err(|error| FieldError::Invalid { field: "agency", reason: error.to_string() })?,
            officer: ident("officer", &input.officer)?,
            device: ident("device", &self.config.device)?,
            offender: Party {
                iin: Some(
                    Iin::parse(&input.offender_iin)
                        .map_err(|error| FieldError::Invalid { field: "offender-iin", reason: error.to_string() })?,
                ),
                bin: None,
                name: None,
            },
            article: input.article.clone(),
            place: Kato::parse(&input.place)
                .map_err(|error| FieldError::Invalid { field: "place", reason: error.to_string() })?,
            signature: BASE64.encode([0u8; 64]),
        };
        let protocol_id = ident("id", &format!("protocol-{counter}"))?;
        // Sign the canonical bytes of the whole record without `signature`.
        let unsigned = event(Some(protocol_id.clone()), at, Record::ProtocolSigned(protocol.clone()))?;
        let message = registry::signed_bytes(&unsigned)
            .map_err(|violation| FieldError::Invalid { field: "signature", reason: violation.reason })?;
        protocol.signature = BASE64.encode(self.key.sign(&message).to_bytes());
        let signed = event(Some(protocol_id), at, Record::ProtocolSigned(protocol))?;

        let signed_on = casetrail_types::local_date(input.at);
        let in_force = signed_on
            .checked_add_days(Days::new(IN_FORCE_AFTER_DAYS))
            .ok_or_else(|| FieldError::Invalid { field: "at", reason: "the date is out of range".into() })?;
        let imposed = event(
            Some(ident("id", &format!("fine-{counter}"))?),
            at,
            Record::FineImposed(FineImposed {
                case: ident("case", &input.case)?,
                uin,
                amount_mci: Some(input.amount_mci),
                amount_kzt: None,
                in_force_at: in_force.format("%Y-%m-%d").to_string(),
                short_procedure: input.short_procedure,
            }),
        )?;
        let code = self.check_and_price(&signed, &imposed)?;

        self.config.next_counter = counter + 1;
        self.save_config()?;
        let mut lines = signed.to_line();
        lines.extend_from_slice(&imposed.to_line());
        append_file(&self.dir.join(QUEUE_FILE), &lines)?;
        Ok((vec![signed, imposed], code))
    }

    /// The domain's own verdict on the pair before it is queued: the
    /// signature verifies with this device's key, and the charge's amount
    /// and discount window.
    fn check_and_price(&self, protocol: &Event, imposed: &Event) -> Result<PaymentCode, FieldError> {
        let device = registry::DeviceState {
            device: self.config.device.clone(),
            agency: self.config.agency.clone(),
            public_key: self.config.public_key.clone(),
            enrolled_at: protocol.at_utc(),
            revoked_at: None,
        };
        let rule = |violation: casetrail_domain::RuleViolation| FieldError::Invalid {
            field: violation.field.unwrap_or("record"),
            reason: violation.reason,
        };
        registry::verify_protocol(Some(&device), protocol).map_err(rule)?;
        let protocol_state = registry::apply_protocol(None, protocol).map_err(rule)?;
        let charge = charge::apply(None, Some(&protocol_state), imposed, 0).map_err(rule)?;
        Ok(payment_code(&charge, protocol_state.signed_on))
    }

    /// The queued lines.
    pub fn queued(&self) -> Result<Vec<Vec<u8>>, FieldError> {
        read_lines(&self.dir.join(QUEUE_FILE))
    }

    /// Imports the queue into `ledger` (source `device:<id>`). The queue is
    /// emptied (moved to `sent.jsonl`) only after the import committed; a
    /// failed sync leaves it as it was. Re-syncing a line already in the
    /// ledger is a duplicate: nothing changes.
    pub fn sync(&self, ledger: &mut Ledger) -> Result<SyncReport, FieldError> {
        let lines = self.queued()?;
        let source = self.source();
        let incoming: Vec<Incoming> = lines
            .iter()
            .enumerate()
            .map(|(i, raw)| Incoming { line: Some(i as u64 + 1), raw: raw.clone(), parsed: parse_record(raw) })
            .collect();
        let keys: Vec<Option<String>> =
            incoming.iter().map(|line| line.parsed.as_ref().ok().map(Event::idempotency_key)).collect();
        let summary = ledger.import(&source, incoming.into_iter(), |_| {})?;
        let stored = {
            let lookup: Vec<(&str, &str)> = keys.iter().flatten().map(|key| (source.as_str(), key.as_str())).collect();
            // A write transaction only for its lookup; dropped, it rolls back.
            let mut tx = ledger.store().begin().map_err(AppError::from)?;
            tx.existing_keys(&lookup).map_err(AppError::from)?
        };
        let mut report = SyncReport {
            accepted: summary.accepted,
            duplicates: summary.duplicates,
            quarantined: summary.quarantined,
            ..SyncReport::default()
        };
        let mut pending_protocol: Option<(Event, Option<u64>)> = None;
        for (raw, key) in lines.iter().zip(&keys) {
            let seq = key.as_ref().and_then(|key| stored.get(&(source.clone(), key.clone())).copied());
            let Ok(event) = parse_record(raw) else { continue };
            match &event.record {
                Record::ProtocolSigned(_) => pending_protocol = Some((event, seq)),
                Record::FineImposed(_) => {
                    if let Some((protocol, protocol_seq)) = pending_protocol.take() {
                        let code = self.check_and_price(&protocol, &event)?;
                        report.protocols.push(SyncedProtocol { code, protocol_seq, fine_seq: seq });
                    }
                }
                _ => {}
            }
        }
        if !lines.is_empty() {
            let mut all = Vec::new();
            for line in &lines {
                all.extend_from_slice(line);
                all.push(b'\n');
            }
            append_file(&self.dir.join(SENT_FILE), &all)?;
            write_file(&self.dir.join(QUEUE_FILE), b"")?;
        }
        Ok(report)
    }

    fn save_config(&self) -> Result<(), FieldError> {
        let path = self.dir.join(CONFIG_FILE);
        let mut text = serde_json::to_vec_pretty(&self.config)
            .map_err(|error| FieldError::Damaged { path: path.display().to_string(), reason: error.to_string() })?;
        text.push(b'\n');
        write_file(&path, &text)
    }
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub protocols: Vec<SyncedProtocol>,
}

/// A protocol the sync carried, with where it landed (`None`: quarantined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedProtocol {
    pub code: PaymentCode,
    pub protocol_seq: Option<u64>,
    pub fine_seq: Option<u64>,
}

/// The payment code of a charge as imposed on `day` (the protocol's day).
pub fn payment_code(charge: &charge::ChargeState, day: NaiveDate) -> PaymentCode {
    let full = charge.amount();
    let pay = charge.owed_now_on(day);
    let pay_until = charge.discount_until.filter(|_| pay != full);
    PaymentCode {
        case: charge.case.clone(),
        uin: charge.uin.clone(),
        amount_kzt: full.to_decimal_string(),
        pay_kzt: pay.to_decimal_string(),
        pay_until,
        payload: payment_payload(&charge.uin, pay, pay_until, full),
    }
}

/// `casetrail:pay?uin=U&amount=A` and, inside a discount window,
/// `&until=YYYY-MM-DD&full=F` (amounts in decimal tenge).
pub fn payment_payload(uin: &str, pay: Money, until: Option<NaiveDate>, full: Money) -> String {
    let mut payload = format!("casetrail:pay?uin={uin}&amount={}", pay.to_decimal_string());
    if let Some(until) = until {
        payload.push_str(&format!("&until={}&full={}", until.format("%Y-%m-%d"), full.to_decimal_string()));
    }
    payload
}

/// An instant in Kazakhstan's civil time, whole seconds.
fn kz_instant(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let at = at.with_nanosecond(0).unwrap_or(at);
    at.with_timezone(&casetrail_types::kz_offset_at(at))
}

fn event(id: Option<Ident>, at: DateTime<FixedOffset>, record: Record) -> Result<Event, FieldError> {
    Event::new(id, at, record).map_err(|error| FieldError::Invalid { field: "record", reason: error.to_string() })
}

fn ident(field: &'static str, text: &str) -> Result<Ident, FieldError> {
    Ident::parse(text).map_err(|error| FieldError::Invalid { field, reason: error.to_string() })
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> FieldError + 'a {
    move |error| FieldError::Io { action, path: path.display().to_string(), error }
}

fn read_lines(path: &Path) -> Result<Vec<Vec<u8>>, FieldError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io("read", path)(error)),
    };
    let mut lines = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(io("read", path))?;
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push(line);
        }
    }
    Ok(lines)
}

fn append_file(path: &Path, bytes: &[u8]) -> Result<(), FieldError> {
    let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(io("open", path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io("write", path))
}

/// Writes a whole file through a temporary file and a rename.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FieldError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = File::create(&temporary).map_err(io("create", &temporary))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io("write", &temporary))?;
    fs::rename(&temporary, path).map_err(io("replace", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_uins_are_the_device_number_and_counter() {
        let uin = field_uin(12, 345).expect("uin").to_string();
        assert_eq!(&uin[..19], "9000000120000000345");
        assert_ne!(field_uin(12, 345).expect("uin"), field_uin(13, 345).expect("uin"));
        assert!(field_uin(0, 1).is_err());
        assert!(field_uin(DEVICE_NUMBER_MAX + 1, 1).is_err());
        assert!(field_uin(1, DEVICE_COUNTER_MAX + 1).is_err());
        assert!(field_uin(DEVICE_NUMBER_MAX, DEVICE_COUNTER_MAX).is_ok());
    }
}
