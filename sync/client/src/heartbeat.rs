//! The kiosk's health report to the state server (`POST /v1/heartbeat`, issue 12), sent by the
//! engine at the end of every sync round — `swagat-admin sync` included — so the state
//! dashboard sees each kiosk's backlog, dead letters, oldest unsent record, last error kind and
//! free disk. Best effort: a failed heartbeat is logged and never fails the sync.
//!
//! The app version and the data folder (for free disk) come from the engine's
//! [`EngineConfig`]: the desktop shell passes its version through the core's sync service, and
//! `swagat-admin sync` its own, each with the kiosk database's folder.

use crate::engine::{EngineConfig, SyncErrorKind};
use crate::http::ServerClient;
use crate::store::KioskStore;
use std::path::PathBuf;
use std::sync::Arc;
use swagat_sync_protocol::{Heartbeat, HeartbeatAck};
use tracing::debug;

/// Free bytes available to this process on the disk holding `dir`.
#[cfg(unix)]
pub fn free_disk_bytes(dir: &std::path::Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Free bytes (not measured on this platform).
#[cfg(not(unix))]
pub fn free_disk_bytes(_dir: &std::path::Path) -> Option<u64> {
    None
}

/// Builds this kiosk's report from its store, with the version and data folder of `config`.
pub fn report<S: KioskStore>(
    store: &S,
    config: &EngineConfig,
    last_error: Option<SyncErrorKind>,
    now_ms: i64,
) -> Option<Heartbeat> {
    let counts = store.counts().ok()?;
    let oldest = store
        .pending(counts.acked_seq, 1)
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|e| {
            let written_ms = (e.hlc.to_u64() >> 16) as i64;
            ((now_ms - written_ms).max(0) / 1000) as u64
        });
    let dir = config
        .data_dir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let version = config.app_version.trim();
    Some(Heartbeat {
        app_version: if version.is_empty() {
            env!("CARGO_PKG_VERSION").to_string()
        } else {
            version.chars().take(64).collect()
        },
        outbox_pending: counts.pending,
        dead_letters: counts.dead_letters,
        oldest_unsent_age_s: if counts.pending > 0 { oldest } else { None },
        last_error_kind: last_error.map(|k| k.as_str().to_owned()),
        free_disk_bytes: free_disk_bytes(&dir),
    })
}

/// Sends the report; failures are only logged.
pub async fn send_quietly<S: KioskStore>(
    client: &ServerClient,
    store: &Arc<S>,
    config: &EngineConfig,
    last_error: Option<SyncErrorKind>,
) {
    let s = store.clone();
    let config = config.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let hb = tokio::task::spawn_blocking(move || report(&*s, &config, last_error, now))
        .await
        .ok()
        .flatten();
    let Some(hb) = hb else { return };
    if let Err(e) = client.post::<_, HeartbeatAck>("/v1/heartbeat", &hb).await {
        debug!(error = %e, "heartbeat not delivered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_disk_is_measured() {
        #[cfg(unix)]
        assert!(free_disk_bytes(std::path::Path::new("/")).is_some());
    }
}
