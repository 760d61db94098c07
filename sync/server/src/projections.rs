//! Typed projections of the kiosks' records, kept at ingest for the dashboard and the slip page.
//!
//! The change log keeps payloads opaque, but officials' reports must not parse JSON at query
//! time (10 million visits). So in the ingest transaction the server turns each accepted
//! `patient`, `visit`, `dialysis_machine` and `dialysis_booking` envelope into a typed row
//! ([`project`]) and the backend upserts it into `proj_*` tables
//! ([`crate::store::projections_sqlite`], [`crate::store::projections_pg`]).
//!
//! **Invariant** (checked by `tests/projections.rs` on both backends): after any sequence of
//! pushes, edits, cancels, merges and replays, every `proj_*` table equals what [`recount`]
//! computes from the change log alone — for each record id the version with the greatest
//! `(hlc, device)` (not simply the last to arrive), projected by [`project`]; a visit's gender
//! and age band come from its patient's latest version ([`age_band`]); `proj_visit_daily` is
//! the per-facility-day sum of `proj_visits`; a booking's pool is its machine's. Replays are
//! no-ops (a version only replaces a strictly smaller one), so ingest stays idempotent.
//!
//! Scan-and-share: whether a visit came by ABHA scan-and-share is decided in exactly one place,
//! [`came_by_scan_share`], from the marker the kiosk puts on the visit it registers from a share.

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use swagat_sync_protocol::{kinds, Envelope};
use uuid::Uuid;

/// Index (1-based) of the migration that creates the projection tables; the backends back-fill
/// them from the change log right after applying it.
pub const MIGRATION: usize = 6;

/// A record's version: the greater `(hlc, device)` wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Hybrid logical clock of the change (as stored, `i64`).
    pub hlc: i64,
    /// Writing device.
    pub device: Uuid,
}

/// A patient as the dashboard and the slip page need it (no address, mobile or Aadhaar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRow {
    pub record_id: Uuid,
    pub facility_id: Uuid,
    pub uhid: Option<String>,
    pub name: Option<String>,
    pub name_hi: Option<String>,
    pub gender: Option<String>,
    /// `YYYY-MM-DD` (from `dob`, or 1 July of `year_of_birth`).
    pub birth_date: Option<String>,
    pub merged_into: Option<String>,
    pub version: Version,
}

/// An OPD visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRow {
    pub record_id: Uuid,
    pub facility_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub visit_date: String,
    pub department: String,
    pub room: Option<String>,
    pub token: Option<String>,
    /// `new` or `follow_up`.
    pub visit_type: String,
    pub fee_rupees: i64,
    pub waiver_code: Option<String>,
    pub valid_until: Option<String>,
    pub created_at: Option<String>,
    pub cancelled: bool,
    pub abha_linked: bool,
    pub scan_share: bool,
    pub version: Version,
}

/// A dialysis machine (its pool: e.g. negative, HBsAg+, HCV+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRow {
    pub record_id: Uuid,
    pub facility_id: Uuid,
    /// The kiosk's local machine id (bookings name it).
    pub machine_id: String,
    pub name: Option<String>,
    pub pool: Option<String>,
    pub active: bool,
    pub version: Version,
}

/// A dialysis booking (one session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRow {
    pub record_id: Uuid,
    pub facility_id: Uuid,
    pub booking_date: String,
    pub shift: String,
    pub machine_id: Option<String>,
    /// `confirmed`, `waitlisted`, `checked_in`, `no_show`, `completed`, `cancelled`.
    pub status: String,
    pub version: Version,
}

/// One projected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Patient(PatientRow),
    Visit(VisitRow),
    Machine(MachineRow),
    Booking(BookingRow),
}

impl Row {
    /// The record's id.
    pub fn record_id(&self) -> Uuid {
        match self {
            Row::Patient(r) => r.record_id,
            Row::Visit(r) => r.record_id,
            Row::Machine(r) => r.record_id,
            Row::Booking(r) => r.record_id,
        }
    }
    /// The record's version.
    pub fn version(&self) -> Version {
        match self {
            Row::Patient(r) => r.version,
            Row::Visit(r) => r.version,
            Row::Machine(r) => r.version,
            Row::Booking(r) => r.version,
        }
    }
}

/// THE single place deciding whether a visit came by ABHA scan-and-share: the kiosk marks a
/// visit it registered from a shared profile with `"via": "scan_share"` and the share's id in
/// `share_id` (sync/PROTOCOL.md, "The scan-and-share marker"). Either suffices.
fn came_by_scan_share(visit: &Fields<'_>) -> bool {
    visit.via.as_ref().and_then(Scalar::as_str) == Some("scan_share")
        || visit
            .share_id
            .as_ref()
            .and_then(Scalar::as_str)
            .is_some_and(|s| !s.is_empty())
}

/// One payload field as the projections read it. Reading is lenient, as a change log of many
/// kiosk versions needs: a field of an unexpected type is simply absent, never an error.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    /// An integer above `i64::MAX` (kept only to be written back as text).
    Big(u64),
    Float(f64),
    Bool(bool),
    /// `null`, an array or an object.
    Other,
}

impl Scalar<'_> {
    /// A string, or a number written as text (tokens are numbers on old kiosks).
    fn text(&self) -> Option<String> {
        match self {
            Scalar::Text(s) => Some(s.to_string()),
            Scalar::Int(n) => Some(n.to_string()),
            Scalar::Big(n) => Some(n.to_string()),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map(|n| n.to_string()),
            Scalar::Bool(_) | Scalar::Other => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(s),
            _ => None,
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(s)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Int(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(n).map_or(Scalar::Big(n), Scalar::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Float(f))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The payload fields any projected kind reads, borrowed from the envelope's JSON (every other
/// field is skipped unread: a typed read of a few fields, not a `Value` tree of all of them,
/// because ingest projects every record it accepts).
#[derive(Debug, Default, Deserialize)]
struct Fields<'a> {
    // patient
    #[serde(borrow)]
    uhid: Option<Scalar<'a>>,
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
    #[serde(borrow)]
    name_hi: Option<Scalar<'a>>,
    #[serde(borrow)]
    gender: Option<Scalar<'a>>,
    #[serde(borrow)]
    dob: Option<Scalar<'a>>,
    #[serde(borrow)]
    year_of_birth: Option<Scalar<'a>>,
    #[serde(borrow)]
    merged_into: Option<Scalar<'a>>,
    // visit
    #[serde(borrow)]
    patient_id: Option<Scalar<'a>>,
    #[serde(borrow)]
    visit_date: Option<Scalar<'a>>,
    #[serde(borrow)]
    department: Option<Scalar<'a>>,
    #[serde(borrow)]
    room: Option<Scalar<'a>>,
    #[serde(borrow)]
    token: Option<Scalar<'a>>,
    #[serde(borrow)]
    visit_type: Option<Scalar<'a>>,
    #[serde(borrow)]
    fee_rupees: Option<Scalar<'a>>,
    #[serde(borrow)]
    waiver_code: Option<Scalar<'a>>,
    #[serde(borrow)]
    valid_until: Option<Scalar<'a>>,
    #[serde(borrow)]
    created_at: Option<Scalar<'a>>,
    #[serde(borrow)]
    status: Option<Scalar<'a>>,
    #[serde(borrow)]
    abha_linked: Option<Scalar<'a>>,
    #[serde(borrow)]
    via: Option<Scalar<'a>>,
    #[serde(borrow)]
    share_id: Option<Scalar<'a>>,
    // dialysis machine and booking
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    pool: Option<Scalar<'a>>,
    #[serde(borrow)]
    active: Option<Scalar<'a>>,
    #[serde(borrow)]
    date: Option<Scalar<'a>>,
    #[serde(borrow)]
    shift: Option<Scalar<'a>>,
    #[serde(borrow)]
    machine_id: Option<Scalar<'a>>,
}

impl<'a> Fields<'a> {
    /// The fields of `payload`; `None` for text that is not JSON. A JSON value other than an
    /// object has none of the fields.
    fn read(payload: &'a str) -> Option<Fields<'a>> {
        if !payload.trim_start().starts_with('{') {
            serde_json::from_str::<IgnoredAny>(payload).ok()?;
            return Some(Fields::default());
        }
        serde_json::from_str(payload).ok()
    }
}

fn text(f: &Option<Scalar<'_>>) -> Option<String> {
    f.as_ref().and_then(Scalar::text)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn date(f: &Option<Scalar<'_>>) -> Option<String> {
    text(f).filter(|s| is_date(s))
}

/// The record kinds the dashboard's tables project (the backfill reads these from the log).
pub const PROJECTED_KINDS: [&str; 4] = [
    kinds::PATIENT,
    kinds::VISIT,
    kinds::DIALYSIS_MACHINE,
    kinds::DIALYSIS_BOOKING,
];

/// Projects one envelope; `None` for kinds that are not projected or unusable payloads (the
/// change log keeps them; a later valid version projects).
pub fn project(e: &Envelope) -> Option<Row> {
    let kind = e.kind.as_str();
    if !PROJECTED_KINDS.contains(&kind) {
        return None;
    }
    let v = Fields::read(e.payload.get())?;
    let version = Version {
        hlc: e.hlc.to_u64() as i64,
        device: e.device,
    };
    let (record_id, facility_id) = (e.id, e.facility);
    Some(match kind {
        kinds::PATIENT => Row::Patient(PatientRow {
            record_id,
            facility_id,
            uhid: text(&v.uhid),
            name: text(&v.name),
            name_hi: text(&v.name_hi),
            gender: text(&v.gender),
            birth_date: date(&v.dob).or_else(|| {
                v.year_of_birth
                    .as_ref()
                    .and_then(Scalar::as_i64)
                    .filter(|y| (1850..=9999).contains(y))
                    .map(|y| format!("{y:04}-07-01"))
            }),
            merged_into: text(&v.merged_into),
            version,
        }),
        kinds::VISIT => Row::Visit(VisitRow {
            record_id,
            facility_id,
            patient_id: text(&v.patient_id).and_then(|s| Uuid::parse_str(&s).ok()),
            visit_date: date(&v.visit_date)?,
            department: text(&v.department).unwrap_or_default(),
            room: text(&v.room),
            token: text(&v.token),
            visit_type: match text(&v.visit_type).as_deref() {
                Some("follow_up") => "follow_up".into(),
                _ => "new".into(),
            },
            fee_rupees: v.fee_rupees.as_ref().and_then(Scalar::as_i64).unwrap_or(0),
            waiver_code: text(&v.waiver_code).filter(|s| !s.is_empty()),
            valid_until: text(&v.valid_until),
            created_at: text(&v.created_at),
            cancelled: text(&v.status).as_deref() == Some("cancelled"),
            abha_linked: v.abha_linked.as_ref().and_then(Scalar::as_bool) == Some(true),
            scan_share: came_by_scan_share(&v),
            version,
        }),
        kinds::DIALYSIS_MACHINE => Row::Machine(MachineRow {
            record_id,
            facility_id,
            machine_id: text(&v.id)?,
            name: text(&v.name),
            pool: text(&v.pool),
            active: v.active.as_ref().and_then(Scalar::as_bool) != Some(false),
            version,
        }),
        _ => Row::Booking(BookingRow {
            record_id,
            facility_id,
            booking_date: date(&v.date)?,
            shift: text(&v.shift).unwrap_or_default(),
            machine_id: text(&v.machine_id),
            status: text(&v.status)?,
            version,
        }),
    })
}

/// The latest version per record among `envelopes` (greatest `(hlc, device)`), projected.
pub fn latest(envelopes: &[Envelope]) -> Vec<Row> {
    let mut best: HashMap<Uuid, Row> = HashMap::new();
    for e in envelopes {
        let Some(row) = project(e) else { continue };
        match best.get(&row.record_id()) {
            Some(cur) if cur.version() >= row.version() => {}
            _ => {
                best.insert(row.record_id(), row);
            }
        }
    }
    let mut v: Vec<Row> = best.into_values().collect();
    v.sort_by_key(|r| (r.version(), r.record_id()));
    v
}

/// Age band of a patient born on `birth_date` at `visit_date` (both `YYYY-MM-DD`). The SQL in
/// both backends computes exactly this ([`age_band_sql`]).
pub fn age_band(birth_date: Option<&str>, visit_date: &str) -> &'static str {
    let Some(b) = birth_date.filter(|b| is_date(b)) else {
        return "unknown";
    };
    if !is_date(visit_date) {
        return "unknown";
    }
    let n = |s: &str, a: usize, z: usize| s[a..z].parse::<i64>().unwrap_or(0);
    let mut age = n(visit_date, 0, 4) - n(b, 0, 4);
    if n(visit_date, 5, 7) * 100 + n(visit_date, 8, 10) < n(b, 5, 7) * 100 + n(b, 8, 10) {
        age -= 1;
    }
    band_of(age)
}

fn band_of(age: i64) -> &'static str {
    match age {
        a if a < 0 => "unknown",
        0..=4 => "0-4",
        5..=14 => "5-14",
        15..=29 => "15-29",
        30..=44 => "30-44",
        45..=59 => "45-59",
        _ => "60+",
    }
}

/// The age bands in display order.
pub const AGE_BANDS: &[&str] = &["0-4", "5-14", "15-29", "30-44", "45-59", "60+", "unknown"];

/// SQL (both backends) for the age band of patient `p` at visit `v`: the same as [`age_band`].
pub fn age_band_sql() -> String {
    let age = "(CAST(substr(v.visit_date, 1, 4) AS INTEGER) - CAST(substr(p.birth_date, 1, 4) AS INTEGER) \
        - CASE WHEN CAST(substr(v.visit_date, 6, 2) AS INTEGER) * 100 + CAST(substr(v.visit_date, 9, 2) AS INTEGER) \
        < CAST(substr(p.birth_date, 6, 2) AS INTEGER) * 100 + CAST(substr(p.birth_date, 9, 2) AS INTEGER) \
        THEN 1 ELSE 0 END)";
    format!(
        "CASE WHEN p.birth_date IS NULL THEN 'unknown' WHEN {age} < 0 THEN 'unknown' \
         WHEN {age} <= 4 THEN '0-4' WHEN {age} <= 14 THEN '5-14' WHEN {age} <= 29 THEN '15-29' \
         WHEN {age} <= 44 THEN '30-44' WHEN {age} <= 59 THEN '45-59' ELSE '60+' END"
    )
}

/// A visit as the projection should hold it, with its derived demographics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedVisit {
    pub row: VisitRow,
    pub gender: String,
    pub age_band: String,
}

/// One facility-day of `proj_visit_daily`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Daily {
    pub registrations: i64,
    pub new_visits: i64,
    pub follow_ups: i64,
    pub cancelled: i64,
    pub abha_linked: i64,
    pub scan_share: i64,
    pub fees: i64,
    pub waived: i64,
}

impl Daily {
    /// What one visit adds to its facility-day: a cancelled visit counts only as cancelled.
    pub fn of(v: &VisitRow) -> Daily {
        Daily::of_parts(
            v.cancelled,
            v.visit_type == "follow_up",
            v.abha_linked,
            v.scan_share,
            v.fee_rupees,
            v.waiver_code.is_some(),
        )
    }

    /// [`Daily::of`] from a stored visit's columns.
    pub fn of_parts(
        cancelled: bool,
        follow_up: bool,
        abha_linked: bool,
        scan_share: bool,
        fee_rupees: i64,
        waived: bool,
    ) -> Daily {
        if cancelled {
            return Daily {
                cancelled: 1,
                ..Daily::default()
            };
        }
        Daily {
            registrations: 1,
            new_visits: i64::from(!follow_up),
            follow_ups: i64::from(follow_up),
            cancelled: 0,
            abha_linked: i64::from(abha_linked),
            scan_share: i64::from(scan_share),
            fees: fee_rupees,
            waived: i64::from(waived),
        }
    }

    /// Adds `other` times `sign` (+1 or −1).
    pub fn add(&mut self, other: &Daily, sign: i64) {
        self.registrations += sign * other.registrations;
        self.new_visits += sign * other.new_visits;
        self.follow_ups += sign * other.follow_ups;
        self.cancelled += sign * other.cancelled;
        self.abha_linked += sign * other.abha_linked;
        self.scan_share += sign * other.scan_share;
        self.fees += sign * other.fees;
        self.waived += sign * other.waived;
    }

    fn is_zero(&self) -> bool {
        *self == Daily::default()
    }

    /// As a change: whether it can leave a facility-day with no visit at all (then the
    /// backend deletes a row whose registrations and cancellations are both 0).
    pub fn may_empty_a_day(&self) -> bool {
        self.registrations < 0 || self.cancelled < 0
    }
}

/// A visit as `proj_visits` holds it before an upsert: where it counts, what it counts, and
/// its version (read back so that the daily totals change by a difference, not a recount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVisit {
    pub facility_id: Uuid,
    pub visit_date: String,
    pub version: Version,
    pub counts: Daily,
}

/// How each facility-day of `proj_visit_daily` changes when the visits `incoming` (at most
/// one version per record, as [`latest`] gives) are upserted over `stored`: a version that
/// replaces a stored one takes the old contribution off its day and adds its own to its
/// (perhaps other) day; a version not newer than the stored one changes nothing, exactly as
/// the upsert's `WHERE (hlc, device) >` guard. Days whose change is zero are left out.
///
/// Both backends keep `proj_visit_daily` with this, so a backlog landing on one busy day costs
/// one upsert per batch instead of a recount of the whole day.
pub fn daily_changes(
    stored: &HashMap<Uuid, StoredVisit>,
    incoming: &[&VisitRow],
) -> Vec<((Uuid, String), Daily)> {
    let mut out: BTreeMap<(Uuid, String), Daily> = BTreeMap::new();
    for v in incoming {
        if let Some(old) = stored.get(&v.record_id) {
            if old.version >= v.version {
                continue;
            }
            out.entry((old.facility_id, old.visit_date.clone()))
                .or_default()
                .add(&old.counts, -1);
        }
        out.entry((v.facility_id, v.visit_date.clone()))
            .or_default()
            .add(&Daily::of(v), 1);
    }
    out.into_iter().filter(|(_, d)| !d.is_zero()).collect()
}

/// Everything the projection tables should hold, recounted from the change log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recount {
    pub patients: BTreeMap<Uuid, PatientRow>,
    pub visits: BTreeMap<Uuid, ExpectedVisit>,
    pub daily: BTreeMap<(Uuid, String), Daily>,
    pub machines: BTreeMap<Uuid, MachineRow>,
    /// Bookings with their machine's pool.
    pub bookings: BTreeMap<Uuid, (BookingRow, Option<String>)>,
}

/// Recounts the projections from a whole change log (the invariant's right-hand side).
pub fn recount(log: &[Envelope]) -> Recount {
    let mut out = Recount::default();
    let mut visits = Vec::new();
    let mut bookings = Vec::new();
    for row in latest(log) {
        match row {
            Row::Patient(p) => {
                out.patients.insert(p.record_id, p);
            }
            Row::Machine(m) => {
                out.machines.insert(m.record_id, m);
            }
            Row::Visit(v) => visits.push(v),
            Row::Booking(b) => bookings.push(b),
        }
    }
    for v in visits {
        let p = v.patient_id.and_then(|id| out.patients.get(&id));
        let gender = p
            .and_then(|p| p.gender.clone())
            .unwrap_or_else(|| "U".into());
        let age_band = match p {
            Some(p) => age_band(p.birth_date.as_deref(), &v.visit_date),
            None => "unknown",
        };
        out.daily
            .entry((v.facility_id, v.visit_date.clone()))
            .or_default()
            .add(&Daily::of(&v), 1);
        out.visits.insert(
            v.record_id,
            ExpectedVisit {
                row: v,
                gender,
                age_band: age_band.into(),
            },
        );
    }
    for b in bookings {
        let pool = b.machine_id.as_ref().and_then(|mid| {
            out.machines
                .values()
                .find(|m| m.facility_id == b.facility_id && &m.machine_id == mid)
                .and_then(|m| m.pool.clone())
        });
        out.bookings.insert(b.record_id, (b, pool));
    }
    out
}

/// SQL (SQLite; PostgreSQL uses `unnest` for a batch) adding a [`daily_changes`] entry to its
/// facility-day: `?1` facility, `?2` date, then the eight counts in [`Daily`]'s order.
pub const DAILY_ADD_SQL: &str = "INSERT INTO proj_visit_daily (facility_id, visit_date, \
    registrations, new_visits, follow_ups, cancelled, abha_linked, scan_share, fees, waived) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
    ON CONFLICT (facility_id, visit_date) DO UPDATE SET \
    registrations = proj_visit_daily.registrations + excluded.registrations, \
    new_visits = proj_visit_daily.new_visits + excluded.new_visits, \
    follow_ups = proj_visit_daily.follow_ups + excluded.follow_ups, \
    cancelled = proj_visit_daily.cancelled + excluded.cancelled, \
    abha_linked = proj_visit_daily.abha_linked + excluded.abha_linked, \
    scan_share = proj_visit_daily.scan_share + excluded.scan_share, \
    fees = proj_visit_daily.fees + excluded.fees, \
    waived = proj_visit_daily.waived + excluded.waived";

/// SQL (both backends, `?1` facility, `?2` date) deleting a facility-day left with no visit
/// (every visit counts either as a registration or as cancelled).
pub const DAILY_PRUNE_SQL: &str = "DELETE FROM proj_visit_daily WHERE facility_id = ?1 \
    AND visit_date = ?2 AND registrations = 0 AND cancelled = 0";

/// SQL (both backends, `?1` = facility, `?2` = date) computing one facility-day of
/// `proj_visit_daily` from `proj_visits` (the dashboard bench seeds with it).
pub const DAILY_INSERT_SQL: &str = "INSERT INTO proj_visit_daily (facility_id, visit_date, \
    registrations, new_visits, follow_ups, cancelled, abha_linked, scan_share, fees, waived) \
    SELECT facility_id, visit_date, \
    SUM(CASE WHEN cancelled = 0 THEN 1 ELSE 0 END), \
    SUM(CASE WHEN cancelled = 0 AND visit_type <> 'follow_up' THEN 1 ELSE 0 END), \
    SUM(CASE WHEN cancelled = 0 AND visit_type = 'follow_up' THEN 1 ELSE 0 END), \
    SUM(cancelled), \
    SUM(CASE WHEN cancelled = 0 THEN abha_linked ELSE 0 END), \
    SUM(CASE WHEN cancelled = 0 THEN scan_share ELSE 0 END), \
    SUM(CASE WHEN cancelled = 0 THEN fee_rupees ELSE 0 END), \
    SUM(CASE WHEN cancelled = 0 AND waiver_code IS NOT NULL THEN 1 ELSE 0 END) \
    FROM proj_visits WHERE facility_id = ?1 AND visit_date = ?2 GROUP BY facility_id, visit_date";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands() {
        assert_eq!(age_band(Some("2000-06-15"), "2026-06-14"), "15-29");
        assert_eq!(age_band(Some("2000-06-15"), "2030-06-14"), "15-29");
        assert_eq!(age_band(Some("2000-06-15"), "2030-06-15"), "30-44");
        assert_eq!(age_band(Some("2026-01-01"), "2026-01-01"), "0-4");
        assert_eq!(age_band(None, "2026-01-01"), "unknown");
        assert_eq!(age_band(Some("2027-01-01"), "2026-01-01"), "unknown");
        assert_eq!(age_band(Some("1940-01-01"), "2026-01-01"), "60+");
    }

    #[test]
    fn scan_share_marker() {
        let share = |json: &str| came_by_scan_share(&Fields::read(json).unwrap());
        assert!(!share(
            r#"{"visit_date": "2026-01-01", "status": "active"}"#
        ));
        assert!(!share(r#"{"share_id": null, "via": "counter"}"#));
        assert!(!share(r#"{"share_id": ""}"#));
        assert!(!share(r#"{"share_id": 7}"#));
        assert!(share(r#"{"via": "scan_share"}"#));
        assert!(share(
            r#"{"share_id": "0193b000-0000-7000-8000-0000000000e2", "via": "scan_share"}"#
        ));
    }

    /// Payload fields are read leniently: a field of the wrong type is absent, numbers are
    /// text where text is read, escapes are decoded, unknown fields and nesting are skipped,
    /// and a payload that is JSON but not an object has no fields.
    #[test]
    fn fields_are_read_leniently() {
        let f = Fields::read(
            r#"{"name": "Sita \u0926\u0947\u0935\u0940", "token": 17, "fee_rupees": "10",
                "abha_linked": 1, "gender": ["F"], "dob": {"y": 1990}, "visit_date": "2026-03-10",
                "extra": {"deep": [1, {"x": null}]}, "year_of_birth": 1990.0, "room": 2.5}"#,
        )
        .unwrap();
        assert_eq!(text(&f.name).as_deref(), Some("Sita देवी"));
        assert_eq!(text(&f.token).as_deref(), Some("17"));
        assert_eq!(text(&f.room).as_deref(), Some("2.5"));
        assert_eq!(f.fee_rupees.as_ref().and_then(Scalar::as_i64), None);
        assert_eq!(f.abha_linked.as_ref().and_then(Scalar::as_bool), None);
        assert_eq!(text(&f.gender), None);
        assert_eq!(date(&f.dob), None);
        assert_eq!(f.year_of_birth.as_ref().and_then(Scalar::as_i64), None);
        assert_eq!(date(&f.visit_date).as_deref(), Some("2026-03-10"));
        assert_eq!(text(&f.uhid), None);
        assert!(Fields::read("[1, 2]").is_some_and(|f| f.name.is_none()));
        assert!(Fields::read("\"x\"").is_some());
        assert!(Fields::read("{not json").is_none());
    }
}
