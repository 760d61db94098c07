//! OpenAPI 3.1 description of the sync API, served at `GET /openapi.json`.
//!
//! Hand-written (rather than derived) so that it documents the wire contract exactly, including
//! the zstd body encoding that derive-based generators cannot express, and costs no build time.

use serde_json::{json, Value};

/// The OpenAPI document.
pub fn document() -> Value {
    let zstd_json = |schema: &str| json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } });
    let err = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } });
    let auth = json!([{ "device": [] }]);
    let proto = json!({ "name": "x-swagat-protocol", "in": "header", "required": true, "schema": { "type": "integer", "const": swagat_sync_protocol::PROTOCOL_VERSION } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Swagat state server sync API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kiosk ↔ state server sync (see sync/PROTOCOL.md). Request and response bodies of /v1 are JSON compressed with zstd (Content-Encoding: zstd); error bodies are plain JSON."
        },
        "components": {
            "securitySchemes": {
                "device": { "type": "http", "scheme": "bearer", "description": "<device_id>.<secret> from enrollment" }
            },
            "schemas": {
                "Envelope": {
                    "type": "object",
                    "required": ["id", "kind", "facility", "device", "seq", "hlc", "schema", "payload"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid", "description": "record id, UUIDv7" },
                        "kind": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$" },
                        "facility": { "type": "string", "format": "uuid" },
                        "device": { "type": "string", "format": "uuid" },
                        "seq": { "type": "integer", "minimum": 1, "description": "per-device gap-free sequence" },
                        "hlc": { "type": "integer", "description": "hybrid logical clock: millis << 16 | counter" },
                        "schema": { "type": "integer", "minimum": 1 },
                        "payload": { "description": "opaque JSON record (max 64 KiB)" }
                    }
                },
                "EnrollRequest": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" }, "device_name": { "type": "string" } } },
                "EnrollResponse": { "type": "object", "properties": {
                    "device_id": { "type": "string", "format": "uuid" }, "facility_id": { "type": "string", "format": "uuid" },
                    "facility_code": { "type": "string" }, "facility_name": { "type": "string" }, "secret": { "type": "string" } } },
                "PushRequest": { "type": "object", "required": ["envelopes"], "properties": { "envelopes": { "type": "array", "maxItems": 5000, "items": { "$ref": "#/components/schemas/Envelope" } } } },
                "Rejection": { "type": "object", "properties": { "seq": { "type": "integer" }, "id": { "type": "string", "format": "uuid" }, "code": { "type": "string" }, "reason": { "type": "string" } } },
                "PushResponse": { "type": "object", "properties": {
                    "acked_seq": { "type": "integer" }, "accepted": { "type": "integer" }, "duplicates": { "type": "integer" },
                    "rejected": { "type": "array", "items": { "$ref": "#/components/schemas/Rejection" } } } },
                "PushState": { "type": "object", "properties": { "acked_seq": { "type": "integer" }, "rejected": { "type": "array", "items": { "$ref": "#/components/schemas/Rejection" } } } },
                "PullResponse": { "type": "object", "properties": {
                    "records": { "type": "array", "items": { "$ref": "#/components/schemas/Envelope" } },
                    "cursor": { "type": "integer" }, "more": { "type": "boolean" } } },
                "HealthResponse": { "type": "object", "properties": { "status": { "type": "string" }, "version": { "type": "string" }, "protocol": { "type": "integer" }, "backend": { "type": "string" } } },
                "ErrorBody": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string", "enum": ["bad_request", "protocol_version", "unauthorized", "device_revoked", "invalid_enrollment_code", "sequence_gap", "wrong_facility", "wrong_device", "not_owner", "invalid_kind", "invalid_schema", "invalid_record_id", "payload_too_large", "batch_too_large", "internal"] },
                    "message": { "type": "string" }, "acked_seq": { "type": "integer" } } }
            }
        },
        "paths": {
            "/healthz": { "get": { "summary": "liveness", "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/HealthResponse" } } } } } } },
            "/openapi.json": { "get": { "summary": "this document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/v1/enroll": { "post": {
                "summary": "exchange a one-time enrollment code for a device credential",
                "parameters": [proto],
                "requestBody": { "required": true, "content": zstd_json("EnrollRequest") },
                "responses": { "200": { "description": "enrolled", "content": zstd_json("EnrollResponse") }, "403": err } } },
            "/v1/push": { "post": {
                "summary": "push a batch of consecutive outbox envelopes (idempotent)",
                "security": auth, "parameters": [proto],
                "requestBody": { "required": true, "content": zstd_json("PushRequest") },
                "responses": { "200": { "description": "processed", "content": zstd_json("PushResponse") },
                    "401": err, "403": err, "409": err, "413": err, "503": err } } },
            "/v1/push/state": { "get": {
                "summary": "acknowledged sequence and rejections after `since`",
                "security": auth,
                "parameters": [proto, { "name": "since", "in": "query", "schema": { "type": "integer" } }],
                "responses": { "200": { "description": "state", "content": zstd_json("PushState") }, "401": err, "403": err } } },
            "/v1/pull": { "get": {
                "summary": "facility changes written elsewhere, after a server cursor",
                "security": auth,
                "parameters": [proto, { "name": "cursor", "in": "query", "schema": { "type": "integer" } }, { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 5000 } }],
                "responses": { "200": { "description": "page", "content": zstd_json("PullResponse") }, "401": err, "403": err } } }
        }
    })
}
