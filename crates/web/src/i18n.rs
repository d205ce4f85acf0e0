//! Every word of the UI in Kazakh, Russian and English (Project Fluent),
//! the bundles built into the binary, and per-locale dates.
//!
//! The language is the `lang` cookie (set by the switcher), else the first
//! supported language of `Accept-Language`, else Kazakh.

use std::collections::BTreeSet;

use axum::http::{header, HeaderMap};
use casetrail_types::Locale;
use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "lang";

/// One language's Fluent files: the common words and each area's pages.
macro_rules! sources {
    ($lang:literal) => {
        &[
            include_str!(concat!("../locales/", $lang, "/common.ftl")),
            include_str!(concat!("../locales/", $lang, "/admin.ftl")),
            include_str!(concat!("../locales/", $lang, "/bailiff.ftl")),
            include_str!(concat!("../locales/", $lang, "/field.ftl")),
            include_str!(concat!("../locales/", $lang, "/oversight.ftl")),
            include_str!(concat!("../locales/", $lang, "/prosecutor.ftl")),
            include_str!(concat!("../locales/", $lang, "/story.ftl")),
        ]
    };
}

/// The Fluent sources, by language.
pub const SOURCES: [(Locale, &[&str]); 3] =
    [(Locale::Kk, sources!("kk")), (Locale::Ru, sources!("ru")), (Locale::En, sources!("en"))];

pub struct I18n {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

impl Default for I18n {
    fn default() -> Self {
        Self::new()
    }
}

impl I18n {
    pub fn new() -> Self {
        let bundles = SOURCES
            .iter()
            .map(|(locale, sources)| {
                let language: unic_langid::LanguageIdentifier = locale.as_str().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![language]);
                // Plain text: no Unicode isolation marks inside HTML.
                bundle.set_use_isolating(false);
                // A syntax error or a key defined twice keeps the messages
                // that parsed; the completeness tests fail on either.
                for source in *sources {
                    let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
                    let _ = bundle.add_resource(resource);
                }
                (*locale, bundle)
            })
            .collect();
        I18n { bundles }
    }

    fn bundle(&self, locale: Locale) -> Option<&FluentBundle<FluentResource>> {
        self.bundles.iter().find(|(l, _)| *l == locale).map(|(_, b)| b)
    }

    /// The message `key` in `locale`; the key itself when missing (the
    /// completeness test makes that impossible for keys the pages use).
    pub fn t(&self, locale: Locale, key: &str) -> String {
        self.t_args(locale, key, &[])
    }

    pub fn t_args(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        let Some(bundle) = self.bundle(locale) else { return key.to_owned() };
        let Some(pattern) = bundle.get_message(key).and_then(|message| message.value()) else {
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            // A count is passed as a number, so that a message can choose
            // its plural form (`{ $days -> [one] ... *[other] ... }`);
            // anything else (identifiers with leading zeros or 20 digits
            // included) stays text, exactly as given.
            let count = value.parse::<u32>().ok().filter(|n| n.to_string() == *value);
            fluent_args.set(*name, count.map_or_else(|| FluentValue::from(value.clone()), FluentValue::from));
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned()
    }
}

/// The message ids of one Fluent source (for the completeness test).
pub fn message_ids(source: &str) -> Result<BTreeSet<String>, String> {
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| format!("Fluent syntax errors: {errors:?}"))?;
    Ok(resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect())
}

/// The language of a request.
pub fn negotiate(headers: &HeaderMap) -> Locale {
    if let Some(locale) = crate::auth::cookie(headers, LANG_COOKIE).and_then(|code| Locale::parse(&code).ok()) {
        return locale;
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut choices: Vec<(f32, Locale)> = accept
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim().to_ascii_lowercase();
            let quality =
                pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next()?;
            Locale::parse(primary).ok().map(|locale| (quality, locale))
        })
        .collect();
    choices.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    choices.first().map(|(_, locale)| *locale).unwrap_or_default()
}

const MONTHS_KK: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];
const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as people write it: `2026 жылғы 2 наурыз`, `2 марта 2026 г.`,
/// `2 March 2026`.
pub fn format_date(locale: Locale, date: NaiveDate) -> String {
    let month = date.month0() as usize;
    match locale {
        Locale::Kk => format!("{} жылғы {} {}", date.year(), date.day(), MONTHS_KK[month]),
        Locale::Ru => format!("{} {} {} г.", date.day(), MONTHS_RU[month], date.year()),
        Locale::En => format!("{} {} {}", date.day(), MONTHS_EN[month], date.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message id of one language, failing on a key defined twice.
    fn ids_of(locale: Locale, sources: &[&str]) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for source in sources {
            for id in message_ids(source).unwrap() {
                assert!(all.insert(id.clone()), "{locale}: the key {id} is defined twice");
            }
        }
        all
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let sets: Vec<(Locale, BTreeSet<String>)> =
            SOURCES.iter().map(|(locale, sources)| (*locale, ids_of(*locale, sources))).collect();
        let all: BTreeSet<String> = sets.iter().flat_map(|(_, ids)| ids.iter().cloned()).collect();
        for (locale, ids) in &sets {
            let missing: Vec<&String> = all.difference(ids).collect();
            assert!(missing.is_empty(), "locales/{locale}/ lacks {missing:?}");
        }
    }

    #[test]
    fn every_key_the_templates_and_code_use_exists() {
        let ids = ids_of(SOURCES[2].0, SOURCES[2].1);
        let sources = crate::pages::translated_sources();
        let mut used = BTreeSet::new();
        for source in sources {
            let pieces = [".t(\"", ".t_args(\"", ".t_arg(\""].into_iter().flat_map(|call| source.split(call).skip(1));
            for piece in pieces {
                if let Some(key) = piece.split('"').next() {
                    used.insert(key.to_owned());
                }
            }
        }
        assert!(used.len() > 30, "found only {} keys: is the scan broken?", used.len());
        let missing: Vec<&String> = used.iter().filter(|key| !ids.contains(*key)).collect();
        assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
    }

    #[test]
    fn every_role_has_a_name_in_every_language() {
        let i18n = I18n::new();
        for role in casetrail_exchange::AccountRole::ALL {
            let key = format!("role-{}", crate::auth::role_name(role));
            for (locale, _) in SOURCES {
                assert_ne!(i18n.t(locale, &key), key, "{locale} lacks {key}");
            }
        }
    }

    #[test]
    fn language_from_cookie_then_accept_language_then_kazakh() {
        let mut headers = HeaderMap::new();
        assert_eq!(negotiate(&headers), Locale::Kk);
        headers.insert(header::ACCEPT_LANGUAGE, "de-DE, ru;q=0.8, en;q=0.9".parse().unwrap());
        assert_eq!(negotiate(&headers), Locale::En);
        headers.insert(header::COOKIE, "x=1; lang=ru".parse().unwrap());
        assert_eq!(negotiate(&headers), Locale::Ru);
    }

    #[test]
    fn translations_fill_arguments() {
        let i18n = I18n::new();
        let text = i18n.t_args(Locale::En, "action-done", &[("seq", "42".into())]);
        assert_eq!(text, "Recorded as event 42.");
        assert_eq!(format_date(Locale::Ru, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()), "2 марта 2026 г.");
    }

    #[test]
    fn counts_choose_their_plural_form() {
        let i18n = I18n::new();
        let days = |locale, n: &str| i18n.t_args(locale, "chart-working-days", &[("days", n.into())]);
        assert_eq!(days(Locale::En, "1"), "1 working day");
        assert_eq!(days(Locale::En, "21"), "21 working days");
        assert_eq!(days(Locale::Kk, "1"), "1 жұмыс күні");
        let events = |n: &str| i18n.t_args(Locale::Ru, "receipt-events", &[("count", n.into())]);
        assert_eq!(events("1"), "1 событие");
        assert_eq!(events("3"), "3 события");
        assert_eq!(events("11"), "11 событий");
        assert_eq!(events("21"), "21 событие");
        // Identifiers are text, never numbers: leading zeros and all 20
        // digits of a UIN survive.
        let uin = "00000000000000000014";
        assert_eq!(i18n.t_args(Locale::En, "bailiff-refer-one", &[("uin", uin.into())]), format!("Refer charge {uin}"));
    }
}
