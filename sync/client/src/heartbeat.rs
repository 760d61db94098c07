//! The kiosk's health report to the state server (`POST /v1/heartbeat`, issue 12), sent by the
//! engine at the end of every sync round — `swagat-admin sync` included — so the state
//! dashboard sees each kiosk's backlog, dead letters, oldest unsent record, last error kind and
//! free disk. Best effort: a failed heartbeat is logged and never fails the sync.
//!
//! The app version and the data folder (for free disk) come from the engine's
//! [`EngineConfig`]: the desktop shell passes its version through the core's sync service, and
//! `swagat-admin sync` its own, each with the kiosk database's folder.
//!
//! The heartbeat also carries the **recovery-key escrow** (issue 16): the server's answer names
//! the state's escrow public key and the key check it holds for this device; while those differ
//! from the kiosk's own key, the next heartbeat carries the recovery key sealed to that public
//! key ([`swagat_sync_protocol::escrow`]). A key learned in this answer is used at once: one more
//! heartbeat, so an encrypted kiosk is escrowed in its first sync after enrollment.

use crate::engine::{EngineConfig, SyncErrorKind};
use crate::http::ServerClient;
use crate::store::{Credentials, KioskStore, RecoveryKey};
use std::path::PathBuf;
use std::sync::Arc;
use swagat_sync_protocol::{escrow, Heartbeat, HeartbeatAck, RecoveryEscrow};
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
    let recovery_escrow = escrow_due(store);
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
        recovery_escrow,
    })
}

/// Where the recovery key's escrow with the state stands (the kiosk's status and Settings show
/// it; the heartbeat sends the box while it is [`EscrowState::Pending`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowState {
    /// Not enrolled, or the database is not encrypted: nothing to escrow.
    #[default]
    None,
    /// The server has no escrow key (an older server, or no `escrow keygen` yet).
    NotOffered,
    /// The box goes with the next sync.
    Pending,
    /// The server holds this database's recovery key, sealed.
    Escrowed,
}

/// The escrow state of `creds` for `key`.
fn state_of(creds: Option<&Credentials>, key: Option<&RecoveryKey>) -> EscrowState {
    match (creds, key) {
        (Some(c), Some(key)) => match (&c.escrow_public_key, &c.escrowed_key_check) {
            (None, _) => EscrowState::NotOffered,
            (Some(_), Some(held)) if *held == key.key_check => EscrowState::Escrowed,
            (Some(_), _) => EscrowState::Pending,
        },
        _ => EscrowState::None,
    }
}

/// Where the escrow of this kiosk's recovery key stands, from its store.
pub fn escrow_state<S: KioskStore>(store: &S) -> EscrowState {
    let creds = store.load_credentials().ok().flatten();
    state_of(creds.as_ref(), store.recovery_key().as_ref())
}

/// The sealed recovery key to send, while the escrow is [`EscrowState::Pending`].
fn escrow_due<S: KioskStore>(store: &S) -> Option<RecoveryEscrow> {
    let creds = store.load_credentials().ok().flatten()?;
    let key = store.recovery_key()?;
    if state_of(Some(&creds), Some(&key)) != EscrowState::Pending {
        return None;
    }
    let public = creds.escrow_public_key.as_deref()?;
    match escrow::seal(public, &key.text) {
        Ok(sealed) => Some(RecoveryEscrow {
            sealed,
            key_check: key.key_check,
        }),
        Err(e) => {
            debug!(error = %e, "the recovery key could not be sealed");
            None
        }
    }
}

/// Records what the server's answer says about escrow; true when a box is now due (a public key
/// learned, or a key the server does not hold).
fn record_escrow<S: KioskStore>(store: &S, ack: &HeartbeatAck) -> bool {
    let Ok(Some(mut creds)) = store.load_credentials() else {
        return false;
    };
    if creds.escrow_public_key == ack.escrow_public_key
        && creds.escrowed_key_check == ack.escrowed_key_check
    {
        return false;
    }
    let learned = creds.escrow_public_key != ack.escrow_public_key;
    creds.escrow_public_key = ack.escrow_public_key.clone();
    creds.escrowed_key_check = ack.escrowed_key_check.clone();
    if let Err(e) = store.save_credentials(&creds) {
        debug!(error = %e, "the escrow state was not saved");
        return false;
    }
    // Checked, not sealed: the next heartbeat seals it.
    learned && escrow_state(store) == EscrowState::Pending
}

/// Sends the report; failures are only logged.
pub async fn send_quietly<S: KioskStore>(
    client: &ServerClient,
    store: &Arc<S>,
    config: &EngineConfig,
    last_error: Option<SyncErrorKind>,
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // At most twice: the second time only when the first answer taught an escrow key.
    for _ in 0..2 {
        let (s, c) = (store.clone(), config.clone());
        let hb = tokio::task::spawn_blocking(move || report(&*s, &c, last_error, now))
            .await
            .ok()
            .flatten();
        let Some(hb) = hb else { return };
        let ack = match client.post::<_, HeartbeatAck>("/v1/heartbeat", &hb).await {
            Ok(ack) => ack,
            Err(e) => {
                debug!(error = %e, "heartbeat not delivered");
                return;
            }
        };
        let s = store.clone();
        let again = tokio::task::spawn_blocking(move || record_escrow(&*s, &ack))
            .await
            .unwrap_or(false);
        if !again {
            return;
        }
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
