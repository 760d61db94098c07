//! Client of ABDM's gateway: the session token (cached, refreshed before expiry and on a 401),
//! the gateway's signing keys (a JWKS cached by `kid`, refetched on an unknown `kid`), the
//! verification of the gateway's RS256 JWTs, and the on-share answer.
//!
//! Every call carries the standard headers `REQUEST-ID` (a new UUID), `TIMESTAMP` (UTC
//! `yyyy-MM-ddTHH:mm:ss.SSSZ`) and `X-CM-ID`. The client secret and tokens are never logged.

use super::AbdmConfig;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tracing::{info, warn};

/// Path of the session call under the HIECM base.
pub const SESSIONS_PATH: &str = "/gateway/v3/sessions";
/// Path of the gateway's JWKS under the HIECM base.
pub const CERTS_PATH: &str = "/gateway/v3/certs";
/// Path of the on-share answer under the HIECM base.
pub const ON_SHARE_PATH: &str = "/patient-share/v3/on-share";
/// A session is refreshed this long before it expires.
const REFRESH_EARLY: Duration = Duration::from_secs(60);
/// An unknown `kid` refetches the keys at most this often (a forged token must not make us
/// hammer the gateway).
const JWKS_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Largest answer read from the gateway.
const MAX_ANSWER: usize = 1024 * 1024;

/// A failed gateway call.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Transport failure (connection, timeout).
    #[error("gateway unreachable: {0}")]
    Http(String),
    /// The gateway answered with an error status.
    #[error("gateway answered {0}")]
    Status(u16),
    /// The gateway's answer could not be read.
    #[error("unexpected gateway answer: {0}")]
    Answer(String),
}

/// Why a callback's JWT was refused.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Signature, algorithm, key id or expiry wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The keys could not be fetched to check it.
    #[error("cannot fetch the gateway's keys: {0}")]
    Keys(GatewayError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

struct Session {
    token: String,
    refresh_at: Instant,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// The gateway client (one per server).
pub struct Gateway {
    config: AbdmConfig,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
    keys: Mutex<Keys>,
}

/// `TIMESTAMP` header value for now.
pub fn timestamp() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

async fn read_json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, GatewayError> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| GatewayError::Http(e.to_string()))?;
    if bytes.len() > MAX_ANSWER {
        return Err(GatewayError::Answer("answer too large".into()));
    }
    serde_json::from_slice(&bytes).map_err(|e| GatewayError::Answer(e.to_string()))
}

impl Gateway {
    /// A client for `config` (rustls, 10 s timeouts).
    pub fn new(config: AbdmConfig) -> Result<Gateway, GatewayError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GatewayError::Http(e.to_string()))?;
        Ok(Gateway {
            config,
            http,
            session: Mutex::new(None),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// The consent-manager id sent as `X-CM-ID`.
    pub fn cm_id(&self) -> &str {
        &self.config.cm_id
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.gateway)
    }

    fn standard(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.header("REQUEST-ID", uuid::Uuid::new_v4().to_string())
            .header("TIMESTAMP", timestamp())
            .header("X-CM-ID", &self.config.cm_id)
    }

    /// The session token, from the cache unless it is due for refresh or `force`.
    pub async fn session_token(&self, force: bool) -> Result<String, GatewayError> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            if !force && Instant::now() < s.refresh_at {
                return Ok(s.token.clone());
            }
        }
        let resp = self
            .standard(self.http.post(self.url(SESSIONS_PATH)))
            .json(&serde_json::json!({
                "clientId": self.config.client_id,
                "clientSecret": self.config.client_secret,
                "grantType": "client_credentials",
            }))
            .send()
            .await
            .map_err(|e| GatewayError::Http(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(GatewayError::Status(resp.status().as_u16()));
        }
        let answer: SessionAnswer = read_json(resp).await?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(1200).max(1));
        let refresh_at = Instant::now() + lifetime.saturating_sub(REFRESH_EARLY.min(lifetime / 2));
        info!(expires_in = lifetime.as_secs(), "gateway session obtained");
        let token = answer.access_token;
        *guard = Some(Session {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Sends `rb` with the standard headers and the session token; on a 401 the session is
    /// renewed and the call made once more.
    async fn authorized(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GatewayError> {
        let mut force = false;
        loop {
            let token = self.session_token(force).await?;
            let resp = self
                .standard(make())
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| GatewayError::Http(e.to_string()))?;
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED && !force {
                warn!("gateway refused the session token; renewing it");
                force = true;
                continue;
            }
            return Ok(resp);
        }
    }

    async fn fetch_keys(&self, keys: &mut Keys) -> Result<(), GatewayError> {
        keys.fetched_at = Some(Instant::now());
        let resp = self
            .authorized(|| self.http.get(self.url(CERTS_PATH)))
            .await?;
        if !resp.status().is_success() {
            return Err(GatewayError::Status(resp.status().as_u16()));
        }
        let jwks: Jwks = read_json(resp).await?;
        let mut by_kid = HashMap::new();
        for k in jwks.keys {
            if k.kty.as_deref().is_some_and(|t| t != "RSA") {
                continue;
            }
            if let (Some(kid), Some(n), Some(e)) = (k.kid, k.n, k.e) {
                match DecodingKey::from_rsa_components(&n, &e) {
                    Ok(key) => {
                        by_kid.insert(kid, key);
                    }
                    Err(err) => warn!(%kid, error = %err, "unusable gateway key skipped"),
                }
            }
        }
        info!(keys = by_kid.len(), "gateway keys fetched");
        keys.by_kid = by_kid;
        Ok(())
    }

    /// The key with id `kid`, fetching the JWKS when it is not cached (rate-limited).
    async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, GatewayError> {
        let mut keys = self.keys.lock().await;
        if let Some(k) = keys.by_kid.get(kid) {
            return Ok(Some(k.clone()));
        }
        let recently = keys
            .fetched_at
            .is_some_and(|t| t.elapsed() < JWKS_MIN_INTERVAL);
        if !recently {
            self.fetch_keys(&mut keys).await?;
        }
        Ok(keys.by_kid.get(kid).cloned())
    }

    /// Verifies a gateway JWT: RS256, signed by a JWKS key named by its `kid`, `exp` in the
    /// future. No particular issuer or audience is required.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<(), JwtError> {
        let token = authorization
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(JwtError::Missing)?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(JwtError::Invalid("not RS256".into()));
        }
        let kid = header
            .kid
            .ok_or_else(|| JwtError::Invalid("no kid".into()))?;
        let key = self
            .key(&kid)
            .await
            .map_err(JwtError::Keys)?
            .ok_or_else(|| JwtError::Invalid("unknown kid".into()))?;
        let mut v = Validation::new(Algorithm::RS256);
        v.leeway = 0;
        v.validate_exp = true;
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
            .map(|_| ())
            .map_err(|e| JwtError::Invalid(e.to_string()))
    }

    /// Sends one on-share answer for the facility `hip_id`.
    pub async fn on_share(&self, hip_id: &str, body: &str) -> Result<(), GatewayError> {
        let resp = self
            .authorized(|| {
                self.http
                    .post(self.url(ON_SHARE_PATH))
                    .header("X-HIP-ID", hip_id)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
            })
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(GatewayError::Status(resp.status().as_u16()))
        }
    }
}
