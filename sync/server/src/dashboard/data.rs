//! The dashboard's figures, read from the typed projections (never from JSON payloads).
//!
//! One function per page; each takes the caller's already-checked [`Filter`] (what the
//! official's scope and the request allow), so a query can never reach outside the scope.
//! The overview reads `proj_visit_daily` (one row per facility-day), which keeps the state
//! overview fast at 10 million visits; a facility page reads `proj_visits` of one facility.

use crate::store::{Sql, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::{Date, Duration};

/// A kiosk silent this long, or with a backlog this old, is stale.
pub const STALE_MS: i64 = 24 * 60 * 60 * 1000;

/// What a query may reach (scope ∩ request), and the date range.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Only this district.
    pub district: Option<i64>,
    /// Only this facility (code).
    pub facility: Option<String>,
    /// First day (inclusive).
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
}

/// `YYYY-MM-DD`.
pub fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &f).ok()
}

/// Today in India (the facilities' local date).
pub fn today() -> Date {
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(ist).date()
}

/// A facility row.
#[derive(Debug, Clone, Serialize)]
pub struct FacilityInfo {
    #[serde(skip)]
    pub id: String,
    pub code: String,
    pub name: String,
    pub district_lgd: Option<i64>,
}

/// A kiosk and its health.
#[derive(Debug, Clone, Serialize)]
pub struct Kiosk {
    pub device_id: String,
    pub name: String,
    #[serde(skip)]
    pub facility_id: String,
    pub last_seen_ms: Option<i64>,
    pub last_seen: Option<String>,
    pub pending: i64,
    pub dead_letters: i64,
    pub oldest_unsent_age_s: Option<i64>,
    pub app_version: Option<String>,
    pub last_error_kind: Option<String>,
    pub free_disk_bytes: Option<i64>,
    pub heartbeat_at: Option<String>,
    pub stale: bool,
}

/// One facility of the overview.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OverviewRow {
    pub code: String,
    pub name: String,
    pub district_lgd: Option<i64>,
    pub today: i64,
    pub d7: i64,
    pub d30: i64,
    pub registrations: i64,
    pub new: i64,
    pub follow_up: i64,
    pub cancelled: i64,
    pub abha_linked: i64,
    pub abha_pct: f64,
    pub scan_share: i64,
    pub dialysis_completed: i64,
    pub dialysis_no_shows: i64,
    pub stale_kiosks: i64,
    pub kiosks: Vec<Kiosk>,
}

/// RFC 3339 (UTC) of unix ms.
pub fn rfc3339(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn pct(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0
    }
}

const SCOPE: &str = "(CAST(?{d} AS INTEGER) IS NULL OR f.district_lgd = CAST(?{d} AS INTEGER)) \
    AND (CAST(?{f} AS TEXT) IS NULL OR f.code = CAST(?{f} AS TEXT))";

fn scope(d: usize, f: usize) -> String {
    SCOPE
        .replace("{d}", &d.to_string())
        .replace("{f}", &f.to_string())
}

fn scope_params(f: &Filter) -> [Sql; 2] {
    [
        f.district.map_or(Sql::Null, Sql::Int),
        Sql::opt_text(f.facility.clone()),
    ]
}

/// The facilities within the filter, by code.
pub async fn facilities<S: Store>(store: &S, f: &Filter) -> Result<Vec<FacilityInfo>, StoreError> {
    let rows = store
        .sql_query(
            format!(
                "SELECT f.id, f.code, f.name, f.district_lgd FROM facilities f WHERE {} ORDER BY f.code",
                scope(1, 2)
            ),
            scope_params(f).to_vec(),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| FacilityInfo {
            id: r[0].str(),
            code: r[1].str(),
            name: r[2].str(),
            district_lgd: r[3].opt_int(),
        })
        .collect())
}

/// The districts (LGD codes) that have facilities within the filter.
pub async fn districts<S: Store>(store: &S, f: &Filter) -> Result<Vec<i64>, StoreError> {
    let rows = store
        .sql_query(
            format!(
                "SELECT DISTINCT f.district_lgd FROM facilities f WHERE f.district_lgd IS NOT NULL AND {} ORDER BY f.district_lgd",
                scope(1, 2)
            ),
            scope_params(f).to_vec(),
        )
        .await?;
    Ok(rows.iter().filter_map(|r| r[0].opt_int()).collect())
}

fn kiosk_of(r: &[Sql], now: i64) -> Kiosk {
    let last_seen_ms = r[3].opt_int();
    let hb_at = r[4].opt_int();
    let pending = r[6].int();
    let oldest = r[8].opt_int();
    let silent = last_seen_ms.is_none_or(|t| now - t > STALE_MS);
    // The oldest unsent record's age as of the heartbeat, plus the time since.
    let backlog_age_ms = match (oldest, hb_at) {
        (Some(age), Some(at)) if pending > 0 => Some(age * 1000 + (now - at).max(0)),
        _ => None,
    };
    Kiosk {
        device_id: r[0].str(),
        name: r[1].str(),
        facility_id: r[2].str(),
        last_seen_ms,
        last_seen: last_seen_ms.and_then(rfc3339),
        pending,
        dead_letters: r[7].int(),
        oldest_unsent_age_s: oldest,
        app_version: r[5].text(),
        last_error_kind: r[9].text(),
        free_disk_bytes: r[10].opt_int(),
        heartbeat_at: hb_at.and_then(rfc3339),
        stale: silent || backlog_age_ms.is_some_and(|a| a > STALE_MS),
    }
}

/// The kiosks (enrolled, not revoked devices) within the filter.
pub async fn kiosks<S: Store>(store: &S, f: &Filter) -> Result<Vec<Kiosk>, StoreError> {
    let rows = store
        .sql_query(
            format!(
                "SELECT d.id, d.name, d.facility_id, d.last_seen_ms, h.at_ms, h.app_version,
                    h.outbox_pending, h.dead_letters, h.oldest_unsent_age_s, h.last_error_kind,
                    h.free_disk_bytes
                 FROM devices d JOIN facilities f ON f.id = d.facility_id
                 LEFT JOIN kiosk_heartbeats h ON h.device_id = d.id
                 WHERE d.revoked_at_ms IS NULL AND {} ORDER BY d.name, d.id",
                scope(1, 2)
            ),
            scope_params(f).to_vec(),
        )
        .await?;
    let now = crate::store::sqlite::now_ms();
    Ok(rows.iter().map(|r| kiosk_of(r, now)).collect())
}

/// The overview: one row per facility within the filter. "today / 7 d / 30 d" end on `to`.
pub async fn overview<S: Store>(store: &S, f: &Filter) -> Result<Vec<OverviewRow>, StoreError> {
    let d30 = f.to - Duration::days(29);
    let d7 = f.to - Duration::days(6);
    let lo = d30.min(f.from);
    let [sd, sf] = scope_params(f);
    let visits = store
        .sql_query(
            format!(
                "SELECT d.facility_id,
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.registrations ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.new_visits ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.follow_ups ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.cancelled ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.abha_linked ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?3 THEN d.scan_share ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date = ?2 THEN d.registrations ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?4 THEN d.registrations ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN d.visit_date >= ?5 THEN d.registrations ELSE 0 END) AS BIGINT)
                 FROM proj_visit_daily d JOIN facilities f ON f.id = d.facility_id
                 WHERE d.visit_date >= ?1 AND d.visit_date <= ?2 AND {}
                 GROUP BY d.facility_id",
                scope(6, 7)
            ),
            vec![
                Sql::Text(day(lo)),
                Sql::Text(day(f.to)),
                Sql::Text(day(f.from)),
                Sql::Text(day(d7)),
                Sql::Text(day(d30)),
                sd.clone(),
                sf.clone(),
            ],
        )
        .await?;
    let dialysis = store
        .sql_query(
            format!(
                "SELECT b.facility_id,
                    CAST(SUM(CASE WHEN b.status = 'completed' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN b.status = 'no_show' THEN 1 ELSE 0 END) AS BIGINT)
                 FROM proj_dialysis_bookings b JOIN facilities f ON f.id = b.facility_id
                 WHERE b.booking_date >= ?1 AND b.booking_date <= ?2 AND {}
                 GROUP BY b.facility_id",
                scope(3, 4)
            ),
            vec![Sql::Text(day(f.from)), Sql::Text(day(f.to)), sd, sf],
        )
        .await?;
    let mut v: HashMap<String, Vec<Sql>> = visits.into_iter().map(|r| (r[0].str(), r)).collect();
    let mut d: HashMap<String, Vec<Sql>> = dialysis.into_iter().map(|r| (r[0].str(), r)).collect();
    let mut k: HashMap<String, Vec<Kiosk>> = HashMap::new();
    for kiosk in kiosks(store, f).await? {
        k.entry(kiosk.facility_id.clone()).or_default().push(kiosk);
    }
    let mut out = Vec::new();
    for fac in facilities(store, f).await? {
        let mut row = OverviewRow {
            code: fac.code,
            name: fac.name,
            district_lgd: fac.district_lgd,
            ..Default::default()
        };
        if let Some(r) = v.remove(&fac.id) {
            row.registrations = r[1].int();
            row.new = r[2].int();
            row.follow_up = r[3].int();
            row.cancelled = r[4].int();
            row.abha_linked = r[5].int();
            row.scan_share = r[6].int();
            row.today = r[7].int();
            row.d7 = r[8].int();
            row.d30 = r[9].int();
        }
        row.abha_pct = pct(row.abha_linked, row.registrations);
        if let Some(r) = d.remove(&fac.id) {
            row.dialysis_completed = r[1].int();
            row.dialysis_no_shows = r[2].int();
        }
        row.kiosks = k.remove(&fac.id).unwrap_or_default();
        row.stale_kiosks = row.kiosks.iter().filter(|k| k.stale).count() as i64;
        out.push(row);
    }
    Ok(out)
}

/// Sorts overview rows by a column name (unknown names sort by code).
pub fn sort_rows(rows: &mut [OverviewRow], key: &str, desc: bool) {
    let num = |r: &OverviewRow| -> f64 {
        match key {
            "today" => r.today as f64,
            "d7" => r.d7 as f64,
            "d30" => r.d30 as f64,
            "registrations" => r.registrations as f64,
            "abha_pct" => r.abha_pct,
            "scan_share" => r.scan_share as f64,
            "dialysis_completed" => r.dialysis_completed as f64,
            "dialysis_no_shows" => r.dialysis_no_shows as f64,
            "stale_kiosks" => r.stale_kiosks as f64,
            "district" => r.district_lgd.unwrap_or(-1) as f64,
            _ => 0.0,
        }
    };
    rows.sort_by(|a, b| {
        let o = if key == "name" {
            a.name.cmp(&b.name)
        } else {
            num(a)
                .partial_cmp(&num(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        o.then_with(|| a.code.cmp(&b.code))
    });
    if desc {
        rows.reverse();
    }
}

/// Totals of the summary API.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    pub registrations: i64,
    pub abha_linked: i64,
    pub abha_linked_pct: f64,
    pub scan_share: i64,
    pub dialysis_completed: i64,
}

/// Sums overview rows.
pub fn totals(rows: &[OverviewRow]) -> Totals {
    let mut t = Totals::default();
    for r in rows {
        t.registrations += r.registrations;
        t.abha_linked += r.abha_linked;
        t.scan_share += r.scan_share;
        t.dialysis_completed += r.dialysis_completed;
    }
    t.abha_linked_pct = pct(t.abha_linked, t.registrations);
    t
}

/// One day of a facility's 30-day series.
#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    pub date: String,
    pub registrations: i64,
    pub new: i64,
    pub follow_up: i64,
    pub cancelled: i64,
    pub abha_linked: i64,
    pub abha_pct: f64,
    pub scan_share: i64,
    pub fees: i64,
    pub waived: i64,
}

/// A (label, count[, amount]) row of a small table.
#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    pub label: String,
    pub count: i64,
    pub amount: i64,
}

/// A (label, label, count) row.
#[derive(Debug, Clone, Serialize)]
pub struct PairRow {
    pub a: String,
    pub b: String,
    pub count: i64,
}

impl CountRow {
    /// A `label, COUNT(*)[, SUM(…)]` row (no sum: `amount` 0).
    fn of(r: &[Sql]) -> CountRow {
        CountRow {
            label: r[0].str(),
            count: r[1].int(),
            amount: r.get(2).map_or(0, Sql::int),
        }
    }
}

impl PairRow {
    /// A `label, label, COUNT(*)` row.
    fn of(r: &[Sql]) -> PairRow {
        PairRow {
            a: r[0].str(),
            b: r[1].str(),
            count: r[2].int(),
        }
    }
}

/// The rows of one `GROUP BY` query, each read by `row` (e.g. [`CountRow::of`]).
async fn grouped<S: Store, T>(
    store: &S,
    sql: &str,
    params: Vec<Sql>,
    row: fn(&[Sql]) -> T,
) -> Result<Vec<T>, StoreError> {
    Ok(store
        .sql_query(sql.into(), params)
        .await?
        .iter()
        .map(|r| row(r))
        .collect())
}

/// Everything of a facility page.
#[derive(Debug, Clone, Serialize)]
pub struct FacilityPage {
    pub code: String,
    pub name: String,
    pub district_lgd: Option<i64>,
    pub from: String,
    pub to: String,
    pub registrations: i64,
    pub new: i64,
    pub follow_up: i64,
    pub cancelled: i64,
    pub abha_linked: i64,
    pub abha_pct: f64,
    pub scan_share: i64,
    pub fees: i64,
    pub waived: i64,
    /// The 30 days ending on `to`.
    pub daily: Vec<DayRow>,
    pub departments: Vec<CountRow>,
    pub demographics: Vec<PairRow>,
    pub waivers: Vec<CountRow>,
    pub kiosks: Vec<Kiosk>,
    pub machines_by_pool: Vec<CountRow>,
    pub sessions_per_shift: Vec<PairRow>,
    pub dialysis_completed: i64,
    pub dialysis_no_shows: i64,
    pub waitlist: i64,
    pub requests: BTreeMap<String, i64>,
}

/// The facility page of `fac` (already checked to be within scope).
pub async fn facility_page<S: Store>(
    store: &S,
    fac: &FacilityInfo,
    f: &Filter,
) -> Result<FacilityPage, StoreError> {
    let id = || Sql::Text(fac.id.clone());
    let (from, to) = (day(f.from), day(f.to));
    let start30 = f.to - Duration::days(29);
    let daily_rows = store
        .sql_query(
            "SELECT visit_date, registrations, new_visits, follow_ups, cancelled, abha_linked,
                scan_share, fees, waived
             FROM proj_visit_daily WHERE facility_id = ?1 AND visit_date >= ?2 AND visit_date <= ?3"
                .into(),
            vec![id(), Sql::Text(day(start30.min(f.from))), Sql::Text(to.clone())],
        )
        .await?;
    let by_day: HashMap<String, &Vec<Sql>> = daily_rows.iter().map(|r| (r[0].str(), r)).collect();
    let mut daily = Vec::new();
    let mut dd = start30;
    while dd <= f.to {
        let key = day(dd);
        let r = by_day.get(&key);
        let g = |i: usize| r.map_or(0, |r| r[i].int());
        daily.push(DayRow {
            date: key,
            registrations: g(1),
            new: g(2),
            follow_up: g(3),
            cancelled: g(4),
            abha_linked: g(5),
            abha_pct: pct(g(5), g(1)),
            scan_share: g(6),
            fees: g(7),
            waived: g(8),
        });
        dd += Duration::days(1);
    }
    let mut page = FacilityPage {
        code: fac.code.clone(),
        name: fac.name.clone(),
        district_lgd: fac.district_lgd,
        from: from.clone(),
        to: to.clone(),
        registrations: 0,
        new: 0,
        follow_up: 0,
        cancelled: 0,
        abha_linked: 0,
        abha_pct: 0.0,
        scan_share: 0,
        fees: 0,
        waived: 0,
        daily,
        departments: Vec::new(),
        demographics: Vec::new(),
        waivers: Vec::new(),
        kiosks: Vec::new(),
        machines_by_pool: Vec::new(),
        sessions_per_shift: Vec::new(),
        dialysis_completed: 0,
        dialysis_no_shows: 0,
        waitlist: 0,
        requests: BTreeMap::new(),
    };
    for r in daily_rows.iter().filter(|r| r[0].str() >= from) {
        page.registrations += r[1].int();
        page.new += r[2].int();
        page.follow_up += r[3].int();
        page.cancelled += r[4].int();
        page.abha_linked += r[5].int();
        page.scan_share += r[6].int();
        page.fees += r[7].int();
        page.waived += r[8].int();
    }
    page.abha_pct = pct(page.abha_linked, page.registrations);
    let range = || vec![id(), Sql::Text(from.clone()), Sql::Text(to.clone())];
    // The range's visits (not cancelled) counted by one column or two.
    let visits_by = |columns: &str, sum: bool| {
        let sum = if sum {
            ", CAST(SUM(fee_rupees) AS BIGINT)"
        } else {
            ""
        };
        format!(
            "SELECT {columns}, COUNT(*){sum} FROM proj_visits
             WHERE facility_id = ?1 AND visit_date >= ?2 AND visit_date <= ?3 AND cancelled = 0
             GROUP BY {columns} ORDER BY {columns}"
        )
    };
    let by_department = visits_by("department", true);
    page.departments = grouped(store, &by_department, range(), CountRow::of).await?;
    let by_person = visits_by("gender, age_band", false);
    page.demographics = grouped(store, &by_person, range(), PairRow::of).await?;
    let by_waiver = visits_by("waiver_code", true);
    page.waivers = grouped(store, &by_waiver, range(), CountRow::of).await?;
    page.kiosks = kiosks(
        store,
        &Filter {
            district: None,
            facility: Some(fac.code.clone()),
            ..f.clone()
        },
    )
    .await?;
    page.machines_by_pool = grouped(
        store,
        "SELECT COALESCE(pool, ''), COUNT(*) FROM proj_dialysis_machines
         WHERE facility_id = ?1 AND active = 1 GROUP BY COALESCE(pool, '') ORDER BY 1",
        vec![id()],
        CountRow::of,
    )
    .await?;
    page.sessions_per_shift = grouped(
        store,
        "SELECT shift, status, COUNT(*) FROM proj_dialysis_bookings
         WHERE facility_id = ?1 AND booking_date >= ?2 AND booking_date <= ?3
         GROUP BY shift, status ORDER BY shift, status",
        range(),
        PairRow::of,
    )
    .await?;
    for s in &page.sessions_per_shift {
        match s.b.as_str() {
            "completed" => page.dialysis_completed += s.count,
            "no_show" => page.dialysis_no_shows += s.count,
            _ => {}
        }
    }
    page.waitlist = store
        .sql_query(
            "SELECT COUNT(*) FROM proj_dialysis_bookings
             WHERE facility_id = ?1 AND status = 'waitlisted' AND booking_date >= ?2"
                .into(),
            vec![id(), Sql::Text(day(today().min(f.to)))],
        )
        .await?
        .first()
        .map_or(0, |r| r[0].int());
    for s in ["pending", "confirmed", "waitlisted", "refused"] {
        page.requests.insert(s.into(), 0);
    }
    for r in store
        .sql_query(
            "SELECT status, COUNT(*) FROM dialysis_requests WHERE facility_id = ?1 GROUP BY status"
                .into(),
            vec![id()],
        )
        .await?
    {
        page.requests.insert(r[0].str(), r[1].int());
    }
    Ok(page)
}
