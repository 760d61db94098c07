//! OpenAPI 3.1 description of the sync API, served at `GET /openapi.json`.
//!
//! Hand-written (rather than derived) so that it documents the wire contract exactly, including
//! the zstd body encoding that derive-based generators cannot express, and costs no build time.

use serde_json::{json, Value};

/// Every [`swagat_sync_protocol::ErrorCode`] wire string (kept whole by a test).
const ERROR_CODES: &[&str] = &[
    "bad_request",
    "protocol_version",
    "unauthorized",
    "device_revoked",
    "invalid_enrollment_code",
    "sequence_gap",
    "wrong_facility",
    "wrong_device",
    "not_owner",
    "invalid_kind",
    "invalid_schema",
    "invalid_record_id",
    "payload_too_large",
    "batch_too_large",
    "internal",
    "forbidden_kind",
    "sequence_conflict",
    "device_cloned",
    "too_many_requests",
    "enrollment_code_expired",
    "clock_ahead",
];

/// The OpenAPI document.
pub fn document() -> Value {
    let zstd_json = |schema: &str| json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } });
    let err = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } });
    // Limits (see ARCHITECTURE.md, "Server limits"): every route may refuse a body or a rate, or
    // shed load; 429 and 503 carry Retry-After.
    let retry = json!({ "Retry-After": { "description": "seconds to wait before retrying", "schema": { "type": "integer", "minimum": 1 } } });
    let err_retry = json!({ "description": "retry later (Retry-After)", "headers": retry, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } });
    let v1 = |extra: Value| {
        let mut m = json!({ "400": err, "401": err, "403": err, "408": err, "413": err, "429": err_retry, "503": err_retry });
        if let (Value::Object(m), Value::Object(x)) = (&mut m, extra) {
            m.extend(x);
        }
        m
    };
    let auth = json!([{ "device": [] }]);
    let plain = |schema: &str| json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } });
    let perr = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PortalError" } } } });
    let perr_retry = json!({ "description": "retry later (Retry-After)", "headers": retry, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PortalError" } } } });
    let api_err = json!({ "description": "error", "content": { "application/json": { "schema": { "oneOf": [ { "$ref": "#/components/schemas/PortalError" }, { "$ref": "#/components/schemas/ErrorBody" } ] } } } });
    let portal = json!([{ "portal": [] }]);
    let proto = json!({ "name": "x-swagat-protocol", "in": "header", "required": true, "schema": { "type": "integer", "const": swagat_sync_protocol::PROTOCOL_VERSION } });
    let install = json!({ "name": swagat_sync_protocol::INSTALL_HEADER, "in": "header", "required": false, "schema": { "type": "string", "format": "uuid" },
        "description": "the kiosk's install id; a request from an install id the device moved away from (a second live copy of the disk) is refused 403 device_cloned" });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Swagat state server sync API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kiosk ↔ state server sync (see sync/PROTOCOL.md). Request and response bodies of /v1 are JSON compressed with zstd (Content-Encoding: zstd); error bodies are plain JSON."
        },
        "components": {
            "securitySchemes": {
                "device": { "type": "http", "scheme": "bearer", "description": "<device_id>.<secret> from enrollment" },
                "portal": { "type": "http", "scheme": "bearer", "description": "portal token <portal_id>.<secret> from `swagat-server portal add`" }
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
                "EnrollRequest": { "type": "object", "required": ["code"], "properties": {
                    "code": { "type": "string" }, "device_name": { "type": "string" },
                    "client_secret": { "type": "string", "pattern": "^[A-Za-z0-9_-]{32,128}$", "description": "v2: the secret the kiosk made and persisted before asking; a retry with the same code and secret gets the same device back" },
                    "install_id": { "type": "string", "format": "uuid", "description": "v2: the kiosk's install id" },
                    "previous_device_id": { "type": "string", "format": "uuid", "description": "re-enrollment: the device this kiosk was; prove it with Authorization: Bearer <previous_device_id>.<old secret> (valid even if revoked). The new device continues its acknowledged sequence" } } },
                "EnrollResponse": { "type": "object", "required": ["device_id", "facility_id", "facility_code", "facility_name", "secret"], "properties": {
                    "device_id": { "type": "string", "format": "uuid" }, "facility_id": { "type": "string", "format": "uuid" },
                    "facility_code": { "type": "string" }, "facility_name": { "type": "string" }, "secret": { "type": "string", "description": "the device secret (v2: the kiosk's client_secret echoed)" },
                    "aadhaar_key": { "type": "string", "contentEncoding": "base64", "description": "the state's Aadhaar HMAC-SHA256 key, 32 bytes" },
                    "aadhaar_key_id": { "type": "string", "pattern": "^[0-9a-f]{8}$", "description": "first 8 hex characters of SHA-256 of the raw key" },
                    "slip_link_key": { "type": "string", "contentEncoding": "base64", "description": "the facility's slip-link key, 32 bytes" } } },
                "PushDigests": { "type": "object", "required": ["digests"], "properties": {
                    "digests": { "type": "array", "items": { "type": "object", "required": ["seq", "hash"], "properties": {
                        "seq": { "type": "integer" }, "hash": { "type": ["string", "null"], "description": "SHA-256 (hex) of the envelope content the server processed at seq; null when unknown (before server migration 3)" } } } } } },
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
                "DialysisRequest": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["facility", "reference", "patient", "date", "shift"],
                    "properties": {
                        "facility": { "type": "string", "maxLength": 40, "description": "facility code (as in `facility add --code`)" },
                        "reference": { "type": "string", "maxLength": 100, "description": "the portal's own reference: idempotency key (same reference + same body = same request)" },
                        "patient": { "$ref": "#/components/schemas/PortalPatient" },
                        "date": { "type": "string", "format": "date", "description": "session date, today (IST) to 366 days ahead" },
                        "shift": { "type": "integer", "minimum": 1, "maximum": 12, "description": "shift of the day, from 1" },
                        "priority": { "type": "integer", "minimum": -100, "maximum": 100, "default": 0, "description": "waitlist priority, higher first" }
                    }
                },
                "PortalPatient": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "gender"],
                    "description": "year_of_birth or age is required; so is at least one of mobile, abha_number, abha_address",
                    "properties": {
                        "name": { "type": "string", "maxLength": 80 },
                        "gender": { "type": "string", "description": "M, F, T or O (male, female, transgender, other accepted)" },
                        "year_of_birth": { "type": "integer", "minimum": 1890 },
                        "age": { "type": "integer", "minimum": 0, "maximum": 130 },
                        "mobile": { "type": "string", "description": "10-digit Indian mobile (+91 allowed)" },
                        "abha_number": { "type": "string", "description": "14 digits, dashes optional" },
                        "abha_address": { "type": "string", "description": "e.g. name@abdm" },
                        "serology": { "type": "object", "additionalProperties": false, "description": "tested_on is required when any result is pos or neg",
                            "properties": {
                                "hbsag": { "type": "string", "enum": ["pos", "neg", "unknown"] },
                                "hcv": { "type": "string", "enum": ["pos", "neg", "unknown"] },
                                "hiv": { "type": "string", "enum": ["pos", "neg", "unknown"] },
                                "tested_on": { "type": "string", "format": "date" } } }
                    }
                },
                "DialysisRequestStatus": {
                    "type": "object",
                    "required": ["id", "reference", "facility", "status", "requested", "received_at"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "reference": { "type": "string" },
                        "facility": { "type": "string" },
                        "status": { "type": "string", "enum": ["pending", "confirmed", "waitlisted", "refused", "cancelled"], "description": "pending until the unit's kiosk answered; cancelled when a booking was later called off by the unit" },
                        "requested": { "type": "object", "properties": { "date": { "type": "string", "format": "date" }, "shift": { "type": "integer" }, "priority": { "type": "integer" } } },
                        "received_at": { "type": "string", "format": "date-time" },
                        "answered_at": { "type": ["string", "null"], "format": "date-time" },
                        "date": { "type": "string", "format": "date", "description": "booked date (confirmed, waitlisted)" },
                        "shift": { "type": "integer" },
                        "machine": { "type": "string", "description": "machine name (confirmed)" },
                        "booking_status": { "type": "string", "description": "the unit's booking status: confirmed, waitlisted, checked_in, completed, no_show, cancelled" },
                        "reason": { "type": "object", "description": "why it was refused", "properties": { "code": { "type": "string" }, "en": { "type": "string" }, "hi": { "type": "string" } } }
                    }
                },
                "PortalError": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string", "enum": ["unauthorized", "forbidden", "bad_request", "invalid_request", "unknown_facility", "reference_conflict", "not_found", "payload_too_large", "too_many_requests", "internal"] },
                    "message": { "type": "string" },
                    "errors": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } } } },
                "ErrorBody": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string", "enum": ERROR_CODES },
                    "message": { "type": "string" }, "acked_seq": { "type": "integer" } } }
            }
        },
        "paths": {
            "/healthz": { "get": { "summary": "liveness", "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/HealthResponse" } } } } } } },
            "/openapi.json": { "get": { "summary": "this document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/v1/enroll": { "post": {
                "summary": "exchange a one-time enrollment code for a device credential (v1: code and device_name; v2: also client_secret and install_id, idempotent; re-enrollment: previous_device_id)",
                "parameters": [proto],
                "requestBody": { "required": true, "content": zstd_json("EnrollRequest") },
                "responses": v1(json!({ "200": { "description": "enrolled (or the same device again for a v2 retry)", "content": zstd_json("EnrollResponse") },
                    "403": { "description": "invalid_enrollment_code or enrollment_code_expired", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } },
                    "429": { "description": "too_many_requests: this address sent 20 wrong codes within 10 minutes, or a rate limit", "headers": retry, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } } })) } },
            "/v1/push": { "post": {
                "summary": "push a batch of consecutive outbox envelopes (idempotent; other content at an acknowledged sequence is 409 sequence_conflict; server-only kinds are rejected forbidden_kind)",
                "security": auth, "parameters": [proto, install],
                "requestBody": { "required": true, "content": zstd_json("PushRequest") },
                "responses": v1(json!({ "200": { "description": "processed", "content": zstd_json("PushResponse") }, "409": err })) } },
            "/v1/push/state": { "get": {
                "summary": "acknowledged sequence and rejections after `since`",
                "security": auth,
                "parameters": [proto, install, { "name": "since", "in": "query", "schema": { "type": "integer" } }],
                "responses": v1(json!({ "200": { "description": "state", "content": zstd_json("PushState") } })) } },
            "/v1/push/digests": { "get": {
                "summary": "content hashes the server holds for this device's sequences from..=to (restore detection)",
                "security": auth,
                "parameters": [proto, install, { "name": "from", "in": "query", "required": true, "schema": { "type": "integer" } },
                    { "name": "to", "in": "query", "required": true, "schema": { "type": "integer" }, "description": "at most from + 4999" }],
                "responses": v1(json!({ "200": { "description": "digests", "content": zstd_json("PushDigests") } })) } },
            "/api/v1/dialysis/requests": { "post": {
                "summary": "a portal asks for a dialysis session at a facility (plain JSON); the unit's kiosk allocates it at its next sync",
                "security": portal,
                "requestBody": { "required": true, "content": plain("DialysisRequest") },
                "responses": {
                    "201": { "description": "created, status pending", "content": plain("DialysisRequestStatus") },
                    "200": { "description": "this reference was already posted with the same body: the same request", "content": plain("DialysisRequestStatus") },
                    "400": perr, "401": perr, "403": perr, "408": api_err, "409": perr, "413": perr, "422": perr, "429": perr_retry, "503": api_err } } },
            "/api/v1/dialysis/requests/{id}": { "get": {
                "summary": "a request's status: pending, then the unit's answer",
                "security": portal,
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "responses": { "200": { "description": "status", "content": plain("DialysisRequestStatus") }, "401": perr, "404": perr, "408": api_err, "429": perr_retry, "503": api_err } } },
            "/v1/pull": { "get": {
                "summary": "facility changes written elsewhere, after a server cursor (include_own=true: this device's too, the recovery pull after a restore)",
                "security": auth,
                "parameters": [proto, install, { "name": "cursor", "in": "query", "schema": { "type": "integer" } }, { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 5000 } },
                    { "name": "include_own", "in": "query", "schema": { "type": "boolean", "default": false } }],
                "responses": v1(json!({ "200": { "description": "page", "content": zstd_json("PullResponse") } })) } }
        }
    });
    crate::abdm::api::document_callback(&mut doc);
    add_dashboard(&mut doc);
    doc
}

/// Issue 12: kiosk heartbeats, the officials' dashboard and its API, the patient's slip page.
fn add_dashboard(doc: &mut Value) {
    let zstd = |schema: &str| json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } });
    let err = json!({ "description": "error" });
    let html = |d: &str| json!({ "description": d, "content": { "text/html": {} } });
    // Without a session the page answers the login form instead (HTML).
    let csv = json!({ "description": "CSV (UTF-8); without a session, the login page", "content": { "text/csv": {}, "text/html": {} } });
    let plain = |d: &str| json!({ "description": d, "content": { "text/plain": {} } });
    let range = json!([
        { "name": "from", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "first day (default: 29 days before `to`)" },
        { "name": "to", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "last day (default: today in India)" },
        { "name": "district", "in": "query", "schema": { "type": "integer" }, "description": "LGD district code; outside the official's scope: 403" },
        { "name": "facility", "in": "query", "schema": { "type": "string" }, "description": "facility code; outside the official's scope: 403" }
    ]);
    let code =
        json!({ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } });
    let session = json!([{ "session": [] }]);
    let schemas = json!({
        "Heartbeat": { "type": "object", "required": ["app_version", "outbox_pending", "dead_letters"], "properties": {
            "app_version": { "type": "string" }, "outbox_pending": { "type": "integer" }, "dead_letters": { "type": "integer" },
            "oldest_unsent_age_s": { "type": "integer" }, "last_error_kind": { "type": "string" }, "free_disk_bytes": { "type": "integer" },
            "recovery_escrow": { "type": "object", "required": ["sealed", "key_check"], "description": "the recovery key sealed to the state's escrow public key (issue 16)",
                "properties": { "sealed": { "type": "string", "maxLength": 400 }, "key_check": { "type": "string", "maxLength": 64 } } } } },
        "HeartbeatAck": { "type": "object", "required": ["at_ms"], "properties": { "at_ms": { "type": "integer" },
            "escrow_public_key": { "type": "string", "description": "the state's escrow public key (base64)" },
            "escrowed_key_check": { "type": "string", "description": "the key check of the recovery key held for this device" } } },
        "DashboardSummary": { "type": "object", "required": ["from", "to", "facilities", "totals"], "properties": {
            "from": { "type": "string", "format": "date" }, "to": { "type": "string", "format": "date" },
            "facilities": { "type": "array", "items": { "type": "object", "properties": {
                "code": { "type": "string" }, "name": { "type": "string" }, "district_lgd": { "type": ["integer", "null"] },
                "registrations": { "type": "integer", "description": "visits not cancelled in the range" },
                "new": { "type": "integer" }, "follow_up": { "type": "integer" }, "cancelled": { "type": "integer" },
                "abha_linked": { "type": "integer" }, "scan_share": { "type": "integer" },
                "dialysis_completed": { "type": "integer" }, "dialysis_no_shows": { "type": "integer" },
                "kiosks": { "type": "array", "items": { "type": "object", "properties": {
                    "device_id": { "type": "string", "format": "uuid" }, "name": { "type": "string" },
                    "last_seen": { "type": ["string", "null"], "format": "date-time" }, "pending": { "type": "integer" },
                    "stale": { "type": "boolean", "description": "silent for 24 h, or a backlog older than 24 h" } } } } } } },
            "totals": { "type": "object", "properties": {
                "registrations": { "type": "integer" }, "abha_linked": { "type": "integer" }, "abha_linked_pct": { "type": "number" },
                "scan_share": { "type": "integer" }, "dialysis_completed": { "type": "integer" } } } } }
    });
    if let Some(s) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        if let Some(m) = schemas.as_object() {
            s.extend(m.clone());
        }
    }
    if let Some(s) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        s.insert("session".into(), json!({ "type": "apiKey", "in": "cookie", "name": "swagat_session", "description": "set by POST /login (HttpOnly, SameSite=Strict)" }));
    }
    let paths = json!({
        "/v1/heartbeat": { "post": {
            "summary": "a kiosk's health, sent whenever it syncs; the server keeps the latest per device",
            "security": [{ "device": [] }],
            "requestBody": { "required": true, "content": zstd("Heartbeat") },
            "responses": { "200": { "description": "stored", "content": zstd("HeartbeatAck") }, "400": err, "401": err, "403": err } } },
        "/login": {
            "get": { "summary": "the officials' login form", "responses": { "200": html("form") } },
            "post": { "summary": "log in (form fields name, password); sets the session cookie and redirects to /dashboard",
                "requestBody": { "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object", "required": ["name", "password"],
                    "properties": { "name": { "type": "string" }, "password": { "type": "string" } } } } } },
                "responses": { "303": { "description": "logged in" }, "401": html("wrong name or password"),
                    "403": html("cross-site Origin"), "415": plain("not a form body"), "422": plain("a form field is missing"), "429": html("paused after too many wrong attempts") } } },
        "/logout": { "post": { "summary": "end the session", "responses": { "303": { "description": "to /login" } } } },
        "/dashboard": { "get": { "summary": "state/district overview (HTML); without a session 303 to /login",
            "security": session, "parameters": range, "responses": { "200": html("overview"), "303": { "description": "to /login, or a facility user's facility" }, "400": err, "403": err } } },
        "/dashboard/overview.csv": { "get": { "summary": "the overview as CSV", "security": session, "parameters": range, "responses": { "200": csv, "400": plain("malformed query"), "403": err } } },
        "/dashboard/facility/{code}": { "get": { "summary": "a facility page (HTML)", "security": session, "parameters": [code],
            "responses": { "200": html("facility"), "403": err, "404": err } } },
        "/dashboard/facility/{code}/{table}": { "get": { "summary": "a facility table as CSV: daily, departments, demographics, fees, kiosks, dialysis_pools, dialysis_shifts, requests (`.csv`)",
            "security": session, "parameters": [code, { "name": "table", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": csv, "403": err, "404": err } } },
        "/api/v1/dashboard/summary": { "get": { "summary": "the overview's figures as JSON (session cookie); 401 without a session",
            "security": session, "parameters": range,
            "responses": { "200": { "description": "summary", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DashboardSummary" } } } },
                "400": err, "401": err, "403": err } } },
        "/api/v1/dashboard/facility/{code}": { "get": { "summary": "a facility page's figures as JSON", "security": session, "parameters": [code],
            "responses": { "200": { "description": "facility" }, "401": err, "403": err, "404": err } } },
        "/s/{visit}": { "get": { "summary": "the patient's OPD slip (mobile page, Hindi and English); an unknown visit and a wrong k give the same 404",
            "parameters": [{ "name": "visit", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
                { "name": "k", "in": "query", "required": true, "schema": { "type": "string", "pattern": "^[0-9a-f]{12}$" },
                  "description": "first 6 bytes (hex) of HMAC-SHA256(facility slip-link key, visit id)" }],
            "responses": { "200": html("slip"), "400": plain("malformed query"), "404": html("not (yet) known"), "429": html("rate limited") } } }
    });
    if let (Some(p), Some(m)) = (
        doc.pointer_mut("/paths").and_then(Value::as_object_mut),
        paths.as_object(),
    ) {
        p.extend(m.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_the_protocol_s() {
        for c in ERROR_CODES {
            let code: swagat_sync_protocol::ErrorCode =
                serde_json::from_value(Value::String((*c).to_string())).unwrap();
            assert_eq!(code.as_str(), *c);
        }
        let doc = document();
        assert!(
            doc["paths"]["/v1/push"]["post"]["responses"]["429"]["headers"]["Retry-After"]
                .is_object()
        );
    }
}
