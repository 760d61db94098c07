//! [`ShareStore`] on SQLite: one writer, so an immediate transaction serializes shares.

use super::{
    patch_config, status, today, OnShareJob, ShareOutcome, ShareRow, ShareStore, HANDOFF_LEASE,
};
use crate::abdm::profile::{on_share_body, record_payload, ValidShare};
use crate::store::sqlite::{facility_by_code, now_ms, publish_tx, SqliteStore};
use crate::store::{Facility, StoreError, FACILITY_CONFIG_KIND};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use std::time::Duration;
use swagat_sync_protocol::kinds::ABHA_SHARE;
use uuid::Uuid;

fn uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("bad uuid".into()))
}

impl ShareStore for SqliteStore {
    async fn record_share(
        &self,
        s: ValidShare,
        window: Duration,
    ) -> Result<ShareOutcome, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    "SELECT id, code, name FROM facilities WHERE hfr_id = ?1 ORDER BY created_at_ms LIMIT 1",
                    [&s.hip_id],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
                )
                .optional()?;
            let (fid, code, name) = row.ok_or(StoreError::UnknownFacility)?;
            let f = Facility { id: uuid(&fid)?, code, name };
            let now = now_ms();
            let by_request: Option<String> = tx
                .query_row(
                    "SELECT share_id FROM abha_share_requests WHERE facility_id = ?1 AND request_id = ?2",
                    params![fid, s.request_id],
                    |r| r.get(0),
                )
                .optional()?;
            let existing = match by_request {
                Some(id) => Some(id),
                None => tx
                    .query_row(
                        "SELECT id FROM abha_shares WHERE facility_id = ?1 AND counter = ?2 AND abha_address = ?3
                         AND expires_at_ms > ?4 ORDER BY shared_at_ms DESC LIMIT 1",
                        params![fid, s.counter, s.abha_address, now],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            let (share_id, token, created) = match existing {
                Some(id) => {
                    let token: i64 = tx.query_row("SELECT token FROM abha_shares WHERE id = ?1", [&id], |r| r.get(0))?;
                    (uuid(&id)?, token, false)
                }
                None => {
                    let day = today();
                    let token: i64 = tx.query_row(
                        "INSERT INTO abha_counters (facility_id, counter, day, last_token) VALUES (?1, ?2, ?3, 1)
                         ON CONFLICT (facility_id, counter, day) DO UPDATE SET last_token = last_token + 1
                         RETURNING last_token",
                        params![fid, s.counter, day],
                        |r| r.get(0),
                    )?;
                    let id = Uuid::now_v7();
                    let expires = now + window.as_millis() as i64;
                    tx.execute(
                        "INSERT INTO abha_shares (id, facility_id, counter, day, token, request_id, abha_address, abha_number, name, shared_at_ms, expires_at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                        params![id.to_string(), fid, s.counter, day, token, s.request_id, s.abha_address, s.abha_number, s.name, now, expires],
                    )?;
                    let payload = record_payload(id, &s, token, now, expires).to_string();
                    publish_tx(&tx, &f, ABHA_SHARE, Some(id), &payload)?;
                    (id, token, true)
                }
            };
            tx.execute(
                "INSERT INTO abha_share_requests (facility_id, request_id, share_id, received_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (facility_id, request_id) DO NOTHING",
                params![fid, s.request_id, share_id.to_string(), now],
            )?;
            let body = on_share_body(&s.abha_address, &s.counter, token, window.as_secs(), &s.request_id).to_string();
            // Queued already claimed by this call (attempt 1, leased): handed to the sender at once.
            let job_id: i64 = tx.query_row(
                "INSERT INTO abha_on_share_queue (share_id, request_id, hip_id, body, next_at_ms, created_at_ms, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) RETURNING id",
                params![share_id.to_string(), s.request_id, s.hip_id, body, now + HANDOFF_LEASE.as_millis() as i64, now],
                |r| r.get(0),
            )?;
            tx.commit()?;
            let job = OnShareJob { id: job_id, hip_id: s.hip_id, body, attempts: 1 };
            Ok(ShareOutcome { share_id, token, created, job })
        })
        .await
    }

    async fn claim_on_shares(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OnShareJob>, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let jobs = {
                let mut st = tx.prepare_cached(
                    "UPDATE abha_on_share_queue SET attempts = attempts + 1, next_at_ms = ?1
                     WHERE id IN (SELECT id FROM abha_on_share_queue WHERE sent_at_ms IS NULL AND next_at_ms <= ?2 ORDER BY id LIMIT ?3)
                     RETURNING id, hip_id, body, attempts",
                )?;
                let rows = st.query_map(params![now + lease.as_millis() as i64, now, limit], |r| {
                    Ok(OnShareJob { id: r.get(0)?, hip_id: r.get(1)?, body: r.get(2)?, attempts: r.get(3)? })
                })?;
                let mut jobs = rows.collect::<Result<Vec<_>, _>>()?;
                jobs.sort_by_key(|j| j.id);
                jobs
            };
            tx.commit()?;
            Ok(jobs)
        })
        .await
    }

    async fn on_shares_sent(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut st = tx.prepare_cached(
                    "UPDATE abha_on_share_queue SET sent_at_ms = ?1, last_error = NULL WHERE id = ?2",
                )?;
                let now = now_ms();
                for id in &ids {
                    st.execute(params![now, id])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn on_share_failed(
        &self,
        id: i64,
        retry_in: Duration,
        error: String,
    ) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute(
                "UPDATE abha_on_share_queue SET next_at_ms = ?1, last_error = ?2 WHERE id = ?3 AND sent_at_ms IS NULL",
                params![now_ms() + retry_in.as_millis() as i64, error, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn shares(
        &self,
        facility_code: String,
        day: String,
    ) -> Result<Vec<ShareRow>, StoreError> {
        self.with(move |c| {
            let f = facility_by_code(c, &facility_code)?.ok_or(StoreError::UnknownFacility)?;
            let now = now_ms();
            let mut st = c.prepare(
                "SELECT id, request_id, abha_address, abha_number, name, counter, token, visit_id, expires_at_ms
                 FROM abha_shares WHERE facility_id = ?1 AND day = ?2 ORDER BY counter, token",
            )?;
            let rows = st.query_map(params![f.id.to_string(), day], |r| <(String, String, String, Option<String>, String, String, i64, Option<String>, i64)>::try_from(r))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, request_id, abha_address, abha_number, name, context, token, visit, expires) = row?;
                let visit_id = visit.as_deref().map(uuid).transpose()?;
                out.push(ShareRow {
                    id: uuid(&id)?,
                    request_id,
                    abha_address,
                    abha_number,
                    name,
                    context,
                    token: token.to_string(),
                    status: status(visit_id, expires, now).to_string(),
                    visit_id,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn set_facility(
        &self,
        code: String,
        hfr_id: Option<String>,
        name: Option<String>,
    ) -> Result<Facility, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut f = facility_by_code(&tx, &code)?.ok_or(StoreError::UnknownFacility)?;
            let fid = f.id.to_string();
            if let Some(h) = &hfr_id {
                let taken: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM facilities WHERE hfr_id = ?1 AND id <> ?2)",
                    params![h, fid],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(StoreError::HfrIdTaken);
                }
                tx.execute("UPDATE facilities SET hfr_id = ?1 WHERE id = ?2", params![h, fid])?;
            }
            if let Some(n) = &name {
                tx.execute("UPDATE facilities SET name = ?1 WHERE id = ?2", params![n, fid])?;
                f.name = n.clone();
            }
            let config: Option<(String, String)> = tx
                .query_row(
                    "SELECT record_id, payload FROM records WHERE facility_id = ?1 AND kind = ?2 AND owner_device = ?1
                     ORDER BY updated_at_ms LIMIT 1",
                    params![fid, FACILITY_CONFIG_KIND],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (record_id, payload) = match config {
                Some((id, p)) => (Some(uuid(&id)?), p),
                None => (None, "{}".to_string()),
            };
            publish_tx(&tx, &f, FACILITY_CONFIG_KIND, record_id, &patch_config(&payload, &hfr_id, &name))?;
            tx.commit()?;
            Ok(f)
        })
        .await
    }
}
