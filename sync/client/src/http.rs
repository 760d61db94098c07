//! HTTP transport to the state server: reqwest over rustls, zstd-encoded JSON bodies.
//!
//! Turns every failure into a [`SyncError`] the engine can classify (offline, retryable server
//! error, fatal refusal). Bodies are read completely and decoded here, so a truncated or
//! garbled answer is a retryable transport error and never a half-applied one.
//!
//! https only: the scheme is checked before anything is sent ([`check_url`]). `http://` is
//! allowed for loopback (this machine: tests, a server on the kiosk itself) and otherwise only
//! when the operator asked for it on purpose (`--insecure-http`).

use crate::engine::{EngineConfig, SyncError};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;
use swagat_sync_protocol::{
    decode, encode, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, PullResponse, PushDigests,
    PushRequest, PushResponse, PushState, CONTENT_ENCODING as ZSTD, CONTENT_TYPE as JSON,
    INSTALL_HEADER, PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use uuid::Uuid;

/// A connection to one state server, optionally authenticated as a device.
#[derive(Debug, Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
    auth: Option<HeaderValue>,
    install: Option<HeaderValue>,
    /// Bytes sent in request bodies (for benchmarks).
    pub bytes_sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bytes received in response bodies (for benchmarks).
    pub bytes_received: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl ServerClient {
    /// A client for `base_url` (no trailing slash needed), with the timeouts and extra TLS
    /// roots of `config`.
    pub fn new(base_url: &str, config: &EngineConfig) -> Result<Self, SyncError> {
        check_url(base_url, config.allow_insecure_http)?;
        let mut headers = HeaderMap::new();
        headers.insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .default_headers(headers)
            .user_agent(concat!("swagat-sync/", env!("CARGO_PKG_VERSION")));
        for pem in &config.extra_root_certs_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SyncError::Config(format!("bad CA certificate: {e}")))?;
            if certs.is_empty() {
                return Err(SyncError::Config(
                    "the CA certificate file holds no PEM certificate".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| SyncError::Config(e.to_string()))?;
        Ok(ServerClient {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            auth: None,
            install: None,
            bytes_sent: Default::default(),
            bytes_received: Default::default(),
        })
    }

    /// Authenticates subsequent requests as `device`.
    pub fn with_device(mut self, device: Uuid, secret: &str) -> Result<Self, SyncError> {
        let mut v = HeaderValue::from_str(&format!("Bearer {device}.{secret}"))
            .map_err(|_| SyncError::Config("device secret is not a valid header value".into()))?;
        v.set_sensitive(true);
        self.auth = Some(v);
        Ok(self)
    }

    /// Sends this installation's id ([`INSTALL_HEADER`]) with every request.
    pub fn with_install(mut self, install: Uuid) -> Self {
        self.install = HeaderValue::from_str(&install.to_string()).ok();
        self
    }

    /// `GET /healthz`: whether the server is reachable.
    pub async fn healthy(&self) -> bool {
        match self
            .http
            .get(format!("{}/healthz", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    /// `POST /v1/enroll`.
    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        self.post("/v1/enroll", req).await
    }

    /// `GET /v1/push/state?since=N`.
    pub async fn push_state(&self, since: u64) -> Result<PushState, SyncError> {
        self.get(&format!("/v1/push/state?since={since}")).await
    }

    /// `POST /v1/push`.
    pub async fn push(&self, req: &PushRequest) -> Result<PushResponse, SyncError> {
        self.post("/v1/push", req).await
    }

    /// `GET /v1/pull?cursor=N&limit=M`.
    pub async fn pull(&self, cursor: u64, limit: u32) -> Result<PullResponse, SyncError> {
        self.get(&format!("/v1/pull?cursor={cursor}&limit={limit}"))
            .await
    }

    /// `GET /v1/pull?cursor=N&limit=M&include_own=true`: the recovery pull after a restore,
    /// with this device's own changes too.
    pub async fn pull_with_own(&self, cursor: u64, limit: u32) -> Result<PullResponse, SyncError> {
        self.get(&format!(
            "/v1/pull?cursor={cursor}&limit={limit}&include_own=true"
        ))
        .await
    }

    /// `GET /v1/push/digests?from=A&to=B`: the server's content hashes of this device's
    /// sequences `A..=B`.
    pub async fn digests(&self, from: u64, to: u64) -> Result<PushDigests, SyncError> {
        self.get(&format!("/v1/push/digests?from={from}&to={to}"))
            .await
    }

    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let bytes = encode(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        self.bytes_sent
            .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let mut rb = self
            .http
            .post(format!("{}{}", self.base, path))
            .header(CONTENT_TYPE, JSON)
            .header(CONTENT_ENCODING, ZSTD)
            .body(bytes);
        if let Some(a) = &self.auth {
            rb = rb.header(AUTHORIZATION, a.clone());
        }
        if let Some(i) = &self.install {
            rb = rb.header(INSTALL_HEADER, i.clone());
        }
        self.finish(rb).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let mut rb = self.http.get(format!("{}{}", self.base, path));
        if let Some(a) = &self.auth {
            rb = rb.header(AUTHORIZATION, a.clone());
        }
        if let Some(i) = &self.install {
            rb = rb.header(INSTALL_HEADER, i.clone());
        }
        self.finish(rb).await
    }

    async fn finish<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(3600)));
        let body = resp.bytes().await.map_err(transport)?;
        self.bytes_received
            .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if status.is_success() {
            return decode(&body).map_err(|e| SyncError::Protocol(format!("bad answer: {e}")));
        }
        let err: Option<ErrorBody> = decode(&body).ok();
        if status.as_u16() == 429 {
            return Err(SyncError::TooManyRequests {
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
                message: err.map(|b| b.message).unwrap_or_default(),
            });
        }
        Err(match err {
            Some(ErrorBody {
                code: ErrorCode::DeviceRevoked,
                ..
            }) => SyncError::Revoked,
            Some(ErrorBody {
                code: ErrorCode::Unauthorized,
                ..
            }) => SyncError::Unauthorized,
            Some(ErrorBody {
                code: ErrorCode::InvalidEnrollmentCode,
                ..
            }) => SyncError::InvalidEnrollmentCode,
            Some(ErrorBody {
                code: ErrorCode::SequenceGap,
                acked_seq,
                ..
            }) => SyncError::SequenceGap {
                acked_seq: acked_seq.unwrap_or(0),
            },
            Some(ErrorBody {
                code: ErrorCode::SequenceConflict,
                acked_seq,
                ..
            }) => SyncError::SequenceConflict {
                acked_seq: acked_seq.unwrap_or(0),
            },
            Some(ErrorBody {
                code: ErrorCode::DeviceCloned,
                ..
            }) => SyncError::DeviceCloned,
            Some(ErrorBody {
                code: ErrorCode::EnrollmentCodeExpired,
                ..
            }) => SyncError::EnrollmentCodeExpired,
            Some(b) => SyncError::Server {
                status: status.as_u16(),
                code: Some(b.code),
                message: b.message,
            },
            None => SyncError::Server {
                status: status.as_u16(),
                code: None,
                message: status.canonical_reason().unwrap_or("error").to_string(),
            },
        })
    }
}

/// Whether `url` is `http://` to another machine than this one (not loopback).
pub fn is_insecure_remote(url: &str) -> bool {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => u.scheme() == "http" && !is_loopback(&u),
        Err(_) => false,
    }
}

fn is_loopback(u: &reqwest::Url) -> bool {
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks a server URL before connecting: `https://`, or `http://` to loopback, or `http://`
/// anywhere when `allow_insecure_http` (the operator's deliberate choice).
pub fn check_url(url: &str, allow_insecure_http: bool) -> Result<(), SyncError> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| SyncError::Config(format!("the server address {url:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) || allow_insecure_http => Ok(()),
        "http" => Err(SyncError::InsecureUrl(
            parsed.host_str().unwrap_or_default().to_string(),
        )),
        other => Err(SyncError::Config(format!(
            "the server address must start with https:// (not {other}://)"
        ))),
    }
}

/// The TLS certificate problem behind `e`, if any (rustls reports it deep in the source chain,
/// e.g. "invalid peer certificate: UnknownIssuer").
fn certificate_problem(e: &reqwest::Error) -> Option<String> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = src {
        let text = err.to_string();
        if text.contains("certificate") {
            return Some(text);
        }
        src = err.source();
    }
    None
}

fn transport(e: reqwest::Error) -> SyncError {
    if let Some(problem) = certificate_problem(&e) {
        SyncError::Certificate(problem)
    } else if e.is_connect() {
        SyncError::Offline(e.to_string())
    } else {
        SyncError::Transport(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_unless_loopback_or_on_purpose() {
        assert!(check_url("https://swagat.bihar.gov.in", false).is_ok());
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:9",
            "http://[::1]:80/",
            "http://127.5.0.1",
        ] {
            assert!(check_url(local, false).is_ok(), "{local}");
            assert!(!is_insecure_remote(local), "{local}");
        }
        let err = check_url("http://10.0.0.5:8080", false).unwrap_err();
        assert!(matches!(err, SyncError::InsecureUrl(ref h) if h == "10.0.0.5"));
        assert!(err.to_string().contains("--insecure-http"));
        assert!(check_url("http://10.0.0.5:8080", true).is_ok());
        assert!(is_insecure_remote("http://state.example.org"));
        assert!(matches!(
            check_url("ftp://x.org", true),
            Err(SyncError::Config(_))
        ));
        assert!(matches!(
            check_url("not a url", false),
            Err(SyncError::Config(_))
        ));
        // Refused before any connection: the client is never built.
        let cfg = EngineConfig::default();
        assert!(matches!(
            ServerClient::new("http://192.0.2.1:1", &cfg),
            Err(SyncError::InsecureUrl(_))
        ));
    }
}
