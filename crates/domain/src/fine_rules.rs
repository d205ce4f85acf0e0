//! The rules for fines as data (`data/rules/fines.toml`, embedded at build
//! time, versioned by the day each took effect): the short-procedure
//! discount, the voluntary term, the art. 888 limits and the private
//! bailiff's fee scale.

use std::sync::OnceLock;

use casetrail_types::mci::Mci;
use casetrail_types::Money;
use chrono::NaiveDate;
use serde::Deserialize;

const FINES_TOML: &str = include_str!("../../../data/rules/fines.toml");

/// Terms of the Code of Administrative Offences in force from `from`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Terms {
    #[serde(deserialize_with = "date")]
    pub from: NaiveDate,
    /// A short-procedure payment on or before this working day after the
    /// protocol's day pays the discounted share.
    pub discount_working_days: u32,
    /// The share a short-procedure payment pays, in basis points (5000 = 50 %).
    pub discount_pays_bp: u32,
    /// The voluntary term ends on this calendar day after entry into force.
    pub voluntary_days: u32,
    pub deferral_months_max: u32,
    pub instalments_months_max: u32,
    pub instalments_count_max: usize,
}

/// One band of the bailiff's fee scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct FeeBand {
    /// Upper bound (included) in MCI; `None` for the last band.
    #[serde(default)]
    pub up_to_mci: Option<u32>,
    pub fee_bp: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FeeScale {
    #[serde(deserialize_with = "date")]
    pub from: NaiveDate,
    pub fee_cap_mci: u32,
    pub bands: Vec<FeeBand>,
}

#[derive(Debug, Deserialize)]
struct RulesFile {
    terms: Vec<Terms>,
    bailiff_fee: Vec<FeeScale>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("data/rules/fines.toml is invalid: {0}")]
    Data(String),
    #[error("no fine rules are known for {0}; add the version in force then to data/rules/fines.toml")]
    Before(NaiveDate),
    #[error("the MCI for {date} is unknown: {reason}")]
    Mci { date: NaiveDate, reason: String },
    #[error("the amount overflows")]
    Overflow,
}

fn date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(serde::de::Error::custom)
}

fn rules() -> Result<&'static RulesFile, RulesError> {
    static RULES: OnceLock<Result<RulesFile, String>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let mut file: RulesFile = toml::from_str(FINES_TOML).map_err(|error| error.to_string())?;
            file.terms.sort_by_key(|terms| terms.from);
            file.bailiff_fee.sort_by_key(|scale| scale.from);
            if file.bailiff_fee.iter().any(|scale| scale.bands.last().is_none_or(|band| band.up_to_mci.is_some())) {
                return Err("every bailiff fee scale needs a last band without `up_to_mci`".to_owned());
            }
            Ok(file)
        })
        .as_ref()
        .map_err(|error| RulesError::Data(error.clone()))
}

/// The terms in force on `day`.
pub fn terms_on(day: NaiveDate) -> Result<&'static Terms, RulesError> {
    rules()?.terms.iter().rev().find(|terms| terms.from <= day).ok_or(RulesError::Before(day))
}

/// The bailiff fee scale in force on `day`.
pub fn fee_scale_on(day: NaiveDate) -> Result<&'static FeeScale, RulesError> {
    rules()?.bailiff_fee.iter().rev().find(|scale| scale.from <= day).ok_or(RulesError::Before(day))
}

/// The private bailiff's fee for recovering `amount` on a referral made on
/// `referred_on`: the band's percentage of the whole amount, the bands in
/// MCI at the MCI in force that day, the fee capped at `fee_cap_mci` MCI.
pub fn bailiff_fee(amount: Money, referred_on: NaiveDate) -> Result<Money, RulesError> {
    let scale = fee_scale_on(referred_on)?;
    let mci = Mci::table()
        .value_on(referred_on)
        .map_err(|error| RulesError::Mci { date: referred_on, reason: error.to_string() })?
        .tenge;
    fee_by_scale(scale, mci, amount)
}

/// [`bailiff_fee`] with the scale and the MCI given (for tests and tables).
pub fn fee_by_scale(scale: &FeeScale, mci: Money, amount: Money) -> Result<Money, RulesError> {
    let bound = |count: u32| mci.checked_mul_int(i64::from(count)).ok_or(RulesError::Overflow);
    let mut fee_bp = None;
    for band in &scale.bands {
        match band.up_to_mci {
            Some(up_to) if amount.tiyn() > bound(up_to)?.tiyn() => continue,
            _ => {
                fee_bp = Some(band.fee_bp);
                break;
            }
        }
    }
    let fee_bp = fee_bp.ok_or_else(|| RulesError::Data("the fee scale has no band for the amount".to_owned()))?;
    let fee = amount.percent_of(fee_bp).ok_or(RulesError::Overflow)?;
    let cap = bound(scale.fee_cap_mci)?;
    Ok(if fee.tiyn() > cap.tiyn() { cap } else { fee })
}
