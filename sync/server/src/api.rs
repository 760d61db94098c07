//! HTTP surface of the state server (axum): enrollment, push, push state, pull, health, OpenAPI.
//!
//! Handlers authenticate the device, check the protocol version, decode the zstd body and hand
//! over to the [`Store`]; all decisions about records are made by the store's ingest plan.
//! Logs carry device ids, counts and sequences only — payloads are personal data.

use crate::secrets;
use crate::store::{Device, Store, StoreError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use swagat_sync_protocol::{
    decode, encode, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, HealthResponse,
    PushRequest, CONTENT_ENCODING, CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::{info, warn, Level};
use uuid::Uuid;

/// Most envelopes accepted in one push.
pub const MAX_BATCH: usize = 5000;
/// Default and maximum records per pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 1000;
const MAX_PULL_LIMIT: u32 = 5000;
/// Largest compressed request body.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Builds the router over a store.
pub fn router<S: Store>(store: Arc<S>) -> Router {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/openapi.json", get(openapi))
        .route("/v1/enroll", post(enroll::<S>))
        .route("/v1/push", post(push::<S>))
        .route("/v1/push/state", get(push_state::<S>))
        .route("/v1/pull", get(pull::<S>))
        .route("/v1/heartbeat", post(crate::kiosk_health::heartbeat::<S>))
        .merge(crate::portal_api::routes::<S>())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(store.clone())
        .merge(crate::dashboard::routes(store))
}

/// An error answer: HTTP status plus [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
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
        (self.status, Json(self.body)).into_response()
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

pub(crate) async fn authenticate<S: Store>(
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

async fn enroll<S: Store>(
    State(store): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    let req: EnrollRequest = decode(&body).map_err(|_| bad_request("invalid enroll body"))?;
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

async fn push<S: Store>(
    State(store): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&*store, &headers).await?;
    let req: PushRequest = decode(&body).map_err(|_| bad_request("invalid push body"))?;
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
    headers: HeaderMap,
    Query(q): Query<StateQuery>,
) -> Result<Response, ApiError> {
    let device = authenticate(&*store, &headers).await?;
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
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> Result<Response, ApiError> {
    let device = authenticate(&*store, &headers).await?;
    let limit = q
        .limit
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT);
    let resp = store
        .pull(device.facility_id, device.id, q.cursor, limit)
        .await?;
    info!(device = %device.id, records = resp.records.len(), cursor = resp.cursor, "pull");
    wire(&resp)
}
