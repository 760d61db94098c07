//! `POST /api/v3/hip/patient/share`: ABDM's gateway delivers a scanned profile.
//!
//! Plain JSON, authenticated by the gateway's RS256 JWT (`Authorization: Bearer`). Answers:
//! `202` once stored (the on-share goes out from the queue, never inline), `400` listing every
//! problem of the body, `401` for a missing, forged or expired JWT (nothing stored), `404` for
//! an unknown `hipId`, `503` when the server runs without `--abdm-gateway` or cannot reach the
//! gateway's keys. Errors are `{"code", "message", "errors"?: [{"field", "message"}]}`. Logs
//! carry share ids and tokens only, never the profile.

use super::{profile, AbdmHandle};
use crate::portal::FieldError;
use crate::store::StoreError;
use crate::Store;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Serialize;
use std::sync::Arc;
use tracing::{info, warn};

/// Path of the share callback.
pub const SHARE_PATH: &str = "/api/v3/hip/patient/share";
/// Largest share body accepted.
const MAX_SHARE_BODY: usize = 64 * 1024;

/// The callback route, to merge into the main router.
pub fn routes<S: Store>() -> Router<Arc<S>> {
    Router::new().route(
        SHARE_PATH,
        post(share::<S>).layer(DefaultBodyLimit::max(MAX_SHARE_BODY)),
    )
}

/// An error answer of the callback.
#[derive(Debug, Serialize)]
pub struct ShareError {
    #[serde(skip)]
    status: StatusCode,
    /// `abdm_disabled`, `unauthorized`, `invalid_share`, `unknown_hip`, `unavailable`.
    code: &'static str,
    /// English explanation.
    message: String,
    /// Every problem found, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl ShareError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ShareError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for ShareError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

async fn share<S: Store>(
    State(store): State<Arc<S>>,
    Extension(handle): Extension<AbdmHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ShareError> {
    let Some(abdm) = handle.0 else {
        return Err(ShareError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "abdm_disabled",
            "scan and share is not configured on this server (start it with --abdm-gateway)",
        ));
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = abdm.gateway.verify(auth).await {
        return Err(match e {
            super::gateway::JwtError::Keys(err) => {
                warn!(error = %err, "cannot fetch the gateway's keys");
                ShareError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "cannot check the gateway's signature now; retry later",
                )
            }
            other => {
                warn!(reason = %other, "share refused: bad gateway token");
                ShareError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing, invalid or expired gateway token",
                )
            }
        });
    }
    let request_id = headers.get("REQUEST-ID").and_then(|v| v.to_str().ok());
    let this_year = crate::portal::today_ist().year();
    let share =
        profile::parse_share(request_id, &body, this_year).map_err(|errors| ShareError {
            errors,
            ..ShareError::new(
                StatusCode::BAD_REQUEST,
                "invalid_share",
                "the share body has problems; see errors",
            )
        })?;
    let counter = share.counter.clone();
    match store.record_share(share, abdm.window).await {
        Ok(out) => {
            abdm.wake.notify_one();
            info!(share = %out.share_id, counter = %counter, token = out.token, created = out.created, "share accepted");
            Ok((
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "status": "accepted" })),
            )
                .into_response())
        }
        Err(StoreError::UnknownFacility) => Err(ShareError::new(
            StatusCode::NOT_FOUND,
            "unknown_hip",
            "no facility with this HFR id (hipId) is registered on this server",
        )),
        Err(e) => {
            warn!(error = %e, "storage error on share");
            Err(ShareError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable, retry later",
            ))
        }
    }
}
