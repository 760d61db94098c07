//! HTTP surface for booking portals: `POST /api/v1/dialysis/requests` and
//! `GET /api/v1/dialysis/requests/{id}`.
//!
//! Plain JSON (no zstd, no protocol header: portals are ordinary web systems), authenticated by
//! a portal token `Authorization: Bearer <portal_id>.<secret>` issued by `swagat-server portal
//! add`. Errors are `{"code", "message", "errors"?: [{"field", "message"}]}`. Logs carry the
//! portal and request ids only, never the patient's details.

use crate::portal::{self, FieldError};
use crate::secrets;
use crate::store::{Portal, Store, StoreError};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
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
    /// `unauthorized`, `bad_request`, `invalid_request`, `unknown_facility`,
    /// `reference_conflict`, `not_found`, `internal`.
    code: &'static str,
    /// English explanation.
    message: String,
    /// Every problem found in the body, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl PortalError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        PortalError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PortalError> {
    let portal = authenticate(&*store, &headers).await?;
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
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let portal = authenticate(&*store, &headers).await?;
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
