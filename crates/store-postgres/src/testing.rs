//! Throw-away databases for the workspace's PostgreSQL tests.
//!
//! The server is named by `CASETRAIL_TEST_PG` (an admin URL, default
//! [`DEFAULT_ADMIN_URL`]). Each test gets its own database, dropped when the
//! guard is. A server that cannot be reached is a failure, never a skip: run
//! the tests with `scripts/test`, which provisions PostgreSQL.
//!
//! These helpers panic on failure: they are for tests only.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

use crate::{describe, PgStore};

/// The environment variable naming the admin URL of the test server.
pub const ADMIN_URL_VAR: &str = "CASETRAIL_TEST_PG";

/// The admin URL used when `CASETRAIL_TEST_PG` is unset.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The admin URL of the test server.
pub fn admin_url() -> String {
    match std::env::var(ADMIN_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => DEFAULT_ADMIN_URL.to_owned(),
    }
}

/// A connection to the test server's admin database; panics, saying how to
/// provision PostgreSQL, when it cannot be reached.
pub fn admin_client() -> Client {
    connect_admin(&admin_url())
}

fn connect_admin(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|error| {
        panic!(
            "cannot reach the test PostgreSQL server ({ADMIN_URL_VAR}={}): {}\n\
             Run the tests with scripts/test, which provisions PostgreSQL \
             (or point {ADMIN_URL_VAR} at a server you run).",
            redact(url),
            describe(&error)
        )
    })
}

/// A fresh, migrated database and a store connected to it. Keep the guard
/// alive as long as the store: dropping it drops the database.
pub fn fresh_database() -> (PgStore, TestDatabase) {
    let database = TestDatabase::new();
    let store = database.store();
    (store, database)
}

/// A uniquely named database on the test server, dropped (`WITH (FORCE)`,
/// closing connections still open) when this guard is dropped.
pub struct TestDatabase {
    admin: Client,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database (not migrated: [`TestDatabase::store`] or
    /// [`PgStore::connect`] migrates it).
    pub fn new() -> Self {
        let mut admin = admin_client();
        let name = unique_name();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("creating the test database {name}: {}", describe(&error)));
        let url = with_database(&admin_url(), &name);
        Self { admin, name, url }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of the database, for `PgStore::connect` or a CLI's `--db`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Another store on this database (connecting migrates, if needed).
    pub fn store(&self) -> PgStore {
        PgStore::connect(&self.url)
            .unwrap_or_else(|error| panic!("connecting a store to the test database {}: {error}", self.name))
    }

    /// A raw connection to this database.
    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|error| panic!("connecting to the test database {}: {}", self.name, describe(&error)))
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // No panic in drop (it may run while a failed test unwinds).
        if let Err(error) = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("warning: could not drop the test database {}: {}", self.name, describe(&error));
        }
    }
}

/// `casetrail_test_<pid>_<counter>_<random>`: a valid unquoted identifier
/// (lower case, digits, underscores; well under 63 bytes).
fn unique_name() -> String {
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded from the OS's randomness.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(counter);
    let random = hasher.finish() & 0xffff_ffff_ffff;
    format!("casetrail_test_{}_{counter}_{random:012x}", std::process::id())
}

/// `url` with its database replaced by `name`; `url` is a `postgres://` URL
/// or a libpq `key=value` string.
fn with_database(url: &str, name: &str) -> String {
    let scheme_end =
        ["postgres://", "postgresql://"].iter().find(|scheme| url.starts_with(*scheme)).map(|scheme| scheme.len());
    let Some(scheme_end) = scheme_end else {
        // key=value: a later key overrides an earlier one.
        return format!("{url} dbname={name}");
    };
    let (base, query) = match url.find('?') {
        Some(at) => (&url[..at], &url[at..]),
        None => (url, ""),
    };
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |at| scheme_end + at);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// `url` without a password, for messages.
fn redact(url: &str) -> String {
    if let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) {
        let userinfo = &url[scheme + 3..at];
        if let Some(colon) = userinfo.find(':') {
            return format!("{}:***{}", &url[..scheme + 3 + colon], &url[at..]);
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgresql://u@h", "x"), "postgresql://u@h/x");
        assert_eq!(with_database("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("host=h user=u dbname=postgres", "x"), "host=h user=u dbname=postgres dbname=x");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn an_unreachable_server_fails_loudly_and_says_what_to_run() {
        let panic = std::panic::catch_unwind(|| connect_admin("postgres://postgres:pw@127.0.0.1:1/postgres"))
            .err()
            .and_then(|payload| payload.downcast::<String>().ok())
            .map(|message| *message)
            .unwrap_or_default();
        assert!(panic.contains("scripts/test") && panic.contains(ADMIN_URL_VAR), "{panic}");
        assert!(!panic.contains("pw"), "{panic}");
    }

    #[test]
    fn names_are_unique_identifiers() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(a.len() < 63 && a.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'));
    }
}
