//! PostgreSQL backend: for a whole state, many facilities and concurrent kiosks.
//!
//! A connection pool (deadpool) over tokio-postgres; batches are written with `unnest` arrays
//! (one statement per table per batch, not one per record) so ingest stays fast over a
//! network. Each ingest takes a per-facility advisory lock: change-log ids of one facility are
//! then assigned and committed in the same order, so a pull cursor never skips a row that
//! commits late. Migrations are serialized by another advisory lock so concurrent server starts
//! are safe.

use super::projections_pg::{exec, query};
use super::script::{
    confirm_retry, decide_enroll, decide_submit, duplicate_span, may_publish, new_record_ids,
    plan_facility, plan_succession, sql_u64, EnrollStep, PublishedVersion, PullPage,
    SubmitDecision,
};
use super::{
    key_id, latest_per_record, new_key, parse_code, plan_ingest, request_results, slip_key_name,
    stats_map, Device, DeviceInfo, EnrollKeys, EnrollParams, Enrolled, Facility, IngestFacts,
    InstallCheck, NewFacility, Portal, PortalScope, RecordFacts, RequestRow, Sql, Store,
    StoreError, ValidRequest, AADHAAR_KEY_NAME, FACILITY_CONFIG_KIND, REQUEST_COLUMNS,
};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::TryStreamExt;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use swagat_sync_protocol::{
    content_hash, Envelope, Hlc, PullResponse, PushResponse, PushState, Rejection, SeqDigest,
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
    // 3: content hash per (device, seq); last-writer-wins latest state; code expiry; install
    // ids (clone detection); re-enrollment audit; the state's and facilities' keys.
    r#"
ALTER TABLE change_log ADD COLUMN content_hash TEXT;
ALTER TABLE rejections ADD COLUMN content_hash TEXT;
ALTER TABLE records ADD COLUMN writer_device UUID;
UPDATE records SET writer_device = owner_device;
ALTER TABLE records ALTER COLUMN writer_device SET NOT NULL;
ALTER TABLE enrollment_codes ADD COLUMN expires_at_ms BIGINT;
UPDATE enrollment_codes SET expires_at_ms = created_at_ms + 604800000;
CREATE TABLE device_installs (
    device_id UUID NOT NULL REFERENCES devices(id),
    install_id UUID NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    superseded_at_ms BIGINT,
    PRIMARY KEY (device_id, install_id)
);
CREATE TABLE device_successions (
    new_device_id UUID PRIMARY KEY REFERENCES devices(id),
    old_device_id UUID NOT NULL REFERENCES devices(id),
    facility_id UUID NOT NULL REFERENCES facilities(id),
    start_seq BIGINT NOT NULL,
    old_revoked BOOLEAN NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
"#,
    // migration 4: ABHA scan-and-share (shares, per-counter tokens, the on-share queue)
    crate::abdm::store::PG_MIGRATION,
    // Migration 5 (harden-server; the lead renumbers it at merge): per-device storage use
    // for the quota, and portal scopes (NULL: state-wide).
    r#"
ALTER TABLE devices ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE devices d SET stored_bytes = COALESCE(
    (SELECT SUM(octet_length(c.payload)) FROM change_log c WHERE c.device_id = d.id), 0);
ALTER TABLE portals ADD COLUMN scope TEXT;
"#,
    r#"
-- migration 6 (issue 12): typed projections read by the dashboard and the slip page, kiosk
-- heartbeats, officials' accounts and sessions (slip-link keys live in server_keys). The projections
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
"#,
    // 7: the state overview at 10 million visits reads ~30,000 day rows scattered over the
    // table; a covering index lets PostgreSQL answer from the index alone (an index-only scan:
    // the bench's SQL went from 200 to 69 ms).
    r#"
CREATE INDEX proj_visit_daily_cover ON proj_visit_daily (visit_date, facility_id)
    INCLUDE (registrations, new_visits, follow_ups, cancelled, abha_linked, scan_share);
"#,
    // 8: recovery-key escrow (issue 16): each device's recovery key sealed to the state's escrow
    // public key (kept in server_keys as 'escrow_public'); the private key is never here.
    r#"
CREATE TABLE recovery_escrows (
    device_id UUID PRIMARY KEY,
    facility_id UUID NOT NULL,
    sealed TEXT NOT NULL,
    key_check TEXT NOT NULL,
    escrowed_at_ms BIGINT NOT NULL
);
"#,
];

/// Migration 3 back-fills the content hash of every change stored before it (rejections keep
/// NULL: their content was never stored, and NULL is read as "unknown", i.e. a duplicate).
async fn backfill_hashes(tx: &impl GenericClient) -> Result<(), StoreError> {
    let rows = tx
        .query(
            "SELECT id, record_id, kind, hlc, schema_version, payload FROM change_log WHERE content_hash IS NULL",
            &[],
        )
        .await?;
    for r in rows {
        let h = content_hash(
            r.get(1),
            r.get(2),
            Hlc::from_u64(r.get::<_, i64>(3) as u64),
            r.get::<_, i32>(4) as u32,
            r.get(5),
        );
        tx.execute(
            "UPDATE change_log SET content_hash = $1 WHERE id = $2",
            &[&h, &r.get::<_, i64>(0)],
        )
        .await?;
    }
    Ok(())
}

/// The device and the devices it replaced by re-enrollment (their sequences continue).
/// (Each old device's sequences count only up to where its successor started.)
const CHAIN: &str = "WITH RECURSIVE chain(d, upto) AS (SELECT $1::uuid, 9223372036854775807::bigint UNION SELECT s.old_device_id, LEAST(chain.upto, s.start_seq) FROM device_successions s JOIN chain ON s.new_device_id = chain.d)";

async fn digests_tx(
    c: &impl GenericClient,
    device: Uuid,
    lo: u64,
    hi: u64,
) -> Result<Vec<SeqDigest>, StoreError> {
    let rows = c
        .query(
            &format!(
                "{CHAIN} SELECT x.device_seq, x.content_hash FROM change_log x JOIN chain ON x.device_id = chain.d AND x.device_seq <= chain.upto
                    WHERE x.device_seq BETWEEN $2 AND $3
                 UNION ALL SELECT x.device_seq, x.content_hash FROM rejections x JOIN chain ON x.device_id = chain.d AND x.device_seq <= chain.upto
                    WHERE x.device_seq BETWEEN $2 AND $3
                 ORDER BY 1"
            ),
            &[
                &device,
                &sql_u64(lo),
                &sql_u64(hi),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SeqDigest {
            seq: r.get::<_, i64>(0) as u64,
            hash: r.get(1),
        })
        .collect())
}

/// The key named `name`, created (32 random bytes) on first use.
async fn ensure_key(tx: &impl GenericClient, name: &str) -> Result<(String, String), StoreError> {
    let k = new_key();
    tx.execute(
        "INSERT INTO server_keys (name, key, key_id, created_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        &[&name, &k, &key_id(&k), &now_ms()],
    )
    .await?;
    let r = tx
        .query_one(
            "SELECT key, key_id FROM server_keys WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok((r.get(0), r.get(1)))
}

async fn enroll_keys(tx: &impl GenericClient, facility: Uuid) -> Result<EnrollKeys, StoreError> {
    let (aadhaar_key, aadhaar_key_id) = ensure_key(tx, AADHAAR_KEY_NAME).await?;
    let (slip_link_key, _) = ensure_key(tx, &slip_key_name(facility)).await?;
    Ok(EnrollKeys {
        aadhaar_key,
        aadhaar_key_id,
        slip_link_key,
    })
}

const MIGRATION_LOCK: i64 = 0x5357_4147_4154_0001;

pub(crate) fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

pub(crate) fn facility_lock_key(f: Uuid) -> i64 {
    let b = f.as_bytes();
    let mut k = [0u8; 8];
    k.copy_from_slice(&b[8..16]);
    i64::from_be_bytes(k)
}

/// The PostgreSQL backend.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: Pool,
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
            if i == 2 {
                backfill_hashes(&tx).await?;
            }
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

pub(crate) async fn facility_by_code(
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
            &[&device, &sql_u64(lo), &sql_u64(hi)],
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

pub(crate) fn now_ms() -> i64 {
    super::sqlite::now_ms()
}

/// Appends a server-authored record for facility `f` inside the caller's transaction, under
/// the facility's advisory lock (as ingest), so change-log ids of a facility commit in order.
pub(crate) async fn publish_tx(
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
    let owner: Option<Uuid> = tx
        .query_opt(
            "SELECT owner_device FROM records WHERE record_id = $1",
            &[&record_id],
        )
        .await?
        .map(|r| r.get(0));
    may_publish(owner, f.id)?;
    let seq: i64 = tx
        .query_one(
            "UPDATE facilities SET config_seq = config_seq + 1 WHERE id = $1 RETURNING config_seq",
            &[&f.id],
        )
        .await?
        .get(0);
    let now = now_ms();
    let v = PublishedVersion::new(record_id, kind, payload, now);
    tx.execute(
        "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
         VALUES ($1, $2, $3, $3, $4, $5, 1, $6, $7)",
        &[&record_id, &kind, &f.id, &seq, &v.hlc, &payload, &now],
    )
    .await?;
    tx.execute(
        "UPDATE change_log SET content_hash = $1 WHERE device_id = $2 AND device_seq = $3",
        &[&v.content_hash, &f.id, &seq],
    )
    .await?;
    tx.execute(
        "INSERT INTO records (record_id, facility_id, kind, owner_device, writer_device, device_seq, hlc, schema_version, payload, updated_at_ms)
         VALUES ($1, $2, $3, $2, $2, $4, $5, 1, $6, $7)
         ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, device_seq = excluded.device_seq,
            writer_device = excluded.writer_device,
            hlc = excluded.hlc, payload = excluded.payload, updated_at_ms = excluded.updated_at_ms",
        &[&record_id, &f.id, &kind, &seq, &v.hlc, &payload, &now],
    )
    .await?;
    Ok(record_id)
}

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

    async fn add_facility_until(
        &self,
        f: NewFacility,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let plan = plan_facility(facility_by_code(&tx, &f.code).await?.is_some(), &f)?;
        let id = plan.facility.id;
        let now = now_ms();
        let state = f.state_lgd.map(|v| v as i32);
        let district = f.district_lgd.map(|v| v as i32);
        // config_seq starts at 0: publishing the configuration makes it 1.
        tx.execute(
            "INSERT INTO facilities (id, code, name, hfr_id, state_lgd, district_lgd, config_seq, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
            &[&id, &f.code, &f.name, &f.hfr_id, &state, &district, &now],
        )
        .await?;
        tx.execute(
            "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
            &[&code_hash, &id, &now, &expires_at_ms],
        )
        .await?;
        // The facility configuration is a server-authored record every kiosk pulls.
        publish_tx(
            &tx,
            &plan.facility,
            FACILITY_CONFIG_KIND,
            None,
            &plan.config,
        )
        .await?;
        tx.commit().await?;
        Ok(plan.facility)
    }

    async fn add_enrollment_code_until(
        &self,
        facility_code: String,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let f = facility_by_code(&tx, &facility_code)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        tx.execute(
            "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
            &[&code_hash, &f.id, &now_ms(), &expires_at_ms],
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    async fn enroll(&self, p: EnrollParams) -> Result<Enrolled, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT f.id, f.code, f.name, e.used_at_ms, e.device_id, e.expires_at_ms
                 FROM enrollment_codes e JOIN facilities f ON f.id = e.facility_id
                 WHERE e.code_hash = $1 FOR UPDATE OF e",
                &[&p.code_hash],
            )
            .await?
            .ok_or(StoreError::InvalidEnrollmentCode)?;
        let facility = Facility {
            id: row.get(0),
            code: row.get(1),
            name: row.get(2),
        };
        let used: Option<i64> = row.get(3);
        let used_by: Option<Uuid> = row.get(4);
        let expires: Option<i64> = row.get(5);
        let now = now_ms();
        if let EnrollStep::Retry(dev) = decide_enroll(used, used_by, expires, now)? {
            // A v2 retry: the same kiosk (same secret) gets the same device back.
            let same: Option<bool> = tx
                .query_opt(
                    "SELECT secret_hash = $2 FROM devices WHERE id = $1",
                    &[&dev, &p.secret_hash],
                )
                .await?
                .map(|r| r.get(0));
            confirm_retry(same)?;
            let keys = enroll_keys(&tx, facility.id).await?;
            tx.commit().await?;
            let device = Device {
                id: dev,
                facility_id: facility.id,
                secret_hash: p.secret_hash,
                revoked: false,
            };
            return Ok(Enrolled {
                device,
                facility,
                keys,
                retried: true,
            });
        }
        let mut succession = None;
        if let Some(prev) = p.previous_device {
            let old: Option<(Uuid, i64)> = tx
                .query_opt(
                    "SELECT facility_id, acked_seq FROM devices WHERE id = $1 FOR UPDATE",
                    &[&prev],
                )
                .await?
                .map(|r| (r.get(0), r.get(1)));
            let superseded: Option<bool> = match p.previous_install {
                Some(install) => tx
                    .query_opt(
                        "SELECT superseded_at_ms IS NOT NULL FROM device_installs WHERE device_id = $1 AND install_id = $2",
                        &[&prev, &install],
                    )
                    .await?
                    .map(|r| r.get(0)),
                None => None,
            };
            succession = Some(plan_succession(
                old,
                facility.id,
                p.previous_acked,
                superseded,
            )?);
        }
        let start_seq = succession.map_or(0, |s| s.start_seq);
        let device = Device {
            id: Uuid::now_v7(),
            facility_id: facility.id,
            secret_hash: p.secret_hash,
            revoked: false,
        };
        tx.execute(
            "INSERT INTO devices (id, facility_id, name, secret_hash, acked_seq, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&device.id, &facility.id, &p.device_name, &device.secret_hash, &start_seq, &now],
        )
        .await?;
        if let Some(install) = p.install_id {
            tx.execute(
                "INSERT INTO device_installs (device_id, install_id, first_seen_ms) VALUES ($1, $2, $3)",
                &[&device.id, &install, &now],
            )
            .await?;
        }
        if let (Some(prev), Some(s)) = (p.previous_device, succession) {
            tx.execute(
                "INSERT INTO device_successions (new_device_id, old_device_id, facility_id, start_seq, old_revoked, at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&device.id, &prev, &facility.id, &s.start_seq, &s.revoke_old, &now],
            )
            .await?;
            if s.revoke_old {
                tx.execute(
                    "UPDATE devices SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
                    &[&now, &prev],
                )
                .await?;
            }
        }
        tx.execute(
            "UPDATE enrollment_codes SET used_at_ms = $1, device_id = $2 WHERE code_hash = $3",
            &[&now, &device.id, &p.code_hash],
        )
        .await?;
        let keys = enroll_keys(&tx, facility.id).await?;
        tx.commit().await?;
        Ok(Enrolled {
            device,
            facility,
            keys,
            retried: false,
        })
    }

    async fn check_install(&self, device: Uuid, install: Uuid) -> Result<InstallCheck, StoreError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        let seen = c
            .query_opt(
                "SELECT superseded_at_ms FROM device_installs WHERE device_id = $1 AND install_id = $2",
                &[&device, &install],
            )
            .await?
            .map(|r| r.get::<_, Option<i64>>(0));
        match seen {
            Some(Some(_)) => Ok(InstallCheck::Superseded),
            Some(None) => Ok(InstallCheck::Current),
            None => {
                let tx = c.transaction().await?;
                tx.execute("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", &[&device])
                    .await?;
                let now = now_ms();
                tx.execute(
                    "UPDATE device_installs SET superseded_at_ms = $1 WHERE device_id = $2 AND superseded_at_ms IS NULL",
                    &[&now, &device],
                )
                .await?;
                tx.execute(
                    "INSERT INTO device_installs (device_id, install_id, first_seen_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (device_id, install_id) DO UPDATE SET superseded_at_ms = NULL",
                    &[&device, &install, &now],
                )
                .await?;
                tx.commit().await?;
                Ok(InstallCheck::Current)
            }
        }
    }

    async fn digests(
        &self,
        device: Uuid,
        from: u64,
        to: u64,
    ) -> Result<Vec<SeqDigest>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        digests_tx(&c, device, from, to).await
    }

    async fn devices(&self, facility_code: Option<String>) -> Result<Vec<DeviceInfo>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let rows = c
            .query(
                "SELECT d.id, f.code, d.name, d.acked_seq, d.revoked_at_ms IS NOT NULL, d.created_at_ms, s.old_device_id
                 FROM devices d JOIN facilities f ON f.id = d.facility_id
                 LEFT JOIN device_successions s ON s.new_device_id = d.id
                 WHERE $1::text IS NULL OR f.code = $1 ORDER BY d.created_at_ms, d.id",
                &[&facility_code],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeviceInfo {
                device_id: r.get(0),
                facility_code: r.get(1),
                name: r.get(2),
                acked_seq: r.get::<_, i64>(3) as u64,
                revoked: r.get(4),
                created_at_ms: r.get(5),
                previous_device_id: r.get(6),
            })
            .collect())
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
        exec(
            &tx,
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
        let new_ids = new_record_ids(&envelopes, facts.acked_seq);
        if !new_ids.is_empty() {
            for r in query(
                    &tx,
                    "SELECT record_id, facility_id, owner_device FROM records WHERE record_id = ANY($1)",
                    &[&new_ids],
                )
                .await?
            {
                facts.records.insert(
                    r.get(0),
                    RecordFacts {
                        facility: r.get(1),
                        owner: r.get(2),
                    },
                );
            }
        }
        if let Some((lo, hi)) = duplicate_span(&envelopes, facts.acked_seq) {
            for d in digests_tx(&tx, device.id, lo, hi).await? {
                facts.hashes.insert(d.seq, d.hash);
            }
        }
        let plan = plan_ingest(&device, envelopes, &facts)?;
        let now = now_ms();
        // The change log and latest state, and the typed projections (issue 12), touch
        // disjoint tables: their statements are sent as one pipeline, so PostgreSQL writes the
        // log while this process projects the payloads (ingest is bounded by the two together).
        let logged = async {
            if plan.accepted.is_empty() {
                return Ok::<(), StoreError>(());
            }
            let cols = Columns::of(plan.accepted.iter());
            let hashes: Vec<String> = plan.accepted.iter().map(|e| e.content_hash()).collect();
            exec(
                &tx,
                "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms, content_hash)
                 SELECT r, k, $3, $4, s, h, v, p, $9, c
                 FROM unnest($1::uuid[], $2::text[], $5::int8[], $6::int8[], $7::int4[], $8::text[], $10::text[]) AS t(r, k, s, h, v, p, c)",
                &[&cols.ids, &cols.kinds, &device.facility_id, &device.id, &cols.seqs, &cols.hlcs, &cols.schemas, &cols.payloads, &now, &hashes],
            )
            .await?;
            let latest = Columns::of(latest_per_record(&plan.accepted).into_iter());
            // The latest state keeps the version with the greatest (HLC, device id), whatever
            // order versions from the facility's kiosks arrive in.
            exec(
                &tx,
                "INSERT INTO records (record_id, facility_id, kind, owner_device, writer_device, device_seq, hlc, schema_version, payload, updated_at_ms)
                 SELECT r, $3, k, $4, $4, s, h, v, p, $9
                 FROM unnest($1::uuid[], $2::text[], $5::int8[], $6::int8[], $7::int4[], $8::text[]) AS t(r, k, s, h, v, p)
                 ON CONFLICT (record_id) DO UPDATE SET
                    kind = excluded.kind, writer_device = excluded.writer_device,
                    device_seq = excluded.device_seq, hlc = excluded.hlc,
                    schema_version = excluded.schema_version, payload = excluded.payload,
                    updated_at_ms = excluded.updated_at_ms
                 WHERE (excluded.hlc, excluded.writer_device) > (records.hlc, records.writer_device)",
                &[&latest.ids, &latest.kinds, &device.facility_id, &device.id, &latest.seqs, &latest.hlcs, &latest.schemas, &latest.payloads, &now],
            )
            .await?;
            Ok(())
        };
        tokio::try_join!(logged, super::projections_pg::apply(&tx, &plan.accepted))?;
        for (r, h) in plan.rejected.iter().zip(&plan.rejected_hashes) {
            exec(
                &tx,
                "INSERT INTO rejections (device_id, device_seq, record_id, code, reason, at_ms, content_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &device.id,
                    &(r.seq as i64),
                    &r.id,
                    &r.code.as_str(),
                    &r.reason,
                    &now,
                    h,
                ],
            )
            .await?;
        }
        for (request, status, answer) in request_results(&plan.accepted) {
            exec(
                &tx,
                "UPDATE dialysis_requests SET status = $1, answer = $2, answered_at_ms = $3
                 WHERE id = $4 AND facility_id = $5",
                &[&status, &answer, &now, &request, &device.facility_id],
            )
            .await?;
        }
        for (share, visit) in crate::abdm::profile::share_results(&plan.accepted) {
            exec(
                &tx,
                "UPDATE abha_shares SET visit_id = $1, registered_at_ms = $2
                 WHERE id = $3 AND facility_id = $4 AND visit_id IS NULL",
                &[&visit, &now, &share, &device.facility_id],
            )
            .await?;
        }
        let added = plan.stored_bytes();
        exec(
            &tx,
            "UPDATE devices SET acked_seq = $1, last_seen_ms = $2, stored_bytes = stored_bytes + $4 WHERE id = $3",
            &[&(plan.new_acked as i64), &now, &device.id, &added],
        )
        .await?;
        let earlier = match plan.duplicate_range {
            Some((lo, hi)) => read_rejections(&tx, device.id, lo, hi).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(plan.into_response(earlier))
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
        include_own: bool,
        max_bytes: usize,
    ) -> Result<PullResponse, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let cursor_i = PullPage::cursor_param(cursor);
        let take = PullPage::rows_to_read(limit);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
            [&facility, &cursor_i, &device, &take, &include_own];
        // Streamed, so a page stops at its byte cap without holding the rows after it.
        let rows = c
            .query_raw(
                "SELECT id, record_id, kind, device_id, device_seq, hlc, schema_version, payload
                 FROM change_log WHERE facility_id = $1 AND id > $2 AND (device_id <> $3 OR $5)
                 ORDER BY id LIMIT $4",
                params,
            )
            .await?;
        let mut rows = std::pin::pin!(rows);
        let mut page = PullPage::new(cursor, limit, max_bytes);
        while let Some(r) = rows.try_next().await? {
            let payload: String = r.get(7);
            if !page.admits(payload.len()) {
                break;
            }
            page.push(
                r.get::<_, i64>(0) as u64,
                Envelope {
                    id: r.get(1),
                    kind: r.get(2),
                    facility,
                    device: r.get(3),
                    seq: r.get::<_, i64>(4) as u64,
                    hlc: Hlc::from_u64(r.get::<_, i64>(5) as u64),
                    schema: r.get::<_, i32>(6) as u32,
                    payload: RawValue::from_string(payload)
                        .map_err(|_| StoreError::Corrupt("stored payload is not JSON".into()))?,
                },
            );
        }
        Ok(page.finish())
    }

    async fn add_portal(
        &self,
        name: String,
        token_hash: String,
        scope: PortalScope,
    ) -> Result<Uuid, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let id = Uuid::now_v7();
        c.execute(
            "INSERT INTO portals (id, name, token_hash, created_at_ms, scope) VALUES ($1, $2, $3, $4, $5)",
            &[&id, &name, &token_hash, &now_ms(), &scope.to_stored()],
        )
        .await?;
        Ok(id)
    }

    async fn facility_district(&self, code: String) -> Result<Option<Option<u32>>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        Ok(c.query_opt(
            "SELECT district_lgd FROM facilities WHERE code = $1",
            &[&code],
        )
        .await?
        .map(|r| r.get::<_, Option<i32>>(0).map(|d| d.max(0) as u32)))
    }

    async fn device_usage(&self, device: Uuid) -> Result<u64, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        let st = c
            .prepare_cached("SELECT stored_bytes FROM devices WHERE id = $1")
            .await?;
        Ok(c.query_opt(&st, &[&device])
            .await?
            .map(|r| r.get::<_, i64>(0).max(0) as u64)
            .unwrap_or(0))
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
            "SELECT name, token_hash, revoked_at_ms IS NOT NULL, scope FROM portals WHERE id = $1",
            &[&id],
        )
        .await?
        .map(|r| Portal {
            id,
            name: r.get(0),
            token_hash: r.get(1),
            revoked: r.get(2),
            scope: PortalScope::from_stored(r.get::<_, Option<String>>(3).as_deref()),
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
        let existing = find_request(
            &tx,
            "r.portal_id = $1 AND r.reference = $2",
            &portal.id,
            &req.reference,
        )
        .await?;
        let new = match decide_submit(existing, &portal, &req, now_ms())? {
            SubmitDecision::Replay(row) => return Ok((row, false)),
            SubmitDecision::Create(new) => new,
        };
        let f = facility_by_code(&tx, &req.facility)
            .await?
            .ok_or(StoreError::UnknownFacility)?;
        publish_tx(
            &tx,
            &f,
            crate::portal::REQUEST_KIND,
            Some(new.id),
            &new.payload,
        )
        .await?;
        tx.execute(
            "INSERT INTO dialysis_requests (id, portal_id, reference, facility_id, body, body_hash, received_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&new.id, &portal.id, &req.reference, &f.id, &req.body.to_string(), &req.body_hash, &new.received_at_ms],
        )
        .await?;
        let row = find_request(&tx, "r.id = $1 AND r.portal_id = $2", &new.id, &portal.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("request vanished".into()))?;
        tx.commit().await?;
        Ok((row, true))
    }

    async fn request(&self, portal: Uuid, id: Uuid) -> Result<Option<RequestRow>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        find_request(&c, "r.id = $1 AND r.portal_id = $2", &id, &portal).await
    }

    async fn latest_record(&self, id: Uuid) -> Result<Option<(Uuid, Hlc, String)>, StoreError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        Ok(c.query_opt(
            "SELECT writer_device, hlc, payload FROM records WHERE record_id = $1",
            &[&id],
        )
        .await?
        .map(|r| (r.get(0), Hlc::from_u64(r.get::<_, i64>(1) as u64), r.get(2))))
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
