//! PostgreSQL backend: for a whole state, many facilities and concurrent kiosks.
//!
//! A connection pool (deadpool) over tokio-postgres; batches are written with `unnest` arrays
//! (one statement per table per batch, not one per record) so ingest stays fast over a
//! network. Each ingest takes a per-facility advisory lock: change-log ids of one facility are
//! then assigned and committed in the same order, so a pull cursor never skips a row that
//! commits late. Migrations are serialized by another advisory lock so concurrent server starts
//! are safe.

use super::{
    latest_per_record, plan_ingest, request_results, stats_map, Device, Facility, IngestFacts,
    NewFacility, Portal, RequestRow, Sql, Store, StoreError, ValidRequest, FACILITY_CONFIG_KIND,
};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use swagat_sync_protocol::{
    Envelope, ErrorCode, Hlc, PullResponse, PushResponse, PushState, Rejection,
};
use tokio_postgres::NoTls;
use uuid::Uuid;

/// Migrations, applied in order and recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE facilities (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hfr_id TEXT,
    state_lgd INTEGER,
    district_lgd INTEGER,
    config_seq BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    created_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT,
    device_id UUID
);
CREATE TABLE devices (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    acked_seq BIGINT NOT NULL DEFAULT 0,
    revoked_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms BIGINT
);
CREATE TABLE change_log (
    id BIGSERIAL PRIMARY KEY,
    record_id UUID NOT NULL,
    kind TEXT NOT NULL,
    facility_id UUID NOT NULL,
    device_id UUID NOT NULL,
    device_seq BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    UNIQUE (device_id, device_seq)
);
CREATE INDEX change_log_facility ON change_log (facility_id, id);
CREATE TABLE records (
    record_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    kind TEXT NOT NULL,
    owner_device UUID NOT NULL,
    device_seq BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX records_facility_kind ON records (facility_id, kind);
CREATE TABLE rejections (
    device_id UUID NOT NULL,
    device_seq BIGINT NOT NULL,
    record_id UUID NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);
"#,
    r#"
CREATE TABLE portals (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE TABLE dialysis_requests (
    id UUID PRIMARY KEY,
    portal_id UUID NOT NULL REFERENCES portals(id),
    reference TEXT NOT NULL,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    answer TEXT,
    received_at_ms BIGINT NOT NULL,
    answered_at_ms BIGINT,
    UNIQUE (portal_id, reference)
);
"#,
    // Migrations 3-5 belong to other branches; the lead replaces these placeholders at merge.
    "-- migration 3: reserved (sync10-wire)\nSELECT 1;",
    "-- migration 4: reserved (abdm11)\nSELECT 1;",
    "-- migration 5: reserved (harden-server)\nSELECT 1;",
    r#"
-- migration 6 (issue 12): typed projections read by the dashboard and the slip page, kiosk
-- heartbeats, officials' accounts and sessions, per-facility slip-link keys. The projections
-- are back-filled from the change log by the server right after this migration (Rust, the same
-- code as ingest: crate::projections).
CREATE TABLE proj_patients (
    record_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    uhid TEXT,
    name TEXT,
    name_hi TEXT,
    gender TEXT,
    birth_date TEXT,
    merged_into TEXT,
    hlc BIGINT NOT NULL,
    device_id UUID NOT NULL
);
CREATE TABLE proj_visits (
    record_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    patient_id UUID,
    visit_date TEXT COLLATE "C" NOT NULL,
    department TEXT NOT NULL,
    room TEXT,
    token TEXT,
    visit_type TEXT NOT NULL,
    fee_rupees BIGINT NOT NULL,
    waiver_code TEXT,
    valid_until TEXT,
    created_at TEXT,
    cancelled INTEGER NOT NULL,
    abha_linked INTEGER NOT NULL,
    scan_share INTEGER NOT NULL,
    gender TEXT NOT NULL DEFAULT 'U',
    age_band TEXT NOT NULL DEFAULT 'unknown',
    hlc BIGINT NOT NULL,
    device_id UUID NOT NULL
);
CREATE INDEX proj_visits_facility_date ON proj_visits (facility_id, visit_date);
CREATE INDEX proj_visits_patient ON proj_visits (patient_id);
CREATE TABLE proj_visit_daily (
    facility_id UUID NOT NULL,
    visit_date TEXT COLLATE "C" NOT NULL,
    registrations BIGINT NOT NULL,
    new_visits BIGINT NOT NULL,
    follow_ups BIGINT NOT NULL,
    cancelled BIGINT NOT NULL,
    abha_linked BIGINT NOT NULL,
    scan_share BIGINT NOT NULL,
    fees BIGINT NOT NULL,
    waived BIGINT NOT NULL,
    PRIMARY KEY (facility_id, visit_date)
);
CREATE INDEX proj_visit_daily_date ON proj_visit_daily (visit_date, facility_id);
CREATE TABLE proj_dialysis_machines (
    record_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    machine_id TEXT NOT NULL,
    name TEXT,
    pool TEXT,
    active INTEGER NOT NULL,
    hlc BIGINT NOT NULL,
    device_id UUID NOT NULL
);
CREATE INDEX proj_dialysis_machines_local ON proj_dialysis_machines (facility_id, machine_id);
CREATE TABLE proj_dialysis_bookings (
    record_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    booking_date TEXT COLLATE "C" NOT NULL,
    shift TEXT NOT NULL,
    machine_id TEXT,
    pool TEXT,
    status TEXT NOT NULL,
    hlc BIGINT NOT NULL,
    device_id UUID NOT NULL
);
CREATE INDEX proj_dialysis_bookings_facility_date ON proj_dialysis_bookings (facility_id, booking_date);
CREATE TABLE kiosk_heartbeats (
    device_id UUID PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    app_version TEXT NOT NULL,
    outbox_pending BIGINT NOT NULL,
    dead_letters BIGINT NOT NULL,
    oldest_unsent_age_s BIGINT,
    last_error_kind TEXT,
    free_disk_bytes BIGINT
);
CREATE TABLE dashboard_users (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    district_lgd INTEGER,
    facility_code TEXT,
    password_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    disabled_at_ms BIGINT
);
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES dashboard_users(id),
    created_at_ms BIGINT NOT NULL,
    last_active_ms BIGINT NOT NULL
);
CREATE TABLE facility_slip_keys (
    facility_id UUID PRIMARY KEY REFERENCES facilities(id),
    key_b64 TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
"#,
];

const MIGRATION_LOCK: i64 = 0x5357_4147_4154_0001;

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

fn facility_lock_key(f: Uuid) -> i64 {
    let b = f.as_bytes();
    let mut k = [0u8; 8];
    k.copy_from_slice(&b[8..16]);
    i64::from_be_bytes(k)
}

fn parse_code(s: &str) -> ErrorCode {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(ErrorCode::Internal)
}

/// The PostgreSQL backend.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) and applies migrations.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let cfg: tokio_postgres::Config = url.parse()?;
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(pool_err)?;
        let store = PgStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?;
        let done: i32 = row.get(0);
        for (i, m) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            tx.batch_execute(m).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&((i + 1) as i32)],
            )
            .await?;
        }
        // Issue 12: the projections start from the existing change log.
        if (done.max(0) as usize) < crate::projections::MIGRATION
            && MIGRATIONS.len() >= crate::projections::MIGRATION
        {
            super::projections_pg::backfill(&tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn facility_by_code(
    c: &impl GenericClient,
    code: &str,
) -> Result<Option<Facility>, StoreError> {
    Ok(c.query_opt(
        "SELECT id, code, name FROM facilities WHERE code = $1",
        &[&code],
    )
    .await?
    .map(|r| Facility {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
    }))
}

async fn read_rejections(
    c: &impl GenericClient,
    device: Uuid,
    lo: u64,
    hi: u64,
) -> Result<Vec<Rejection>, StoreError> {
    let rows = c
        .query(
            "SELECT device_seq, record_id, code, reason FROM rejections
             WHERE device_id = $1 AND device_seq >= $2 AND device_seq <= $3 ORDER BY device_seq",
            &[
                &device,
                &(lo.min(i64::MAX as u64) as i64),
                &(hi.min(i64::MAX as u64) as i64),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Rejection {
            seq: r.get::<_, i64>(0) as u64,
            id: r.get(1),
            code: parse_code(r.get(2)),
            reason: r.get(3),
        })
        .collect())
}

fn now_ms() -> i64 {
    super::sqlite::now_ms()
}

/// Appends a server-authored record for facility `f` inside the caller's transaction, under
/// the facility's advisory lock (as ingest), so change-log ids of a facility commit in order.
async fn publish_tx(
    tx: &impl GenericClient,
    f: &Facility,
    kind: &str,
    record_id: Option<Uuid>,
    payload: &str,
) -> Result<Uuid, StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&facility_lock_key(f.id)],
    )
    .await?;
    let record_id = record_id.unwrap_or_else(Uuid::now_v7);
    if let Some(r) = tx
        .query_opt(
            "SELECT owner_device FROM records WHERE record_id = $1",
            &[&record_id],
        )
        .await?
    {
        let owner: Uuid = r.get(0);
        if owner != f.id {
            return Err(StoreError::NotOwner);
        }
    }
    let seq: i64 = tx
        .query_one(
            "UPDATE facilities SET config_seq = config_seq + 1 WHERE id = $1 RETURNING config_seq",
            &[&f.id],
        )
        .await?
        .get(0);
    let now = now_ms();
    let hlc = Hlc::ZERO.tick(now as u64).to_u64() as i64;
    tx.execute(
        "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
         VALUES ($1, $2, $3, $3, $4, $5, 1, $6, $7)",
        &[&record_id, &kind, &f.id, &seq, &hlc, &payload, &now],
    )
    .await?;
    tx.execute(
        "INSERT INTO records (record_id, facility_id, kind, owner_device, device_seq, hlc, schema_version, payload, updated_at_ms)
         VALUES ($1, $2, $3, $2, $4, $5, 1, $6, $7)
         ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, device_seq = excluded.device_seq,
            hlc = excluded.hlc, payload = excluded.payload, updated_at_ms = excluded.updated_at_ms",
        &[&record_id, &f.id, &kind, &seq, &hlc, &payload, &now],
    )
    .await?;
    Ok(record_id)
}

const REQUEST_COLUMNS: &str = "r.id, r.portal_id, r.reference, f.code, r.body, r.body_hash, r.status, r.answer, r.received_at_ms, r.answered_at_ms";

async fn find_request(
    c: &impl GenericClient,
    filter: &str,
    a: &(dyn tokio_postgres::types::ToSql + Sync),
    b: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<RequestRow>, StoreError> {
    Ok(c.query_opt(
        &format!("SELECT {REQUEST_COLUMNS} FROM dialysis_requests r JOIN facilities f ON f.id = r.facility_id WHERE {filter}"),
        &[a, b],
    )
    .await?
    .map(|r| RequestRow {
        id: r.get(0),
        portal_id: r.get(1),
        reference: r.get(2),
        facility: r.get(3),
        body: r.get(4),
        body_hash: r.get(5),
        status: r.get(6),
        answer: r.get(7),
        received_at_ms: r.get(8),
        answered_at_ms: r.get(9),
    }))
}

/// Advisory-lock key of a portal (serializes its submissions, for idempotency).
fn portal_lock_key(p: Uuid) -> i64 {
    facility_lock_key(p) ^ 0x5052_5451
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn add_facility(
        &self,
        f: NewFacility,
        code_hash: String,
    ) -> Result<Facility, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        if facility_by_code(&tx, &f.code).await?.is_some() {
            return Err(StoreError::FacilityExists);
        }
        let id = Uuid::now_v7();
        let now = now_ms();
        let state = f.state_lgd.map(|v| v as i32);
        let district = f.district_lgd.map(|v| v as i32);
        tx.execute(
            "INSERT INTO facilities (id, code, name, hfr_id, state_lgd, district_lgd, config_seq, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
            &[&id, &f.code, &f.name, &f.hfr_id, &state, &district, &now],
        )
        .await?;
        tx.execute(
            "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms) VALUES ($1, $2, $3)",
            &[&code_hash, &id, &now],
        )
        .await?;
        let payload = serde_json::to_string(&f).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let record_id = Uuid::now_v7();
        let hlc = Hlc::ZERO.tick(now as u64).to_u64() as i64;
        tx.execute(
            "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
             VALUES ($1, $2, $3, $3, 1, $4, 1, $5, $6)",
            &[&record_id, &FACILITY_CONFIG_KIND, &id, &hlc, &payload, &now],
        )
        .await?;
        tx.execute(
            "INSERT INTO records (record_id, facility_id, kind, owner_device, device_seq, hlc, schema_version, payload, updated_at_ms)
             VALUES ($1, $2, $3, $2, 1, $4, 1, $5, $6)",
            &[&record_id, &id, &FACILITY_CONFIG_KIND, &hlc, &payload, &now],
        )
        .await?;
        tx.commit().await?;
        Ok(Facility {
            id,
            code: f.code,
            name: f.name,
        })
    }

    async fn add_enrollment_code(
        &self,
        facility_code: String,
        code_hash: String,
    ) -> Result<Facility, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let f = facility_by_code(&tx, &facility_code)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        tx.execute(
            "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms) VALUES ($1, $2, $3)",
            &[&code_hash, &f.id, &now_ms()],
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    async fn enroll(
        &self,
        code_hash: String,
        device_name: String,
        secret_hash: String,
    ) -> Result<(Device, Facility), StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT f.id, f.code, f.name FROM enrollment_codes e JOIN facilities f ON f.id = e.facility_id
                 WHERE e.code_hash = $1 AND e.used_at_ms IS NULL FOR UPDATE OF e",
                &[&code_hash],
            )
            .await?
            .ok_or(StoreError::InvalidEnrollmentCode)?;
        let facility = Facility {
            id: row.get(0),
            code: row.get(1),
            name: row.get(2),
        };
        let device = Device {
            id: Uuid::now_v7(),
            facility_id: facility.id,
            secret_hash,
            revoked: false,
        };
        let now = now_ms();
        tx.execute(
            "INSERT INTO devices (id, facility_id, name, secret_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&device.id, &facility.id, &device_name, &device.secret_hash, &now],
        )
        .await?;
        tx.execute(
            "UPDATE enrollment_codes SET used_at_ms = $1, device_id = $2 WHERE code_hash = $3",
            &[&now, &device.id, &code_hash],
        )
        .await?;
        tx.commit().await?;
        Ok((device, facility))
    }

    async fn publish(
        &self,
        facility_code: String,
        kind: String,
        record_id: Option<Uuid>,
        payload: String,
    ) -> Result<Uuid, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let f = facility_by_code(&tx, &facility_code)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        let record_id = publish_tx(&tx, &f, &kind, record_id, &payload).await?;
        tx.commit().await?;
        Ok(record_id)
    }

    async fn device(&self, id: Uuid) -> Result<Option<Device>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let st = c
            .prepare_cached(
                "SELECT facility_id, secret_hash, revoked_at_ms IS NOT NULL FROM devices WHERE id = $1",
            )
            .await?;
        Ok(c.query_opt(&st, &[&id]).await?.map(|r| Device {
            id,
            facility_id: r.get(0),
            secret_hash: r.get(1),
            revoked: r.get(2),
        }))
    }

    async fn revoke_device(&self, id: Uuid) -> Result<bool, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        c.execute(
            "UPDATE devices SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
            &[&now_ms(), &id],
        )
        .await?;
        Ok(c.query_opt("SELECT 1 FROM devices WHERE id = $1", &[&id])
            .await?
            .is_some())
    }

    async fn ingest(
        &self,
        device: Device,
        envelopes: Vec<Envelope>,
    ) -> Result<PushResponse, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&facility_lock_key(device.facility_id)],
        )
        .await?;
        let acked: i64 = tx
            .query_one(
                "SELECT acked_seq FROM devices WHERE id = $1 FOR UPDATE",
                &[&device.id],
            )
            .await?
            .get(0);
        let mut facts = IngestFacts {
            acked_seq: acked as u64,
            ..Default::default()
        };
        let new_ids: Vec<Uuid> = envelopes
            .iter()
            .filter(|e| e.seq > facts.acked_seq)
            .map(|e| e.id)
            .collect();
        if !new_ids.is_empty() {
            for r in tx
                .query(
                    "SELECT record_id, owner_device FROM records WHERE record_id = ANY($1)",
                    &[&new_ids],
                )
                .await?
            {
                facts.owners.insert(r.get(0), r.get(1));
            }
        }
        let plan = plan_ingest(&device, envelopes, &facts)?;
        let now = now_ms();
        if !plan.accepted.is_empty() {
            let cols = Columns::of(plan.accepted.iter());
            tx.execute(
                "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
                 SELECT r, k, $3, $4, s, h, v, p, $9
                 FROM unnest($1::uuid[], $2::text[], $5::int8[], $6::int8[], $7::int4[], $8::text[]) AS t(r, k, s, h, v, p)",
                &[&cols.ids, &cols.kinds, &device.facility_id, &device.id, &cols.seqs, &cols.hlcs, &cols.schemas, &cols.payloads, &now],
            )
            .await?;
            let latest = Columns::of(latest_per_record(&plan.accepted).into_iter());
            tx.execute(
                "INSERT INTO records (record_id, facility_id, kind, owner_device, device_seq, hlc, schema_version, payload, updated_at_ms)
                 SELECT r, $3, k, $4, s, h, v, p, $9
                 FROM unnest($1::uuid[], $2::text[], $5::int8[], $6::int8[], $7::int4[], $8::text[]) AS t(r, k, s, h, v, p)
                 ON CONFLICT (record_id) DO UPDATE SET
                    kind = excluded.kind, device_seq = excluded.device_seq, hlc = excluded.hlc,
                    schema_version = excluded.schema_version, payload = excluded.payload,
                    updated_at_ms = excluded.updated_at_ms
                 WHERE excluded.device_seq > records.device_seq",
                &[&latest.ids, &latest.kinds, &device.facility_id, &device.id, &latest.seqs, &latest.hlcs, &latest.schemas, &latest.payloads, &now],
            )
            .await?;
        }
        for r in &plan.rejected {
            tx.execute(
                "INSERT INTO rejections (device_id, device_seq, record_id, code, reason, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &device.id,
                    &(r.seq as i64),
                    &r.id,
                    &r.code.as_str(),
                    &r.reason,
                    &now,
                ],
            )
            .await?;
        }
        for (request, status, answer) in request_results(&plan.accepted) {
            tx.execute(
                "UPDATE dialysis_requests SET status = $1, answer = $2, answered_at_ms = $3
                 WHERE id = $4 AND facility_id = $5",
                &[&status, &answer, &now, &request, &device.facility_id],
            )
            .await?;
        }
        // Issue 12: typed projections, in the ingest transaction.
        super::projections_pg::apply(&tx, &plan.accepted).await?;
        tx.execute(
            "UPDATE devices SET acked_seq = $1, last_seen_ms = $2 WHERE id = $3",
            &[&(plan.new_acked as i64), &now, &device.id],
        )
        .await?;
        let mut rejected = match plan.duplicate_range {
            Some((lo, hi)) => read_rejections(&tx, device.id, lo, hi).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        rejected.extend(plan.rejected);
        Ok(PushResponse {
            acked_seq: plan.new_acked,
            accepted: plan.accepted.len() as u64,
            duplicates: plan.duplicates,
            rejected,
        })
    }

    async fn push_state(&self, device: Uuid, since: u64) -> Result<PushState, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let acked: i64 = c
            .query_one("SELECT acked_seq FROM devices WHERE id = $1", &[&device])
            .await?
            .get(0);
        let rejected = read_rejections(&c, device, since.saturating_add(1), u64::MAX).await?;
        Ok(PushState {
            acked_seq: acked as u64,
            rejected,
        })
    }

    async fn pull(
        &self,
        facility: Uuid,
        device: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let rows = c
            .query(
                "SELECT id, record_id, kind, device_id, device_seq, hlc, schema_version, payload
                 FROM change_log WHERE facility_id = $1 AND id > $2 AND device_id <> $3
                 ORDER BY id LIMIT $4",
                &[
                    &facility,
                    &(cursor.min(i64::MAX as u64) as i64),
                    &device,
                    &(i64::from(limit) + 1),
                ],
            )
            .await?;
        let mut records = Vec::new();
        let mut next = cursor;
        let mut more = false;
        for r in rows {
            if records.len() as u32 == limit {
                more = true;
                break;
            }
            next = r.get::<_, i64>(0) as u64;
            let payload: String = r.get(7);
            records.push(Envelope {
                id: r.get(1),
                kind: r.get(2),
                facility,
                device: r.get(3),
                seq: r.get::<_, i64>(4) as u64,
                hlc: Hlc::from_u64(r.get::<_, i64>(5) as u64),
                schema: r.get::<_, i32>(6) as u32,
                payload: RawValue::from_string(payload)
                    .map_err(|_| StoreError::Corrupt("stored payload is not JSON".into()))?,
            });
        }
        Ok(PullResponse {
            records,
            cursor: next,
            more,
        })
    }

    async fn add_portal(&self, name: String, token_hash: String) -> Result<Uuid, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let id = Uuid::now_v7();
        c.execute(
            "INSERT INTO portals (id, name, token_hash, created_at_ms) VALUES ($1, $2, $3, $4)",
            &[&id, &name, &token_hash, &now_ms()],
        )
        .await?;
        Ok(id)
    }

    async fn revoke_portal(&self, id: Uuid) -> Result<bool, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        c.execute(
            "UPDATE portals SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
            &[&now_ms(), &id],
        )
        .await?;
        Ok(c.query_opt("SELECT 1 FROM portals WHERE id = $1", &[&id])
            .await?
            .is_some())
    }

    async fn portal(&self, id: Uuid) -> Result<Option<Portal>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        Ok(c.query_opt(
            "SELECT name, token_hash, revoked_at_ms IS NOT NULL FROM portals WHERE id = $1",
            &[&id],
        )
        .await?
        .map(|r| Portal {
            id,
            name: r.get(0),
            token_hash: r.get(1),
            revoked: r.get(2),
        }))
    }

    async fn submit_request(
        &self,
        portal: Portal,
        req: ValidRequest,
    ) -> Result<(RequestRow, bool), StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        // Same reference posted twice at once: the second waits and then finds the first.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&portal_lock_key(portal.id)],
        )
        .await?;
        if let Some(row) = find_request(
            &tx,
            "r.portal_id = $1 AND r.reference = $2",
            &portal.id,
            &req.reference,
        )
        .await?
        {
            return if row.body_hash == req.body_hash {
                Ok((row, false))
            } else {
                Err(StoreError::ReferenceConflict)
            };
        }
        let f = facility_by_code(&tx, &req.facility)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        let id = Uuid::now_v7();
        let now = now_ms();
        let payload = crate::portal::published_payload(id, &portal.name, &req, now);
        publish_tx(
            &tx,
            &f,
            crate::portal::REQUEST_KIND,
            Some(id),
            &payload.to_string(),
        )
        .await?;
        tx.execute(
            "INSERT INTO dialysis_requests (id, portal_id, reference, facility_id, body, body_hash, received_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&id, &portal.id, &req.reference, &f.id, &req.body.to_string(), &req.body_hash, &now],
        )
        .await?;
        let row = find_request(&tx, "r.id = $1 AND r.portal_id = $2", &id, &portal.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("request vanished".into()))?;
        tx.commit().await?;
        Ok((row, true))
    }

    async fn request(&self, portal: Uuid, id: Uuid) -> Result<Option<RequestRow>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        find_request(&c, "r.id = $1 AND r.portal_id = $2", &id, &portal).await
    }

    async fn sql_query(&self, sql: String, params: Vec<Sql>) -> Result<Vec<Vec<Sql>>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let st = c.prepare_cached(&sql.replace('?', "$")).await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let rows = c.query(&st, &refs).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                use tokio_postgres::types::Type;
                let t = col.type_();
                let v = if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?.map(Sql::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?.map(|v| Sql::Int(v.into()))
                } else if *t == Type::INT2 {
                    r.try_get::<_, Option<i16>>(i)?.map(|v| Sql::Int(v.into()))
                } else if *t == Type::FLOAT8 {
                    r.try_get::<_, Option<f64>>(i)?.map(Sql::Real)
                } else if *t == Type::FLOAT4 {
                    r.try_get::<_, Option<f32>>(i)?.map(|v| Sql::Real(v.into()))
                } else if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)?.map(|v| Sql::Int(v.into()))
                } else if *t == Type::UUID {
                    r.try_get::<_, Option<Uuid>>(i)?.map(Sql::Uuid)
                } else {
                    r.try_get::<_, Option<String>>(i)?.map(Sql::Text)
                };
                row.push(v.unwrap_or(Sql::Null));
            }
            out.push(row);
        }
        Ok(out)
    }

    async fn sql_exec(&self, sql: String, params: Vec<Sql>) -> Result<u64, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let st = c.prepare_cached(&sql.replace('?', "$")).await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        Ok(c.execute(&st, &refs).await?)
    }

    async fn stats(
        &self,
        facility_code: Option<String>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let rows = match facility_code {
            Some(code) => {
                let f = facility_by_code(&c, &code)
                    .await?
                    .ok_or(StoreError::UnknownFacility)?;
                c.query(
                    "SELECT kind, COUNT(DISTINCT record_id) FROM records WHERE facility_id = $1 GROUP BY kind",
                    &[&f.id],
                )
                .await?
            }
            None => {
                c.query(
                    "SELECT kind, COUNT(DISTINCT record_id) FROM records GROUP BY kind",
                    &[],
                )
                .await?
            }
        };
        Ok(stats_map(rows.iter().map(|r| {
            (r.get::<_, String>(0), r.get::<_, i64>(1) as u64)
        })))
    }
}

/// Envelope fields as column arrays, for `unnest` bulk statements.
struct Columns {
    ids: Vec<Uuid>,
    kinds: Vec<String>,
    seqs: Vec<i64>,
    hlcs: Vec<i64>,
    schemas: Vec<i32>,
    payloads: Vec<String>,
}

impl Columns {
    fn of<'a>(it: impl Iterator<Item = &'a Envelope>) -> Columns {
        let mut c = Columns {
            ids: Vec::new(),
            kinds: Vec::new(),
            seqs: Vec::new(),
            hlcs: Vec::new(),
            schemas: Vec::new(),
            payloads: Vec::new(),
        };
        for e in it {
            c.ids.push(e.id);
            c.kinds.push(e.kind.clone());
            c.seqs.push(e.seq as i64);
            c.hlcs.push(e.hlc.to_u64() as i64);
            c.schemas.push(e.schema as i32);
            c.payloads.push(e.payload.get().to_string());
        }
        c
    }
}

impl tokio_postgres::types::ToSql for Sql {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match self {
            Sql::Null => Ok(IsNull::Yes),
            Sql::Int(v) => {
                if *ty == Type::INT4 {
                    i32::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*v as f64).to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*v != 0).to_sql(ty, out)
                } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                    v.to_string().to_sql(ty, out)
                } else {
                    v.to_sql(ty, out)
                }
            }
            Sql::Real(v) => v.to_sql(ty, out),
            Sql::Text(s) => {
                if *ty == Type::UUID {
                    Uuid::parse_str(s)?.to_sql(ty, out)
                } else {
                    s.to_sql(ty, out)
                }
            }
            Sql::Uuid(u) => {
                if *ty == Type::UUID {
                    u.to_sql(ty, out)
                } else {
                    u.to_string().to_sql(ty, out)
                }
            }
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}
