//! Dialysis machines: adding them to a pool, listing them, and taking them out of service for
//! maintenance (and back).
//!
//! Maintenance changes capacity, so it goes through the allocation engine: bookings on a machine
//! entering maintenance are moved to another free machine of the same pool or back onto the
//! waitlist (keeping their place), and a machine returning to service, or a new machine, serves
//! the waitlist. Every move is reported.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use time::{Date, Duration};

use crate::alloc::{self, Changes, Move, WaitRow};
use crate::error::{DialysisError, Result};
use crate::model::{fmt_date, from_db, new_id, now_instant, Pool};
use crate::AuditEvent;

/// A maintenance period (inclusive dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaintenancePeriod {
    /// Period id.
    pub id: String,
    /// First day out of service.
    pub from_date: String,
    /// Last day out of service (`None`: until further notice).
    pub to_date: Option<String>,
    /// Why.
    pub reason: String,
}

/// A machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Id (UUIDv7).
    pub id: String,
    /// Name shown on the board (unique, case-insensitive).
    pub name: String,
    /// The serology pool it is dedicated to.
    pub pool: Pool,
    /// Not retired.
    pub active: bool,
    /// Maintenance periods, by start date.
    pub maintenance: Vec<MaintenancePeriod>,
}

/// A machine change with the bookings it moved.
#[derive(Debug, Clone, Serialize)]
pub struct MachineOutcome {
    /// The machine after the change.
    pub machine: Machine,
    /// Bookings moved (promoted from the waitlist, moved to another machine, or put back on the
    /// waitlist).
    pub moves: Vec<Move>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

/// Adds a machine to `pool`; it immediately serves any waitlist of its pool.
pub fn add(conn: &Connection, name: &str, pool: Pool) -> Result<MachineOutcome> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(DialysisError::invalid(
            "name",
            "give a machine name of 1 to 40 characters",
            "मशीन का नाम 1 से 40 अक्षर का दें",
        ));
    }
    let taken: bool = conn
        .prepare_cached("SELECT 1 FROM dialysis_machines WHERE name = ?1")?
        .query_row([name], |_| Ok(()))
        .optional()?
        .is_some();
    if taken {
        return Err(DialysisError::invalid(
            "name",
            format!("a machine named {name:?} already exists"),
            format!("{name} नाम की मशीन पहले से है"),
        ));
    }
    let id = new_id();
    conn.execute(
        "INSERT INTO dialysis_machines (id, name, pool, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, pool.as_str(), now_instant()],
    )?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: "dialysis.machine_add",
        entity: "dialysis_machine",
        entity_id: id.clone(),
        details: json!({ "name": name, "pool": pool }),
    });
    alloc::promote_all(conn, None, &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &id)?,
        moves: changes.moves,
        audit: changes.audit,
    })
}

/// All machines, by name.
pub fn list(conn: &Connection) -> Result<Vec<Machine>> {
    let rows: Vec<(String, String, String, i64)> = conn
        .prepare_cached("SELECT id, name, pool, active FROM dialysis_machines ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut periods: Vec<(String, MaintenancePeriod)> = conn
        .prepare_cached(
            "SELECT machine_id, id, from_date, to_date, reason FROM dialysis_maintenance \
             ORDER BY from_date, rowid",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                MaintenancePeriod {
                    id: r.get(1)?,
                    from_date: r.get(2)?,
                    to_date: r.get(3)?,
                    reason: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, name, pool, active) in rows {
        let (mine, rest): (Vec<_>, Vec<_>) = periods.into_iter().partition(|(m, _)| *m == id);
        periods = rest;
        out.push(Machine {
            pool: from_db(&pool, "pool")?,
            active: active == 1,
            maintenance: mine.into_iter().map(|(_, p)| p).collect(),
            id,
            name,
        });
    }
    Ok(out)
}

/// One machine, by id or name.
pub fn get(conn: &Connection, id_or_name: &str) -> Result<Machine> {
    let key = id_or_name.trim();
    list(conn)?
        .into_iter()
        .find(|m| m.id == key || m.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| DialysisError::not_found(format!("machine {key}")))
}

/// Takes a machine out of service from `from` to `to` inclusive (`None`: until
/// [`end_maintenance`]). Its confirmed bookings in the period move to another free machine of the
/// same pool, or back onto the waitlist. Checked-in and completed sessions are left alone.
pub fn set_maintenance(
    conn: &Connection,
    id_or_name: &str,
    from: Date,
    to: Option<Date>,
    reason: &str,
) -> Result<MachineOutcome> {
    let machine = get(conn, id_or_name)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DialysisError::invalid(
            "reason",
            "say why the machine is out of service",
            "मशीन बंद होने का कारण दें",
        ));
    }
    if to.is_some_and(|t| t < from) {
        return Err(DialysisError::invalid(
            "to",
            "the last day is before the first",
            "अंतिम दिन पहले दिन से पहले है",
        ));
    }
    let (from_s, to_s) = (fmt_date(from), to.map(fmt_date));
    let period_id = new_id();
    conn.execute(
        "INSERT INTO dialysis_maintenance (id, machine_id, from_date, to_date, reason, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![period_id, machine.id, from_s, to_s, reason, now_instant()],
    )?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: "dialysis.maintenance",
        entity: "dialysis_machine",
        entity_id: machine.id.clone(),
        details: json!({ "period_id": period_id, "from": from_s, "to": to_s }),
    });
    let displaced: Vec<WaitRow> = conn
        .prepare_cached(
            "SELECT id, patient_id, date, shift FROM dialysis_bookings \
             WHERE machine_id = ?1 AND status = 'confirmed' AND date >= ?2 \
               AND (?3 IS NULL OR date <= ?3) ORDER BY date, shift",
        )?
        .query_map(params![machine.id, from_s, to_s], |r| {
            Ok(WaitRow {
                id: r.get(0)?,
                patient_id: r.get(1)?,
                date: r.get(2)?,
                shift: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for row in &displaced {
        alloc::release_to_waitlist(
            conn,
            row,
            &machine.id,
            &machine.name,
            "dialysis.displace",
            &mut changes,
        )?;
        alloc::promote_slot(conn, &row.date, row.shift, &mut changes)?;
    }
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        audit: changes.audit,
    })
}

/// Puts a machine back in service from `from` on: periods running past `from` are cut short
/// (ending the day before; periods starting on or after `from` are dropped). The machine then
/// serves the waitlist.
pub fn end_maintenance(conn: &Connection, id_or_name: &str, from: Date) -> Result<MachineOutcome> {
    let machine = get(conn, id_or_name)?;
    let from_s = fmt_date(from);
    let day_before = fmt_date(from - Duration::days(1));
    let dropped = conn.execute(
        "DELETE FROM dialysis_maintenance WHERE machine_id = ?1 AND from_date >= ?2",
        params![machine.id, from_s],
    )?;
    let cut = conn.execute(
        "UPDATE dialysis_maintenance SET to_date = ?3 WHERE machine_id = ?1 AND from_date < ?2 \
         AND (to_date IS NULL OR to_date >= ?2)",
        params![machine.id, from_s, day_before],
    )?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: "dialysis.in_service",
        entity: "dialysis_machine",
        entity_id: machine.id.clone(),
        details: json!({ "from": from_s, "periods_dropped": dropped, "periods_cut": cut }),
    });
    alloc::promote_all(conn, Some(from), &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        audit: changes.audit,
    })
}
