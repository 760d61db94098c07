//! Kiosk health: every enrolled device of a facility is one of its kiosks. Its `last_seen` is
//! its last authenticated request of any kind ([`touch`]); `POST /v1/heartbeat` (device
//! credential, zstd JSON [`Heartbeat`]) stores its latest self-report per device. The
//! answer also carries the recovery-key escrow state ([`crate::escrow`]). The
//! dashboard calls a kiosk *stale* when it has been silent for 24 h or its oldest unsent
//! record is older than 24 h ([`crate::dashboard::data::STALE_MS`]).

use crate::api::{authenticate, bad_request, wire, ApiError};
use crate::store::{Sql, Store, StoreError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;
use swagat_sync_protocol::{decode, Heartbeat, HeartbeatAck};
use tracing::info;
use uuid::Uuid;

/// Records that `device` made a request now.
pub async fn touch<S: Store>(store: &S, device: Uuid) -> Result<(), StoreError> {
    store
        .sql_exec(
            "UPDATE devices SET last_seen_ms = ?1 WHERE id = ?2".into(),
            vec![Sql::Int(crate::store::sqlite::now_ms()), Sql::Uuid(device)],
        )
        .await?;
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Stores the latest heartbeat of `device`.
pub async fn store_heartbeat<S: Store>(
    store: &S,
    device: Uuid,
    hb: &Heartbeat,
    now_ms: i64,
) -> Result<(), StoreError> {
    store
        .sql_exec(
            "INSERT INTO kiosk_heartbeats (device_id, at_ms, app_version, outbox_pending, dead_letters,
                oldest_unsent_age_s, last_error_kind, free_disk_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (device_id) DO UPDATE SET at_ms = excluded.at_ms,
                app_version = excluded.app_version, outbox_pending = excluded.outbox_pending,
                dead_letters = excluded.dead_letters, oldest_unsent_age_s = excluded.oldest_unsent_age_s,
                last_error_kind = excluded.last_error_kind, free_disk_bytes = excluded.free_disk_bytes"
                .into(),
            vec![
                Sql::Uuid(device),
                Sql::Int(now_ms),
                Sql::Text(clip(&hb.app_version, 64)),
                Sql::Int(big(hb.outbox_pending)),
                Sql::Int(big(hb.dead_letters)),
                hb.oldest_unsent_age_s.map_or(Sql::Null, |v| Sql::Int(big(v))),
                Sql::opt_text(hb.last_error_kind.as_deref().map(|s| clip(s, 64))),
                hb.free_disk_bytes.map_or(Sql::Null, |v| Sql::Int(big(v))),
            ],
        )
        .await?;
    Ok(())
}

/// `POST /v1/heartbeat`.
pub async fn heartbeat<S: Store>(
    State(store): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&*store, &headers).await?;
    let hb: Heartbeat = decode(&body).map_err(|_| bad_request("invalid heartbeat body"))?;
    if let Some(e) = &hb.recovery_escrow {
        if !e.is_well_formed() {
            return Err(bad_request("invalid recovery_escrow in the heartbeat"));
        }
    }
    let now = crate::store::sqlite::now_ms();
    store_heartbeat(&*store, device.id, &hb, now).await?;
    if let Some(e) = &hb.recovery_escrow {
        // Only a box for a key the server has a public key for is worth keeping; the box cannot
        // be checked here (the private key is not on this server), its shape was.
        if crate::escrow::public_key(&*store).await?.is_some() {
            crate::escrow::store_box(&*store, device.id, device.facility_id, e).await?;
            info!(device = %device.id, "recovery key escrowed");
        }
    }
    info!(device = %device.id, pending = hb.outbox_pending, dead_letters = hb.dead_letters, "heartbeat");
    let (escrow_public_key, escrowed_key_check) =
        crate::escrow::for_ack(&*store, device.id).await?;
    wire(&HeartbeatAck {
        at_ms: now,
        escrow_public_key,
        escrowed_key_check,
    })
}
