//! HTTP surface of the state server (axum): enrollment, push, push state, digests, pull,
//! health, OpenAPI.
//!
//! Handlers authenticate the device (and its install id, to catch a cloned disk), check the
//! protocol version, decode the zstd body and hand over to the [`Store`]; all decisions about
//! records are made by the store's ingest plan. Enrollment is throttled per client address
//! (wrong codes only). What a request may cost (body sizes, rates, quotas, concurrency) is set
//! by [`crate::limits`]; bodies are decoded off the async workers by [`decode_body`].
//! Logs carry device ids, counts and sequences only — payloads are personal data.

use crate::limits::{decode_body, retry_after_secs, BodyError, Guards, Limits};
use crate::secrets;
use crate::store::{Device, EnrollParams, InstallCheck, Store, StoreError};
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use swagat_sync_protocol::{
    encode, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, HealthResponse, PushDigests,
    PushRequest, CONTENT_ENCODING, CONTENT_TYPE, INSTALL_HEADER, MAX_DIGEST_RANGE, PROTOCOL_HEADER,
    PROTOCOL_VERSION,
};
use tower::ServiceBuilder;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::{info, warn, Level};
use uuid::Uuid;

/// Most envelopes accepted in one push.
pub const MAX_BATCH: usize = 5000;
/// Default and maximum records per pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 1000;
const MAX_PULL_LIMIT: u32 = 5000;
/// Builds the router over a store, with the default [`Limits`].
pub fn router<S: Store>(store: Arc<S>) -> Router {
    router_with(
        store,
        Guards::new(Limits::default()),
        crate::abdm::AbdmHandle::default(),
    )
}

/// Builds the router over a store, under `guards`' limits: every route but `/healthz` and
/// `/openapi.json` counts against the concurrency limit (shed with `503` + `Retry-After`) and
/// the request timeout; `abdm` carries the ABDM integration (None inside: the share callback
/// answers 503); `/v1/enroll` and the portal API get the small pre-authentication body
/// cap.
pub fn router_with<S: Store>(
    store: Arc<S>,
    guards: Arc<Guards>,
    abdm: crate::abdm::AbdmHandle,
) -> Router {
    let limits = guards.limits.clone();
    let preauth = DefaultBodyLimit::max(limits.preauth_body());
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(limits.max_in_flight.max(1));
    Router::new()
        .route("/v1/enroll", post(enroll::<S>).layer(preauth))
        .route("/v1/push", post(push::<S>))
        .route("/v1/push/state", get(push_state::<S>))
        .route("/v1/push/digests", get(push_digests::<S>))
        .route("/v1/pull", get(pull::<S>))
        .route("/v1/heartbeat", post(crate::kiosk_health::heartbeat::<S>))
        .merge(crate::portal_api::routes::<S>().layer(preauth))
        .merge(crate::abdm::api::routes::<S>().layer(preauth))
        .layer(axum::Extension(abdm))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout(),
        ))
        .layer(RequestBodyTimeoutLayer::new(limits.request_timeout()))
        .layer(shed)
        .route("/healthz", get(healthz::<S>))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(limits.max_body()))
        .layer(Extension(guards))
        .layer(Extension(Arc::new(EnrollThrottle::default())))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(store.clone())
        .merge(crate::dashboard::routes(store))
}

/// Wrong enrollment codes one client address may send within [`THROTTLE_WINDOW`].
pub const THROTTLE_LIMIT: usize = 20;
/// The window of [`THROTTLE_LIMIT`]: 10 minutes.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(600);
/// Most client addresses the throttle remembers (bounded memory; beyond it, it fails open).
const THROTTLE_ADDRESSES: usize = 100_000;

/// Counts wrong enrollment codes per client address: guessing codes is refused with
/// `429 too_many_requests` once an address has sent [`THROTTLE_LIMIT`] wrong codes within
/// [`THROTTLE_WINDOW`]. Only wrong codes count, so a kiosk with a correct code from another
/// address is never held up. In memory: a restart forgets (an attacker gains little, codes are
/// 60-bit and expire).
#[derive(Debug, Default)]
pub struct EnrollThrottle {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl EnrollThrottle {
    /// `Err(retry_after)` while `addr` is over the limit.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let Some(q) = map.get_mut(&addr) else {
            return Ok(());
        };
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= THROTTLE_WINDOW)
        {
            q.pop_front();
        }
        if q.len() >= THROTTLE_LIMIT {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = THROTTLE_WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(wait.max(Duration::from_secs(1)));
        }
        Ok(())
    }

    /// Records a wrong code from `addr`.
    pub fn fail(&self, addr: IpAddr, now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= THROTTLE_ADDRESSES && !map.contains_key(&addr) {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < THROTTLE_WINDOW)
            });
            if map.len() >= THROTTLE_ADDRESSES {
                return;
            }
        }
        let q = map.entry(addr).or_default();
        q.push_back(now);
        while q.len() > THROTTLE_LIMIT {
            q.pop_front();
        }
    }
}

/// The client's address, when the server was started with connection info (`serve`,
/// `serve_tls`); absent when the router is driven some other way (then nothing is throttled).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Seconds a client is asked to wait when the server sheds load.
const BUSY_RETRY_AFTER: u64 = 2;

async fn overloaded(err: tower::BoxError) -> Response {
    if err.is::<tower::load_shed::error::Overloaded>() {
        warn!("over the in-flight limit; shedding load");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "the server is busy; retry later",
        )
        .retry_after(BUSY_RETRY_AFTER)
        .into_response()
    } else {
        warn!(error = %err, "request failed in a middleware");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
        .into_response()
    }
}

/// An error answer: HTTP status plus [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// `Retry-After` seconds (429, 503).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                acked_seq: None,
            },
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` header.
    fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// `429 too_many_requests` with `Retry-After`.
    fn too_many(message: impl Into<String>, secs: u64) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyRequests,
            message,
        )
        .retry_after(secs)
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                e.to_string(),
            ),
            BodyError::Invalid(_) => bad_request("invalid body (zstd-compressed JSON expected)"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SequenceGap { acked_seq } => ApiError {
                status: StatusCode::CONFLICT,
                body: ErrorBody {
                    code: ErrorCode::SequenceGap,
                    message: format!("batch does not continue acknowledged sequence {acked_seq}"),
                    acked_seq: Some(acked_seq),
                },
                retry_after: None,
            },
            StoreError::SequenceConflict { acked_seq } => ApiError {
                status: StatusCode::CONFLICT,
                body: ErrorBody {
                    code: ErrorCode::SequenceConflict,
                    message: format!(
                        "the batch reuses sequence numbers up to {acked_seq} with other content \
                         (a kiosk restored from a backup or a copied disk); renumber unsent records"
                    ),
                    acked_seq: Some(acked_seq),
                },
                retry_after: None,
            },
            StoreError::InvalidEnrollmentCode => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InvalidEnrollmentCode,
                "enrollment code unknown or already used",
            ),
            StoreError::EnrollmentCodeExpired => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::EnrollmentCodeExpired,
                "this enrollment code has expired; ask the administrator for a new one",
            ),
            StoreError::PreviousDeviceElsewhere => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "the previous device belongs to another facility; enroll this kiosk afresh",
            ),
            other => {
                warn!(error = %other, "storage error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Internal,
                    "storage unavailable, retry later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// Encodes a body with the protocol's wire format (zstd JSON).
pub(crate) fn wire<T: Serialize>(value: &T) -> Result<Response, ApiError> {
    let bytes = encode(value).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "encoding failed",
        )
    })?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(CONTENT_ENCODING),
    );
    h.insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    Ok(resp)
}

fn check_protocol(headers: &HeaderMap) -> Result<(), ApiError> {
    let v = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    if v == Some(PROTOCOL_VERSION) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ProtocolVersion,
            format!("this server speaks sync protocol {PROTOCOL_VERSION}"),
        ))
    }
}

/// The device a bearer credential proves (revoked or not); `None` if it proves nothing.
async fn credential_device<S: Store>(
    store: &S,
    headers: &HeaderMap,
) -> Result<Option<Device>, ApiError> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Ok(None);
    };
    let Some((id, secret)) = token.split_once('.') else {
        return Ok(None);
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    Ok(store
        .device(id)
        .await?
        .filter(|d| secrets::digests_equal(&secrets::hash_secret(secret), &d.secret_hash)))
}

/// The install id of a request (`x-swagat-install`), if it carries one.
fn install_id(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    match headers.get(INSTALL_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| Uuid::parse_str(v.trim()).ok())
            .map(Some)
            .ok_or_else(|| bad_request("the x-swagat-install header is not a UUID")),
    }
}

pub(crate) async fn authenticate<S: Store>(
    store: &S,
    headers: &HeaderMap,
) -> Result<Device, ApiError> {
    let device = authenticate_credential(store, headers).await?;
    if let Some(install) = install_id(headers)? {
        if store.check_install(device.id, install).await? == InstallCheck::Superseded {
            warn!(device = %device.id, "request from a superseded install refused (cloned disk)");
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::DeviceCloned,
                "another copy of this kiosk (a copied disk or a restored backup that is still \
                 running) now speaks for this device; this copy must stop: re-enroll this kiosk \
                 with a new enrollment code (swagat-admin enroll)",
            ));
        }
    }
    Ok(device)
}

async fn authenticate_credential<S: Store>(
    store: &S,
    headers: &HeaderMap,
) -> Result<Device, ApiError> {
    check_protocol(headers)?;
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "missing or invalid device credential",
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let (id, secret) = token.split_once('.').ok_or_else(unauthorized)?;
    let id = Uuid::parse_str(id).map_err(|_| unauthorized())?;
    let device = store.device(id).await?.ok_or_else(unauthorized)?;
    if !secrets::digests_equal(&secrets::hash_secret(secret), &device.secret_hash) {
        return Err(unauthorized());
    }
    if device.revoked {
        warn!(device = %id, "revoked device refused");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::DeviceRevoked,
            "this device has been revoked",
        ));
    }
    // Issue 12: a kiosk's `last_seen` is its last request of any kind.
    crate::kiosk_health::touch(store, id).await?;
    Ok(device)
}

/// A body that could not be read (over the size cap, or cut off) as an [`ApiError`].
fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        )
    } else {
        bad_request("the request body could not be read")
    }
}

pub(crate) fn bad_request(what: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, what)
}

async fn healthz<S: Store>(State(store): State<Arc<S>>) -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL_VERSION,
        backend: store.backend().into(),
    })
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// Shortest secret a kiosk may choose (v2); it is a bearer credential.
const MIN_CLIENT_SECRET: usize = 32;
/// Longest secret a kiosk may choose (v2).
const MAX_CLIENT_SECRET: usize = 128;

fn valid_client_secret(s: &str) -> bool {
    (MIN_CLIENT_SECRET..=MAX_CLIENT_SECRET).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn enroll<S: Store>(
    State(store): State<Arc<S>>,
    Extension(throttle): Extension<Arc<EnrollThrottle>>,
    ClientAddr(addr): ClientAddr,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    if let Some(ip) = addr {
        if let Err(wait) = throttle.check(ip, Instant::now()) {
            warn!(%ip, "enrollment throttled: too many wrong codes");
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyRequests,
                format!(
                    "too many wrong enrollment codes from this address; try again in {} s",
                    wait.as_secs().max(1)
                ),
            );
            e.retry_after = Some(wait.as_secs().max(1));
            return Err(e);
        }
    }
    let body = body.map_err(body_rejection)?;
    let req: EnrollRequest = decode_body(body, guards.limits.preauth_body() as u64).await?;
    // v2: the kiosk made (and persisted) its secret before asking; v1: the server makes it.
    let secret = match req.client_secret {
        Some(s) if valid_client_secret(&s) => s,
        Some(_) => {
            return Err(bad_request(
                "client_secret must be 32 to 128 characters of A-Z a-z 0-9 - _",
            ))
        }
        None => secrets::new_device_secret(),
    };
    // Re-enrollment: the previous device must be proven by its own credential (old secret,
    // accepted even when revoked).
    let previous_device = match req.previous_device_id {
        None => None,
        Some(prev) => match credential_device(&*store, &headers).await? {
            Some(d) if d.id == prev => Some(prev),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    "re-enrollment must present the previous device's credential",
                ))
            }
        },
    };
    let result = store
        .enroll(EnrollParams {
            code_hash: secrets::hash_enrollment_code(&req.code),
            device_name: req.device_name.chars().take(100).collect(),
            secret_hash: secrets::hash_secret(&secret),
            install_id: req.install_id,
            previous_device,
            previous_install: previous_device
                .map(|_| install_id(&headers))
                .transpose()?
                .flatten(),
            previous_acked: previous_device.and(req.previous_acked_seq),
        })
        .await;
    let enrolled = match result {
        Ok(e) => e,
        Err(StoreError::InvalidEnrollmentCode) => {
            if let Some(ip) = addr {
                throttle.fail(ip, Instant::now());
            }
            return Err(StoreError::InvalidEnrollmentCode.into());
        }
        Err(e) => return Err(e.into()),
    };
    info!(
        device = %enrolled.device.id,
        facility = %enrolled.facility.id,
        retried = enrolled.retried,
        replaces = ?previous_device,
        "device enrolled"
    );
    wire(&EnrollResponse {
        device_id: enrolled.device.id,
        facility_id: enrolled.facility.id,
        facility_code: enrolled.facility.code,
        facility_name: enrolled.facility.name,
        secret,
        aadhaar_key: Some(enrolled.keys.aadhaar_key),
        aadhaar_key_id: Some(enrolled.keys.aadhaar_key_id),
        slip_link_key: Some(enrolled.keys.slip_link_key),
    })
}

/// Counts a request of `device` against its rate.
fn rate_limit(guards: &Guards, device: &Device) -> Result<(), ApiError> {
    guards.device_request(device.id).map_err(|wait| {
        warn!(device = %device.id, "device over its request rate");
        ApiError::too_many(
            "too many requests from this device; retry later",
            retry_after_secs(wait),
        )
    })
}

/// Seconds a device over its storage quota is asked to wait (an administrator must act).
const QUOTA_RETRY_AFTER: u64 = 3600;

async fn push<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let device = authenticate(&*store, &headers).await?;
    let body = body.map_err(body_rejection)?;
    rate_limit(&guards, &device)?;
    let quota = guards.limits.device_quota_bytes();
    let used = store.device_usage(device.id).await?;
    if used >= quota {
        warn!(device = %device.id, used, quota, "device over its storage quota");
        return Err(ApiError::too_many(
            format!(
                "this device has used its storage quota ({} MiB); ask the state administrator",
                guards.limits.device_quota_mib
            ),
            QUOTA_RETRY_AFTER,
        ));
    }
    let req: PushRequest = decode_body(body, swagat_sync_protocol::wire::MAX_DECODED_BYTES).await?;
    if req.envelopes.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BatchTooLarge,
            format!("at most {MAX_BATCH} envelopes per push"),
        ));
    }
    let n = req.envelopes.len();
    let id = device.id;
    let resp = store.ingest(device, req.envelopes).await?;
    info!(
        device = %id,
        envelopes = n,
        accepted = resp.accepted,
        duplicates = resp.duplicates,
        rejected = resp.rejected.len(),
        acked_seq = resp.acked_seq,
        "push"
    );
    wire(&resp)
}

/// Query of `GET /v1/push/state`.
#[derive(Debug, Deserialize)]
pub struct StateQuery {
    /// Report rejections with `seq > since`.
    #[serde(default)]
    pub since: u64,
}

async fn push_state<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    q: Result<Query<StateQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| bad_request("invalid query (since: a non-negative integer)"))?;
    let device = authenticate(&*store, &headers).await?;
    rate_limit(&guards, &device)?;
    let state = store.push_state(device.id, q.since).await?;
    wire(&state)
}

/// Query of `GET /v1/push/digests`.
#[derive(Debug, Deserialize)]
pub struct DigestsQuery {
    /// First sequence (inclusive).
    pub from: u64,
    /// Last sequence (inclusive); at most `from + 4999`.
    pub to: u64,
}

async fn push_digests<S: Store>(
    State(store): State<Arc<S>>,
    headers: HeaderMap,
    q: Result<Query<DigestsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| bad_request("invalid query (from, to: non-negative integers)"))?;
    let device = authenticate(&*store, &headers).await?;
    if q.to < q.from || q.to - q.from >= MAX_DIGEST_RANGE {
        return Err(bad_request(&format!(
            "from..to must be a range of 1 to {MAX_DIGEST_RANGE} sequences"
        )));
    }
    let digests = store.digests(device.id, q.from, q.to).await?;
    wire(&PushDigests { digests })
}

/// Query of `GET /v1/pull`.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    /// Server cursor returned by the previous pull (0 at first).
    #[serde(default)]
    pub cursor: u64,
    /// Page size.
    pub limit: Option<u32>,
    /// Also the device's own changes (a kiosk's recovery pull after a restore from backup).
    #[serde(default)]
    pub include_own: bool,
}

async fn pull<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    q: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        q.map_err(|_| bad_request("invalid query (cursor, limit: non-negative integers)"))?;
    let device = authenticate(&*store, &headers).await?;
    rate_limit(&guards, &device)?;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT);
    let resp = store
        .pull(
            device.facility_id,
            device.id,
            q.cursor,
            limit,
            q.include_own,
            guards.limits.pull_page_bytes(),
        )
        .await?;
    info!(device = %device.id, records = resp.records.len(), cursor = resp.cursor, "pull");
    wire(&resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_wrong_codes_per_address_within_the_window() {
        let t = EnrollThrottle::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let start = Instant::now();
        for i in 0..THROTTLE_LIMIT {
            assert!(t.check(a, start).is_ok(), "attempt {i}");
            t.fail(a, start + Duration::from_secs(i as u64));
        }
        let now = start + Duration::from_secs(60);
        let wait = t.check(a, now).unwrap_err();
        assert_eq!(wait, THROTTLE_WINDOW - Duration::from_secs(60));
        // Another address is not held up.
        assert!(t.check(b, now).is_ok());
        // Once the oldest wrong code leaves the window, one more attempt is allowed.
        assert!(t.check(a, start + THROTTLE_WINDOW).is_ok());
    }
}
