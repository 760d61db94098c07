//! HTTP transport to the state server: reqwest over rustls, zstd-encoded JSON bodies.
//!
//! Turns every failure into a [`SyncError`] the engine can classify (offline, retryable server
//! error, fatal refusal). Bodies are read completely and decoded here, so a truncated or
//! garbled answer is a retryable transport error and never a half-applied one.

use crate::engine::{EngineConfig, SyncError};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;
use swagat_sync_protocol::{
    decode, encode, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, PullResponse, PushRequest,
    PushResponse, PushState, CONTENT_ENCODING as ZSTD, CONTENT_TYPE as JSON, PROTOCOL_HEADER,
    PROTOCOL_VERSION,
};
use uuid::Uuid;

/// A connection to one state server, optionally authenticated as a device.
#[derive(Debug, Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
    auth: Option<HeaderValue>,
    /// Bytes sent in request bodies (for benchmarks).
    pub bytes_sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bytes received in response bodies (for benchmarks).
    pub bytes_received: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl ServerClient {
    /// A client for `base_url` (no trailing slash needed), with the timeouts and extra TLS
    /// roots of `config`.
    pub fn new(base_url: &str, config: &EngineConfig) -> Result<Self, SyncError> {
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
        self.finish(rb).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let mut rb = self.http.get(format!("{}{}", self.base, path));
        if let Some(a) = &self.auth {
            rb = rb.header(AUTHORIZATION, a.clone());
        }
        self.finish(rb).await
    }

    async fn finish<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(transport)?;
        self.bytes_received
            .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if status.is_success() {
            return decode(&body).map_err(|e| SyncError::Protocol(format!("bad answer: {e}")));
        }
        let err: Option<ErrorBody> = decode(&body).ok();
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
