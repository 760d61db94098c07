//! A stand-in for ABDM's gateway (the one part of scan-and-share that cannot exist here): an
//! axum app on loopback that issues sessions, serves a JWKS, signs callback JWTs with an RSA
//! key (fixtures `gateway_rsa.der` / `forger_rsa.der`, PKCS#1, generated for these tests
//! only) and records every on-share it receives, with switches to go down or to revoke its
//! sessions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const CLIENT_ID: &str = "SBX_SWAGAT_TEST";
pub const CLIENT_SECRET: &str = "test-client-secret";
/// `kid` of the gateway's key.
pub const KID: &str = "gw-key-1";
/// `kid` of a second key the gateway may start using (rotation).
pub const KID2: &str = "gw-key-2";

const GATEWAY_DER: &[u8] = include_bytes!("gateway_rsa.der");
const FORGER_DER: &[u8] = include_bytes!("forger_rsa.der");
const COMPONENTS: &str = include_str!("rsa_jwk_components.json");

/// One on-share as received.
#[derive(Debug, Clone)]
pub struct OnShare {
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
pub struct GatewayState {
    /// On-share answers accepted (only while up and with a valid session).
    pub on_shares: Mutex<Vec<OnShare>>,
    /// Session tokens issued and still valid.
    pub sessions: Mutex<HashSet<String>>,
    pub sessions_issued: AtomicU64,
    pub certs_fetched: AtomicU64,
    /// On-share calls refused while down.
    pub refused: AtomicU64,
    /// While true, on-share answers 503.
    pub down: AtomicBool,
    /// Also publish the second key in the JWKS.
    pub rotated: AtomicBool,
    /// `expiresIn` of new sessions, seconds.
    pub expires_in: AtomicU64,
}

pub struct StandInGateway {
    pub state: Arc<GatewayState>,
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

fn standard_headers_ok(h: &HeaderMap) -> bool {
    let ts_ok = h
        .get("TIMESTAMP")
        .and_then(|v| v.to_str().ok())
        .is_some_and(valid_timestamp);
    let id_ok = h
        .get("REQUEST-ID")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| uuid::Uuid::parse_str(v).is_ok());
    ts_ok && id_ok && h.get("X-CM-ID").is_some()
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ`
pub fn valid_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && s.chars()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 23].contains(&i) || c.is_ascii_digit())
}

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
}

async fn sessions(
    State(s): State<Arc<GatewayState>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !standard_headers_ok(&h)
        || body["clientId"] != CLIENT_ID
        || body["clientSecret"] != CLIENT_SECRET
        || body["grantType"] != "client_credentials"
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let n = s.sessions_issued.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("session-{n}-{}", uuid::Uuid::new_v4().simple());
    s.sessions.lock().unwrap().insert(token.clone());
    let expires = match s.expires_in.load(Ordering::SeqCst) {
        0 => 1200,
        x => x,
    };
    Json(json!({"accessToken": token, "expiresIn": expires, "refreshExpiresIn": 1800, "tokenType": "bearer"})).into_response()
}

fn session_ok(s: &GatewayState, h: &HeaderMap) -> bool {
    bearer(h).is_some_and(|t| s.sessions.lock().unwrap().contains(&t))
}

fn jwk(kid: &str, which: &str) -> Value {
    let c: Value = serde_json::from_str(COMPONENTS).unwrap();
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": c[which]["n"], "e": c[which]["e"]})
}

async fn certs(State(s): State<Arc<GatewayState>>, h: HeaderMap) -> Response {
    if !standard_headers_ok(&h) || !session_ok(&s, &h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    s.certs_fetched.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![jwk(KID, "gateway")];
    if s.rotated.load(Ordering::SeqCst) {
        keys.push(jwk(KID2, "forger"));
    }
    Json(json!({ "keys": keys })).into_response()
}

async fn on_share(State(s): State<Arc<GatewayState>>, h: HeaderMap, body: Bytes) -> Response {
    if s.down.load(Ordering::SeqCst) {
        s.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !session_ok(&s, &h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    s.on_shares.lock().unwrap().push(OnShare {
        headers: h,
        body,
        at: Instant::now(),
    });
    StatusCode::ACCEPTED.into_response()
}

impl StandInGateway {
    pub async fn start() -> StandInGateway {
        let state = Arc::new(GatewayState::default());
        let app = Router::new()
            .route("/api/hiecm/gateway/v3/sessions", post(sessions))
            .route("/api/hiecm/gateway/v3/certs", get(certs))
            .route("/api/hiecm/patient-share/v3/on-share", post(on_share))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandInGateway {
            state,
            base: format!("http://{addr}/api/hiecm"),
            task,
        }
    }

    /// Every on-share received so far.
    pub fn on_shares(&self) -> Vec<OnShare> {
        self.state.on_shares.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until at least `n` on-shares arrived; returns them.
    pub async fn wait_on_shares(&self, n: usize) -> Vec<OnShare> {
        for _ in 0..2000 {
            let v = self.on_shares();
            if v.len() >= n {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} on-shares, got {}", self.on_shares().len());
    }

    /// Invalidates every session issued (the server must renew on the 401).
    pub fn revoke_sessions(&self) {
        self.state.sessions.lock().unwrap().clear();
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }
}

impl Drop for StandInGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign_with(der: &[u8], kid: &str, exp: u64) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    let claims = json!({"exp": exp, "iat": now_s(), "aud": "account", "iss": "https://dev.ndhm.gov.in/auth/realms/central-registry", "clientId": "gateway"});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(der)).unwrap()
}

/// A valid gateway JWT (expires in 10 minutes).
pub fn gateway_jwt() -> String {
    sign_with(GATEWAY_DER, KID, now_s() + 600)
}

/// A JWT signed by the rotated-in second key.
pub fn rotated_jwt() -> String {
    sign_with(FORGER_DER, KID2, now_s() + 600)
}

/// Signed by the gateway's key but expired a minute ago.
pub fn expired_jwt() -> String {
    sign_with(GATEWAY_DER, KID, now_s() - 60)
}

/// Claims the gateway's `kid` but signed with another key.
pub fn forged_jwt() -> String {
    sign_with(FORGER_DER, KID, now_s() + 600)
}
