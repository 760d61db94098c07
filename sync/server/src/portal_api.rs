//! HTTP surface for booking portals: `POST /api/v1/dialysis/requests` and
//! `GET /api/v1/dialysis/requests/{id}`.
//!
//! Plain JSON (no zstd, no protocol header: portals are ordinary web systems), authenticated by
//! a portal token `Authorization: Bearer <portal_id>.<secret>` issued by `swagat-server portal
//! add`. Errors are `{"code", "message", "errors"?: [{"field", "message"}]}`. Logs carry the
//! portal and request ids only, never the patient's details. A token may be scoped to some
//! facilities or districts (a post for another facility is `403 forbidden`), and each portal
//! has a request rate ([`crate::limits::Guards`]; `429 too_many_requests` + `Retry-After`).

use crate::limits::{retry_after_secs, Guards};
use crate::portal::{self, FieldError};
use crate::secrets;
use crate::store::{Portal, Store, StoreError};
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use tracing::{info, warn};
use uuid::Uuid;

/// Routes of the portal API, to merge into the main router.
pub fn routes<S: Store>() -> Router<Arc<S>> {
    Router::new()
        .route("/api/v1/dialysis/requests", post(submit::<S>))
        .route("/api/v1/dialysis/requests/{id}", get(status::<S>))
}

/// An error answer of the portal API.
#[derive(Debug, Serialize)]
pub struct PortalError {
    #[serde(skip)]
    status: StatusCode,
    /// `unauthorized`, `forbidden`, `bad_request`, `invalid_request`, `unknown_facility`,
    /// `reference_conflict`, `not_found`, `too_many_requests`, `internal`.
    code: &'static str,
    /// English explanation.
    message: String,
    /// Every problem found in the body, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    /// `Retry-After` seconds (429).
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl PortalError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        PortalError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut resp = (self.status, Json(self)).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownFacility => PortalError {
                errors: vec![FieldError {
                    field: "facility".into(),
                    message: "no facility with this code".into(),
                }],
                ..PortalError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_facility",
                    "no facility with this code is registered on this server",
                )
            },
            StoreError::ReferenceConflict => PortalError::new(
                StatusCode::CONFLICT,
                "reference_conflict",
                "this reference was already used for a different request; use a new reference",
            ),
            other => {
                warn!(error = %other, "storage error");
                PortalError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "internal",
                    "storage unavailable, retry later",
                )
            }
        }
    }
}

/// Authenticates the portal and counts the request against its rate.
async fn admit<S: Store>(
    store: &S,
    guards: &Guards,
    headers: &HeaderMap,
) -> Result<Portal, PortalError> {
    let portal = authenticate(store, headers).await?;
    guards.portal_request(portal.id).map_err(|wait| {
        warn!(portal = %portal.id, "portal over its request rate");
        PortalError {
            retry_after: Some(retry_after_secs(wait)),
            ..PortalError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many requests from this portal; retry after the Retry-After seconds",
            )
        }
    })?;
    Ok(portal)
}

async fn authenticate<S: Store>(store: &S, headers: &HeaderMap) -> Result<Portal, PortalError> {
    let unauthorized = || {
        PortalError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid portal token (Authorization: Bearer <token>)",
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let (id, secret) = token.trim().split_once('.').ok_or_else(unauthorized)?;
    let id = Uuid::parse_str(id).map_err(|_| unauthorized())?;
    let portal = store.portal(id).await?.ok_or_else(unauthorized)?;
    if portal.revoked || !secrets::digests_equal(&secrets::hash_secret(secret), &portal.token_hash)
    {
        return Err(unauthorized());
    }
    Ok(portal)
}

async fn submit<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, PortalError> {
    let portal = admit(&*store, &guards, &headers).await?;
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PortalError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
        } else {
            PortalError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body could not be read",
            )
        }
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        PortalError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body is not JSON: {e}"),
        )
    })?;
    let req = portal::validate(&value, portal::today_ist()).map_err(|errors| PortalError {
        errors,
        ..PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "the request has invalid fields; see errors",
        )
    })?;
    if !portal.scope.is_statewide() {
        let district = store
            .facility_district(req.facility.clone())
            .await?
            .flatten();
        if !portal.scope.allows(&req.facility, district) {
            warn!(portal = %portal.id, "post for a facility outside the portal's scope");
            return Err(PortalError {
                errors: vec![FieldError {
                    field: "facility".into(),
                    message: "this portal may not post for this facility".into(),
                }],
                ..PortalError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this portal token may not post for this facility",
                )
            });
        }
    }
    let portal_id = portal.id;
    let (row, created) = store.submit_request(portal, req).await?;
    info!(portal = %portal_id, request = %row.id, created, "dialysis request");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(portal::status_json(&row))).into_response())
}

async fn status<S: Store>(
    State(store): State<Arc<S>>,
    Extension(guards): Extension<Arc<Guards>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let portal = admit(&*store, &guards, &headers).await?;
    let not_found = || {
        PortalError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no request with this id for this portal",
        )
    };
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let row = store.request(portal.id, id).await?.ok_or_else(not_found)?;
    Ok(Json(portal::status_json(&row)).into_response())
}
