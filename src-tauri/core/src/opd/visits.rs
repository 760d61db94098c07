//! OPD visits and tokens.
//!
//! A token is per department, per facility-local day, per kiosk: `A-017` is the 17th patient this
//! kiosk (letter A) sent to that department today. Two kiosks never issue the same token, even
//! offline. A visit within the validity of an earlier slip for the same department is a follow-up
//! and pays no fee; categories with a fee waiver (BPL, ration card, Ayushman…) pay nothing either.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::{CoreError, Result};

/// A visit as stored.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visit {
    /// UUIDv7.
    pub id: String,
    /// The patient.
    pub patient_id: String,
    /// Department code.
    pub department: String,
    /// Facility-local date.
    pub visit_date: String,
    /// Token, e.g. `A-017`.
    pub token: String,
    /// `new` or `follow_up`.
    pub visit_type: String,
    /// Fee charged in rupees.
    pub fee_rupees: u32,
    /// Waiver applied, if any.
    pub waiver_code: Option<String>,
    /// Why the fee was waived.
    pub waiver_reason: Option<String>,
    /// Slip valid until (inclusive).
    pub valid_until: String,
    /// `active` or `cancelled`.
    pub status: String,
    /// The patient is ABHA-linked.
    pub abha_linked: bool,
    /// Slips printed so far.
    pub prints: u32,
    /// Created (RFC 3339).
    pub created_at: String,
}

const COLUMNS: &str = "id, patient_id, department, visit_date, token, visit_type, fee_rupees, \
    waiver_code, waiver_reason, valid_until, status, abha_linked, prints, created_at";

/// Where each of [`COLUMNS`] is.
static POSITIONS: std::sync::LazyLock<std::collections::HashMap<&'static str, usize>> =
    std::sync::LazyLock::new(|| crate::store::column_positions(COLUMNS));

fn col(name: &str) -> usize {
    POSITIONS.get(name).copied().unwrap_or(usize::MAX)
}

/// One `visits` row selected with [`COLUMNS`], read by column name.
fn from_row(r: &Row<'_>) -> rusqlite::Result<Visit> {
    Ok(Visit {
        id: r.get(col("id"))?,
        patient_id: r.get(col("patient_id"))?,
        department: r.get(col("department"))?,
        visit_date: r.get(col("visit_date"))?,
        token: r.get(col("token"))?,
        visit_type: r.get(col("visit_type"))?,
        fee_rupees: r.get(col("fee_rupees"))?,
        waiver_code: r.get(col("waiver_code"))?,
        waiver_reason: r.get(col("waiver_reason"))?,
        valid_until: r.get(col("valid_until"))?,
        status: r.get(col("status"))?,
        abha_linked: r.get(col("abha_linked"))?,
        prints: r.get(col("prints"))?,
        created_at: r.get(col("created_at"))?,
    })
}

/// Advances the named counter and returns its new value.
pub fn next_counter(conn: &Connection, name: &str) -> Result<u64> {
    let v: i64 = conn
        .prepare_cached(
            "INSERT INTO counters (name, value) VALUES (?1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        )?
        .query_row([name], |r| r.get(0))?;
    u64::try_from(v).map_err(|_| CoreError::Corrupt(format!("counter {name}")))
}

/// The visit with id `id`.
pub fn get(conn: &Connection, id: &str) -> Result<Visit> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM visits WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| CoreError::NotFound {
            what: format!("visit {id}"),
        })
}

/// The patient's latest active visit to `department` still valid on `date`.
pub fn valid_visit(
    conn: &Connection,
    patient_id: &str,
    department: &str,
    date: &str,
) -> Result<Option<Visit>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM visits WHERE patient_id = ?1 AND department = ?2 \
             AND status = 'active' AND visit_date <= ?3 AND valid_until >= ?3 \
             ORDER BY visit_date DESC, created_at DESC LIMIT 1"
        ))?
        .query_row(params![patient_id, department, date], from_row)
        .optional()?)
}

/// The patient's active visit to `department` on `date` (a second token that day is asked first).
pub fn today_visit(
    conn: &Connection,
    patient_id: &str,
    department: &str,
    date: &str,
) -> Result<Option<Visit>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM visits WHERE patient_id = ?1 AND department = ?2 \
             AND status = 'active' AND visit_date = ?3 ORDER BY created_at DESC LIMIT 1"
        ))?
        .query_row(params![patient_id, department, date], from_row)
        .optional()?)
}

/// A patient's visits, newest first.
pub fn for_patient(conn: &Connection, patient_id: &str, limit: u32) -> Result<Vec<Visit>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM visits WHERE patient_id = ?1 ORDER BY visit_date DESC, created_at DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![patient_id, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Counts for one facility-local date: (active registrations, of which ABHA-linked).
pub fn day_counts(conn: &Connection, date: &str) -> Result<(i64, i64)> {
    Ok(conn.prepare_cached(
        "SELECT count(*), coalesce(sum(abha_linked), 0) FROM visits WHERE visit_date = ?1 AND status = 'active'",
    )?
    .query_row([date], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
