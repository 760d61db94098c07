//! Officials' sessions: login form, throttling, session cookie, idle expiry, logout, CSRF.
//!
//! The cookie carries 32 random bytes (hex); the server keeps only their SHA-256, so a copy of
//! the database cannot be replayed as a session. `HttpOnly; SameSite=Strict; Path=/`, plus
//! `Secure` when served over https. A session unused for [`IDLE_MS`] is gone. CSRF: the cookie
//! is never sent cross-site (`SameSite=Strict`), and state-changing posts carrying an `Origin`
//! header must come from this very host ([`same_origin`]); posts without one are let through
//! (old browsers, curl). Wrong passwords are throttled per name and per client address
//! ([`Throttle`]).

use super::{Web, HTTPS};
use crate::secrets;
use crate::store::{Sql, Store, StoreError};
use crate::users::{self, User};
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Name of the session cookie.
pub const COOKIE: &str = "swagat_session";
/// A session unused this long has expired.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Wrong attempts allowed per name before a pause.
pub const MAX_FAILURES: u32 = 5;
/// Wrong attempts allowed per client address before a pause (an office shares one address).
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// The pause after too many wrong attempts.
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// Counts wrong passwords per key (a name, or a client address) and pauses logins past
/// [`MAX_FAILURES`] for [`LOCKOUT`]. In memory: a restart forgets, which only helps the
/// legitimate user; an attacker gains at most [`MAX_FAILURES`] tries per restart.
#[derive(Default)]
pub struct Throttle {
    map: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// Whether `key` is paused now (after [`MAX_FAILURES`]).
    pub fn locked(&self, key: &str) -> bool {
        self.locked_after(key, MAX_FAILURES)
    }
    /// Whether `key` is paused now, after `max` wrong attempts.
    pub fn locked_after(&self, key: &str, max: u32) -> bool {
        let Ok(m) = self.map.lock() else { return true };
        m.get(key)
            .is_some_and(|(n, at)| *n >= max && at.elapsed() < LOCKOUT)
    }
    /// Records a wrong attempt.
    pub fn fail(&self, key: &str) {
        let Ok(mut m) = self.map.lock() else { return };
        if m.len() > 100_000 {
            m.retain(|_, (_, at)| at.elapsed() < LOCKOUT);
        }
        let e = m.entry(key.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= LOCKOUT {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        e.1 = Instant::now();
    }
    /// Forgets `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(key);
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the request came over https (this server's TLS or a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    HTTPS.load(Ordering::Relaxed)
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if is_https(headers) {
        c.push_str("; Secure");
    }
    c
}

/// CSRF check: a request with an `Origin` header must name this host (scheme and port
/// included when the host header has one); requests without `Origin` pass.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let scheme = if is_https(headers) { "https" } else { "http" };
    origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
}

fn now_ms() -> i64 {
    crate::store::sqlite::now_ms()
}

/// Starts a session for `user`; returns the cookie value.
pub async fn start<S: Store>(web: &Web<S>, user: &User) -> Result<String, StoreError> {
    let token = secrets::new_device_secret();
    let now = now_ms();
    web.store
        .sql_exec(
            "DELETE FROM dashboard_sessions WHERE last_active_ms < ?1".into(),
            vec![Sql::Int(now - IDLE_MS)],
        )
        .await?;
    web.store
        .sql_exec(
            "INSERT INTO dashboard_sessions (token_hash, user_id, created_at_ms, last_active_ms)
             VALUES (?1, ?2, ?3, ?3)"
                .into(),
            vec![
                Sql::Text(secrets::hash_secret(&token)),
                Sql::Uuid(user.id),
                Sql::Int(now),
            ],
        )
        .await?;
    Ok(token)
}

/// The official of the request's session, if it is live (and touches it).
pub async fn current<S: Store>(
    web: &Web<S>,
    headers: &HeaderMap,
) -> Result<Option<User>, StoreError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = secrets::hash_secret(&token);
    let now = now_ms();
    let rows = web
        .store
        .sql_query(
            "SELECT user_id FROM dashboard_sessions WHERE token_hash = ?1 AND last_active_ms >= ?2"
                .into(),
            vec![Sql::Text(hash.clone()), Sql::Int(now - IDLE_MS)],
        )
        .await?;
    let Some(id) = rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| Uuid::parse_str(&v.str()).ok())
    else {
        return Ok(None);
    };
    let Some(user) = users::by_id(&*web.store, id).await? else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    web.store
        .sql_exec(
            "UPDATE dashboard_sessions SET last_active_ms = ?1 WHERE token_hash = ?2".into(),
            vec![Sql::Int(now), Sql::Text(hash)],
        )
        .await?;
    Ok(Some(user))
}

/// Ends the request's session (if any).
pub async fn end<S: Store>(web: &Web<S>, headers: &HeaderMap) -> Result<(), StoreError> {
    if let Some(token) = cookie(headers, COOKIE) {
        web.store
            .sql_exec(
                "DELETE FROM dashboard_sessions WHERE token_hash = ?1".into(),
                vec![Sql::Text(secrets::hash_secret(&token))],
            )
            .await?;
    }
    Ok(())
}

/// Outcome of a login attempt.
pub enum Login {
    /// Right name and password.
    Ok(User),
    /// Wrong name or password (one answer for both).
    Wrong,
    /// Paused after too many wrong attempts.
    Throttled,
}

/// Checks a name and password, with throttling by name and by client address.
pub async fn check<S: Store>(
    web: &Web<S>,
    name: &str,
    password: &str,
    client: &str,
) -> Result<Login, StoreError> {
    let name_key = format!("name:{}", name.to_lowercase());
    let ip_key = format!("ip:{client}");
    if web.throttle.locked(&name_key)
        || web.throttle.locked_after(&ip_key, MAX_FAILURES_PER_ADDRESS)
    {
        return Ok(Login::Throttled);
    }
    let user = users::find(&*web.store, name).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| users::dummy_hash().to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || users::verify_password(&hash, &pw))
        .await
        .unwrap_or(false);
    match user {
        Some(u) if ok && !u.disabled => {
            web.throttle.clear(&name_key);
            Ok(Login::Ok(u))
        }
        _ => {
            web.throttle.fail(&name_key);
            web.throttle.fail(&ip_key);
            Ok(Login::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("dash.example:8080"));
        assert!(same_origin(&h), "no Origin passes");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://dash.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn throttle_pauses_after_failures() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILURES {
            assert!(!t.locked("k"));
            t.fail("k");
        }
        assert!(t.locked("k"));
        t.clear("k");
        assert!(!t.locked("k"));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; swagat_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
