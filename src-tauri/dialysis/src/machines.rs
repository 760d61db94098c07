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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct MachineOutcome {
    /// The machine after the change.
    pub machine: Machine,
    /// Bookings moved (promoted from the waitlist, moved to another machine, or put back on the
    /// waitlist).
    pub moves: Vec<Move>,
    /// The bookings this change took off the machine, as they stand after it (moved to another
    /// machine in the same slot, or waitlisted), with the patient's name: what the nurse is told.
    pub affected: Vec<AffectedBooking>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

/// A booking a machine change took off its machine, after the change.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedBooking {
    /// Booking id.
    pub booking_id: String,
    /// Patient id.
    pub patient_id: String,
    /// Patient name (for the nurse's message).
    pub patient_name: String,
    /// Session date.
    pub date: String,
    /// Shift number.
    pub shift: u32,
    /// `confirmed` (on another machine of the patient's pool) or `waitlisted`.
    pub status: crate::model::Status,
    /// The machine it is on now, if any.
    pub machine: Option<String>,
}

/// Adds a machine to `pool`; it immediately serves any waitlist of its pool.
pub fn add(conn: &Connection, name: &str, pool: Pool) -> Result<MachineOutcome> {
    let name = check_name(conn, name, None)?;
    let name = name.as_str();
    let id = new_id();
    conn.execute(
        "INSERT INTO dialysis_machines (id, name, pool, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, pool.as_str(), now_instant()],
    )?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: crate::actions::MACHINE_ADD,
        entity: crate::entities::MACHINE,
        entity_id: id.clone(),
        details: json!({ "name": name, "pool": pool }),
    });
    alloc::promote_all(conn, None, &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &id)?,
        moves: changes.moves,
        affected: Vec::new(),
        audit: changes.audit,
    })
}

/// A valid, free machine name (trimmed): 1 to 40 characters, no other machine (`except` aside)
/// with the same name in any letter case, retired ones included.
fn check_name(conn: &Connection, name: &str, except: Option<&str>) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(DialysisError::invalid(
            "name",
            "give a machine name of 1 to 40 characters",
            "मशीन का नाम 1 से 40 अक्षर का दें",
        ));
    }
    let taken: bool = conn
        .prepare_cached("SELECT 1 FROM dialysis_machines WHERE name = ?1 AND id IS NOT ?2")?
        .query_row(params![name, except], |_| Ok(()))
        .optional()?
        .is_some();
    if taken {
        return Err(DialysisError::invalid(
            "name",
            format!("a machine named {name:?} already exists"),
            format!("{name} नाम की मशीन पहले से है"),
        ));
    }
    Ok(name.to_owned())
}

/// Renames a machine (its bookings, maintenance and history stay with it).
pub fn rename(conn: &Connection, id_or_name: &str, new_name: &str) -> Result<MachineOutcome> {
    let machine = get(conn, id_or_name)?;
    let name = check_name(conn, new_name, Some(&machine.id))?;
    let mut changes = Changes::default();
    if name != machine.name {
        conn.execute(
            "UPDATE dialysis_machines SET name = ?2 WHERE id = ?1",
            params![machine.id, name],
        )?;
        changes.audit.push(AuditEvent {
            action: crate::actions::MACHINE_RENAME,
            entity: crate::entities::MACHINE,
            entity_id: machine.id.clone(),
            details: json!({ "from": machine.name, "to": name }),
        });
    }
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        affected: Vec::new(),
        audit: changes.audit,
    })
}

fn refuse_retired(m: &Machine) -> Result<()> {
    if m.active {
        return Ok(());
    }
    Err(DialysisError::invalid(
        "machine",
        format!("{} is retired", m.name),
        format!("{} सेवा से हटाई जा चुकी है", m.name),
    ))
}

/// Confirmed bookings on `machine` from `from` on, of patients `keep` does not accept.
fn bookings_on(
    conn: &Connection,
    machine_id: &str,
    from: &str,
    keep: impl Fn(Pool) -> bool,
) -> Result<Vec<WaitRow>> {
    let rows: Vec<(WaitRow, String, String, String)> = conn
        .prepare_cached(
            "SELECT b.id, b.patient_id, b.date, b.shift, dp.hbsag, dp.hcv, dp.hiv \
             FROM dialysis_bookings b JOIN dialysis_patients dp ON dp.patient_id = b.patient_id \
             WHERE b.machine_id = ?1 AND b.status = 'confirmed' AND b.date >= ?2 \
             ORDER BY b.date, b.shift",
        )?
        .query_map(params![machine_id, from], |r| {
            Ok((
                WaitRow {
                    id: r.get(0)?,
                    patient_id: r.get(1)?,
                    date: r.get(2)?,
                    shift: r.get(3)?,
                },
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (row, hb, hc, hi) in rows {
        if !keep(alloc::pool_of(&hb, &hc, &hi)?) {
            out.push(row);
        }
    }
    Ok(out)
}

/// Takes `displaced` off `machine` (each back onto the waitlist, keeping its place) and serves
/// each slot again, so each goes to a free machine of its patient's pool in the same slot or
/// waits. Returns the displaced bookings as they now stand.
fn displace(
    conn: &Connection,
    machine: &Machine,
    displaced: &[WaitRow],
    changes: &mut Changes,
) -> Result<Vec<AffectedBooking>> {
    for row in displaced {
        alloc::release_to_waitlist(
            conn,
            row,
            &machine.id,
            &machine.name,
            crate::actions::DISPLACE,
            changes,
        )?;
        alloc::promote_slot(conn, &row.date, row.shift, changes)?;
    }
    displaced
        .iter()
        .map(|row| {
            let b = crate::views::booking(conn, &row.id)?;
            Ok(AffectedBooking {
                booking_id: b.id,
                patient_id: b.patient_id,
                patient_name: b.patient_name,
                date: b.date,
                shift: b.shift,
                status: b.status,
                machine: b.machine,
            })
        })
        .collect()
}

/// Moves a machine to another infection-control pool from `today` on. Its confirmed bookings
/// from `today` whose patients belong to another pool are moved to a free machine of their pool in
/// the same slot, or waitlisted (keeping their place); the machine then serves its new pool's
/// waitlist. Past sessions keep their record. Refused for a retired machine.
pub fn set_pool(
    conn: &Connection,
    id_or_name: &str,
    pool: Pool,
    today: Date,
) -> Result<MachineOutcome> {
    let machine = get(conn, id_or_name)?;
    refuse_retired(&machine)?;
    if pool == machine.pool {
        return Ok(MachineOutcome {
            machine,
            moves: Vec::new(),
            affected: Vec::new(),
            audit: Vec::new(),
        });
    }
    conn.execute(
        "UPDATE dialysis_machines SET pool = ?2 WHERE id = ?1",
        params![machine.id, pool.as_str()],
    )?;
    let from = fmt_date(today);
    let displaced = bookings_on(conn, &machine.id, &from, |p| p == pool)?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: crate::actions::MACHINE_POOL,
        entity: crate::entities::MACHINE,
        entity_id: machine.id.clone(),
        details: json!({ "from": machine.pool, "to": pool, "displaced": displaced.len() }),
    });
    let moved = Machine {
        pool,
        ..machine.clone()
    };
    let affected = displace(conn, &moved, &displaced, &mut changes)?;
    alloc::promote_all(conn, Some(today), &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        affected,
        audit: changes.audit,
    })
}

/// Retires a machine: no new bookings from now on, its confirmed bookings from `today` moved to a
/// free machine of the same pool in the same slot or waitlisted, and it leaves the day board
/// (except on days it still holds a session). Its past sessions and maintenance stay on record.
pub fn retire(conn: &Connection, id_or_name: &str, today: Date) -> Result<MachineOutcome> {
    let machine = get(conn, id_or_name)?;
    refuse_retired(&machine)?;
    conn.execute(
        "UPDATE dialysis_machines SET active = 0 WHERE id = ?1",
        [&machine.id],
    )?;
    let displaced = bookings_on(conn, &machine.id, &fmt_date(today), |_| false)?;
    let mut changes = Changes::default();
    changes.audit.push(AuditEvent {
        action: crate::actions::MACHINE_RETIRE,
        entity: crate::entities::MACHINE,
        entity_id: machine.id.clone(),
        details: json!({ "from": fmt_date(today), "displaced": displaced.len() }),
    });
    let affected = displace(conn, &machine, &displaced, &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        affected,
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
    refuse_retired(&machine)?;
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
        action: crate::actions::MAINTENANCE,
        entity: crate::entities::MACHINE,
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
            crate::actions::DISPLACE,
            &mut changes,
        )?;
        alloc::promote_slot(conn, &row.date, row.shift, &mut changes)?;
    }
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        affected: Vec::new(),
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
        action: crate::actions::IN_SERVICE,
        entity: crate::entities::MACHINE,
        entity_id: machine.id.clone(),
        details: json!({ "from": from_s, "periods_dropped": dropped, "periods_cut": cut }),
    });
    alloc::promote_all(conn, Some(from), &mut changes)?;
    Ok(MachineOutcome {
        machine: get(conn, &machine.id)?,
        moves: changes.moves,
        affected: Vec::new(),
        audit: changes.audit,
    })
}
