//! Agencies, devices and signed protocols: the registry facts other events
//! refer to.

use casetrail_exchange::{AgencyKind, Event, LocalizedName, Record};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::RuleViolation;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgencyState {
    pub agency: String,
    pub name: LocalizedName,
    pub kind: AgencyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    pub device: String,
    pub agency: String,
    pub public_key: String,
    pub enrolled_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolState {
    pub case: String,
    pub agency: String,
    pub device: String,
    pub officer: String,
    pub article: String,
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offender: Option<String>,
    pub signed_at: DateTime<Utc>,
    pub signed_on: NaiveDate,
    /// The ledger sequence number of the `fine.protocol_signed` (set by the
    /// projector; 0 in projections made before it was kept).
    #[serde(default)]
    pub seq: u64,
}

/// An agency registration replaces the previous one (names change).
pub fn apply_agency(event: &Event) -> Option<AgencyState> {
    let Record::AgencyRegistered(agency) = &event.record else { return None };
    Some(AgencyState {
        agency: agency.agency.to_string(),
        name: agency.name.clone(),
        kind: agency.kind,
        region: agency.region.as_ref().map(ToString::to_string),
        parent: agency.parent.as_ref().map(ToString::to_string),
    })
}

pub fn apply_device(state: Option<&DeviceState>, event: &Event) -> Result<DeviceState, RuleViolation> {
    match (&event.record, state) {
        (Record::DeviceEnrolled(enrolled), None) => Ok(DeviceState {
            device: enrolled.device.to_string(),
            agency: enrolled.agency.to_string(),
            public_key: enrolled.public_key.clone(),
            enrolled_at: event.at_utc(),
            revoked_at: None,
        }),
        (Record::DeviceEnrolled(_), Some(_)) => Err(RuleViolation::new(
            "device",
            "this device is already enrolled; enrol a replacement under a new device id",
        )),
        (Record::DeviceRevoked(revoked), Some(current)) => {
            if current.agency != revoked.agency.as_str() {
                return Err(RuleViolation::new("agency", format!("the device belongs to {}", current.agency)));
            }
            let mut next = current.clone();
            next.revoked_at.get_or_insert(event.at_utc());
            Ok(next)
        }
        (Record::DeviceRevoked(_), None) => Err(RuleViolation::new("device", "no device with this id is enrolled")),
        _ => Err(RuleViolation::new("type", "not a device event")),
    }
}

pub fn apply_protocol(state: Option<&ProtocolState>, event: &Event) -> Result<ProtocolState, RuleViolation> {
    let Record::ProtocolSigned(protocol) = &event.record else {
        return Err(RuleViolation::new("type", "not a protocol event"));
    };
    if state.is_some() {
        return Err(RuleViolation::new("case", format!("a protocol for case {} is already signed", protocol.case)));
    }
    let signed_at = event.at_utc();
    Ok(ProtocolState {
        case: protocol.case.to_string(),
        agency: protocol.agency.to_string(),
        device: protocol.device.to_string(),
        officer: protocol.officer.to_string(),
        article: protocol.article.clone(),
        place: protocol.place.to_string(),
        offender: protocol.offender.number(),
        signed_at,
        signed_on: casetrail_types::time::local_date(signed_at),
        seq: 0,
    })
}

/// Checks a protocol's signature: Ed25519 over the RFC 8785 canonical JSON
/// of the whole record (type, id, at and every field, unknown ones
/// included) without its `signature` field, by the public key of a device
/// enrolled for the protocol's agency and not revoked at the protocol's `at`.
pub fn verify_protocol(device: Option<&DeviceState>, event: &Event) -> Result<(), RuleViolation> {
    use base64::Engine;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    let Record::ProtocolSigned(protocol) = &event.record else {
        return Err(RuleViolation::new("type", "not a protocol event"));
    };
    let Some(device) = device else {
        return Err(RuleViolation::new(
            "device",
            format!("unknown device {}: no device.enrolled for it; the protocol cannot be trusted", protocol.device),
        ));
    };
    if device.agency != protocol.agency.as_str() {
        return Err(RuleViolation::new(
            "device",
            format!(
                "device {} is enrolled for agency {}, not for {}; a device signs only for its own agency",
                device.device, device.agency, protocol.agency
            ),
        ));
    }
    let at = event.at_utc();
    if at < device.enrolled_at {
        return Err(RuleViolation::new(
            "device",
            format!("device {} was enrolled after the protocol's time", device.device),
        ));
    }
    if device.revoked_at.is_some_and(|revoked| revoked <= at) {
        return Err(RuleViolation::new(
            "device",
            format!(
                "device {} was revoked before the protocol's time; its signatures are no longer accepted",
                device.device
            ),
        ));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let key_bytes: [u8; 32] =
        engine.decode(&device.public_key).ok().and_then(|bytes| bytes.try_into().ok()).ok_or_else(|| {
            RuleViolation::new("device", "the device's enrolled public key is not 32 bytes of base64")
        })?;
    let key = VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| RuleViolation::new("device", "the device's enrolled public key is not a valid Ed25519 key"))?;
    let signature_bytes: [u8; 64] = engine
        .decode(&protocol.signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| RuleViolation::new("signature", "is not 64 bytes of base64"))?;
    let signature = Signature::from_bytes(&signature_bytes);
    key.verify(&signed_bytes(event)?, &signature).map_err(|_| {
        RuleViolation::new(
            "signature",
            "does not verify with the device's key: the record was altered after signing, or signed by another key",
        )
    })
}

/// The bytes a protocol's signature covers: the canonical JSON of the whole
/// record without `signature`.
pub fn signed_bytes(event: &Event) -> Result<Vec<u8>, RuleViolation> {
    let mut value: serde_json::Value = serde_json::from_slice(&event.canonical)
        .map_err(|_| RuleViolation::new("signature", "the record's canonical bytes do not parse"))?;
    if let Some(object) = value.as_object_mut() {
        object.remove("signature");
    }
    Ok(casetrail_exchange::jcs::canonical_bytes(&value))
}
