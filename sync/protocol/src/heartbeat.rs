//! `POST /v1/heartbeat`: a kiosk's health, sent whenever it syncs (issue 12).
//!
//! The state server keeps the latest per device, with its time, for the dashboard's kiosk
//! health (backlog, dead letters, oldest unsent record, last error, free disk).

use serde::{Deserialize, Serialize};

/// A kiosk's health report (zstd JSON like every `/v1` body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The kiosk app's version.
    pub app_version: String,
    /// Outbox records not yet acknowledged by the server.
    pub outbox_pending: u64,
    /// Records the server refused, kept on the kiosk.
    pub dead_letters: u64,
    /// Age in seconds of the oldest unacknowledged outbox record, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsent_age_s: Option<u64>,
    /// Kind of the last sync error (e.g. `offline`, `server`), if the last sync failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_kind: Option<String>,
    /// Free bytes on the disk holding the kiosk's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_disk_bytes: Option<u64>,
    /// The kiosk's recovery key sealed to the state's escrow public key, sent until the server
    /// acknowledges holding it ([`HeartbeatAck::escrowed_key_check`]); see [`crate::escrow`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_escrow: Option<crate::RecoveryEscrow>,
}

/// The server's answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// Server time the heartbeat was stored (unix ms).
    pub at_ms: i64,
    /// The state's escrow public key (base64), when the state made one: the kiosk seals its
    /// recovery key to it. Absent from older servers and before `swagat-server escrow keygen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow_public_key: Option<String>,
    /// The key check of the recovery key the server holds for this device, if any: the kiosk
    /// stops sending its box once this is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrowed_key_check: Option<String>,
}
