//! Payment apps' webhooks: the signature check (pure) and the body.
//!
//! A provider signs each request with its own secret:
//! `X-Casetrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! [`verify`] accepts it only when the MAC matches (compared in constant
//! time) and `t` is within [`TOLERANCE_SECS`] of now, in either direction:
//! a captured request cannot be replayed later, and the web layer also
//! refuses a second request with the same (provider, payment id).

use std::collections::BTreeMap;
use std::path::Path;

use casetrail_exchange::{Event, Ident, Party, PaymentReceived, Record, RecordError};
use casetrail_types::{Bin, Iin, Money};
use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};

/// How far `t` may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 300;
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Casetrail-Signature";

/// Why a webhook request is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signing secret is configured for provider {0:?}")]
    UnknownProvider(String),
    #[error("the signature header is malformed: expected t=<unix seconds>,v1=<hex HMAC-SHA256>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the signature is {0} s old; requests older than {TOLERANCE_SECS} s are refused (replay)")]
    Stale(i64),
    #[error("the signature is dated {0} s in the future; check the sender's clock")]
    Future(i64),
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Equal in constant time (for equal lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The header value for a body (what a provider sends; also for tests).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(hmac_sha256(secret, &signed_payload(timestamp, body))))
}

fn signed_payload(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut payload = format!("{timestamp}.").into_bytes();
    payload.extend_from_slice(body);
    payload
}

/// Checks a request of `provider` at `now` (Unix seconds).
pub fn verify(secrets: &Secrets, provider: &str, header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let secret = secrets.get(provider).ok_or_else(|| SignatureError::UnknownProvider(provider.to_owned()))?;
    let mut timestamp = None;
    let mut macs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", value)) => macs.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let (Some(timestamp), false) = (timestamp, macs.is_empty()) else { return Err(SignatureError::Malformed) };
    let expected = hmac_sha256(secret.as_bytes(), &signed_payload(timestamp, body));
    // Every v1 is compared (a provider rotating its secret may send two).
    let matched = macs.iter().fold(false, |found, mac| found | constant_time_eq(mac, &expected));
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let age = now.saturating_sub(timestamp);
    if age > TOLERANCE_SECS {
        return Err(SignatureError::Stale(age));
    }
    if -age > TOLERANCE_SECS {
        return Err(SignatureError::Future(-age));
    }
    Ok(())
}

/// The providers' secrets, by provider.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.debug_tuple("Secrets").field(&self.0.keys().collect::<Vec<_>>()).finish()
    }
}

impl Secrets {
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(secrets.into_iter().collect())
    }

    pub fn get(&self, provider: &str) -> Option<&str> {
        self.0.get(provider).map(String::as_str)
    }

    pub fn providers(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Parses TOML `provider = "secret"` lines.
    pub fn parse_toml(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|error| format!("not valid TOML: {error}"))?;
        let mut secrets = BTreeMap::new();
        for (provider, value) in table {
            let Some(secret) = value.as_str() else {
                return Err(format!("provider {provider:?}: the secret must be a string"));
            };
            if secret.len() < 16 {
                return Err(format!("provider {provider:?}: the secret is shorter than 16 bytes"));
            }
            Ident::parse(&provider).map_err(|error| format!("provider {provider:?}: {error}"))?;
            secrets.insert(provider, secret.to_owned());
        }
        Ok(Self(secrets))
    }

    /// Loads the secrets file; refused unless only its owner may read it
    /// (mode 0600 or stricter).
    pub fn load(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{shown} is readable by others (mode {mode:o}); run `chmod 600 {shown}` so only its owner can read the secrets"
                ));
            }
        }
        #[cfg(not(unix))]
        let _ = metadata;
        let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        Self::parse_toml(&text).map_err(|error| format!("{shown}: {error}"))
    }
}

/// The body a payment app posts: one payment.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPayment {
    /// The app's own id of the payment.
    pub payment: String,
    /// RFC 3339 instant of the payment.
    pub at: String,
    /// Decimal string in tenge, e.g. "17300.00".
    pub amount_kzt: String,
    #[serde(default)]
    pub uin: Option<String>,
    /// The payer's IIN or BIN.
    #[serde(default)]
    pub payer: Option<String>,
}

/// The `payment.received` event of a verified body; its id is
/// `<provider>:<payment>`, so a second delivery is a duplicate.
pub fn payment_event(provider: &str, body: &[u8]) -> Result<Event, RecordError> {
    let payment: WebhookPayment =
        serde_json::from_slice(body).map_err(|error| RecordError::new(None, format!("not a payment: {error}")))?;
    let at: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(&payment.at)
        .map_err(|_| RecordError::new(Some("at"), "must be an RFC 3339 instant with offset"))?;
    let amount =
        Money::parse(&payment.amount_kzt).map_err(|error| RecordError::new(Some("amount_kzt"), error.to_string()))?;
    let payer = match payment.payer.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(number) => Some(match (Iin::parse(number), Bin::parse(number)) {
            (Ok(iin), _) => Party { iin: Some(iin), bin: None, name: None },
            (_, Ok(bin)) => Party { iin: None, bin: Some(bin), name: None },
            _ => return Err(RecordError::new(Some("payer"), "is neither a valid IIN nor a valid BIN")),
        }),
    };
    let ident =
        |field: &str, text: &str| Ident::parse(text).map_err(|error| RecordError::new(Some(field), error.to_string()));
    let record = Record::PaymentReceived(PaymentReceived {
        payment: ident("payment", &payment.payment)?,
        provider: ident("provider", provider)?,
        uin: payment.uin.filter(|uin| !uin.trim().is_empty()),
        payer,
        amount_kzt: amount,
    });
    Event::new(Some(ident("payment", &format!("{provider}:{}", payment.payment))?), at, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_430_000;

    /// (name, provider, header, body, expected)
    type Case<'a> = (&'a str, &'a str, String, &'a [u8], Result<(), SignatureError>);

    fn secrets() -> Secrets {
        Secrets::new([("kaspi".to_owned(), "kaspi-secret-0123456789".to_owned())])
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn signatures_table() {
        let body = br#"{"payment":"K-1","at":"2026-03-02T10:15:00+05:00","amount_kzt":"17300.00"}"#;
        let good = sign(b"kaspi-secret-0123456789", NOW, body);
        let cases: Vec<Case> = vec![
            ("good signature", "kaspi", good.clone(), body, Ok(())),
            ("good, 299 s old", "kaspi", sign(b"kaspi-secret-0123456789", NOW - 299, body), body, Ok(())),
            ("bad signature", "kaspi", sign(b"another-secret-0123456", NOW, body), body, Err(SignatureError::Mismatch)),
            ("altered body", "kaspi", good.clone(), b"{\"payment\":\"K-2\"}", Err(SignatureError::Mismatch)),
            (
                "altered timestamp",
                "kaspi",
                good.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1)),
                body,
                Err(SignatureError::Mismatch),
            ),
            (
                "stale",
                "kaspi",
                sign(b"kaspi-secret-0123456789", NOW - 301, body),
                body,
                Err(SignatureError::Stale(301)),
            ),
            (
                "future",
                "kaspi",
                sign(b"kaspi-secret-0123456789", NOW + 600, body),
                body,
                Err(SignatureError::Future(600)),
            ),
            ("wrong provider", "halyk", good.clone(), body, Err(SignatureError::UnknownProvider("halyk".into()))),
            ("malformed", "kaspi", "v1=00".into(), body, Err(SignatureError::Malformed)),
            ("not hex", "kaspi", format!("t={NOW},v1=zz"), body, Err(SignatureError::Malformed)),
        ];
        for (name, provider, header, body, expected) in cases {
            assert_eq!(verify(&secrets(), provider, &header, body, NOW), expected, "{name}");
        }
    }

    #[test]
    fn secrets_file_must_be_private_and_valid() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("secrets.toml");
        std::fs::write(&path, "kaspi = \"kaspi-secret-0123456789\"\n").unwrap_or_else(|error| panic!("{error}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap_or_else(|e| panic!("{e}"));
            assert!(Secrets::load(&path).is_err_and(|error| error.contains("chmod 600")));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap_or_else(|e| panic!("{e}"));
        }
        let secrets = Secrets::load(&path).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(secrets.get("kaspi"), Some("kaspi-secret-0123456789"));
        assert!(!format!("{secrets:?}").contains("secret-0123"), "Debug never shows a secret");
        assert!(Secrets::parse_toml("kaspi = \"short\"").is_err());
        assert!(Secrets::parse_toml("kaspi = 5").is_err());
    }

    #[test]
    fn body_becomes_a_payment() {
        let body = br#"{"payment":"K-1","at":"2026-03-02T10:15:00+05:00","amount_kzt":"17300.00","uin":"10000000000000000014","payer":"850808310738"}"#;
        let event = payment_event("kaspi", body).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(event.record_type(), "payment.received");
        assert_eq!(event.idempotency_key(), "kaspi:K-1");
        assert!(payment_event("kaspi", br#"{"payment":"K-1"}"#).is_err());
        assert!(payment_event("kaspi", br#"{"payment":"K-1","at":"x","amount_kzt":"1"}"#).is_err());
    }
}
