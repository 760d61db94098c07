//! HTTP surface of the state server (axum): enrollment, push, push state, pull, health, OpenAPI.
//!
//! Handlers authenticate the device, check the protocol version, decode the zstd body and hand
//! over to the [`Store`]; all decisions about records are made by the store's ingest plan.
//! What a request may cost (body sizes, rates, quotas, concurrency) is set by
//! [`crate::limits`]; bodies are decoded off the async workers by [`decode_body`].
//! Logs carry device ids, counts and sequences only — payloads are personal data.

use crate::limits::{decode_body, retry_after_secs, BodyError, Guards, Limits};
use crate::secrets;
use crate::store::{Device, Store, StoreError};
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use swagat_sync_protocol::{
    encode, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, HealthResponse, PushRequest,
    CONTENT_ENCODING, CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION,
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
    router_with(store, Guards::new(Limits::default()))
}

/// Builds the router over a store, under `guards`' limits: every route but `/healthz` and
/// `/openapi.json` counts against the concurrency limit (shed with `503` + `Retry-After`) and
/// the request timeout; `/v1/enroll` and the portal API get the small pre-authentication body
/// cap.
pub fn router_with<S: Store>(store: Arc<S>, guards: Arc<Guards>) -> Router {
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
        .route("/v1/pull", get(pull::<S>))
        .merge(crate::portal_api::routes::<S>().layer(preauth))
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
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(store)
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
            StoreError::InvalidEnrollmentCode => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InvalidEnrollmentCode,
                "enrollment code unknown or already used",
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
fn wire<T: Serialize>(value: &T) -> Result<Response, ApiError> {
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

async fn authenticate<S: Store>(store: &S, headers: &HeaderMap) -> Result<Device, ApiError> {
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

fn bad_request(what: &str) -> ApiError {
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

async fn enroll<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    let body = body.map_err(body_rejection)?;
    let req: EnrollRequest = decode_body(body, guards.limits.preauth_body() as u64).await?;
    let secret = secrets::new_device_secret();
    let (device, facility) = store
        .enroll(
            secrets::hash_enrollment_code(&req.code),
            req.device_name.chars().take(100).collect(),
            secrets::hash_secret(&secret),
        )
        .await?;
    info!(device = %device.id, facility = %facility.id, "device enrolled");
    wire(&EnrollResponse {
        device_id: device.id,
        facility_id: facility.id,
        facility_code: facility.code,
        facility_name: facility.name,
        secret,
        aadhaar_key: None,
        aadhaar_key_id: None,
        slip_link_key: None,
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

/// Query of `GET /v1/pull`.
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    /// Server cursor returned by the previous pull (0 at first).
    #[serde(default)]
    pub cursor: u64,
    /// Page size.
    pub limit: Option<u32>,
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
            guards.limits.pull_page_bytes(),
        )
        .await?;
    info!(device = %device.id, records = resp.records.len(), cursor = resp.cursor, "pull");
    wire(&resp)
}
