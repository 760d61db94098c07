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
            abdm.hand_off(out.job);
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

/// Adds the share callback (path, schemas, security) to the OpenAPI document.
pub fn document_callback(doc: &mut serde_json::Value) {
    use serde_json::json;
    let text = json!({ "type": ["string", "null"] });
    doc["components"]["securitySchemes"]["abdmGateway"] = json!({
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "the ABDM gateway's RS256 JWT, verified against its JWKS (GET {HIECM base}/gateway/v3/certs) by kid; exp must be in the future"
    });
    doc["components"]["schemas"]["AbhaProfileShare"] = json!({
        "type": "object",
        "required": ["intent", "metaData", "profile"],
        "properties": {
            "intent": { "const": "PROFILE_SHARE" },
            "metaData": { "type": "object", "required": ["hipId", "context"], "properties": {
                "hipId": { "type": "string", "pattern": "^IN[0-9]{10}$", "description": "the facility's HFR id (swagat-server facility add|set --hfr-id)" },
                "context": { "type": "string", "pattern": "^[A-Za-z0-9]{1,20}$", "description": "the counter id of the scanned QR" },
                "hprId": text, "latitude": text, "longitude": text } },
            "profile": { "type": "object", "required": ["patient"], "properties": { "patient": {
                "type": "object", "required": ["abhaAddress", "name"],
                "properties": {
                    "abhaNumber": { "type": ["string", "null"], "description": "XX-XXXX-XXXX-XXXX; may be null" },
                    "abhaAddress": { "type": "string" }, "name": { "type": "string" },
                    "gender": { "enum": ["M", "F", "O", null] },
                    "dayOfBirth": text, "monthOfBirth": text, "yearOfBirth": text,
                    "address": { "type": ["object", "null"], "properties": {
                        "line": text, "district": text, "state": text,
                        "pincode": text, "pinCode": { "type": ["string", "null"], "description": "accepted for pincode" } } },
                    "phoneNumber": text } } } }
        }
    });
    doc["components"]["schemas"]["ShareError"] = json!({
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": { "enum": ["abdm_disabled", "unauthorized", "invalid_share", "unknown_hip", "unavailable"] },
            "message": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } }
        }
    });
    let e = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ShareError" } } } });
    let header = |name: &str, d: &str| json!({ "name": name, "in": "header", "required": false, "schema": { "type": "string" }, "description": d });
    doc["paths"][SHARE_PATH] = json!({ "post": {
        "summary": "ABDM scan and share: the gateway delivers a profile scanned at a counter; the on-share answer (with the token) is sent asynchronously to {HIECM base}/patient-share/v3/on-share",
        "security": [{ "abdmGateway": [] }],
        "parameters": [
            { "name": "REQUEST-ID", "in": "header", "required": true, "schema": { "type": "string" }, "description": "the gateway's request id; a retry with the same id is the same share and token" },
            header("TIMESTAMP", "UTC yyyy-MM-ddTHH:mm:ss.SSSZ"), header("X-HIP-ID", "the facility's HFR id"), header("X-CM-ID", "sbx or abdm")
        ],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/AbhaProfileShare" } } } },
        "responses": {
            "202": { "description": "stored (or a gateway retry / a repeat within the window: the same share and token); this call's on-share answer follows asynchronously, sent from the server's queue",
                "content": { "application/json": { "schema": { "type": "object", "required": ["status"], "properties": { "status": { "const": "accepted" } } } } } },
            "400": e("the JWT verified but the body has problems (malformed JSON, a missing or malformed field, an unknown intent): every one listed in errors; nothing stored"),
            "401": e("no Authorization header, not a Bearer token, not a JWT, not RS256, no kid, a kid the gateway's JWKS does not have, a bad signature or an expired token: nothing stored or answered (checked before the body is read)"),
            "404": e("the JWT and body are valid but no facility on this server has this metaData.hipId (swagat-server facility set --hfr-id)"),
            "413": { "description": "body over 64 KiB" },
            "503": e("code abdm_disabled: the server runs without --abdm-gateway (every call); code unavailable: the gateway's keys cannot be fetched to check a JWT, or the database is unavailable (retry later)")
        }
    } });
}
