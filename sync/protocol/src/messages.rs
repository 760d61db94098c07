//! Request and response bodies of the sync API (`/v1/...`).
//!
//! Kept separate from the envelope so that the HTTP surface can evolve (new optional fields)
//! without touching the record format. All bodies travel through [`crate::wire`].

use crate::envelope::Envelope;
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /v1/enroll`: a kiosk presents a one-time enrollment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// One-time code printed by `swagat-server facility add` / `facility code`.
    pub code: String,
    /// Human label for the device (e.g. host name); not personal data.
    #[serde(default)]
    pub device_name: String,
    /// Version 2 (optional): a secret the kiosk created and persisted *before* asking, so a
    /// retry after a lost answer proves it is the same kiosk and gets the same device back
    /// (the code is not burnt by a dropped link). Without it the server makes the secret (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Version 2 (optional): the kiosk's per-install id (see [`crate::INSTALL_HEADER`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_id: Option<Uuid>,
    /// Re-enrollment (optional): the device id this kiosk had before, audited by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_device_id: Option<Uuid>,
    /// Re-enrollment (optional): the last acknowledgement this kiosk recorded for its previous
    /// device. The new device starts at the smaller of it and the server's, so a copied disk
    /// (whose sequence the server holds other records under) loses nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_acked_seq: Option<u64>,
}

/// Answer to [`EnrollRequest`]: the device's identity and secret (shown once, stored by the kiosk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// Server-issued device id; the `device` of every envelope this kiosk writes.
    pub device_id: Uuid,
    /// Server-issued facility id; the `facility` of every envelope this kiosk writes.
    pub facility_id: Uuid,
    /// Facility code (as given to `facility add --code`).
    pub facility_code: String,
    /// Facility name.
    pub facility_name: String,
    /// Device secret: sent as `Authorization: Bearer <device_id>.<secret>`. The server keeps
    /// only its SHA-256.
    pub secret: String,
    /// The state's Aadhaar hashing key (HMAC-SHA256, 32 bytes, base64 standard), so every kiosk
    /// of the state hashes the same Aadhaar to the same value. Absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadhaar_key: Option<String>,
    /// Identifier of [`Self::aadhaar_key`] (recorded beside each hash it made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadhaar_key_id: Option<String>,
    /// The facility's slip-link key (HMAC-SHA256, 32 bytes, base64 standard): the `k` of the
    /// slip QR `<base>/s/<visit>?k=<mac>` that the server's slip page checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip_link_key: Option<String>,
}

/// `POST /v1/push`: a batch of consecutive outbox envelopes of the authenticated device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// Envelopes in increasing `seq` order, consecutive, starting at most at `acked_seq + 1`.
    pub envelopes: Vec<Envelope>,
}

/// A record the server refused; the kiosk moves it to its dead-letter list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Device sequence of the refused envelope.
    pub seq: u64,
    /// Record id of the refused envelope.
    pub id: Uuid,
    /// Why.
    pub code: ErrorCode,
    /// Human explanation (no personal data).
    pub reason: String,
}

/// Answer to [`PushRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Highest sequence of this device the server has durably processed (stored or rejected).
    pub acked_seq: u64,
    /// Envelopes newly stored by this request.
    pub accepted: u64,
    /// Envelopes already processed before (acknowledged again, not applied twice).
    pub duplicates: u64,
    /// Envelopes of this batch refused (including ones refused by an earlier attempt).
    pub rejected: Vec<Rejection>,
}

/// `GET /v1/push/state?since=N`: where the device stands on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// Highest sequence durably processed. The kiosk resumes pushing at `acked_seq + 1`.
    pub acked_seq: u64,
    /// Rejections with `seq > since`, so a kiosk that crashed before recording them still
    /// dead-letters them.
    pub rejected: Vec<Rejection>,
}

/// Most sequences one `GET /v1/push/digests` answers.
pub const MAX_DIGEST_RANGE: u64 = 5000;

/// The content hash the server holds for one of the device's sequences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqDigest {
    /// Device sequence.
    pub seq: u64,
    /// [`crate::envelope::content_hash`] of what the server processed at `seq`; `None` when
    /// unknown (a rejection recorded before the server kept hashes).
    pub hash: Option<String>,
}

/// `GET /v1/push/digests?from=A&to=B`: the server's content hashes of this device's sequences
/// `A..=B` (at most [`MAX_DIGEST_RANGE`]), in sequence order; sequences it never processed are
/// absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDigests {
    /// One entry per processed sequence of the range.
    pub digests: Vec<SeqDigest>,
}

/// `GET /v1/pull?cursor=N&limit=M`: changes for the device's facility written elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Changes in server order (other devices of the facility, server-authored config/masters).
    pub records: Vec<Envelope>,
    /// Opaque server cursor to send next time (position in the server's change log).
    pub cursor: u64,
    /// Whether more changes are waiting after `cursor`.
    pub more: bool,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// `"ok"`.
    pub status: String,
    /// Server version.
    pub version: String,
    /// [`crate::PROTOCOL_VERSION`] spoken by the server.
    pub protocol: u32,
    /// Storage backend: `"sqlite"` or `"postgres"`.
    pub backend: String,
}
