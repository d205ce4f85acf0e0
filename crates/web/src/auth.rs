//! Who is asking and what they may do.
//!
//! Three ways in: a session cookie (people, after `/login`), an API key
//! (`Authorization: Bearer <key_id>.<secret>`, connectors and payment
//! providers) and a bearer token of an external OpenID Connect provider
//! (when configured). Each yields a [`Principal`]: an id, a role and a
//! [`Scope`]. Every handler asks [`authorize`] — the one place that knows
//! which role may do what, and where.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use casetrail_app::projector::{kind, AccountState};
use casetrail_domain::registry::AgencyState;
use casetrail_exchange::{AccountRole, AgencyKind};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sha2::{Digest, Sha256};

use crate::config::OidcConfig;
use crate::error::WebError;
use crate::state::{now, AppState};

/// Shortest password accepted, in characters.
pub const PASSWORD_CHARS_MIN: usize = 10;
/// The window of the login limiter.
pub const LOGIN_WINDOW_SECONDS: u64 = 300;
/// How long a session lives without a new login.
pub const SESSION_HOURS: i64 = 8;
/// Sessions kept at most (the oldest go first): memory stays bounded.
pub const SESSIONS_MAX: usize = 100_000;
pub const SESSION_COOKIE: &str = "casetrail_session";
/// The anti-forgery token of visitors without a session (double submit).
pub const CSRF_COOKIE: &str = "casetrail_csrf";

// ---------------------------------------------------------------- secrets

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, WebError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(WebError::internal)?;
    Ok(hex::encode(buffer))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    casetrail_exchange::push_lower_hex(&mut hex, &Sha256::digest(bytes));
    hex
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An Argon2id PHC string (the crate's defaults: m=19 MiB, t=2, p=1).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|error| anyhow::anyhow!("no randomness for the salt: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| anyhow::anyhow!("salt: {error}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

/// Whether `password` matches the PHC string (its own parameters apply).
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A freshly issued API key: shown once, only `secret_hash` is recorded.
pub struct NewApiKey {
    pub key_id: String,
    pub secret: String,
    pub secret_hash: String,
}

impl NewApiKey {
    /// 32 random bytes of secret: SHA-256 suffices (no dictionary reaches
    /// 256 random bits, so a slow hash would only slow every request).
    pub fn generate() -> anyhow::Result<NewApiKey> {
        let key_id = format!("k{}", random_hex(8).map_err(|error| anyhow::anyhow!("{error}"))?);
        let secret = random_hex(32).map_err(|error| anyhow::anyhow!("{error}"))?;
        let secret_hash = sha256_hex(secret.as_bytes());
        Ok(NewApiKey { key_id, secret, secret_hash })
    }

    /// What the client sends after `Bearer `.
    pub fn bearer(&self) -> String {
        format!("{}.{}", self.key_id, self.secret)
    }
}

// ---------------------------------------------------------------- principals

/// How the principal proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Session,
    ApiKey,
    Bearer,
}

/// Which agencies' data a principal may see or act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Nothing,
    Agency(String),
    /// Agencies whose KATO code starts with these two digits (a regional
    /// prosecutor's office).
    Region(String),
    All,
}

impl Scope {
    pub fn covers(&self, agency: &str, region: Option<&str>) -> bool {
        match self {
            Scope::Nothing => false,
            Scope::Agency(own) => own == agency,
            Scope::Region(prefix) => region.is_some_and(|region| region.starts_with(prefix.as_str())),
            Scope::All => true,
        }
    }

    /// The scope of a role working for `agency`.
    pub fn of(role: AccountRole, agency: Option<&AgencyState>) -> Scope {
        match (role, agency) {
            (AccountRole::Admin, _) => Scope::All,
            (AccountRole::Prosecutor | AccountRole::Analyst, Some(office)) if office.kind == AgencyKind::Prosecutor => {
                match &office.region {
                    Some(region) if region.len() >= 2 => Scope::Region(region[..2].to_owned()),
                    _ => Scope::All,
                }
            }
            (AccountRole::Analyst, None) => Scope::All,
            // A private bailiff enforces within the region (two KATO digits)
            // of the chamber it works for: it sees and takes only charges
            // imposed by agencies of that region. A chamber without a region
            // (the republican chamber) enforces nothing itself.
            (AccountRole::Bailiff, Some(chamber)) => match &chamber.region {
                Some(region) if region.len() >= 2 => Scope::Region(region[..2].to_owned()),
                _ => Scope::Nothing,
            },
            (AccountRole::Prosecutor, _) => Scope::Nothing,
            (_, Some(agency)) => Scope::Agency(agency.agency.clone()),
            (_, None) => Scope::Nothing,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Principal {
    /// The login, API key id or token subject.
    pub id: String,
    pub role: AccountRole,
    pub agency: Option<String>,
    pub scope: Scope,
    pub via: Via,
}

// ---------------------------------------------------------------- authorization

/// Everything an endpoint may ask permission for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Public reads without personal data (status, Open311 reads, the
    /// citizen's own lookups that prove knowledge of number and IIN).
    Public,
    RegisterAppeal,
    ReadQueue,
    /// Accept, forward, extend, answer.
    ActOnAppeal,
    /// An appeal with its applicant's personal data (logged).
    ReadAppealDetail,
    RunReport,
    ReferFine,
    ReadQuarantine,
    /// Accounts, agencies, devices and API keys (administrators).
    Administer,
    /// Sign a protocol on a field device (and show its payment code).
    SignProtocol,
    /// Settle a competence dispute by assigning the appeal (`appeal.assigned`).
    SettleDispute,
    /// Read the access log (who read which personal data).
    ReadAccessLog,
}

impl Action {
    /// The roles that may ask for the action at all.
    pub fn roles(self) -> &'static [AccountRole] {
        use AccountRole::*;
        match self {
            Action::Public => &[],
            Action::RegisterAppeal => &[Citizen, Integration, Officer],
            Action::ReadQueue => &[Officer, AgencyHead],
            Action::ActOnAppeal => &[Officer, AgencyHead],
            Action::ReadAppealDetail => &[Officer, AgencyHead, Prosecutor],
            Action::RunReport => &[Prosecutor, Analyst],
            Action::ReferFine => &[Bailiff],
            Action::ReadQuarantine => &[Admin],
            Action::Administer => &[Admin],
            Action::SignProtocol => &[FieldOfficer],
            Action::SettleDispute => &[Prosecutor],
            Action::ReadAccessLog => &[Prosecutor, Admin],
        }
    }

    /// Whether the role's scope limits where it may act (a citizen may
    /// file with any agency).
    fn scoped(self, role: AccountRole) -> bool {
        !matches!((self, role), (Action::RegisterAppeal, AccountRole::Citizen))
    }
}

/// What the action is about.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Nothing agency-specific (results are filtered by scope instead).
    Anywhere,
    Agency {
        slug: &'a str,
        region: Option<&'a str>,
    },
}

/// The one authorization rule: 401 without a principal, 403 for a role
/// that may not, or an agency outside the principal's scope.
pub fn authorize(principal: Option<&Principal>, action: Action, target: Target<'_>) -> Result<(), WebError> {
    if action == Action::Public {
        return Ok(());
    }
    let Some(principal) = principal else { return Err(WebError::Unauthenticated) };
    if !action.roles().contains(&principal.role) {
        return Err(WebError::Forbidden(format!("the role {} may not do this", role_name(principal.role))));
    }
    if let Target::Agency { slug, region } = target {
        if action.scoped(principal.role) && !principal.scope.covers(slug, region) {
            return Err(WebError::Forbidden(format!("agency {slug} is outside this account's scope")));
        }
    }
    if matches!(target, Target::Anywhere) && principal.scope == Scope::Nothing && action.scoped(principal.role) {
        return Err(WebError::Forbidden("this account has no agency".into()));
    }
    Ok(())
}

pub fn role_name(role: AccountRole) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub fn parse_role(text: &str) -> Option<AccountRole> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

// ---------------------------------------------------------------- sessions

#[derive(Clone, Debug)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    pub expires: DateTime<Utc>,
}

/// Sessions in memory: a restart signs everybody out.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// Opens a session; returns its token (the cookie value).
    pub fn open(&self, principal: Principal) -> Result<(String, Session), WebError> {
        let token = random_hex(32)?;
        let session =
            Session { principal, csrf: random_hex(16)?, expires: now() + ChronoDuration::hours(SESSION_HOURS) };
        let mut sessions = self.0.lock().map_err(|_| WebError::internal("session lock poisoned"))?;
        if sessions.len() >= SESSIONS_MAX {
            let current = now();
            sessions.retain(|_, s| s.expires > current);
            if sessions.len() >= SESSIONS_MAX {
                if let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone()) {
                    sessions.remove(&oldest);
                }
            }
        }
        sessions.insert(sha256_hex(token.as_bytes()), session.clone());
        Ok((token, session))
    }

    pub fn get(&self, token: &str) -> Option<Session> {
        let sessions = self.0.lock().ok()?;
        sessions.get(&sha256_hex(token.as_bytes())).filter(|s| s.expires > now()).cloned()
    }

    pub fn close(&self, token: &str) {
        if let Ok(mut sessions) = self.0.lock() {
            sessions.remove(&sha256_hex(token.as_bytes()));
        }
    }

    /// Ends every session of the account `id` (it was disabled).
    pub fn close_account(&self, id: &str) {
        if let Ok(mut sessions) = self.0.lock() {
            sessions.retain(|_, session| session.principal.id != id || session.principal.via != Via::Session);
        }
    }
}

/// Failed logins per (IP, login) in a sliding window, in memory.
pub struct LoginLimiter {
    failures_max: u32,
    failures: Mutex<HashMap<(IpAddr, String), Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(failures_max: u32) -> Self {
        LoginLimiter { failures_max: failures_max.max(1), failures: Mutex::new(HashMap::new()) }
    }

    fn window() -> Duration {
        Duration::from_secs(LOGIN_WINDOW_SECONDS)
    }

    /// Refuses when the pair has failed too often lately.
    pub fn check(&self, ip: IpAddr, login: &str) -> Result<(), WebError> {
        let mut failures = self.failures.lock().map_err(|_| WebError::internal("limiter lock poisoned"))?;
        let key = (ip, login.to_owned());
        if let Some(times) = failures.get_mut(&key) {
            times.retain(|t| t.elapsed() < Self::window());
            if times.len() as u32 >= self.failures_max {
                return Err(WebError::TooManyRequests);
            }
        }
        Ok(())
    }

    pub fn fail(&self, ip: IpAddr, login: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() > SESSIONS_MAX {
                failures.retain(|_, times| times.iter().any(|t| t.elapsed() < Self::window()));
            }
            failures.entry((ip, login.to_owned())).or_default().push(Instant::now());
        }
    }

    pub fn succeed(&self, ip: IpAddr, login: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&(ip, login.to_owned()));
        }
    }
}

// ---------------------------------------------------------------- authentication

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(|line| {
        line.split(';').map(str::trim).find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    })
}

/// The client's address (unknown when the server was not started with
/// connection info, e.g. in some tests).
pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// The principal of a request, if any: a bearer credential when one is
/// sent (a wrong one is an error, not anonymity), else the session cookie.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Principal, Option<Session>)>, WebError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| WebError::Unauthenticated)?;
        let Some(credential) = text.strip_prefix("Bearer ").map(str::trim) else {
            return Err(WebError::Unauthenticated);
        };
        let principal = match credential.matches('.').count() {
            1 => api_key_principal(state, credential).await?,
            2 => match &state.config.oidc {
                Some(oidc) => token_principal(state, oidc, credential).await?,
                None => return Err(WebError::Unauthenticated),
            },
            _ => return Err(WebError::Unauthenticated),
        };
        return Ok(Some((principal, None)));
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        if let Some(session) = state.sessions.get(&token) {
            return Ok(Some((session.principal.clone(), Some(session))));
        }
    }
    Ok(None)
}

async fn agency_of(state: &AppState, agency: Option<String>) -> Result<Option<AgencyState>, WebError> {
    let Some(slug) = agency else { return Ok(None) };
    state
        .read(move |store| {
            let Some(doc) = store.doc(kind::AGENCY, &slug)? else { return Ok(None) };
            serde_json::from_str(&doc.doc).map(Some).map_err(WebError::internal)
        })
        .await
}

/// The principal of an account (after its password was checked).
pub async fn account_principal(state: &AppState, account: &AccountState, via: Via) -> Result<Principal, WebError> {
    let agency = agency_of(state, account.agency.clone()).await?;
    Ok(Principal {
        id: account.account.clone(),
        role: account.role,
        agency: account.agency.clone(),
        scope: Scope::of(account.role, agency.as_ref()),
        via,
    })
}

async fn api_key_principal(state: &AppState, credential: &str) -> Result<Principal, WebError> {
    let Some((key_id, secret)) = credential.split_once('.') else { return Err(WebError::Unauthenticated) };
    // Both from the server's registry cache: no trip to the store when warm.
    let Some(key) = state.api_key(key_id).await?.filter(|key| key.revoked_at.is_none()) else {
        return Err(WebError::Unauthenticated);
    };
    if !constant_time_eq(sha256_hex(secret.as_bytes()).as_bytes(), key.secret_hash.as_bytes()) {
        return Err(WebError::Unauthenticated);
    }
    let agency = match &key.agency {
        Some(slug) => state.agency(slug).await?,
        None => None,
    };
    Ok(Principal {
        id: key.key_id.clone(),
        role: key.role,
        agency: key.agency.clone(),
        scope: Scope::of(key.role, agency.as_deref()),
        via: Via::ApiKey,
    })
}

/// Checks an OpenID Connect token against the configured issuer and keys
/// and maps its claims to a role and an agency.
pub fn verify_token(oidc: &OidcConfig, token: &str) -> Result<(String, AccountRole, Option<String>), WebError> {
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
    let header = decode_header(token).map_err(|_| WebError::Unauthenticated)?;
    let jwk = match &header.kid {
        Some(kid) => oidc.jwks.find(kid),
        None if oidc.jwks.keys.len() == 1 => oidc.jwks.keys.first(),
        None => None,
    }
    .ok_or(WebError::Unauthenticated)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| WebError::Unauthenticated)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[oidc.issuer.as_str()]);
    match &oidc.audience {
        Some(audience) => validation.set_audience(&[audience.as_str()]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let data = decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &validation)
        .map_err(|_| WebError::Unauthenticated)?;
    let claims = data.claims;
    let subject = claims.get("sub").and_then(|v| v.as_str()).ok_or(WebError::Unauthenticated)?;
    let role = claims
        .get(&oidc.role_claim)
        .and_then(|v| v.as_str())
        .and_then(parse_role)
        .ok_or_else(|| WebError::Forbidden(format!("the token has no valid `{}` claim", oidc.role_claim)))?;
    let agency = claims.get(&oidc.agency_claim).and_then(|v| v.as_str()).map(str::to_owned);
    Ok((format!("oidc:{subject}"), role, agency))
}

async fn token_principal(state: &AppState, oidc: &OidcConfig, token: &str) -> Result<Principal, WebError> {
    let (id, role, agency) = verify_token(oidc, token)?;
    if casetrail_exchange::Ident::parse(&id).is_err() {
        return Err(WebError::Unauthenticated);
    }
    let agency_state = agency_of(state, agency.clone()).await?;
    Ok(Principal { id, role, agency, scope: Scope::of(role, agency_state.as_ref()), via: Via::Bearer })
}

/// Checks a login and password; on success opens a session. Failures are
/// counted per (IP, login) and refused past the limit.
pub async fn login(state: &AppState, ip: IpAddr, login: &str, password: &str) -> Result<(String, Session), WebError> {
    state.limiter.check(ip, login)?;
    let key = login.to_owned();
    let account: Option<AccountState> = state
        .read(move |store| match store.doc(kind::ACCOUNT, &key)? {
            Some(doc) => serde_json::from_str(&doc.doc).map(Some).map_err(WebError::internal),
            None => Ok(None),
        })
        .await?;
    let password = password.to_owned();
    let phc = account.as_ref().filter(|a| a.disabled_at.is_none()).map(|a| a.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&phc, &password),
        None => {
            // Spend the same time on an unknown login.
            let _ = hash_password(&password);
            false
        }
    })
    .await
    .map_err(WebError::internal)?;
    let Some(account) = account.filter(|_| matches) else {
        state.limiter.fail(ip, login);
        return Err(WebError::Forbidden("wrong login or password".into()));
    };
    state.limiter.succeed(ip, login);
    let principal = account_principal(state, &account, Via::Session).await?;
    state.sessions.open(principal)
}

/// A `Set-Cookie` value.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_seconds: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age_seconds {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// The caller, if authenticated (extractor). A wrong credential is a 401,
/// not anonymity.
pub struct Auth(pub Option<Principal>, pub Option<Session>);

impl axum::extract::FromRequestParts<AppState> for Auth {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(match authenticate(state, &parts.headers).await? {
            Some((principal, session)) => Auth(Some(principal), session),
            None => Auth(None, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: AccountRole, scope: Scope) -> Principal {
        Principal { id: "p".into(), role, agency: None, scope, via: Via::Session }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "wrong horse battery"));
    }

    #[test]
    fn authorize_checks_role_then_scope() {
        let officer = principal(AccountRole::Officer, Scope::Agency("a".into()));
        let own = Target::Agency { slug: "a", region: None };
        let other = Target::Agency { slug: "b", region: None };
        assert!(authorize(Some(&officer), Action::ReadQueue, own).is_ok());
        assert!(matches!(authorize(Some(&officer), Action::ReadQueue, other), Err(WebError::Forbidden(_))));
        assert!(matches!(authorize(Some(&officer), Action::RunReport, own), Err(WebError::Forbidden(_))));
        assert!(matches!(authorize(None, Action::ReadQueue, own), Err(WebError::Unauthenticated)));
        let citizen = principal(AccountRole::Citizen, Scope::Nothing);
        assert!(authorize(Some(&citizen), Action::RegisterAppeal, other).is_ok());
        let regional = principal(AccountRole::Prosecutor, Scope::Region("71".into()));
        let astana = Target::Agency { slug: "x", region: Some("711000000") };
        let almaty = Target::Agency { slug: "y", region: Some("751000000") };
        assert!(authorize(Some(&regional), Action::ReadAppealDetail, astana).is_ok());
        assert!(authorize(Some(&regional), Action::ReadAppealDetail, almaty).is_err());
    }
}
