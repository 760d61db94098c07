//! SQLite backend (the default): one embedded file, for a district or a single facility.
//!
//! A single connection behind a mutex, used from `spawn_blocking`: SQLite serializes writers
//! anyway, and one connection keeps transactions simple and the change-log ids in commit order
//! (which is what makes the pull cursor safe). WAL with `synchronous=FULL`, because an
//! acknowledged batch must survive a power cut: the kiosk will never send it again.

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
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use swagat_sync_protocol::{
    content_hash, Envelope, Hlc, PullResponse, PushResponse, PushState, Rejection, SeqDigest,
};
use uuid::Uuid;

/// Migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE facilities (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hfr_id TEXT,
    state_lgd INTEGER,
    district_lgd INTEGER,
    config_seq INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    created_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER,
    device_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    revoked_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    last_seen_ms INTEGER
);
CREATE TABLE change_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    UNIQUE (device_id, device_seq)
);
CREATE INDEX change_log_facility ON change_log (facility_id, id);
CREATE TABLE records (
    record_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner_device TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX records_facility_kind ON records (facility_id, kind);
CREATE TABLE rejections (
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);
"#,
    r#"
CREATE TABLE portals (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE TABLE dialysis_requests (
    id TEXT PRIMARY KEY,
    portal_id TEXT NOT NULL REFERENCES portals(id),
    reference TEXT NOT NULL,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    answer TEXT,
    received_at_ms INTEGER NOT NULL,
    answered_at_ms INTEGER,
    UNIQUE (portal_id, reference)
);
"#,
    // 3: content hash per (device, seq); last-writer-wins latest state; code expiry; install
    // ids (clone detection); re-enrollment audit; the state's and facilities' keys.
    r#"
ALTER TABLE change_log ADD COLUMN content_hash TEXT;
ALTER TABLE rejections ADD COLUMN content_hash TEXT;
ALTER TABLE records ADD COLUMN writer_device TEXT;
UPDATE records SET writer_device = owner_device;
ALTER TABLE enrollment_codes ADD COLUMN expires_at_ms INTEGER;
UPDATE enrollment_codes SET expires_at_ms = created_at_ms + 604800000;
CREATE TABLE device_installs (
    device_id TEXT NOT NULL REFERENCES devices(id),
    install_id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    superseded_at_ms INTEGER,
    PRIMARY KEY (device_id, install_id)
);
CREATE TABLE device_successions (
    new_device_id TEXT PRIMARY KEY REFERENCES devices(id),
    old_device_id TEXT NOT NULL REFERENCES devices(id),
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    start_seq INTEGER NOT NULL,
    old_revoked INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
"#,
    // migration 4: ABHA scan-and-share (shares, per-counter tokens, the on-share queue)
    crate::abdm::store::SQLITE_MIGRATION,
    // Migration 5 (harden-server; the lead renumbers it at merge): per-device storage use
    // for the quota, and portal scopes (NULL: state-wide).
    r#"
ALTER TABLE devices ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET stored_bytes = (
    SELECT COALESCE(SUM(length(CAST(payload AS BLOB))), 0) FROM change_log
    WHERE change_log.device_id = devices.id);
ALTER TABLE portals ADD COLUMN scope TEXT;
"#,
    r#"
-- migration 6 (issue 12): typed projections read by the dashboard and the slip page, kiosk
-- heartbeats, officials' accounts and sessions (slip-link keys live in server_keys). The projections
-- are back-filled from the change log by the server right after this migration (Rust, the same
-- code as ingest: crate::projections).
CREATE TABLE proj_patients (
    record_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    uhid TEXT,
    name TEXT,
    name_hi TEXT,
    gender TEXT,
    birth_date TEXT,
    merged_into TEXT,
    hlc BIGINT NOT NULL,
    device_id TEXT NOT NULL
);
CREATE TABLE proj_visits (
    record_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    patient_id TEXT,
    visit_date TEXT NOT NULL,
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
    device_id TEXT NOT NULL
);
CREATE INDEX proj_visits_facility_date ON proj_visits (facility_id, visit_date);
CREATE INDEX proj_visits_patient ON proj_visits (patient_id);
CREATE TABLE proj_visit_daily (
    facility_id TEXT NOT NULL,
    visit_date TEXT NOT NULL,
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
    record_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    name TEXT,
    pool TEXT,
    active INTEGER NOT NULL,
    hlc BIGINT NOT NULL,
    device_id TEXT NOT NULL
);
CREATE INDEX proj_dialysis_machines_local ON proj_dialysis_machines (facility_id, machine_id);
CREATE TABLE proj_dialysis_bookings (
    record_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    booking_date TEXT NOT NULL,
    shift TEXT NOT NULL,
    machine_id TEXT,
    pool TEXT,
    status TEXT NOT NULL,
    hlc BIGINT NOT NULL,
    device_id TEXT NOT NULL
);
CREATE INDEX proj_dialysis_bookings_facility_date ON proj_dialysis_bookings (facility_id, booking_date);
CREATE TABLE kiosk_heartbeats (
    device_id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    app_version TEXT NOT NULL,
    outbox_pending BIGINT NOT NULL,
    dead_letters BIGINT NOT NULL,
    oldest_unsent_age_s BIGINT,
    last_error_kind TEXT,
    free_disk_bytes BIGINT
);
CREATE TABLE dashboard_users (
    id TEXT PRIMARY KEY,
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
    user_id TEXT NOT NULL REFERENCES dashboard_users(id),
    created_at_ms BIGINT NOT NULL,
    last_active_ms BIGINT NOT NULL
);
"#,
    // 7: the state overview's covering index (see the PostgreSQL migration 7; SQLite has no
    // INCLUDE, so the counted columns join the key).
    r#"
CREATE INDEX proj_visit_daily_cover ON proj_visit_daily
    (visit_date, facility_id, registrations, new_visits, follow_ups, cancelled, abha_linked, scan_share);
"#,
    // 8: recovery-key escrow (issue 16): each device's recovery key sealed to the state's escrow
    // public key (kept in server_keys as 'escrow_public'); the private key is never here.
    r#"
CREATE TABLE recovery_escrows (
    device_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    key_check TEXT NOT NULL,
    escrowed_at_ms BIGINT NOT NULL
);
"#,
];

/// Migration 3 back-fills the content hash of every change stored before it (rejections keep
/// NULL: their content was never stored, and NULL is read as "unknown", i.e. a duplicate).
fn backfill_hashes(tx: &Connection) -> Result<(), StoreError> {
    let rows = {
        let mut st = tx.prepare(
            "SELECT id, record_id, kind, hlc, schema_version, payload FROM change_log WHERE content_hash IS NULL",
        )?;
        let v = st
            .query_map([], |r| {
                <(i64, String, String, i64, u32, String)>::try_from(r)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        v
    };
    let mut up = tx.prepare("UPDATE change_log SET content_hash = ?1 WHERE id = ?2")?;
    for (id, rid, kind, hlc, schema, payload) in rows {
        let h = content_hash(
            parse_uuid(&rid)?,
            &kind,
            Hlc::from_u64(hlc as u64),
            schema,
            &payload,
        );
        up.execute(params![h, id])?;
    }
    Ok(())
}

/// The device and the devices it replaced by re-enrollment (their sequences continue).
/// (Each old device's sequences count only up to where its successor started.)
const CHAIN: &str = "WITH RECURSIVE chain(d, upto) AS (SELECT ?1, 9223372036854775807 UNION SELECT s.old_device_id, MIN(chain.upto, s.start_seq) FROM device_successions s JOIN chain ON s.new_device_id = chain.d)";

fn digests_tx(
    c: &Connection,
    device: Uuid,
    lo: u64,
    hi: u64,
) -> Result<Vec<SeqDigest>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "{CHAIN} SELECT x.device_seq, x.content_hash FROM change_log x JOIN chain ON x.device_id = chain.d AND x.device_seq <= chain.upto
            WHERE x.device_seq BETWEEN ?2 AND ?3
         UNION ALL SELECT x.device_seq, x.content_hash FROM rejections x JOIN chain ON x.device_id = chain.d AND x.device_seq <= chain.upto
            WHERE x.device_seq BETWEEN ?2 AND ?3
         ORDER BY 1"
    ))?;
    let v = st
        .query_map(params![device.to_string(), sql_u64(lo), sql_u64(hi)], |r| {
            Ok(SeqDigest {
                seq: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

/// The key named `name`, created (32 random bytes) on first use.
fn ensure_key(tx: &Connection, name: &str) -> Result<(String, String), StoreError> {
    let k = new_key();
    tx.execute(
        "INSERT OR IGNORE INTO server_keys (name, key, key_id, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![name, k, key_id(&k), now_ms()],
    )?;
    Ok(tx.query_row(
        "SELECT key, key_id FROM server_keys WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

fn enroll_keys(tx: &Connection, facility: Uuid) -> Result<EnrollKeys, StoreError> {
    let (aadhaar_key, aadhaar_key_id) = ensure_key(tx, AADHAAR_KEY_NAME)?;
    let (slip_link_key, _) = ensure_key(tx, &slip_key_name(facility))?;
    Ok(EnrollKeys {
        aadhaar_key,
        aadhaar_key_id,
        slip_link_key,
    })
}

pub(crate) fn now_ms() -> i64 {
    super::now_ms()
}

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("bad uuid".into()))
}

/// The SQLite backend.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file at `path`.
    pub async fn open(path: &str) -> Result<SqliteStore, StoreError> {
        let path = path.to_string();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            for (i, m) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
                tx.execute_batch(m)?;
                if i == 2 {
                    backfill_hashes(&tx)?;
                }
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            }
            // Issue 12: the projections start from the existing change log.
            if (version.max(0) as usize) < crate::projections::MIGRATION
                && MIGRATIONS.len() >= crate::projections::MIGRATION
            {
                super::projections_sqlite::backfill(&tx)?;
            }
            tx.commit()?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(crate) async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("sqlite mutex poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

pub(crate) fn facility_by_code(c: &Connection, code: &str) -> Result<Option<Facility>, StoreError> {
    let row = c
        .query_row(
            "SELECT id, code, name FROM facilities WHERE code = ?1",
            [code],
            |r| <(String, String, String)>::try_from(r),
        )
        .optional()?;
    row.map(|(id, code, name)| {
        Ok(Facility {
            id: parse_uuid(&id)?,
            code,
            name,
        })
    })
    .transpose()
}

fn read_rejections(
    c: &Connection,
    device: Uuid,
    lo: u64,
    hi: u64,
) -> Result<Vec<Rejection>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT device_seq, record_id, code, reason FROM rejections
         WHERE device_id = ?1 AND device_seq >= ?2 AND device_seq <= ?3 ORDER BY device_seq",
    )?;
    let rows = st.query_map(params![device.to_string(), sql_u64(lo), sql_u64(hi)], |r| {
        <(i64, String, String, String)>::try_from(r)
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, id, code, reason) = row?;
        out.push(Rejection {
            seq: seq as u64,
            id: parse_uuid(&id)?,
            code: parse_code(&code),
            reason,
        });
    }
    Ok(out)
}

/// Appends a server-authored record for facility `f` (change log + latest state) inside the
/// caller's transaction; see [`Store::publish`].
pub(crate) fn publish_tx(
    tx: &Connection,
    f: &Facility,
    kind: &str,
    record_id: Option<Uuid>,
    payload: &str,
) -> Result<Uuid, StoreError> {
    let fid = f.id.to_string();
    let record_id = record_id.unwrap_or_else(Uuid::now_v7);
    let owner: Option<String> = tx
        .query_row(
            "SELECT owner_device FROM records WHERE record_id = ?1",
            [record_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    may_publish(owner.as_deref().map(parse_uuid).transpose()?, f.id)?;
    let seq: i64 = tx.query_row(
        "UPDATE facilities SET config_seq = config_seq + 1 WHERE id = ?1 RETURNING config_seq",
        [&fid],
        |r| r.get(0),
    )?;
    let now = now_ms();
    let v = PublishedVersion::new(record_id, kind, payload, now);
    tx.execute(
        "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, 1, ?6, ?7)",
        params![record_id.to_string(), kind, fid, seq, v.hlc, payload, now],
    )?;
    tx.execute(
        "UPDATE change_log SET content_hash = ?1 WHERE device_id = ?2 AND device_seq = ?3",
        params![v.content_hash, fid, seq],
    )?;
    tx.execute(
        "INSERT INTO records (record_id, facility_id, kind, owner_device, writer_device, device_seq, hlc, schema_version, payload, updated_at_ms)
         VALUES (?1, ?2, ?3, ?2, ?2, ?4, ?5, 1, ?6, ?7)
         ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, device_seq = excluded.device_seq,
            writer_device = excluded.writer_device,
            hlc = excluded.hlc, payload = excluded.payload, updated_at_ms = excluded.updated_at_ms",
        params![record_id.to_string(), fid, kind, seq, v.hlc, payload, now],
    )?;
    Ok(record_id)
}

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, RequestRow)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        RequestRow {
            id: Uuid::nil(),
            portal_id: Uuid::nil(),
            reference: r.get(2)?,
            facility: r.get(3)?,
            body: r.get(4)?,
            body_hash: r.get(5)?,
            status: r.get(6)?,
            answer: r.get(7)?,
            received_at_ms: r.get(8)?,
            answered_at_ms: r.get(9)?,
        },
    ))
}

fn find_request(
    c: &Connection,
    filter: &str,
    args: [String; 2],
) -> Result<Option<RequestRow>, StoreError> {
    let row = c
        .prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM dialysis_requests r JOIN facilities f ON f.id = r.facility_id WHERE {filter}"
        ))?
        .query_row(params![args[0], args[1]], request_row)
        .optional()?;
    row.map(|(id, portal, mut row)| {
        row.id = parse_uuid(&id)?;
        row.portal_id = parse_uuid(&portal)?;
        Ok(row)
    })
    .transpose()
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn add_facility_until(
        &self,
        f: NewFacility,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let plan = plan_facility(facility_by_code(&tx, &f.code)?.is_some(), &f)?;
            let id = plan.facility.id.to_string();
            let now = now_ms();
            // config_seq starts at 0: publishing the configuration makes it 1.
            tx.execute(
                "INSERT INTO facilities (id, code, name, hfr_id, state_lgd, district_lgd, config_seq, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
                params![id, f.code, f.name, f.hfr_id, f.state_lgd, f.district_lgd, now],
            )?;
            tx.execute(
                "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, id, now, expires_at_ms],
            )?;
            // The facility configuration is a server-authored record every kiosk pulls.
            publish_tx(&tx, &plan.facility, FACILITY_CONFIG_KIND, None, &plan.config)?;
            tx.commit()?;
            Ok(plan.facility)
        })
        .await
    }

    async fn add_enrollment_code_until(
        &self,
        facility_code: String,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let f = facility_by_code(&tx, &facility_code)?.ok_or(StoreError::UnknownFacility)?;
            tx.execute(
                "INSERT INTO enrollment_codes (code_hash, facility_id, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, f.id.to_string(), now_ms(), expires_at_ms],
            )?;
            tx.commit()?;
            Ok(f)
        })
        .await
    }

    async fn enroll(&self, p: EnrollParams) -> Result<Enrolled, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    "SELECT f.id, f.code, f.name, e.used_at_ms, e.device_id, e.expires_at_ms
                     FROM enrollment_codes e JOIN facilities f ON f.id = e.facility_id WHERE e.code_hash = ?1",
                    [&p.code_hash],
                    |r| <(String, String, String, Option<i64>, Option<String>, Option<i64>)>::try_from(r),
                )
                .optional()?;
            let (fid, code, name, used, used_by, expires) =
                row.ok_or(StoreError::InvalidEnrollmentCode)?;
            let facility = Facility { id: parse_uuid(&fid)?, code, name };
            let now = now_ms();
            let used_by = used_by.as_deref().map(parse_uuid).transpose()?;
            if let EnrollStep::Retry(dev) = decide_enroll(used, used_by, expires, now)? {
                // A v2 retry: the same kiosk (same secret) gets the same device back.
                let same: Option<bool> = tx
                    .query_row(
                        "SELECT secret_hash = ?2 FROM devices WHERE id = ?1",
                        params![dev.to_string(), p.secret_hash],
                        |r| r.get(0),
                    )
                    .optional()?;
                confirm_retry(same)?;
                let keys = enroll_keys(&tx, facility.id)?;
                tx.commit()?;
                let device = Device {
                    id: dev,
                    facility_id: facility.id,
                    secret_hash: p.secret_hash,
                    revoked: false,
                };
                return Ok(Enrolled { device, facility, keys, retried: true });
            }
            let mut succession = None;
            if let Some(prev) = p.previous_device {
                let old = tx
                    .query_row(
                        "SELECT facility_id, acked_seq FROM devices WHERE id = ?1",
                        [prev.to_string()],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()?
                    .map(|(f, acked)| parse_uuid(&f).map(|f| (f, acked)))
                    .transpose()?;
                let superseded: Option<bool> = match p.previous_install {
                    Some(install) => tx
                        .query_row(
                            "SELECT superseded_at_ms IS NOT NULL FROM device_installs WHERE device_id = ?1 AND install_id = ?2",
                            params![prev.to_string(), install.to_string()],
                            |r| r.get(0),
                        )
                        .optional()?,
                    None => None,
                };
                succession =
                    Some(plan_succession(old, facility.id, p.previous_acked, superseded)?);
            }
            let start_seq = succession.map_or(0, |s| s.start_seq);
            let device = Device {
                id: Uuid::now_v7(),
                facility_id: facility.id,
                secret_hash: p.secret_hash,
                revoked: false,
            };
            let did = device.id.to_string();
            tx.execute(
                "INSERT INTO devices (id, facility_id, name, secret_hash, acked_seq, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![did, fid, p.device_name, device.secret_hash, start_seq, now],
            )?;
            if let Some(install) = p.install_id {
                tx.execute(
                    "INSERT INTO device_installs (device_id, install_id, first_seen_ms) VALUES (?1, ?2, ?3)",
                    params![did, install.to_string(), now],
                )?;
            }
            if let (Some(prev), Some(s)) = (p.previous_device, succession) {
                tx.execute(
                    "INSERT INTO device_successions (new_device_id, old_device_id, facility_id, start_seq, old_revoked, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![did, prev.to_string(), fid, s.start_seq, s.revoke_old, now],
                )?;
                if s.revoke_old {
                    tx.execute(
                        "UPDATE devices SET revoked_at_ms = ?1 WHERE id = ?2 AND revoked_at_ms IS NULL",
                        params![now, prev.to_string()],
                    )?;
                }
            }
            tx.execute(
                "UPDATE enrollment_codes SET used_at_ms = ?1, device_id = ?2 WHERE code_hash = ?3",
                params![now, did, p.code_hash],
            )?;
            let keys = enroll_keys(&tx, facility.id)?;
            tx.commit()?;
            Ok(Enrolled { device, facility, keys, retried: false })
        })
        .await
    }

    async fn check_install(&self, device: Uuid, install: Uuid) -> Result<InstallCheck, StoreError> {
        self.with(move |c| {
            let (d, i) = (device.to_string(), install.to_string());
            let seen: Option<Option<i64>> = c
                .prepare_cached(
                    "SELECT superseded_at_ms FROM device_installs WHERE device_id = ?1 AND install_id = ?2",
                )?
                .query_row(params![d, i], |r| r.get(0))
                .optional()?;
            match seen {
                Some(Some(_)) => Ok(InstallCheck::Superseded),
                Some(None) => Ok(InstallCheck::Current),
                None => {
                    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let now = now_ms();
                    tx.execute(
                        "UPDATE device_installs SET superseded_at_ms = ?1 WHERE device_id = ?2 AND superseded_at_ms IS NULL",
                        params![now, d],
                    )?;
                    tx.execute(
                        "INSERT INTO device_installs (device_id, install_id, first_seen_ms) VALUES (?1, ?2, ?3)",
                        params![d, i, now],
                    )?;
                    tx.commit()?;
                    Ok(InstallCheck::Current)
                }
            }
        })
        .await
    }

    async fn digests(
        &self,
        device: Uuid,
        from: u64,
        to: u64,
    ) -> Result<Vec<SeqDigest>, StoreError> {
        self.with(move |c| digests_tx(c, device, from, to)).await
    }

    async fn devices(&self, facility_code: Option<String>) -> Result<Vec<DeviceInfo>, StoreError> {
        self.with(move |c| {
            let mut st = c.prepare(
                "SELECT d.id, f.code, d.name, d.acked_seq, d.revoked_at_ms IS NOT NULL, d.created_at_ms, s.old_device_id
                 FROM devices d JOIN facilities f ON f.id = d.facility_id
                 LEFT JOIN device_successions s ON s.new_device_id = d.id
                 WHERE ?1 IS NULL OR f.code = ?1 ORDER BY d.created_at_ms, d.id",
            )?;
            let rows = st
                .query_map([facility_code], |r| <(String, String, String, i64, bool, i64, Option<String>)>::try_from(r))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, code, name, acked, revoked, created, prev)| {
                    Ok(DeviceInfo {
                        device_id: parse_uuid(&id)?,
                        facility_code: code,
                        name,
                        acked_seq: acked as u64,
                        revoked,
                        created_at_ms: created,
                        previous_device_id: prev.as_deref().map(parse_uuid).transpose()?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn publish(
        &self,
        facility_code: String,
        kind: String,
        record_id: Option<Uuid>,
        payload: String,
    ) -> Result<Uuid, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let f = facility_by_code(&tx, &facility_code)?.ok_or(StoreError::UnknownFacility)?;
            let record_id = publish_tx(&tx, &f, &kind, record_id, &payload)?;
            tx.commit()?;
            Ok(record_id)
        })
        .await
    }

    async fn device(&self, id: Uuid) -> Result<Option<Device>, StoreError> {
        self.with(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT facility_id, secret_hash, revoked_at_ms IS NOT NULL FROM devices WHERE id = ?1",
                )?
                .query_row([id.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
                })
                .optional()?;
            row.map(|(f, secret_hash, revoked)| {
                Ok(Device { id, facility_id: parse_uuid(&f)?, secret_hash, revoked })
            })
            .transpose()
        })
        .await
    }

    async fn revoke_device(&self, id: Uuid) -> Result<bool, StoreError> {
        self.with(move |c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at_ms = ?1 WHERE id = ?2 AND revoked_at_ms IS NULL",
                params![now_ms(), id.to_string()],
            )?;
            let exists: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
                [id.to_string()],
                |r| r.get(0),
            )?;
            Ok(n > 0 || exists)
        })
        .await
    }

    async fn ingest(
        &self,
        device: Device,
        envelopes: Vec<Envelope>,
    ) -> Result<PushResponse, StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let dev = device.id.to_string();
            let acked: i64 = tx.query_row(
                "SELECT acked_seq FROM devices WHERE id = ?1",
                [&dev],
                |r| r.get(0),
            )?;
            let mut facts = IngestFacts { acked_seq: acked as u64, ..Default::default() };
            {
                let mut st = tx.prepare_cached("SELECT facility_id, owner_device FROM records WHERE record_id = ?1")?;
                for id in new_record_ids(&envelopes, facts.acked_seq) {
                    if let Some((f, owner)) = st
                        .query_row([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                        .optional()?
                    {
                        facts.records.insert(id, RecordFacts { facility: parse_uuid(&f)?, owner: parse_uuid(&owner)? });
                    }
                }
            }
            if let Some((lo, hi)) = duplicate_span(&envelopes, facts.acked_seq) {
                for d in digests_tx(&tx, device.id, lo, hi)? {
                    facts.hashes.insert(d.seq, d.hash);
                }
            }
            let plan = plan_ingest(&device, envelopes, &facts)?;
            let now = now_ms();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms, content_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?;
                for e in &plan.accepted {
                    ins.execute(params![
                        e.id.to_string(),
                        e.kind,
                        e.facility.to_string(),
                        dev,
                        e.seq as i64,
                        e.hlc.to_u64() as i64,
                        e.schema,
                        e.payload.get(),
                        now,
                        e.content_hash()
                    ])?;
                }
                // The latest state keeps the version with the greatest (HLC, device id), whatever
                // order versions from the facility's kiosks arrive in.
                let mut up = tx.prepare_cached(
                    "INSERT INTO records (record_id, facility_id, kind, owner_device, writer_device, device_seq, hlc, schema_version, payload, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (record_id) DO UPDATE SET
                        kind = excluded.kind, writer_device = excluded.writer_device,
                        device_seq = excluded.device_seq, hlc = excluded.hlc,
                        schema_version = excluded.schema_version, payload = excluded.payload,
                        updated_at_ms = excluded.updated_at_ms
                     WHERE (excluded.hlc, excluded.writer_device) > (records.hlc, records.writer_device)",
                )?;
                for e in latest_per_record(&plan.accepted) {
                    up.execute(params![
                        e.id.to_string(),
                        e.facility.to_string(),
                        e.kind,
                        dev,
                        e.seq as i64,
                        e.hlc.to_u64() as i64,
                        e.schema,
                        e.payload.get(),
                        now
                    ])?;
                }
                let mut rej = tx.prepare_cached(
                    "INSERT INTO rejections (device_id, device_seq, record_id, code, reason, at_ms, content_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (r, h) in plan.rejected.iter().zip(&plan.rejected_hashes) {
                    rej.execute(params![dev, r.seq as i64, r.id.to_string(), r.code.as_str(), r.reason, now, h])?;
                }
            }
            for (request, status, answer) in request_results(&plan.accepted) {
                tx.prepare_cached(
                    "UPDATE dialysis_requests SET status = ?1, answer = ?2, answered_at_ms = ?3
                     WHERE id = ?4 AND facility_id = ?5",
                )?
                .execute(params![status, answer, now, request.to_string(), device.facility_id.to_string()])?;
            }
            for (share, visit) in crate::abdm::profile::share_results(&plan.accepted) {
                tx.prepare_cached(
                    "UPDATE abha_shares SET visit_id = ?1, registered_at_ms = ?2
                     WHERE id = ?3 AND facility_id = ?4 AND visit_id IS NULL",
                )?
                .execute(params![visit.to_string(), now, share.to_string(), device.facility_id.to_string()])?;
            }
            let added = plan.stored_bytes();
            // Issue 12: typed projections, in the ingest transaction.
            super::projections_sqlite::apply(&tx, &plan.accepted)?;
            tx.execute(
                "UPDATE devices SET acked_seq = ?1, last_seen_ms = ?2, stored_bytes = stored_bytes + ?4 WHERE id = ?3",
                params![plan.new_acked as i64, now, dev, added],
            )?;
            let earlier = match plan.duplicate_range {
                Some((lo, hi)) => read_rejections(&tx, device.id, lo, hi)?,
                None => Vec::new(),
            };
            tx.commit()?;
            Ok(plan.into_response(earlier))
        })
        .await
    }

    async fn push_state(&self, device: Uuid, since: u64) -> Result<PushState, StoreError> {
        self.with(move |c| {
            let acked: i64 = c.query_row(
                "SELECT acked_seq FROM devices WHERE id = ?1",
                [device.to_string()],
                |r| r.get(0),
            )?;
            let rejected = read_rejections(c, device, since.saturating_add(1), u64::MAX)?;
            Ok(PushState {
                acked_seq: acked as u64,
                rejected,
            })
        })
        .await
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
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT id, record_id, kind, device_id, device_seq, hlc, schema_version, payload
                 FROM change_log WHERE facility_id = ?1 AND id > ?2 AND (device_id <> ?3 OR ?5)
                 ORDER BY id LIMIT ?4",
            )?;
            let rows = st.query_map(
                params![
                    facility.to_string(),
                    PullPage::cursor_param(cursor),
                    device.to_string(),
                    PullPage::rows_to_read(limit),
                    include_own
                ],
                |r| <(i64, String, String, String, i64, i64, u32, String)>::try_from(r),
            )?;
            let mut page = PullPage::new(cursor, limit, max_bytes);
            for row in rows {
                let (id, rid, kind, dev, seq, hlc, schema, payload) = row?;
                if !page.admits(payload.len()) {
                    break;
                }
                page.push(
                    id as u64,
                    Envelope {
                        id: parse_uuid(&rid)?,
                        kind,
                        facility,
                        device: parse_uuid(&dev)?,
                        seq: seq as u64,
                        hlc: Hlc::from_u64(hlc as u64),
                        schema,
                        payload: RawValue::from_string(payload).map_err(|_| {
                            StoreError::Corrupt("stored payload is not JSON".into())
                        })?,
                    },
                );
            }
            Ok(page.finish())
        })
        .await
    }

    async fn add_portal(
        &self,
        name: String,
        token_hash: String,
        scope: PortalScope,
    ) -> Result<Uuid, StoreError> {
        self.with(move |c| {
            let id = Uuid::now_v7();
            c.execute(
                "INSERT INTO portals (id, name, token_hash, created_at_ms, scope) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), name, token_hash, now_ms(), scope.to_stored()],
            )?;
            Ok(id)
        })
        .await
    }

    async fn facility_district(&self, code: String) -> Result<Option<Option<u32>>, StoreError> {
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT district_lgd FROM facilities WHERE code = ?1",
                [code],
                |r| r.get::<_, Option<u32>>(0),
            )
            .optional()?)
        })
        .await
    }

    async fn device_usage(&self, device: Uuid) -> Result<u64, StoreError> {
        self.with(move |c| {
            Ok(
                c.prepare_cached("SELECT stored_bytes FROM devices WHERE id = ?1")?
                    .query_row([device.to_string()], |r| r.get::<_, i64>(0))
                    .optional()?
                    .unwrap_or(0)
                    .max(0) as u64,
            )
        })
        .await
    }

    async fn revoke_portal(&self, id: Uuid) -> Result<bool, StoreError> {
        self.with(move |c| {
            c.execute(
                "UPDATE portals SET revoked_at_ms = ?1 WHERE id = ?2 AND revoked_at_ms IS NULL",
                params![now_ms(), id.to_string()],
            )?;
            let exists: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM portals WHERE id = ?1)",
                [id.to_string()],
                |r| r.get(0),
            )?;
            Ok(exists)
        })
        .await
    }

    async fn portal(&self, id: Uuid) -> Result<Option<Portal>, StoreError> {
        self.with(move |c| {
            Ok(c.prepare_cached(
                "SELECT name, token_hash, revoked_at_ms IS NOT NULL, scope FROM portals WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok(Portal {
                    id,
                    name: r.get(0)?,
                    token_hash: r.get(1)?,
                    revoked: r.get(2)?,
                    scope: PortalScope::from_stored(r.get::<_, Option<String>>(3)?.as_deref()),
                })
            })
            .optional()?)
        })
        .await
    }

    async fn submit_request(
        &self,
        portal: Portal,
        req: ValidRequest,
    ) -> Result<(RequestRow, bool), StoreError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let pid = portal.id.to_string();
            let existing = find_request(&tx, "r.portal_id = ?1 AND r.reference = ?2", [pid.clone(), req.reference.clone()])?;
            let new = match decide_submit(existing, &portal, &req, now_ms())? {
                SubmitDecision::Replay(row) => return Ok((row, false)),
                SubmitDecision::Create(new) => new,
            };
            let f = facility_by_code(&tx, &req.facility)?.ok_or(StoreError::UnknownFacility)?;
            publish_tx(&tx, &f, crate::portal::REQUEST_KIND, Some(new.id), &new.payload)?;
            tx.execute(
                "INSERT INTO dialysis_requests (id, portal_id, reference, facility_id, body, body_hash, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![new.id.to_string(), pid, req.reference, f.id.to_string(), req.body.to_string(), req.body_hash, new.received_at_ms],
            )?;
            let row = find_request(&tx, "r.id = ?1 AND r.portal_id = ?2", [new.id.to_string(), pid])?
                .ok_or_else(|| StoreError::Corrupt("request vanished".into()))?;
            tx.commit()?;
            Ok((row, true))
        })
        .await
    }

    async fn request(&self, portal: Uuid, id: Uuid) -> Result<Option<RequestRow>, StoreError> {
        self.with(move |c| {
            find_request(
                c,
                "r.id = ?1 AND r.portal_id = ?2",
                [id.to_string(), portal.to_string()],
            )
        })
        .await
    }

    async fn latest_record(&self, id: Uuid) -> Result<Option<(Uuid, Hlc, String)>, StoreError> {
        self.with(move |c| {
            let row = c
                .query_row(
                    "SELECT writer_device, hlc, payload FROM records WHERE record_id = ?1",
                    [id.to_string()],
                    |r| <(String, i64, String)>::try_from(r),
                )
                .optional()?;
            row.map(|(d, h, p)| Ok((parse_uuid(&d)?, Hlc::from_u64(h as u64), p)))
                .transpose()
        })
        .await
    }

    async fn sql_query(&self, sql: String, params: Vec<Sql>) -> Result<Vec<Vec<Sql>>, StoreError> {
        self.with(move |c| {
            let mut st = c.prepare_cached(&sql)?;
            let n = st.column_count();
            let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let mut row = Vec::with_capacity(n);
                for i in 0..n {
                    row.push(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Sql::Null,
                        rusqlite::types::ValueRef::Integer(v) => Sql::Int(v),
                        rusqlite::types::ValueRef::Real(v) => Sql::Real(v),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            Sql::Text(String::from_utf8_lossy(t).into_owned())
                        }
                    });
                }
                out.push(row);
            }
            Ok(out)
        })
        .await
    }

    async fn sql_exec(&self, sql: String, params: Vec<Sql>) -> Result<u64, StoreError> {
        self.with(move |c| {
            Ok(c.prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(params.iter()))? as u64)
        })
        .await
    }

    async fn stats(
        &self,
        facility_code: Option<String>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        self.with(move |c| {
            let mut rows = Vec::new();
            match facility_code {
                Some(code) => {
                    let f = facility_by_code(c, &code)?.ok_or(StoreError::UnknownFacility)?;
                    let mut st = c.prepare(
                        "SELECT kind, COUNT(DISTINCT record_id) FROM records WHERE facility_id = ?1 GROUP BY kind",
                    )?;
                    for r in st.query_map([f.id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                        let (k, n) = r?;
                        rows.push((k, n as u64));
                    }
                }
                None => {
                    let mut st = c.prepare("SELECT kind, COUNT(DISTINCT record_id) FROM records GROUP BY kind")?;
                    for r in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                        let (k, n) = r?;
                        rows.push((k, n as u64));
                    }
                }
            }
            Ok(stats_map(rows))
        })
        .await
    }
}

impl rusqlite::ToSql for Sql {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            Sql::Null => ToSqlOutput::Owned(Value::Null),
            Sql::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Sql::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Sql::Text(s) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(s.as_bytes())),
            Sql::Uuid(u) => ToSqlOutput::Owned(Value::Text(u.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A database made before migration 3 gets its stored changes' content hashes back-filled,
    /// and its old rejections stay "unknown" (a duplicate, never a conflict).
    #[tokio::test]
    async fn migration_3_back_fills_content_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let id = Uuid::now_v7();
        let (dev, fac) = (Uuid::now_v7(), Uuid::now_v7());
        {
            let c = Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..2] {
                c.execute_batch(m).unwrap();
            }
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute(
                "INSERT INTO change_log (record_id, kind, facility_id, device_id, device_seq, hlc, schema_version, payload, received_at_ms)
                 VALUES (?1, 'patient', ?2, ?3, 1, 77, 1, '{\"n\":1}', 0)",
                params![id.to_string(), fac.to_string(), dev.to_string()],
            )
            .unwrap();
            c.execute(
                "INSERT INTO rejections (device_id, device_seq, record_id, code, reason, at_ms) VALUES (?1, 2, ?2, 'invalid_kind', 'x', 0)",
                params![dev.to_string(), Uuid::now_v7().to_string()],
            )
            .unwrap();
        }
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        let d = store.digests(dev, 1, 2).await.unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0].hash.as_deref(),
            Some(content_hash(id, "patient", Hlc::from_u64(77), 1, "{\"n\":1}").as_str())
        );
        assert_eq!(d[1].hash, None);
    }
}
