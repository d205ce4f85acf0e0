//! The three languages of the UI and of formatted output.

use std::fmt;

/// Kazakh, Russian or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Locale {
    /// Kazakh (`kk`), the state language; the default.
    #[default]
    Kk,
    /// Russian (`ru`).
    Ru,
    /// English (`en`).
    En,
}

/// A string that is not one of the supported locale codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown locale {input:?}; use one of \"kk\", \"ru\", \"en\"")]
pub struct LocaleError {
    pub input: String,
}

impl Locale {
    /// Every locale, in display order.
    pub const ALL: [Locale; 3] = [Locale::Kk, Locale::Ru, Locale::En];

    /// Parses exactly `kk`, `ru` or `en` (lower case, as in the exchange
    /// format and URLs).
    pub fn parse(s: &str) -> Result<Locale, LocaleError> {
        match s {
            "kk" => Ok(Locale::Kk),
            "ru" => Ok(Locale::Ru),
            "en" => Ok(Locale::En),
            _ => Err(LocaleError { input: s.to_owned() }),
        }
    }

    /// The two-letter code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::Kk => "kk",
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_newtype!(
    Locale,
    LocaleError,
    "Locale",
    "^(kk|ru|en)$",
    "UI language: kk (Kazakh), ru (Russian) or en (English)"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<Locale>) {
        assert_eq!(Locale::parse(input).ok(), expected, "{input}");
    }

    #[test]
    fn parse_table() {
        check("kk", Some(Locale::Kk));
        check("ru", Some(Locale::Ru));
        check("en", Some(Locale::En));
        check("KK", None);
        check("kz", None);
        check("", None);
        check(" en", None);
        check("en-US", None);
    }

    #[test]
    fn round_trip_all() {
        for l in Locale::ALL {
            assert_eq!(Locale::parse(l.as_str()), Ok(l));
            assert_eq!(l.to_string(), l.as_str());
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(serde_json::from_str::<Locale>(&json).unwrap(), l);
        }
        let err = Locale::parse("de").unwrap_err().to_string();
        assert!(err.contains("\"kk\""), "{err}");
    }
}
