//! How the server is set up: cookies, the OpenID Connect provider, the day
//! it counts from. Read once at start (the CLI passes it to [`crate::serve`]).

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;

/// An external OpenID Connect provider whose bearer tokens are accepted.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry, when set.
    pub audience: Option<String>,
    /// The provider's signing keys (a JWKS document read from a file: the
    /// server never fetches anything from the network).
    pub jwks: jsonwebtoken::jwk::JwkSet,
    /// The claim that names the casetrail role (default `casetrail_role`).
    pub role_claim: String,
    /// The claim that names the agency slug (default `casetrail_agency`).
    pub agency_claim: String,
}

impl OidcConfig {
    /// Reads the JWKS file.
    pub fn from_file(issuer: &str, jwks_path: &Path, audience: Option<String>) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(jwks_path)
            .with_context(|| format!("cannot read the OpenID Connect JWKS file {}", jwks_path.display()))?;
        let jwks = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JWKS document (RFC 7517)", jwks_path.display()))?;
        Ok(OidcConfig {
            issuer: issuer.to_owned(),
            audience,
            jwks,
            role_claim: "casetrail_role".into(),
            agency_claim: "casetrail_agency".into(),
        })
    }
}

/// The web server's settings.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    pub oidc: Option<OidcConfig>,
    /// The day "today" is for deadlines and reports; `None`: the clock.
    pub today: Option<NaiveDate>,
    /// Failed logins allowed per (IP, login) in [`crate::auth::LOGIN_WINDOW_SECONDS`].
    pub login_failures_max: u32,
    /// Records per group commit of the HTTP write path.
    pub write_batch_max: usize,
    /// The writer connection's page cache, in MiB (SQLite). Its commits
    /// are small, unlike an import's, and the pages it reads again are few:
    /// the rest come from the OS's cache. Below 1 GiB of file each commit
    /// that splits a page walks the whole cache, so 4 MiB, not 64, measured
    /// faster (BENCHMARKS.md); see [`casetrail_ledger::Store::limit_page_cache`].
    pub writer_page_cache_mib: u64,
    /// Read-only connections opened beside the writer's (reads never wait
    /// for a commit); 0 reads under the ledger's lock, as before them.
    pub read_connections: usize,
    /// Payment apps' webhook secrets (`serve --webhook-secrets FILE`);
    /// `None`: the webhook answers 503, not configured.
    pub webhook_secrets: Option<casetrail_connectors::webhook::Secrets>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            oidc: None,
            today: None,
            login_failures_max: 5,
            write_batch_max: 1024,
            writer_page_cache_mib: 4,
            read_connections: 4,
            webhook_secrets: None,
        }
    }
}

impl WebConfig {
    /// From the environment: `CASETRAIL_SECURE_COOKIES` (`1`/`0`; default:
    /// on unless `listen` is a loopback address), `CASETRAIL_OIDC_ISSUER`,
    /// `CASETRAIL_OIDC_JWKS` (a file), `CASETRAIL_OIDC_AUDIENCE`.
    pub fn from_env(listen: &str) -> anyhow::Result<Self> {
        let loopback = listen.starts_with("127.") || listen.starts_with("localhost") || listen.starts_with("[::1]");
        let secure_cookies = match std::env::var("CASETRAIL_SECURE_COOKIES").ok().as_deref() {
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(other) => anyhow::bail!("CASETRAIL_SECURE_COOKIES={other:?}: use 1 or 0"),
            None => !loopback,
        };
        let oidc = match (std::env::var("CASETRAIL_OIDC_ISSUER").ok(), std::env::var("CASETRAIL_OIDC_JWKS").ok()) {
            (Some(issuer), Some(jwks)) => {
                Some(OidcConfig::from_file(&issuer, Path::new(&jwks), std::env::var("CASETRAIL_OIDC_AUDIENCE").ok())?)
            }
            (None, None) => None,
            _ => anyhow::bail!("set both CASETRAIL_OIDC_ISSUER and CASETRAIL_OIDC_JWKS, or neither"),
        };
        Ok(WebConfig { secure_cookies, oidc, ..WebConfig::default() })
    }
}
