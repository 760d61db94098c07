//! The narrow storage contract the sync engine needs from the kiosk's SQLite store.
//!
//! The kiosk core implements [`KioskStore`] over its own database (same tables as the
//! reference implementation in `testkit`, DDL in `sync/PROTOCOL.md`). The trait is synchronous:
//! each method is one short local transaction, and the engine calls it from a blocking task.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use swagat_sync_protocol::{Envelope, ErrorCode, Hlc};
use uuid::Uuid;

/// Failure of the kiosk store (wraps the implementation's own error).
#[derive(Debug, thiserror::Error)]
#[error("kiosk store: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

impl StoreError {
    /// Wraps any error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError(Box::new(e))
    }

    /// An error from a message.
    pub fn msg(m: impl Into<String>) -> Self {
        StoreError(m.into().into())
    }
}

/// One outbox row: a record change waiting to be (or already) pushed.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// Per-device gap-free sequence number (1, 2, 3, …).
    pub seq: u64,
    /// Record id (UUIDv7).
    pub record_id: Uuid,
    /// Entity kind (`patient`, `visit`, …).
    pub kind: String,
    /// HLC timestamp issued when the change was written.
    pub hlc: Hlc,
    /// Payload schema version.
    pub schema: u32,
    /// The record as JSON (personal data).
    pub payload: Box<RawValue>,
}

/// The device credential obtained by enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Base URL of the state server (`https://…` in production).
    pub server_url: String,
    /// Server-issued device id.
    pub device_id: Uuid,
    /// Server-issued facility id.
    pub facility_id: Uuid,
    /// Facility code.
    pub facility_code: String,
    /// Facility name.
    pub facility_name: String,
    /// Device secret (sent as bearer token; never logged).
    pub secret: String,
    /// Extra CA certificate(s) (PEM) trusted for this server besides the public web roots, for a
    /// state server whose certificate comes from a private CA (`enroll --ca-cert FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_pem: Option<String>,
    /// This installation's id, sent with every request ([`swagat_sync_protocol::INSTALL_HEADER`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_id: Option<Uuid>,
    /// The state's Aadhaar hashing key from enrollment (base64); the core installs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadhaar_key: Option<String>,
    /// Identifier of the Aadhaar hashing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadhaar_key_id: Option<String>,
    /// The facility's slip-link key from enrollment (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip_link_key: Option<String>,
    /// The server is `http://` on another machine, allowed on purpose at enrollment
    /// (`--insecure-http`): later syncs allow it too, and the status shows it as insecure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_http: bool,
}

/// A record the server refused, kept visible on the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Outbox sequence of the refused change.
    pub seq: u64,
    /// Record id.
    pub record_id: Uuid,
    /// Protocol error code.
    pub code: ErrorCode,
    /// Human explanation from the server.
    pub reason: String,
}

/// Figures for the status strip and `swagat-admin status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCounts {
    /// Outbox entries after the acknowledged sequence.
    pub pending: u64,
    /// Dead-lettered records.
    pub dead_letters: u64,
    /// Highest outbox sequence written.
    pub last_seq: u64,
    /// Highest sequence the server acknowledged (as last recorded).
    pub acked_seq: u64,
    /// Pull cursor.
    pub pull_cursor: u64,
    /// Unix ms of the last fully successful sync.
    pub last_sync_at_ms: Option<i64>,
}

/// What the sync engine needs from the kiosk's store. Every method is one transaction.
pub trait KioskStore: Send + Sync + 'static {
    /// Outbox entries with `seq > after_seq`, in increasing `seq` order, at most `limit`.
    fn pending(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Records the sequence the server acknowledged (entries `<=` it are no longer pending).
    /// The engine always re-asks the server before pushing; this value is for status only.
    fn record_ack(&self, acked_seq: u64) -> Result<(), StoreError>;

    /// Moves a refused change to the dead-letter list. Idempotent per `seq`.
    fn dead_letter(&self, letter: &DeadLetter) -> Result<(), StoreError>;

    /// Applies pulled records (other devices' and server-authored changes) and saves the new
    /// pull cursor, in one transaction. Also advances the store's HLC past the records'.
    fn apply_pulled(&self, records: &[Envelope], cursor: u64) -> Result<(), StoreError>;

    /// The saved pull cursor (0 before the first pull).
    fn pull_cursor(&self) -> Result<u64, StoreError>;

    /// The device credential, if enrolled.
    fn load_credentials(&self) -> Result<Option<Credentials>, StoreError>;

    /// Saves the device credential (after enrollment).
    fn save_credentials(&self, credentials: &Credentials) -> Result<(), StoreError>;

    /// Records the time of a fully successful sync (push and pull completed).
    fn record_sync_success(&self, at_ms: i64) -> Result<(), StoreError>;

    /// Counts for status.
    fn counts(&self) -> Result<StoreCounts, StoreError>;
}
