//! What every handler shares: the ledger (sync, behind a mutex, used from
//! `spawn_blocking`), read-only connections beside it, the group-commit
//! writer, sessions, the login limiter, the translations, the metrics and
//! the settings.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use casetrail_app::projector::{kind, ApiKeyState};
use casetrail_app::Ledger;
use casetrail_domain::registry::AgencyState;
use casetrail_exchange::{Event, Ident, Record};
use casetrail_ledger::Store;
use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::{LoginLimiter, Principal, Sessions};
use crate::config::WebConfig;
use crate::error::WebError;
use crate::i18n::I18n;
use crate::metrics::Metrics;
use crate::writer::{Outcome, Writer};

/// The source name of records the web server writes itself (the access log).
pub const ACCESS_SOURCE: &str = "web-access";

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub ledger: Arc<Mutex<Ledger>>,
    /// Read-only connections to the same database: reads never wait for a
    /// commit. Empty when the store cannot open any (reads then take the
    /// ledger's lock).
    readers: Readers,
    next_reader: AtomicUsize,
    pub writer: Writer,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    pub config: WebConfig,
    pub i18n: I18n,
    pub metrics: Metrics,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
    /// Agencies and API keys read from the store, trusted for
    /// [`REGISTRY_CACHE_TTL`] at most and dropped as soon as this server's
    /// writer commits a change to agencies, accounts or keys.
    registry: Mutex<RegistryCache>,
}

/// How long agencies and API keys read from the store are trusted: the
/// bound on how late this server learns of a change another process made
/// (an agency registered, a key revoked with the CLI). Changes made through
/// this server apply at once.
pub const REGISTRY_CACHE_TTL: Duration = Duration::from_secs(5);

/// API keys cached at most (the cache is emptied when full).
const API_KEYS_CACHED_MAX: usize = 10_000;

/// Every agency by slug, shared with the requests that ask, not copied.
type Agencies = Arc<BTreeMap<String, Arc<AgencyState>>>;

#[derive(Default)]
struct RegistryCache {
    /// [`Writer::registry_changes`] when the entries were read.
    generation: u64,
    agencies: Option<(Instant, Agencies)>,
    api_keys: HashMap<String, (Instant, Option<Arc<ApiKeyState>>)>,
}

impl RegistryCache {
    /// Empties the cache when the writer changed the registry since.
    fn current(&mut self, generation: u64) -> &mut Self {
        if self.generation != generation {
            *self = RegistryCache { generation, ..RegistryCache::default() };
        }
        self
    }
}

/// The read-only connections. Closed on a thread of their own: closing a
/// PostgreSQL client blocks, which the async thread that drops the state
/// must not do.
struct Readers(Vec<Mutex<Box<dyn Store>>>);

impl Drop for Readers {
    fn drop(&mut self) {
        let readers = std::mem::take(&mut self.0);
        if !readers.is_empty() {
            let _ = std::thread::spawn(move || drop(readers)).join();
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A record id made here: the instant in microseconds (14 hex digits, so
/// that ids sort as they were made) and 8 random bytes (unique among
/// requests of the same microsecond, and not guessable). The id is the
/// record's idempotency key, and the ledger's index of keys is a B-tree:
/// ids that grow are added at its right edge, a page written per commit,
/// where random ones dirtied a page of the index per record.
pub fn record_id(at: DateTime<Utc>) -> Result<String, WebError> {
    let micros = u64::try_from(at.timestamp_micros()).map_err(WebError::internal)?;
    Ok(format!("{micros:014x}-{}", crate::auth::random_hex(8)?))
}

/// The instant now: the web server is an edge and may read the clock.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

impl AppState {
    pub fn new(mut ledger: Ledger, config: WebConfig) -> std::io::Result<AppState> {
        // On a thread of its own: a PostgreSQL client blocks while it
        // connects, which an async caller's thread must not do.
        let readers = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut readers = Vec::with_capacity(config.read_connections);
                    for _ in 0..config.read_connections {
                        match ledger.store().reader().map_err(std::io::Error::other)? {
                            Some(reader) => readers.push(Mutex::new(reader)),
                            None => break,
                        }
                    }
                    Ok::<_, std::io::Error>(readers)
                })
                .join()
                .map_err(|_| std::io::Error::other("opening the read connections panicked"))?
        })?;
        ledger.store().limit_page_cache(config.writer_page_cache_mib << 20).map_err(std::io::Error::other)?;
        let ledger = Arc::new(Mutex::new(ledger));
        let writer = Writer::spawn(ledger.clone(), config.write_batch_max)?;
        let limiter = LoginLimiter::new(config.login_failures_max);
        Ok(AppState(Arc::new(Inner {
            ledger,
            readers: Readers(readers),
            next_reader: AtomicUsize::new(0),
            writer,
            sessions: Sessions::default(),
            limiter,
            config,
            i18n: I18n::new(),
            metrics: Metrics::default(),
            openapi: crate::api::openapi_json(),
            registry: Mutex::new(RegistryCache::default()),
        })))
    }

    fn registry_cache(&self) -> Result<std::sync::MutexGuard<'_, RegistryCache>, WebError> {
        self.registry.lock().map_err(|_| WebError::internal("the registry cache lock is poisoned"))
    }

    /// Every agency by slug, from the cache when it is fresh (agencies scope
    /// every authorization; they change rarely).
    async fn agencies(&self) -> Result<Agencies, WebError> {
        let generation = self.writer.registry_changes();
        if let Some((read_at, agencies)) = &self.registry_cache()?.current(generation).agencies {
            if read_at.elapsed() < REGISTRY_CACHE_TTL {
                return Ok(agencies.clone());
            }
        }
        let read_at = Instant::now();
        let agencies = self.read(crate::docs::agencies).await?;
        let agencies: Agencies =
            Arc::new(agencies.into_iter().map(|(slug, agency)| (slug, Arc::new(agency))).collect());
        self.registry_cache()?.current(generation).agencies = Some((read_at, agencies.clone()));
        Ok(agencies)
    }

    /// An API key by id (its secret's hash, its role and agency), from the
    /// cache when it is fresh.
    pub async fn api_key(&self, key_id: &str) -> Result<Option<Arc<ApiKeyState>>, WebError> {
        let generation = self.writer.registry_changes();
        if let Some((read_at, key)) = self.registry_cache()?.current(generation).api_keys.get(key_id) {
            if read_at.elapsed() < REGISTRY_CACHE_TTL {
                return Ok(key.clone());
            }
        }
        let read_at = Instant::now();
        let id = key_id.to_owned();
        let key: Option<ApiKeyState> = self.read(move |store| crate::docs::load(store, kind::APIKEY, &id)).await?;
        let key = key.map(Arc::new);
        let mut cache = self.registry_cache()?;
        let keys = &mut cache.current(generation).api_keys;
        if keys.len() >= API_KEYS_CACHED_MAX {
            keys.clear();
        }
        keys.insert(key_id.to_owned(), (read_at, key.clone()));
        Ok(key)
    }

    /// One agency, from [`AppState::agencies`].
    pub async fn agency(&self, slug: &str) -> Result<Option<Arc<AgencyState>>, WebError> {
        Ok(self.agencies().await?.get(slug).cloned())
    }

    /// Kazakhstan's local day today (or the configured day).
    pub fn today(&self) -> NaiveDate {
        self.config.today.unwrap_or_else(|| casetrail_types::time::local_date(now()))
    }

    /// Runs `read` on the store on a blocking thread, on a read-only
    /// connection (an idle one if any): it never waits for a commit, and
    /// sees every commit that finished before it (so a request that
    /// appended and then reads sees its own record).
    pub async fn read<T, F>(&self, read: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, WebError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let readers = &state.readers.0;
            if readers.is_empty() {
                let mut ledger = state.ledger.lock().map_err(|_| WebError::internal("the ledger lock is poisoned"))?;
                return read(ledger.store());
            }
            let start = state.next_reader.fetch_add(1, Ordering::Relaxed);
            let idle = (0..readers.len()).find_map(|i| readers[(start + i) % readers.len()].try_lock().ok());
            let mut reader = match idle {
                Some(reader) => reader,
                None => readers[start % readers.len()]
                    .lock()
                    .map_err(|_| WebError::internal("a reader's lock is poisoned"))?,
            };
            // A connection the server dropped (a restart, a session ended)
            // fails the read that finds out; the next one gets a new one.
            let replace_if_closed = |reader: &mut Box<dyn Store>| -> Result<(), WebError> {
                if reader.is_closed() {
                    let fresh = state
                        .ledger
                        .lock()
                        .map_err(|_| WebError::internal("the ledger lock is poisoned"))?
                        .store()
                        .reader()?;
                    if let Some(fresh) = fresh {
                        *reader = fresh;
                    }
                }
                Ok(())
            };
            replace_if_closed(&mut reader)?;
            let result = read(reader.as_mut());
            if result.is_err() && !reader.is_closed() {
                // A session the server ended answers one last statement
                // with its error before the client sees the socket close:
                // one more round trip tells, so that only this read fails.
                let _ = reader.ledger_state();
                let _ = replace_if_closed(&mut reader);
            }
            result
        })
        .await
        .map_err(WebError::internal)?
    }

    /// Runs `work` on the ledger itself on a blocking thread (appends that
    /// need the ledger's own checks, e.g. a referral through the gate).
    pub async fn with_ledger<T, F>(&self, work: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger) -> Result<T, WebError> + Send + 'static,
    {
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || {
            let mut ledger = ledger.lock().map_err(|_| WebError::internal("the ledger lock is poisoned"))?;
            ledger.store().reconnect()?;
            work(&mut ledger)
        })
        .await
        .map_err(WebError::internal)?
    }

    /// Appends one record from `source` through the group-commit writer.
    pub async fn append(&self, source: &str, record: Record) -> Result<Outcome, WebError> {
        self.append_event(source, Self::event(record)?).await
    }

    /// The event for a record made here now: a fresh id ([`record_id`]),
    /// the current instant in Kazakhstan's offset.
    pub fn event(record: Record) -> Result<Event, WebError> {
        let current = now();
        Self::event_at(current, Ident::parse(&record_id(current)?).map_err(WebError::internal)?, record)
    }

    /// The event for a record made here now under an id the caller chose:
    /// a retry with the same id from the same source is the same record
    /// (answered [`Outcome::Duplicate`]), not a second one.
    pub fn event_with_id(id: Ident, record: Record) -> Result<Event, WebError> {
        Self::event_at(now(), id, record)
    }

    fn event_at(current: DateTime<Utc>, id: Ident, record: Record) -> Result<Event, WebError> {
        let at = current.with_timezone(&casetrail_types::time::kz_offset_at(current));
        Event::new(Some(id), at, record).map_err(|error| WebError::BadRequest(error.to_string()))
    }

    /// Appends an event from `source` through the group-commit writer.
    pub async fn append_event(&self, source: &str, event: Event) -> Result<Outcome, WebError> {
        let outcome = self.writer.append_event(source, event).await.map_err(WebError::internal)?;
        self.metrics.count_import(&outcome);
        Ok(outcome)
    }

    /// Records that `principal` read personal `fields` of `subject`; the
    /// read must not be shown when this fails.
    pub async fn log_access(
        &self,
        principal: &Principal,
        subject: &str,
        fields: &[&str],
        purpose: &str,
    ) -> Result<(), WebError> {
        let record = Record::AccessLogged(casetrail_exchange::AccessLogged {
            account: Ident::parse(&principal.id).map_err(WebError::internal)?,
            subject: Ident::parse(subject).map_err(WebError::internal)?,
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
            purpose: purpose.to_owned(),
        });
        match self.append(ACCESS_SOURCE, record).await? {
            Outcome::Appended { .. } | Outcome::Duplicate { .. } => Ok(()),
            Outcome::Quarantined { reason } => {
                Err(WebError::Internal(format!("the access log refused a record: {reason}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_sort_in_the_order_they_were_made_and_never_repeat() {
        let start = DateTime::parse_from_rfc3339("2026-12-05T01:30:00Z").unwrap().with_timezone(&Utc);
        let later = [
            start,
            start + chrono::Duration::microseconds(1),
            start + chrono::Duration::seconds(1),
            start + chrono::Duration::days(40_000),
        ];
        let ids: Vec<String> = later.iter().map(|at| record_id(*at).unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "ids sort as their instants do");
        assert!(ids.iter().all(|id| Ident::parse(id).is_ok()), "{ids:?}");
        assert_ne!(record_id(start).unwrap(), record_id(start).unwrap(), "two requests in one microsecond");
    }
}
