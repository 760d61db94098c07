//! Storage behind a narrow trait, with exactly two real backends: SQLite and PostgreSQL.
//!
//! The HTTP layer only ever talks to [`Store`], so both backends obey one contract and the
//! end-to-end tests run unchanged against either. The decisions that must be identical on both
//! (which envelopes of a batch are duplicates, gaps, rejections or new) are made here, once, by
//! the pure function [`plan_ingest`]; a backend only reads the facts it needs and writes the
//! plan inside one transaction.

pub mod postgres;
pub mod projections_pg;
pub mod projections_sqlite;
pub mod sqlite;

pub use crate::portal::{RequestRow, ValidRequest};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use swagat_sync_protocol::{Envelope, ErrorCode, PullResponse, PushResponse, PushState, Rejection};
use uuid::Uuid;

/// The kiosks' answers to online dialysis requests among accepted envelopes, in sequence order:
/// (request id, status, answer JSON). The store applies them to `dialysis_requests` in the
/// ingest transaction, so `GET /api/v1/dialysis/requests/{id}` shows them.
pub fn request_results(accepted: &[Envelope]) -> Vec<(Uuid, String, String)> {
    accepted
        .iter()
        .filter(|e| e.kind == crate::portal::RESULT_KIND)
        .filter_map(|e| {
            crate::portal::parse_result(e.payload.get())
                .map(|(id, status)| (id, status, e.payload.get().to_string()))
        })
        .collect()
}

/// Storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The `--db` URL is neither `sqlite:PATH` nor `postgres://…`.
    #[error("unsupported database URL (use sqlite:PATH or postgres://...)")]
    BadUrl,
    /// SQLite failure.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failure.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// PostgreSQL pool failure.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// A facility with this code already exists.
    #[error("facility code already exists")]
    FacilityExists,
    /// A server-authored record cannot replace a record owned by a kiosk.
    #[error("record id is owned by a device")]
    NotOwner,
    /// No facility with this code.
    #[error("unknown facility")]
    UnknownFacility,
    /// Enrollment code unknown or already used.
    #[error("invalid or used enrollment code")]
    InvalidEnrollmentCode,
    /// The batch does not continue the device's sequence.
    #[error("sequence gap: server acknowledged {acked_seq}")]
    SequenceGap {
        /// What the server has acknowledged.
        acked_seq: u64,
    },
    /// A blocking task failed.
    #[error("task: {0}")]
    Task(String),
    /// Stored data is inconsistent (e.g. an unparsable id).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A portal reused its request reference for a different request.
    #[error("this reference was already used for a different request")]
    ReferenceConflict,
}

/// A booking portal allowed to post online dialysis requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portal {
    /// Server-issued id (the first part of its token).
    pub id: Uuid,
    /// Name given by the administrator.
    pub name: String,
    /// SHA-256 (hex) of the token's secret.
    pub token_hash: String,
    /// Revoked portals are refused.
    pub revoked: bool,
}

/// Parameters of `facility add`.
#[derive(Debug, Clone, Serialize)]
pub struct NewFacility {
    /// Short unique code chosen by the administrator.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Health Facility Registry id, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hfr_id: Option<String>,
    /// LGD state code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_lgd: Option<u32>,
    /// LGD district code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_lgd: Option<u32>,
}

/// A facility as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    /// Server-issued id.
    pub id: Uuid,
    /// Administrator's code.
    pub code: String,
    /// Display name.
    pub name: String,
}

/// A device as stored (what authentication needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Server-issued id.
    pub id: Uuid,
    /// Facility the device belongs to; it may only write this facility's records.
    pub facility_id: Uuid,
    /// SHA-256 (hex) of the device secret.
    pub secret_hash: String,
    /// Revoked devices are refused.
    pub revoked: bool,
}

/// Facts a backend reads (under lock) before planning an ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestFacts {
    /// The device's acknowledged sequence.
    pub acked_seq: u64,
    /// Owner device of each already-stored record id of the batch.
    pub owners: HashMap<Uuid, Uuid>,
}

/// What to do with a batch: computed by [`plan_ingest`], written by the backend.
#[derive(Debug, Default)]
pub struct IngestPlan {
    /// New envelopes to append to the change log and fold into the latest state.
    pub accepted: Vec<Envelope>,
    /// New envelopes refused (recorded, acknowledged, never applied).
    pub rejected: Vec<Rejection>,
    /// Already-processed envelopes (acknowledged again).
    pub duplicates: u64,
    /// Sequences already processed that appear in the batch (to re-report their rejections).
    pub duplicate_range: Option<(u64, u64)>,
    /// Acknowledged sequence after the write.
    pub new_acked: u64,
}

/// Decides the fate of each envelope of a push: the heart of idempotent ingest.
///
/// Envelopes with `seq <= acked` are duplicates. The rest must continue the sequence without
/// gaps (`acked + 1`, `acked + 2`, …) or the whole batch is refused with
/// [`StoreError::SequenceGap`]. Each new envelope is then accepted or rejected on its own:
/// wrong device, wrong facility, invalid fields, or a record id owned by another device.
pub fn plan_ingest(
    device: &Device,
    mut envelopes: Vec<Envelope>,
    facts: &IngestFacts,
) -> Result<IngestPlan, StoreError> {
    envelopes.sort_by_key(|e| e.seq);
    let mut plan = IngestPlan {
        new_acked: facts.acked_seq,
        ..IngestPlan::default()
    };
    let mut owners_in_batch: HashMap<Uuid, Uuid> = HashMap::new();
    for e in envelopes {
        if e.seq <= plan.new_acked {
            if e.seq <= facts.acked_seq {
                plan.duplicates += 1;
                plan.duplicate_range = Some(match plan.duplicate_range {
                    None => (e.seq, e.seq),
                    Some((lo, hi)) => (lo.min(e.seq), hi.max(e.seq)),
                });
            }
            // A repeated seq inside one batch is simply ignored after its first occurrence.
            continue;
        }
        if e.seq != plan.new_acked + 1 {
            return Err(StoreError::SequenceGap {
                acked_seq: facts.acked_seq,
            });
        }
        plan.new_acked = e.seq;
        let reject = |code: ErrorCode, reason: String| Rejection {
            seq: e.seq,
            id: e.id,
            code,
            reason,
        };
        if e.device != device.id {
            plan.rejected.push(reject(
                ErrorCode::WrongDevice,
                "envelope names another device".into(),
            ));
            continue;
        }
        if e.facility != device.facility_id {
            plan.rejected.push(reject(
                ErrorCode::WrongFacility,
                "device is not enrolled in this facility".into(),
            ));
            continue;
        }
        if let Err(v) = e.validate() {
            plan.rejected.push(reject(v.code(), v.to_string()));
            continue;
        }
        let owner = owners_in_batch
            .get(&e.id)
            .or_else(|| facts.owners.get(&e.id))
            .copied();
        if let Some(owner) = owner {
            if owner != device.id {
                plan.rejected.push(reject(
                    ErrorCode::NotOwner,
                    "record is owned by another device".into(),
                ));
                continue;
            }
        }
        owners_in_batch.insert(e.id, device.id);
        plan.accepted.push(e);
    }
    Ok(plan)
}

/// Latest version per record id among `accepted` (highest seq wins; same device).
pub fn latest_per_record(accepted: &[Envelope]) -> Vec<&Envelope> {
    let mut latest: HashMap<Uuid, &Envelope> = HashMap::new();
    for e in accepted {
        latest
            .entry(e.id)
            .and_modify(|cur| {
                if e.seq > cur.seq {
                    *cur = e;
                }
            })
            .or_insert(e);
    }
    let mut v: Vec<&Envelope> = latest.into_values().collect();
    v.sort_by_key(|e| e.seq);
    v
}

/// Stats key for an entity kind: its plural (`patient` → `patients`).
pub fn stats_key(kind: &str) -> String {
    if kind.ends_with('s') {
        kind.to_string()
    } else {
        format!("{kind}s")
    }
}

/// Builds the `stats` map from (kind, distinct count) rows; patients and visits always present.
pub fn stats_map(rows: impl IntoIterator<Item = (String, u64)>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    m.insert("patients".to_string(), 0);
    m.insert("visits".to_string(), 0);
    for (k, n) in rows {
        *m.entry(stats_key(&k)).or_insert(0) += n;
    }
    m
}

/// Kind of the server-authored facility configuration record pulled by every kiosk.
pub const FACILITY_CONFIG_KIND: &str = "facility_config";

/// A value bound to or read from a web-layer statement ([`Store::sql_query`]): the dashboard,
/// the slip page, officials' accounts and kiosk heartbeats write their SQL once for both
/// backends (`?1`-style placeholders, turned into `$1` for PostgreSQL; ids bound as
/// [`Sql::Uuid`] become TEXT in SQLite and UUID in PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub enum Sql {
    /// SQL NULL.
    Null,
    /// An integer (any width).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// An id.
    Uuid(Uuid),
}

impl Sql {
    /// The integer value (0 for NULL or non-numbers; floats truncated).
    pub fn int(&self) -> i64 {
        match self {
            Sql::Int(v) => *v,
            Sql::Real(v) => *v as i64,
            Sql::Text(s) => s.parse().unwrap_or(0),
            _ => 0,
        }
    }
    /// The integer value, None for NULL.
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Sql::Null => None,
            other => Some(other.int()),
        }
    }
    /// The text value (ids as text), None for NULL.
    pub fn text(&self) -> Option<String> {
        match self {
            Sql::Null => None,
            Sql::Int(v) => Some(v.to_string()),
            Sql::Real(v) => Some(v.to_string()),
            Sql::Text(s) => Some(s.clone()),
            Sql::Uuid(u) => Some(u.to_string()),
        }
    }
    /// Text or the empty string.
    pub fn str(&self) -> String {
        self.text().unwrap_or_default()
    }
    /// An optional text parameter.
    pub fn opt_text(v: Option<impl Into<String>>) -> Sql {
        v.map_or(Sql::Null, |s| Sql::Text(s.into()))
    }
}

/// The narrow storage contract of the state server.
///
/// Every method is one transaction. Implementations: [`sqlite::SqliteStore`] and
/// [`postgres::PgStore`]; [`DbStore`] picks one from a `--db` URL.
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Creates a facility, its configuration record and a first one-time enrollment code
    /// (stored hashed as `code_hash`).
    fn add_facility(
        &self,
        f: NewFacility,
        code_hash: String,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send;

    /// Adds another one-time enrollment code to an existing facility.
    fn add_enrollment_code(
        &self,
        facility_code: String,
        code_hash: String,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send;

    /// Consumes a one-time code and registers a device with the given secret hash.
    fn enroll(
        &self,
        code_hash: String,
        device_name: String,
        secret_hash: String,
    ) -> impl Future<Output = Result<(Device, Facility), StoreError>> + Send;

    /// Publishes a server-authored record (facility configuration, masters, decisions on
    /// shared state) for `facility_code`: appended to the change log as a change by the
    /// facility's pseudo-device (id = facility id) and delivered to its kiosks by pull.
    /// `record_id` None creates a new record. Returns the record id.
    fn publish(
        &self,
        facility_code: String,
        kind: String,
        record_id: Option<Uuid>,
        payload: String,
    ) -> impl Future<Output = Result<Uuid, StoreError>> + Send;

    /// Looks a device up (for authentication).
    fn device(&self, id: Uuid) -> impl Future<Output = Result<Option<Device>, StoreError>> + Send;

    /// Revokes a device; `false` if unknown.
    fn revoke_device(&self, id: Uuid) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Idempotently ingests a batch (see [`plan_ingest`]) in one transaction.
    fn ingest(
        &self,
        device: Device,
        envelopes: Vec<Envelope>,
    ) -> impl Future<Output = Result<PushResponse, StoreError>> + Send;

    /// The device's acknowledged sequence and its rejections after `since`.
    fn push_state(
        &self,
        device: Uuid,
        since: u64,
    ) -> impl Future<Output = Result<PushState, StoreError>> + Send;

    /// Changes of `facility` not written by `device`, after `cursor`, at most `limit`.
    fn pull(
        &self,
        facility: Uuid,
        device: Uuid,
        cursor: u64,
        limit: u32,
    ) -> impl Future<Output = Result<PullResponse, StoreError>> + Send;

    /// Registers a booking portal with the hash of its token secret; returns its id.
    fn add_portal(
        &self,
        name: String,
        token_hash: String,
    ) -> impl Future<Output = Result<Uuid, StoreError>> + Send;

    /// Looks a portal up (for authentication).
    fn portal(&self, id: Uuid) -> impl Future<Output = Result<Option<Portal>, StoreError>> + Send;

    /// Revokes a portal: its token is refused from then on; `false` if unknown.
    fn revoke_portal(&self, id: Uuid) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a checked online dialysis request and publishes it to the facility's kiosks as a
    /// `dialysis_request` record, in one transaction. Idempotent per (portal, reference): the
    /// stored request is returned (`false`) when the body is the same, and
    /// [`StoreError::ReferenceConflict`] when it differs. `true` when newly created.
    fn submit_request(
        &self,
        portal: Portal,
        req: ValidRequest,
    ) -> impl Future<Output = Result<(RequestRow, bool), StoreError>> + Send;

    /// One of `portal`'s requests, with the kiosk's answer once it arrived.
    fn request(
        &self,
        portal: Uuid,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<RequestRow>, StoreError>> + Send;

    /// Distinct record count per entity kind (stats key), optionally for one facility code.
    fn stats(
        &self,
        facility_code: Option<String>,
    ) -> impl Future<Output = Result<BTreeMap<String, u64>, StoreError>> + Send;

    /// Runs one read statement of the web layer (see [`Sql`]). `sql` is always built from this
    /// crate's constants, never from input; values go in `params`.
    fn sql_query(
        &self,
        sql: String,
        params: Vec<Sql>,
    ) -> impl Future<Output = Result<Vec<Vec<Sql>>, StoreError>> + Send;

    /// Runs one write statement of the web layer (see [`Sql`]); returns the rows changed.
    fn sql_exec(
        &self,
        sql: String,
        params: Vec<Sql>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The facility's slip-link key (32 raw bytes), generated on first use; None for an
    /// unknown facility. The key authorises `GET /s/<visit>?k=<mac>` links (see
    /// [`crate::slip_page`]).
    fn facility_slip_key(
        &self,
        facility_id: Uuid,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
        async move {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD;
            let read = "SELECT key_b64 FROM facility_slip_keys WHERE facility_id = ?1".to_string();
            let rows = self
                .sql_query(read.clone(), vec![Sql::Uuid(facility_id)])
                .await?;
            if let Some(k) = rows.first().and_then(|r| r.first()).and_then(Sql::text) {
                return b64
                    .decode(k)
                    .map(Some)
                    .map_err(|_| StoreError::Corrupt("slip key is not base64".into()));
            }
            let known = self
                .sql_query(
                    "SELECT 1 FROM facilities WHERE id = ?1".into(),
                    vec![Sql::Uuid(facility_id)],
                )
                .await?;
            if known.is_empty() {
                return Ok(None);
            }
            let key: [u8; 32] = rand::Rng::random(&mut rand::rng());
            self.sql_exec(
                "INSERT INTO facility_slip_keys (facility_id, key_b64, created_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (facility_id) DO NOTHING"
                    .into(),
                vec![
                    Sql::Uuid(facility_id),
                    Sql::Text(b64.encode(key)),
                    Sql::Int(sqlite::now_ms()),
                ],
            )
            .await?;
            let rows = self.sql_query(read, vec![Sql::Uuid(facility_id)]).await?;
            let k = rows
                .first()
                .and_then(|r| r.first())
                .and_then(Sql::text)
                .ok_or_else(|| StoreError::Corrupt("slip key vanished".into()))?;
            b64.decode(k)
                .map(Some)
                .map_err(|_| StoreError::Corrupt("slip key is not base64".into()))
        }
    }
}

/// One of the two backends, chosen from the `--db` URL.
pub enum DbStore {
    /// `sqlite:PATH`
    Sqlite(sqlite::SqliteStore),
    /// `postgres://…` / `postgresql://…`
    Postgres(postgres::PgStore),
}

impl DbStore {
    /// Opens (and migrates) the database named by `url`.
    pub async fn open(url: &str) -> Result<DbStore, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            Ok(DbStore::Sqlite(sqlite::SqliteStore::open(path).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbStore::Postgres(postgres::PgStore::open(url).await?))
        } else {
            Err(StoreError::BadUrl)
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            DbStore::Sqlite($s) => $e,
            DbStore::Postgres($s) => $e,
        }
    };
}

impl Store for DbStore {
    fn backend(&self) -> &'static str {
        delegate!(self, s => s.backend())
    }
    async fn add_facility(
        &self,
        f: NewFacility,
        code_hash: String,
    ) -> Result<Facility, StoreError> {
        delegate!(self, s => s.add_facility(f, code_hash).await)
    }
    async fn add_enrollment_code(
        &self,
        facility_code: String,
        code_hash: String,
    ) -> Result<Facility, StoreError> {
        delegate!(self, s => s.add_enrollment_code(facility_code, code_hash).await)
    }
    async fn enroll(
        &self,
        code_hash: String,
        device_name: String,
        secret_hash: String,
    ) -> Result<(Device, Facility), StoreError> {
        delegate!(self, s => s.enroll(code_hash, device_name, secret_hash).await)
    }
    async fn publish(
        &self,
        facility_code: String,
        kind: String,
        record_id: Option<Uuid>,
        payload: String,
    ) -> Result<Uuid, StoreError> {
        delegate!(self, s => s.publish(facility_code, kind, record_id, payload).await)
    }
    async fn device(&self, id: Uuid) -> Result<Option<Device>, StoreError> {
        delegate!(self, s => s.device(id).await)
    }
    async fn revoke_device(&self, id: Uuid) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_device(id).await)
    }
    async fn ingest(
        &self,
        device: Device,
        envelopes: Vec<Envelope>,
    ) -> Result<PushResponse, StoreError> {
        delegate!(self, s => s.ingest(device, envelopes).await)
    }
    async fn push_state(&self, device: Uuid, since: u64) -> Result<PushState, StoreError> {
        delegate!(self, s => s.push_state(device, since).await)
    }
    async fn pull(
        &self,
        facility: Uuid,
        device: Uuid,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        delegate!(self, s => s.pull(facility, device, cursor, limit).await)
    }
    async fn stats(
        &self,
        facility_code: Option<String>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        delegate!(self, s => s.stats(facility_code).await)
    }
    async fn add_portal(&self, name: String, token_hash: String) -> Result<Uuid, StoreError> {
        delegate!(self, s => s.add_portal(name, token_hash).await)
    }
    async fn portal(&self, id: Uuid) -> Result<Option<Portal>, StoreError> {
        delegate!(self, s => s.portal(id).await)
    }
    async fn revoke_portal(&self, id: Uuid) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_portal(id).await)
    }
    async fn submit_request(
        &self,
        portal: Portal,
        req: ValidRequest,
    ) -> Result<(RequestRow, bool), StoreError> {
        delegate!(self, s => s.submit_request(portal, req).await)
    }
    async fn request(&self, portal: Uuid, id: Uuid) -> Result<Option<RequestRow>, StoreError> {
        delegate!(self, s => s.request(portal, id).await)
    }
    async fn sql_query(&self, sql: String, params: Vec<Sql>) -> Result<Vec<Vec<Sql>>, StoreError> {
        delegate!(self, s => s.sql_query(sql, params).await)
    }
    async fn sql_exec(&self, sql: String, params: Vec<Sql>) -> Result<u64, StoreError> {
        delegate!(self, s => s.sql_exec(sql, params).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;
    use swagat_sync_protocol::Hlc;

    fn dev() -> Device {
        Device {
            id: Uuid::now_v7(),
            facility_id: Uuid::now_v7(),
            secret_hash: String::new(),
            revoked: false,
        }
    }

    fn env(d: &Device, seq: u64, id: Uuid) -> Envelope {
        Envelope {
            id,
            kind: "patient".into(),
            facility: d.facility_id,
            device: d.id,
            seq,
            hlc: Hlc::new(seq, 0),
            schema: 1,
            payload: RawValue::from_string("{}".into()).unwrap(),
        }
    }

    #[test]
    fn duplicates_gaps_and_rejections() {
        let d = dev();
        let other = Uuid::now_v7();
        let owned_elsewhere = Uuid::now_v7();
        let mut facts = IngestFacts {
            acked_seq: 2,
            ..Default::default()
        };
        facts.owners.insert(owned_elsewhere, other);
        let batch = vec![
            env(&d, 2, Uuid::now_v7()),
            env(&d, 3, Uuid::now_v7()),
            env(&d, 4, owned_elsewhere),
            env(&d, 5, Uuid::now_v7()),
        ];
        let plan = plan_ingest(&d, batch, &facts).unwrap();
        assert_eq!(plan.duplicates, 1);
        assert_eq!(plan.accepted.len(), 2);
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].code, ErrorCode::NotOwner);
        assert_eq!(plan.new_acked, 5);

        let gap = plan_ingest(&d, vec![env(&d, 4, Uuid::now_v7())], &facts);
        assert!(matches!(gap, Err(StoreError::SequenceGap { acked_seq: 2 })));
    }

    #[test]
    fn foreign_device_or_facility_is_rejected_not_dropped() {
        let d = dev();
        let mut wrong_fac = env(&d, 1, Uuid::now_v7());
        wrong_fac.facility = Uuid::now_v7();
        let mut wrong_dev = env(&d, 2, Uuid::now_v7());
        wrong_dev.device = Uuid::now_v7();
        let plan = plan_ingest(
            &d,
            vec![wrong_dev, wrong_fac, env(&d, 3, Uuid::now_v7())],
            &IngestFacts::default(),
        )
        .unwrap();
        let codes: Vec<ErrorCode> = plan.rejected.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            vec![ErrorCode::WrongFacility, ErrorCode::WrongDevice]
        );
        assert_eq!((plan.accepted.len(), plan.new_acked), (1, 3));
    }

    #[test]
    fn stats_keys() {
        let m = stats_map(vec![("patient".into(), 3), ("audit".into(), 1)]);
        assert_eq!(m["patients"], 3);
        assert_eq!(m["visits"], 0);
        assert_eq!(m["audits"], 1);
    }
}
