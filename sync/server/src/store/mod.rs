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
pub mod script;
pub mod sqlite;

pub use crate::portal::{RequestRow, ValidRequest};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use swagat_sync_protocol::{
    kinds, Envelope, ErrorCode, PullResponse, PushResponse, PushState, Rejection, SeqDigest,
};
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
    /// Enrollment code past its expiry.
    #[error("enrollment code expired")]
    EnrollmentCodeExpired,
    /// Re-enrollment named a previous device of another facility.
    #[error("the previous device belongs to another facility")]
    PreviousDeviceElsewhere,
    /// The batch reuses an acknowledged sequence with other content (restore or clone).
    #[error("sequence conflict: server acknowledged {acked_seq}")]
    SequenceConflict {
        /// What the server has acknowledged.
        acked_seq: u64,
    },
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
    /// Another facility already has this HFR id.
    #[error("another facility already has this HFR id")]
    HfrIdTaken,
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
    /// The facilities the portal may post for.
    pub scope: PortalScope,
}

/// What a portal token may post for: these facility codes, and every facility of these LGD
/// districts. Both empty: any facility of the state (a state-wide portal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PortalScope {
    /// Facility codes.
    #[serde(default)]
    pub facilities: Vec<String>,
    /// LGD district codes.
    #[serde(default)]
    pub districts: Vec<u32>,
}

impl PortalScope {
    /// Whether the scope is state-wide.
    pub fn is_statewide(&self) -> bool {
        self.facilities.is_empty() && self.districts.is_empty()
    }

    /// Whether a post for facility `code` (in LGD district `district`) is allowed.
    pub fn allows(&self, code: &str, district: Option<u32>) -> bool {
        self.is_statewide()
            || self.facilities.iter().any(|f| f == code)
            || district.is_some_and(|d| self.districts.contains(&d))
    }

    /// The scope as stored (`None` when state-wide).
    pub fn to_stored(&self) -> Option<String> {
        if self.is_statewide() {
            None
        } else {
            serde_json::to_string(self).ok()
        }
    }

    /// The scope from its stored form. Unreadable stored scopes allow nothing (fail closed).
    pub fn from_stored(s: Option<&str>) -> PortalScope {
        match s {
            None => PortalScope::default(),
            Some(text) => serde_json::from_str(text).unwrap_or(PortalScope {
                facilities: vec![String::new()],
                districts: Vec::new(),
            }),
        }
    }
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

/// What the server knows of an already-stored record id (for the ownership check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFacts {
    /// Facility the record belongs to.
    pub facility: Uuid,
    /// The device that first wrote it; the facility id for server-authored records.
    pub owner: Uuid,
}

/// Facts a backend reads (under lock) before planning an ingest.
#[derive(Debug, Clone)]
pub struct IngestFacts {
    /// The device's acknowledged sequence.
    pub acked_seq: u64,
    /// Already-stored record ids of the batch's new envelopes.
    pub records: HashMap<Uuid, RecordFacts>,
    /// Content hashes already stored for the batch's sequences `<= acked_seq` (`None`: stored
    /// before the server kept hashes, treated as the same content).
    pub hashes: HashMap<u64, Option<String>>,
    /// The server's wall clock (ms): records whose HLC runs more than a day ahead of it are
    /// rejected. `Default` reads the clock.
    pub now_ms: u64,
}

impl Default for IngestFacts {
    fn default() -> Self {
        IngestFacts {
            acked_seq: 0,
            records: HashMap::new(),
            hashes: HashMap::new(),
            now_ms: crate::limits::wall_ms(),
        }
    }
}

/// Parameters of an enrollment (see [`Store::enroll`]).
#[derive(Debug, Clone)]
pub struct EnrollParams {
    /// SHA-256 of the presented code.
    pub code_hash: String,
    /// Device label.
    pub device_name: String,
    /// SHA-256 of the device secret (the kiosk's own in v2, the server's in v1).
    pub secret_hash: String,
    /// The kiosk's install id (v2), remembered as the device's current install.
    pub install_id: Option<Uuid>,
    /// A previous device of this kiosk whose credential the caller proved (re-enrollment).
    pub previous_device: Option<Uuid>,
    /// The install id the re-enrolling kiosk had (its request's `x-swagat-install`).
    pub previous_install: Option<Uuid>,
    /// The last acknowledgement the re-enrolling kiosk recorded for its previous device.
    pub previous_acked: Option<u64>,
}

/// Where a re-enrolled device starts: the server's acknowledged sequence of the old device,
/// or less when the kiosk recorded less (a copied disk: the server holds the other copy's
/// records after that point, and this kiosk's own must still be sent).
pub fn continuation_seq(server_acked: u64, kiosk_acked: Option<u64>) -> u64 {
    kiosk_acked.map_or(server_acked, |k| k.min(server_acked))
}

/// The state's and the facility's keys handed to a kiosk at enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollKeys {
    /// The state's Aadhaar HMAC key (32 bytes, base64 standard).
    pub aadhaar_key: String,
    /// Its id: the first 8 hex characters of SHA-256 of the raw key.
    pub aadhaar_key_id: String,
    /// The facility's slip-link key (32 bytes, base64 standard).
    pub slip_link_key: String,
}

/// Result of [`Store::enroll`].
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The device (new, or the same one again for a v2 retry).
    pub device: Device,
    /// Its facility.
    pub facility: Facility,
    /// Keys to hand to the kiosk.
    pub keys: EnrollKeys,
    /// Whether this was a retry answered with the device made before.
    pub retried: bool,
}

/// A device as listed by `swagat-server device list`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// Device id.
    pub device_id: Uuid,
    /// Its facility's code.
    pub facility_code: String,
    /// Label given at enrollment.
    pub name: String,
    /// Acknowledged sequence.
    pub acked_seq: u64,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Unix ms of enrollment.
    pub created_at_ms: i64,
    /// The device it replaced by re-enrollment (audited change of device id).
    pub previous_device_id: Option<Uuid>,
}

/// Outcome of [`Store::check_install`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallCheck {
    /// The install id is the device's current one (or became it).
    Current,
    /// The device has moved away from this install id: a second live copy (cloned disk).
    Superseded,
}

/// A fresh 32-byte key, base64 (standard).
pub fn new_key() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Id of a base64 key: the first 8 hex characters of SHA-256 of the raw bytes.
pub fn key_id(key_b64: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .unwrap_or_default();
    hex::encode(sha2::Sha256::digest(&raw))[..8].to_string()
}

/// Name of the state's Aadhaar key in `server_keys`.
pub const AADHAAR_KEY_NAME: &str = "aadhaar";

/// A rejection's stored code (both backends store the wire string); a string this server
/// does not know reads as `internal`.
pub(crate) fn parse_code(s: &str) -> ErrorCode {
    ErrorCode::parse(s).unwrap_or(ErrorCode::Internal)
}

/// The columns every backend reads a dialysis request by (`r` requests, `f` facilities), in
/// the order their row readers expect.
pub(crate) const REQUEST_COLUMNS: &str = "r.id, r.portal_id, r.reference, f.code, r.body, \
    r.body_hash, r.status, r.answer, r.received_at_ms, r.answered_at_ms";

/// Name of a facility's slip-link key in `server_keys`.
pub fn slip_key_name(facility: Uuid) -> String {
    format!("slip:{facility}")
}

/// Default lifetime of an enrollment code: 7 days.
pub const DEFAULT_CODE_VALID_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What to do with a batch: computed by [`plan_ingest`], written by the backend.
#[derive(Debug, Default)]
pub struct IngestPlan {
    /// New envelopes to append to the change log and fold into the latest state.
    pub accepted: Vec<Envelope>,
    /// New envelopes refused (recorded, acknowledged, never applied).
    pub rejected: Vec<Rejection>,
    /// Content hash of each of `rejected`, in the same order.
    pub rejected_hashes: Vec<String>,
    /// Already-processed envelopes (acknowledged again).
    pub duplicates: u64,
    /// Sequences already processed that appear in the batch (to re-report their rejections).
    pub duplicate_range: Option<(u64, u64)>,
    /// Acknowledged sequence after the write.
    pub new_acked: u64,
}

/// Decides the fate of each envelope of a push: the heart of idempotent ingest.
///
/// Envelopes with `seq <= acked` are duplicates when their content hash is the one stored for
/// that sequence, and make the whole batch a [`StoreError::SequenceConflict`] when it is not (a
/// restored or cloned kiosk reusing sequences). The rest must continue the sequence without
/// gaps (`acked + 1`, `acked + 2`, …) or the whole batch is refused with
/// [`StoreError::SequenceGap`]. Each new envelope is then accepted or rejected on its own:
/// wrong device, wrong facility, invalid fields, a server-only kind (`forbidden_kind`), or a
/// record id of another facility or authored by the server (`not_owner`). Any device of the
/// facility may write a new version of any of the facility's kiosk records.
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
    for e in envelopes {
        if e.seq <= plan.new_acked {
            if e.seq <= facts.acked_seq {
                if let Some(Some(stored)) = facts.hashes.get(&e.seq) {
                    if *stored != e.content_hash() {
                        return Err(StoreError::SequenceConflict {
                            acked_seq: facts.acked_seq,
                        });
                    }
                }
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
        match refusal(device, &e, facts) {
            Some((code, reason)) => {
                plan.rejected_hashes.push(e.content_hash());
                plan.rejected.push(Rejection {
                    seq: e.seq,
                    id: e.id,
                    code,
                    reason,
                });
            }
            None => plan.accepted.push(e),
        }
    }
    Ok(plan)
}

/// Why a new envelope of `device` is refused, if it is.
fn refusal(device: &Device, e: &Envelope, facts: &IngestFacts) -> Option<(ErrorCode, String)> {
    if e.device != device.id {
        return Some((
            ErrorCode::WrongDevice,
            "envelope names another device".into(),
        ));
    }
    if e.facility != device.facility_id {
        return Some((
            ErrorCode::WrongFacility,
            "device is not enrolled in this facility".into(),
        ));
    }
    if let Err(v) = e.validate().and_then(|()| e.check_clock(facts.now_ms)) {
        return Some((v.code(), v.to_string()));
    }
    if kinds::is_server_only(&e.kind) {
        return Some((
            ErrorCode::ForbiddenKind,
            "this kind is authored by the state server only".into(),
        ));
    }
    if let Some(r) = facts.records.get(&e.id) {
        if r.facility != device.facility_id {
            return Some((
                ErrorCode::NotOwner,
                "record belongs to another facility".into(),
            ));
        }
        if r.owner == device.facility_id {
            return Some((
                ErrorCode::NotOwner,
                "record is authored by the state server".into(),
            ));
        }
    }
    None
}

/// Latest version per record id among `accepted` (greatest HLC, then sequence; one device).
pub fn latest_per_record(accepted: &[Envelope]) -> Vec<&Envelope> {
    let mut latest: HashMap<Uuid, &Envelope> = HashMap::new();
    for e in accepted {
        latest
            .entry(e.id)
            .and_modify(|cur| {
                if (e.hlc, e.seq) > (cur.hlc, cur.seq) {
                    *cur = e;
                }
            })
            .or_insert(e);
    }
    let mut v: Vec<&Envelope> = latest.into_values().collect();
    v.sort_by_key(|e| e.seq);
    v
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
pub const FACILITY_CONFIG_KIND: &str = kinds::FACILITY_CONFIG;

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
pub trait Store: crate::abdm::store::ShareStore + Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Creates a facility, its configuration record and a first one-time enrollment code
    /// (stored hashed as `code_hash`), valid for [`DEFAULT_CODE_VALID_MS`].
    fn add_facility(
        &self,
        f: NewFacility,
        code_hash: String,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send {
        self.add_facility_until(f, code_hash, now_ms() + DEFAULT_CODE_VALID_MS)
    }

    /// [`Store::add_facility`] with the code valid until `expires_at_ms` (Unix ms).
    fn add_facility_until(
        &self,
        f: NewFacility,
        code_hash: String,
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send;

    /// Adds another one-time enrollment code to an existing facility, valid for
    /// [`DEFAULT_CODE_VALID_MS`].
    fn add_enrollment_code(
        &self,
        facility_code: String,
        code_hash: String,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send {
        self.add_enrollment_code_until(facility_code, code_hash, now_ms() + DEFAULT_CODE_VALID_MS)
    }

    /// [`Store::add_enrollment_code`] valid until `expires_at_ms` (Unix ms).
    fn add_enrollment_code_until(
        &self,
        facility_code: String,
        code_hash: String,
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send;

    /// Enrolls a device with a one-time code, in one transaction. A code already used by a
    /// device whose secret hash is `p.secret_hash` answers that same device again (an idempotent
    /// v2 retry after a lost answer); otherwise a used or unknown code is
    /// [`StoreError::InvalidEnrollmentCode`] and an expired one
    /// [`StoreError::EnrollmentCodeExpired`]. With `p.previous_device` (of the same facility,
    /// else [`StoreError::PreviousDeviceElsewhere`]) the new device continues the old one: it
    /// starts at the old device's acknowledged sequence (see [`continuation_seq`]), the old
    /// device is revoked — unless the kiosk came from an install id the old device moved away
    /// from (a copied disk: the other copy still uses it) — and the change of device id is
    /// recorded (`device_successions`, with the starting sequence). Creates the state's Aadhaar key
    /// and the facility's slip-link key on first use.
    fn enroll(&self, p: EnrollParams) -> impl Future<Output = Result<Enrolled, StoreError>> + Send;

    /// Checks the install id a device's request carries: the first one seen becomes current; a
    /// new one replaces the current one (a kiosk that renumbered after a restore); one the
    /// device moved away from is [`InstallCheck::Superseded`] (a second live copy).
    fn check_install(
        &self,
        device: Uuid,
        install: Uuid,
    ) -> impl Future<Output = Result<InstallCheck, StoreError>> + Send;

    /// Content hashes of `device`'s processed sequences `from..=to`, in order.
    fn digests(
        &self,
        device: Uuid,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<SeqDigest>, StoreError>> + Send;

    /// Devices (optionally of one facility code), with the device each one replaced.
    fn devices(
        &self,
        facility_code: Option<String>,
    ) -> impl Future<Output = Result<Vec<DeviceInfo>, StoreError>> + Send;

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

    /// Changes of `facility` not written by `device` (all of them with `include_own`, for a
    /// kiosk's recovery pull after a restore), after `cursor`: at most `limit` records and, past
    /// the first record, at most `max_bytes` of payload (`more` tells the rest).
    fn pull(
        &self,
        facility: Uuid,
        device: Uuid,
        cursor: u64,
        limit: u32,
        include_own: bool,
        max_bytes: usize,
    ) -> impl Future<Output = Result<PullResponse, StoreError>> + Send;

    /// Payload bytes the device has stored (for its quota); 0 for an unknown device.
    fn device_usage(&self, device: Uuid) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Registers a booking portal with the hash of its token secret and what it may post
    /// for; returns its id.
    fn add_portal(
        &self,
        name: String,
        token_hash: String,
        scope: PortalScope,
    ) -> impl Future<Output = Result<Uuid, StoreError>> + Send;

    /// The LGD district of the facility with this code: `None` if no such facility,
    /// `Some(None)` if its district is not recorded.
    fn facility_district(
        &self,
        code: String,
    ) -> impl Future<Output = Result<Option<Option<u32>>, StoreError>> + Send;

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

    /// The latest state of a record: (device that wrote the kept version, its HLC, payload).
    fn latest_record(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<(Uuid, swagat_sync_protocol::Hlc, String)>, StoreError>> + Send;

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
    /// unknown facility. It is the key enrollment hands every kiosk of the facility
    /// (`EnrollResponse.slip_link_key`, kept in `server_keys` as `slip:<facility id>`), so the
    /// `k` of a slip printed after enrollment verifies here. The key authorises
    /// `GET /s/<visit>?k=<mac>` links (see [`crate::slip_page`]).
    fn facility_slip_key(
        &self,
        facility_id: Uuid,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
        async move {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD;
            let name = slip_key_name(facility_id);
            let read = "SELECT key FROM server_keys WHERE name = ?1".to_string();
            let rows = self
                .sql_query(read.clone(), vec![Sql::Text(name.clone())])
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
            let key = new_key();
            self.sql_exec(
                "INSERT INTO server_keys (name, key, key_id, created_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING"
                    .into(),
                vec![
                    Sql::Text(name.clone()),
                    Sql::Text(key.clone()),
                    Sql::Text(key_id(&key)),
                    Sql::Int(sqlite::now_ms()),
                ],
            )
            .await?;
            let rows = self.sql_query(read, vec![Sql::Text(name)]).await?;
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
    async fn add_facility_until(
        &self,
        f: NewFacility,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        delegate!(self, s => s.add_facility_until(f, code_hash, expires_at_ms).await)
    }
    async fn add_enrollment_code_until(
        &self,
        facility_code: String,
        code_hash: String,
        expires_at_ms: i64,
    ) -> Result<Facility, StoreError> {
        delegate!(self, s => s.add_enrollment_code_until(facility_code, code_hash, expires_at_ms).await)
    }
    async fn enroll(&self, p: EnrollParams) -> Result<Enrolled, StoreError> {
        delegate!(self, s => s.enroll(p).await)
    }
    async fn check_install(&self, device: Uuid, install: Uuid) -> Result<InstallCheck, StoreError> {
        delegate!(self, s => s.check_install(device, install).await)
    }
    async fn digests(
        &self,
        device: Uuid,
        from: u64,
        to: u64,
    ) -> Result<Vec<SeqDigest>, StoreError> {
        delegate!(self, s => s.digests(device, from, to).await)
    }
    async fn devices(&self, facility_code: Option<String>) -> Result<Vec<DeviceInfo>, StoreError> {
        delegate!(self, s => s.devices(facility_code).await)
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
        include_own: bool,
        max_bytes: usize,
    ) -> Result<PullResponse, StoreError> {
        delegate!(self, s => s.pull(facility, device, cursor, limit, include_own, max_bytes).await)
    }
    async fn device_usage(&self, device: Uuid) -> Result<u64, StoreError> {
        delegate!(self, s => s.device_usage(device).await)
    }
    async fn stats(
        &self,
        facility_code: Option<String>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        delegate!(self, s => s.stats(facility_code).await)
    }
    async fn add_portal(
        &self,
        name: String,
        token_hash: String,
        scope: PortalScope,
    ) -> Result<Uuid, StoreError> {
        delegate!(self, s => s.add_portal(name, token_hash, scope).await)
    }
    async fn facility_district(&self, code: String) -> Result<Option<Option<u32>>, StoreError> {
        delegate!(self, s => s.facility_district(code).await)
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
    async fn latest_record(
        &self,
        id: Uuid,
    ) -> Result<Option<(Uuid, swagat_sync_protocol::Hlc, String)>, StoreError> {
        delegate!(self, s => s.latest_record(id).await)
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
        let other_facility = Uuid::now_v7();
        let owned_elsewhere = Uuid::now_v7();
        let peer_record = Uuid::now_v7();
        let mut facts = IngestFacts {
            acked_seq: 2,
            ..Default::default()
        };
        facts.records.insert(
            owned_elsewhere,
            RecordFacts {
                facility: other_facility,
                owner: other,
            },
        );
        // Written by another kiosk of the same facility: any of its devices may edit it.
        facts.records.insert(
            peer_record,
            RecordFacts {
                facility: d.facility_id,
                owner: other,
            },
        );
        let batch = vec![
            env(&d, 2, Uuid::now_v7()),
            env(&d, 3, Uuid::now_v7()),
            env(&d, 4, owned_elsewhere),
            env(&d, 5, peer_record),
        ];
        let plan = plan_ingest(&d, batch, &facts).unwrap();
        assert_eq!(plan.duplicates, 1);
        assert_eq!(plan.accepted.len(), 2);
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].code, ErrorCode::NotOwner);
        assert_eq!(plan.rejected_hashes.len(), 1);
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
    fn same_sequence_other_content_is_a_conflict_not_a_duplicate() {
        let d = dev();
        let first = env(&d, 1, Uuid::now_v7());
        let mut facts = IngestFacts {
            acked_seq: 1,
            ..Default::default()
        };
        facts.hashes.insert(1, Some(first.content_hash()));
        let again = plan_ingest(&d, vec![first.clone()], &facts).unwrap();
        assert_eq!((again.duplicates, again.accepted.len()), (1, 0));
        let other = env(&d, 1, Uuid::now_v7());
        assert!(matches!(
            plan_ingest(&d, vec![other.clone()], &facts),
            Err(StoreError::SequenceConflict { acked_seq: 1 })
        ));
        // Unknown stored content (before hashes were kept) stays a duplicate.
        facts.hashes.insert(1, None);
        assert_eq!(plan_ingest(&d, vec![other], &facts).unwrap().duplicates, 1);
    }

    #[test]
    fn server_only_kinds_and_server_records_are_refused() {
        let d = dev();
        let mut facts = IngestFacts::default();
        let mut batch = Vec::new();
        for (i, k) in kinds::SERVER_ONLY_KINDS.iter().enumerate() {
            let mut e = env(&d, i as u64 + 1, Uuid::now_v7());
            e.kind = (*k).to_string();
            batch.push(e);
        }
        let server_record = Uuid::now_v7();
        facts.records.insert(
            server_record,
            RecordFacts {
                facility: d.facility_id,
                owner: d.facility_id,
            },
        );
        let mut e = env(&d, batch.len() as u64 + 1, server_record);
        e.kind = "master_department".into();
        batch.push(e);
        let n = batch.len();
        let plan = plan_ingest(&d, batch, &facts).unwrap();
        assert!(plan.accepted.is_empty());
        let codes: Vec<ErrorCode> = plan.rejected.iter().map(|r| r.code).collect();
        let mut want = vec![ErrorCode::ForbiddenKind; n - 1];
        want.push(ErrorCode::NotOwner);
        assert_eq!(codes, want);
    }

    #[test]
    fn latest_version_is_the_greatest_hlc() {
        let d = dev();
        let id = Uuid::now_v7();
        let mut a = env(&d, 1, id);
        a.hlc = Hlc::new(50, 0);
        let b = env(&d, 2, id); // hlc (2, 0): older although later in sequence
        let v = vec![a, b];
        assert_eq!(latest_per_record(&v)[0].seq, 1);
        let k = key_id(&new_key());
        assert_eq!(k.len(), 8);
    }

    #[test]
    fn a_record_from_a_clock_far_ahead_is_rejected_with_clock_ahead() {
        let d = dev();
        let facts = IngestFacts {
            now_ms: 1_800_000_000_000,
            ..IngestFacts::default()
        };
        let mut ahead = env(&d, 1, Uuid::now_v7());
        ahead.hlc = Hlc::new(facts.now_ms + 2 * 86_400_000, 0);
        let mut fine = env(&d, 2, Uuid::now_v7());
        fine.hlc = Hlc::new(facts.now_ms + 3_600_000, 0);
        let plan = plan_ingest(&d, vec![ahead, fine], &facts).unwrap();
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].seq, 1);
        assert_eq!(plan.rejected[0].code, ErrorCode::ClockAhead);
        assert!(plan.rejected[0].reason.contains("ahead"));
        assert_eq!((plan.accepted.len(), plan.new_acked), (1, 2));
    }

    #[test]
    fn portal_scopes() {
        let any = PortalScope::default();
        assert!(any.allows("X", None) && any.to_stored().is_none());
        let s = PortalScope {
            facilities: vec!["PHC1".into()],
            districts: vec![162],
        };
        assert!(s.allows("PHC1", Some(1)));
        assert!(s.allows("PHC2", Some(162)));
        assert!(!s.allows("PHC2", Some(163)));
        assert!(!s.allows("PHC2", None));
        let back = PortalScope::from_stored(s.to_stored().as_deref());
        assert_eq!(back, s);
        assert!(!PortalScope::from_stored(Some("garbage")).allows("PHC1", Some(162)));
    }

    #[test]
    fn stats_keys() {
        let m = stats_map(vec![("patient".into(), 3), ("audit".into(), 1)]);
        assert_eq!(m["patients"], 3);
        assert_eq!(m["visits"], 0);
        assert_eq!(m["audits"], 1);
    }
}
