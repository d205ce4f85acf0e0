//! Identifiers carried by exchange records.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest identifier accepted, in bytes.
pub const IDENT_BYTES_MAX: usize = 128;

/// An agency's slug: `a-z`, `0-9`, `-`, `_`, `.`, starting with a letter or
/// digit, at most 64 bytes (e.g. `mvd-astana`, `akimat.almaty`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencySlug(String);

/// A free identifier assigned by a source system (appeal number, case number,
/// device, officer, payment, provider, document): 1 to 128 bytes of printable
/// characters without surrounding spaces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ident(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("an agency slug must be 1–64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit; got {0:?}")]
    BadSlug(String),
    #[error("an identifier must be 1–{IDENT_BYTES_MAX} bytes of printable characters without leading or trailing spaces; got {0:?}")]
    BadIdent(String),
}

impl AgencySlug {
    pub fn parse(text: &str) -> Result<Self, IdentError> {
        let valid_start = text.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid_chars =
            text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
        if valid_start && valid_chars && text.len() <= 64 {
            Ok(Self(text.to_owned()))
        } else {
            Err(IdentError::BadSlug(text.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ident {
    pub fn parse(text: &str) -> Result<Self, IdentError> {
        let printable = text.chars().all(|c| !c.is_control());
        let trimmed = text.trim() == text;
        if !text.is_empty() && text.len() <= IDENT_BYTES_MAX && printable && trimmed {
            Ok(Self(text.to_owned()))
        } else {
            Err(IdentError::BadIdent(text.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = IdentError;
            fn try_from(text: String) -> Result<Self, IdentError> {
                Self::parse(&text)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdentError;
            fn from_str(text: &str) -> Result<Self, IdentError> {
                Self::parse(text)
            }
        }
    };
}
string_newtype_impls!(AgencySlug);
string_newtype_impls!(Ident);

impl schemars::JsonSchema for AgencySlug {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AgencySlug".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"})
    }
}

impl schemars::JsonSchema for Ident {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ident".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "minLength": 1, "maxLength": IDENT_BYTES_MAX})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["mvd-astana", "akimat.almaty", "a", "mj_2"] {
            assert!(AgencySlug::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "MVD", "mvd astana", "мвд"] {
            assert!(AgencySlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idents() {
        assert!(Ident::parse("ЖТ-2026/00017").is_ok());
        assert!(Ident::parse(" x").is_err());
        assert!(Ident::parse("").is_err());
        assert!(Ident::parse("a\nb").is_err());
        assert!(Ident::parse(&"x".repeat(IDENT_BYTES_MAX + 1)).is_err());
    }
}
