//! What every handler shares: the ledger (sync, behind a mutex, used from
//! `spawn_blocking`), the group-commit writer, sessions, the login limiter,
//! the translations, the metrics and the settings.

use std::sync::{Arc, Mutex};

use casetrail_app::Ledger;
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
    pub writer: Writer,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    pub config: WebConfig,
    pub i18n: I18n,
    pub metrics: Metrics,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The instant now: the web server is an edge and may read the clock.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

impl AppState {
    pub fn new(ledger: Ledger, config: WebConfig) -> std::io::Result<AppState> {
        let ledger = Arc::new(Mutex::new(ledger));
        let writer = Writer::spawn(ledger.clone(), config.write_batch_max)?;
        let limiter = LoginLimiter::new(config.login_failures_max);
        Ok(AppState(Arc::new(Inner {
            ledger,
            writer,
            sessions: Sessions::default(),
            limiter,
            config,
            i18n: I18n::new(),
            metrics: Metrics::default(),
            openapi: crate::api::openapi_json(),
        })))
    }

    /// Kazakhstan's local day today (or the configured day).
    pub fn today(&self) -> NaiveDate {
        self.config.today.unwrap_or_else(|| casetrail_types::time::local_date(now()))
    }

    /// Runs `read` on the store on a blocking thread.
    pub async fn read<T, F>(&self, read: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, WebError> + Send + 'static,
    {
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || {
            let mut ledger = ledger.lock().map_err(|_| WebError::internal("the ledger lock is poisoned"))?;
            read(ledger.store())
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
            work(&mut ledger)
        })
        .await
        .map_err(WebError::internal)?
    }

    /// Appends one record from `source` through the group-commit writer.
    pub async fn append(&self, source: &str, record: Record) -> Result<Outcome, WebError> {
        let current = now();
        let at = current.with_timezone(&casetrail_types::time::kz_offset_at(current));
        let id = Ident::parse(&crate::auth::random_hex(12)?).map_err(WebError::internal)?;
        let event = Event::new(Some(id), at, record).map_err(|error| WebError::BadRequest(error.to_string()))?;
        let outcome = self.writer.append(source, event.canonical).await.map_err(WebError::internal)?;
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
