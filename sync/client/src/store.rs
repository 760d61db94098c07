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
    /// The state's escrow public key, learned from a heartbeat answer (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow_public_key: Option<String>,
    /// The key check of the recovery key the server said it holds for this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrowed_key_check: Option<String>,
}

/// A record the server refused, kept visible on the kiosk.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Outbox sequence of the refused change.
    pub seq: u64,
    /// Record id.
    pub record_id: Uuid,
    /// Protocol error code.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
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
    /// How many times this kiosk found it had been restored from a backup (or copied).
    #[serde(default)]
    pub restores: u64,
    /// Unix ms of the last detected restore.
    #[serde(default)]
    pub last_restore_at_ms: Option<i64>,
    /// A recovery pull (including this device's own records) is due or under way.
    #[serde(default)]
    pub recovering: bool,
}

/// What the engine found when it detected a restore from backup (or a copied disk), handed to
/// [`KioskStore::recover_from_restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRequest {
    /// The server's acknowledged sequence: unsent records are renumbered after it.
    pub server_acked_seq: u64,
    /// Outbox sequences after the kiosk's recorded ack that the server holds with the same
    /// content (already delivered): they keep their numbers and are not sent again.
    pub keep: Vec<u64>,
    /// The new install id (the old lineage is abandoned, so a second live copy is refused).
    pub install_id: Uuid,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// What [`KioskStore::recover_from_restore`] did (also handed to the core's restore hook, which
/// writes the `sync.restore_detected` audit entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreEvent {
    /// The kiosk's own last recorded acknowledgement (from the backup).
    pub local_acked_seq: u64,
    /// The server's acknowledged sequence.
    pub server_acked_seq: u64,
    /// Unsent records renumbered after the server's sequence.
    pub renumbered: u64,
    /// The kiosk's `last_seq` afterwards.
    pub last_seq: u64,
    /// The install id before (if any) and after.
    pub previous_install_id: Option<Uuid>,
    /// The new install id.
    pub install_id: Uuid,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// An enrollment asked for but not yet answered: the secret and install id the kiosk made and
/// persisted *before* asking, so a retry after a lost answer proves it is the same kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEnrollment {
    /// Server asked.
    pub server_url: String,
    /// The code, normalized (upper case, letters and digits only).
    pub code: String,
    /// The secret this kiosk chose (hex; a bearer credential, never logged).
    pub client_secret: String,
    /// The install id this kiosk chose.
    pub install_id: Uuid,
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

    /// After a detected restore, in one transaction: renumbers the unsent outbox records (after
    /// the recorded ack, except `r.keep`) to follow `r.server_acked_seq` in their order, sets
    /// `last_seq` and the recorded ack accordingly, records the event (`restores`,
    /// `last_restore_at_ms`), saves the new install id in the credential, and marks a recovery
    /// pull as due (cursor back to 0, own records included).
    fn recover_from_restore(&self, r: &RestoreRequest) -> Result<RestoreEvent, StoreError> {
        let _ = r;
        Err(StoreError::msg(
            "this kiosk store cannot recover from a restore",
        ))
    }

    /// Marks the recovery pull as done.
    fn finish_recovery_pull(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The enrollment asked for but not answered yet, if any.
    fn load_pending_enrollment(&self) -> Result<Option<PendingEnrollment>, StoreError> {
        Ok(None)
    }

    /// Saves (or clears) the enrollment being asked for.
    fn save_pending_enrollment(&self, p: Option<&PendingEnrollment>) -> Result<(), StoreError> {
        let _ = p;
        Ok(())
    }

    /// The kiosk's recovery key and its key check, when its database is encrypted and unlocked
    /// (what the heartbeat escrows with the state, see [`swagat_sync_protocol::escrow`]).
    fn recovery_key(&self) -> Option<RecoveryKey> {
        None
    }
}

/// A recovery key to escrow: the `RK-…` text (wiped on drop) and its public key check.
pub struct RecoveryKey {
    /// The recovery text.
    pub text: zeroize::Zeroizing<String>,
    /// The key check value ([`swagat_sync_protocol::RecoveryEscrow::key_check`]).
    pub key_check: String,
}
