//! [`ShareStore`] on PostgreSQL: the facility's advisory lock (the one ingest and publish
//! take) serializes its shares, so two concurrent calls of one person see each other.

use super::{
    patch_config, status, today, OnShareJob, ShareOutcome, ShareRow, ShareStore, HANDOFF_LEASE,
};
use crate::abdm::profile::{on_share_body, record_payload, ValidShare};
use crate::store::postgres::{
    facility_by_code, facility_lock_key, now_ms, pool_err, publish_tx, PgStore,
};
use crate::store::{Facility, StoreError, FACILITY_CONFIG_KIND};
use std::time::Duration;
use swagat_sync_protocol::kinds::ABHA_SHARE;
use uuid::Uuid;

impl ShareStore for PgStore {
    async fn record_share(
        &self,
        s: ValidShare,
        window: Duration,
    ) -> Result<ShareOutcome, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let f = tx
            .query_opt(
                "SELECT id, code, name FROM facilities WHERE hfr_id = $1 ORDER BY created_at_ms LIMIT 1",
                &[&s.hip_id],
            )
            .await?
            .map(|r| Facility { id: r.get(0), code: r.get(1), name: r.get(2) })
            .ok_or(StoreError::UnknownFacility)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&facility_lock_key(f.id)],
        )
        .await?;
        let now = now_ms();
        let mut existing: Option<Uuid> = tx
            .query_opt(
                "SELECT share_id FROM abha_share_requests WHERE facility_id = $1 AND request_id = $2",
                &[&f.id, &s.request_id],
            )
            .await?
            .map(|r| r.get(0));
        if existing.is_none() {
            existing = tx
                .query_opt(
                    "SELECT id FROM abha_shares WHERE facility_id = $1 AND counter = $2 AND abha_address = $3
                     AND expires_at_ms > $4 ORDER BY shared_at_ms DESC LIMIT 1",
                    &[&f.id, &s.counter, &s.abha_address, &now],
                )
                .await?
                .map(|r| r.get(0));
        }
        let (share_id, token, created) = match existing {
            Some(id) => {
                let token: i64 = tx
                    .query_one("SELECT token FROM abha_shares WHERE id = $1", &[&id])
                    .await?
                    .get(0);
                (id, token, false)
            }
            None => {
                let day = today();
                let token: i64 = tx
                    .query_one(
                        "INSERT INTO abha_counters (facility_id, counter, day, last_token) VALUES ($1, $2, $3, 1)
                         ON CONFLICT (facility_id, counter, day) DO UPDATE SET last_token = abha_counters.last_token + 1
                         RETURNING last_token",
                        &[&f.id, &s.counter, &day],
                    )
                    .await?
                    .get(0);
                let id = Uuid::now_v7();
                let expires = now + window.as_millis() as i64;
                tx.execute(
                    "INSERT INTO abha_shares (id, facility_id, counter, day, token, request_id, abha_address, abha_number, name, shared_at_ms, expires_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[&id, &f.id, &s.counter, &day, &token, &s.request_id, &s.abha_address, &s.abha_number, &s.name, &now, &expires],
                )
                .await?;
                let payload = record_payload(id, &s, token, now, expires).to_string();
                publish_tx(&tx, &f, ABHA_SHARE, Some(id), &payload).await?;
                (id, token, true)
            }
        };
        tx.execute(
            "INSERT INTO abha_share_requests (facility_id, request_id, share_id, received_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (facility_id, request_id) DO NOTHING",
            &[&f.id, &s.request_id, &share_id, &now],
        )
        .await?;
        let body = on_share_body(
            &s.abha_address,
            &s.counter,
            token,
            window.as_secs(),
            &s.request_id,
        )
        .to_string();
        // Queued already claimed by this call (attempt 1, leased): handed to the sender at once.
        let leased = now + HANDOFF_LEASE.as_millis() as i64;
        let job_id: i64 = tx
            .query_one(
                "INSERT INTO abha_on_share_queue (share_id, request_id, hip_id, body, next_at_ms, created_at_ms, attempts)
                 VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id",
                &[&share_id, &s.request_id, &s.hip_id, &body, &leased, &now],
            )
            .await?
            .get(0);
        tx.commit().await?;
        Ok(ShareOutcome {
            share_id,
            token,
            created,
            job: OnShareJob {
                id: job_id,
                hip_id: s.hip_id,
                body,
                attempts: 1,
            },
        })
    }

    async fn claim_on_shares(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OnShareJob>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let now = now_ms();
        let rows = c
            .query(
                "UPDATE abha_on_share_queue SET attempts = attempts + 1, next_at_ms = $1
                 WHERE id IN (SELECT id FROM abha_on_share_queue WHERE sent_at_ms IS NULL AND next_at_ms <= $2
                              ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING id, hip_id, body, attempts",
                &[&(now + lease.as_millis() as i64), &now, &i64::from(limit)],
            )
            .await?;
        let mut jobs: Vec<OnShareJob> = rows
            .iter()
            .map(|r| OnShareJob {
                id: r.get(0),
                hip_id: r.get(1),
                body: r.get(2),
                attempts: r.get::<_, i32>(3).max(0) as u32,
            })
            .collect();
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn on_shares_sent(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let c = self.pool.get().await.map_err(pool_err)?;
        c.execute(
            "UPDATE abha_on_share_queue SET sent_at_ms = $1, last_error = NULL WHERE id = ANY($2)",
            &[&now_ms(), &ids],
        )
        .await?;
        Ok(())
    }

    async fn on_share_failed(
        &self,
        id: i64,
        retry_in: Duration,
        error: String,
    ) -> Result<(), StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        c.execute(
            "UPDATE abha_on_share_queue SET next_at_ms = $1, last_error = $2 WHERE id = $3 AND sent_at_ms IS NULL",
            &[&(now_ms() + retry_in.as_millis() as i64), &error, &id],
        )
        .await?;
        Ok(())
    }

    async fn shares(
        &self,
        facility_code: String,
        day: String,
    ) -> Result<Vec<ShareRow>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let f = facility_by_code(&c, &facility_code)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        let now = now_ms();
        let rows = c
            .query(
                "SELECT id, request_id, abha_address, abha_number, name, counter, token, visit_id, expires_at_ms
                 FROM abha_shares WHERE facility_id = $1 AND day = $2 ORDER BY counter, token",
                &[&f.id, &day],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let visit_id: Option<Uuid> = r.get(7);
                ShareRow {
                    id: r.get(0),
                    request_id: r.get(1),
                    abha_address: r.get(2),
                    abha_number: r.get(3),
                    name: r.get(4),
                    context: r.get(5),
                    token: r.get::<_, i64>(6).to_string(),
                    status: status(visit_id, r.get(8), now).to_string(),
                    visit_id,
                }
            })
            .collect())
    }

    async fn set_facility(
        &self,
        code: String,
        hfr_id: Option<String>,
        name: Option<String>,
    ) -> Result<Facility, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let mut f = facility_by_code(&tx, &code)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&facility_lock_key(f.id)],
        )
        .await?;
        if let Some(h) = &hfr_id {
            let taken: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM facilities WHERE hfr_id = $1 AND id <> $2)",
                    &[h, &f.id],
                )
                .await?
                .get(0);
            if taken {
                return Err(StoreError::HfrIdTaken);
            }
            tx.execute(
                "UPDATE facilities SET hfr_id = $1 WHERE id = $2",
                &[h, &f.id],
            )
            .await?;
        }
        if let Some(n) = &name {
            tx.execute("UPDATE facilities SET name = $1 WHERE id = $2", &[n, &f.id])
                .await?;
            f.name = n.clone();
        }
        let config = tx
            .query_opt(
                "SELECT record_id, payload FROM records WHERE facility_id = $1 AND kind = $2 AND owner_device = $1
                 ORDER BY updated_at_ms LIMIT 1",
                &[&f.id, &FACILITY_CONFIG_KIND],
            )
            .await?;
        let (record_id, payload): (Option<Uuid>, String) = match config {
            Some(r) => (Some(r.get(0)), r.get(1)),
            None => (None, "{}".to_string()),
        };
        publish_tx(
            &tx,
            &f,
            FACILITY_CONFIG_KIND,
            record_id,
            &patch_config(&payload, &hfr_id, &name),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }
}
