//! The allocation engine shared by every operation that adds or removes capacity: finding a free
//! machine of the right pool, and serving the waitlist of a (date, shift) slot in order.
//!
//! Invariants kept here (and checked by the property tests): a booking holding a machine is on a
//! machine of its patient's pool that is active and not under maintenance that day; one machine
//! holds at most one booking per (date, shift) (also a partial UNIQUE index); and a waitlisted
//! booking never waits while a machine of its pool is free in its slot, the waitlist being served
//! by priority (higher first), then request time, then insertion order.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use time::Date;

use crate::error::{DialysisError, Result};
use crate::model::{date_from_db, fmt_date, from_db, Pool, Serology, Status};
use crate::rules::{self, Placement, SerologyResults};
use crate::AuditEvent;

/// A warning attached to a result (the booking still stands).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// `serology_stale` or `co_infection`.
    pub code: &'static str,
    /// English text.
    pub en: String,
    /// Hindi text.
    pub hi: String,
}

impl Warning {
    pub(crate) fn stale(threshold: i64) -> Self {
        Self {
            code: "serology_stale",
            en: format!(
                "serology results are older than {threshold} days: retest (HBsAg, anti-HCV, HIV)"
            ),
            hi: format!(
                "सीरोलॉजी जाँच {threshold} दिन से पुरानी है: दोबारा जाँच कराएँ (HBsAg, anti-HCV, HIV)"
            ),
        }
    }

    pub(crate) fn co_infection(pool: Pool) -> Self {
        Self {
            code: "co_infection",
            en: format!("more than one positive marker: placed in the {pool} pool; consider a dedicated machine"),
            hi: format!("एक से अधिक पॉज़िटिव जाँच: {pool} समूह में रखा; अलग मशीन पर विचार करें"),
        }
    }
}

/// Adds `w` to `list` unless a warning with the same code is there.
pub(crate) fn push_warning(list: &mut Vec<Warning>, w: Warning) {
    if !list.iter().any(|x| x.code == w.code) {
        list.push(w);
    }
}

/// A booking's place: status and machine.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotState {
    /// Status.
    pub status: Status,
    /// Machine id, if it holds one.
    pub machine_id: Option<String>,
    /// Machine name, if it holds one.
    pub machine: Option<String>,
}

/// One booking that changed place because of an operation (promotion from the waitlist,
/// displacement by maintenance or a serology change).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// The booking.
    pub booking_id: String,
    /// Its patient.
    pub patient_id: String,
    /// Session date.
    pub date: String,
    /// Shift number.
    pub shift: u32,
    /// Before.
    pub from: SlotState,
    /// After.
    pub to: SlotState,
}

/// Moves and audit events collected by an operation.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub moves: Vec<Move>,
    pub audit: Vec<AuditEvent>,
}

impl Changes {
    /// Records that a booking went from `from` to `to`, merging with an earlier move of the same
    /// booking in this operation (first `from`, last `to`); a round trip disappears.
    fn moved(&mut self, b: &WaitRow, from: SlotState, to: SlotState, action: &'static str) {
        self.audit.push(AuditEvent {
            action,
            entity: crate::entities::BOOKING,
            entity_id: b.id.clone(),
            details: json!({
                "patient_id": b.patient_id, "date": b.date, "shift": b.shift,
                "from": from.status, "from_machine_id": from.machine_id,
                "to": to.status, "to_machine_id": to.machine_id,
            }),
        });
        if let Some(i) = self.moves.iter().position(|m| m.booking_id == b.id) {
            self.moves[i].to = to;
            if self.moves[i].from == self.moves[i].to {
                self.moves.remove(i);
            }
        } else {
            self.moves.push(Move {
                booking_id: b.id.clone(),
                patient_id: b.patient_id.clone(),
                date: b.date.clone(),
                shift: b.shift,
                from,
                to,
            });
        }
    }
}

/// A dialysis patient's record as the engine needs it.
#[derive(Debug, Clone)]
pub(crate) struct PatientRow {
    pub serology: SerologyResults,
    pub tested: [Option<Date>; 3],
    pub eligible: bool,
}

impl PatientRow {
    pub fn placement(&self) -> Placement {
        rules::pool_for(self.serology)
    }

    pub fn stale_on(&self, on: Date, threshold: i64) -> bool {
        let s = self.serology;
        rules::serology_stale(
            &[
                (s.hbsag, self.tested[0]),
                (s.hcv, self.tested[1]),
                (s.hiv, self.tested[2]),
            ],
            on,
            threshold,
        )
    }

    /// Warnings for a session on `on`.
    pub fn warnings_on(&self, on: Date, threshold: i64) -> Vec<Warning> {
        let mut w = Vec::new();
        if self.stale_on(on, threshold) {
            w.push(Warning::stale(threshold));
        }
        let p = self.placement();
        if p.co_infection {
            w.push(Warning::co_infection(p.pool));
        }
        w
    }
}

fn opt_date(s: Option<String>) -> Result<Option<Date>> {
    s.as_deref().map(date_from_db).transpose()
}

/// The patient's dialysis record, if any.
pub(crate) fn load_patient(conn: &Connection, patient_id: &str) -> Result<Option<PatientRow>> {
    type Raw = (
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
        i64,
    );
    let raw: Option<Raw> = conn
        .prepare_cached(
            "SELECT hbsag, hbsag_tested_on, hcv, hcv_tested_on, hiv, hiv_tested_on, eligible \
             FROM dialysis_patients WHERE patient_id = ?1",
        )?
        .query_row([patient_id], |r| r.try_into())
        .optional()?;
    let Some((hb, hbd, hc, hcd, hi, hid, eligible)) = raw else {
        return Ok(None);
    };
    Ok(Some(PatientRow {
        serology: SerologyResults {
            hbsag: from_db(&hb, "serology")?,
            hcv: from_db(&hc, "serology")?,
            hiv: from_db(&hi, "serology")?,
        },
        tested: [opt_date(hbd)?, opt_date(hcd)?, opt_date(hid)?],
        eligible: eligible == 1,
    }))
}

/// The pool for stored serology text (the engine's hot path avoids loading dates).
pub(crate) fn pool_of(hbsag: &str, hcv: &str, hiv: &str) -> Result<Pool> {
    let s = SerologyResults {
        hbsag: from_db::<Serology>(hbsag, "serology")?,
        hcv: from_db::<Serology>(hcv, "serology")?,
        hiv: from_db::<Serology>(hiv, "serology")?,
    };
    Ok(rules::pool_for(s).pool)
}

/// Rules 7–8: the first machine of `pool` that is active, not under maintenance on `date` and
/// holds no booking in (`date`, `shift`); `prefer` (a machine id) first if it qualifies, then by
/// name.
pub(crate) fn free_machine(
    conn: &Connection,
    pool: Pool,
    date: &str,
    shift: u32,
    prefer: Option<&str>,
) -> Result<Option<(String, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.id, m.name FROM dialysis_machines m \
             WHERE m.pool = ?1 AND m.active = 1 \
               AND NOT EXISTS (SELECT 1 FROM dialysis_maintenance x WHERE x.machine_id = m.id \
                   AND x.from_date <= ?2 AND (x.to_date IS NULL OR x.to_date >= ?2)) \
               AND NOT EXISTS (SELECT 1 FROM dialysis_bookings b WHERE b.machine_id = m.id \
                   AND b.date = ?2 AND b.shift = ?3 \
                   AND b.status IN ('confirmed', 'checked_in', 'completed')) \
             ORDER BY m.id IS NOT ?4, m.name LIMIT 1",
        )?
        .query_row(params![pool.as_str(), date, shift, prefer], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// A waitlisted (or about to be) booking as the engine needs it.
#[derive(Debug, Clone)]
pub(crate) struct WaitRow {
    pub id: String,
    pub patient_id: String,
    pub date: String,
    pub shift: u32,
}

/// Rule 11: serves the waitlist of (`date`, `shift`) in order: each waitlisted booking, by
/// priority then request time, gets a free machine of its patient's pool if one exists.
pub(crate) fn promote_slot(
    conn: &Connection,
    date: &str,
    shift: u32,
    changes: &mut Changes,
) -> Result<()> {
    let waiting: Vec<(WaitRow, String, String, String)> = conn
        .prepare_cached(
            "SELECT b.id, b.patient_id, dp.hbsag, dp.hcv, dp.hiv FROM dialysis_bookings b \
             JOIN dialysis_patients dp ON dp.patient_id = b.patient_id \
             WHERE b.status = 'waitlisted' AND b.date = ?1 AND b.shift = ?2 \
             ORDER BY b.priority DESC, b.requested_at, b.rowid",
        )?
        .query_map(params![date, shift], |r| {
            Ok((
                WaitRow {
                    id: r.get(0)?,
                    patient_id: r.get(1)?,
                    date: date.to_owned(),
                    shift,
                },
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut full: Vec<Pool> = Vec::new();
    for (row, hb, hc, hi) in waiting {
        let pool = pool_of(&hb, &hc, &hi)?;
        if full.contains(&pool) {
            continue;
        }
        let Some((machine_id, machine)) = free_machine(conn, pool, date, shift, None)? else {
            full.push(pool);
            continue;
        };
        set_place(conn, &row.id, Status::Confirmed, Some(&machine_id))?;
        changes.moved(
            &row,
            SlotState {
                status: Status::Waitlisted,
                machine_id: None,
                machine: None,
            },
            SlotState {
                status: Status::Confirmed,
                machine_id: Some(machine_id),
                machine: Some(machine),
            },
            crate::actions::PROMOTE,
        );
    }
    Ok(())
}

/// Serves the waitlist of one (`date`, `shift`) slot, for callers outside the crate (the kiosk
/// core after settling a clash between two counters' bookings): the moves made and their audit
/// entries.
pub fn serve_slot(
    conn: &Connection,
    date: &str,
    shift: u32,
) -> Result<(Vec<Move>, Vec<AuditEvent>)> {
    let mut changes = Changes::default();
    promote_slot(conn, date, shift, &mut changes)?;
    Ok((changes.moves, changes.audit))
}

/// Serves every slot that has a waitlist from `from` on (after capacity was added).
pub(crate) fn promote_all(
    conn: &Connection,
    from: Option<Date>,
    changes: &mut Changes,
) -> Result<()> {
    let from = from.map(fmt_date).unwrap_or_default();
    let slots: Vec<(String, u32)> = conn
        .prepare_cached(
            "SELECT DISTINCT date, shift FROM dialysis_bookings \
             WHERE status = 'waitlisted' AND date >= ?1 ORDER BY date, shift",
        )?
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (d, s) in slots {
        promote_slot(conn, &d, s, changes)?;
    }
    Ok(())
}

/// Takes a confirmed booking off its machine and back onto the waitlist (its original priority
/// and request time keep its place), recording the move; the caller then serves the slot.
pub(crate) fn release_to_waitlist(
    conn: &Connection,
    row: &WaitRow,
    machine_id: &str,
    machine: &str,
    action: &'static str,
    changes: &mut Changes,
) -> Result<()> {
    set_place(conn, &row.id, Status::Waitlisted, None)?;
    changes.moved(
        row,
        SlotState {
            status: Status::Confirmed,
            machine_id: Some(machine_id.to_owned()),
            machine: Some(machine.to_owned()),
        },
        SlotState {
            status: Status::Waitlisted,
            machine_id: None,
            machine: None,
        },
        action,
    );
    Ok(())
}

fn set_place(conn: &Connection, id: &str, status: Status, machine_id: Option<&str>) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE dialysis_bookings SET status = ?2, machine_id = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![id, status.as_str(), machine_id, crate::model::now_instant()])?;
    if n == 1 {
        Ok(())
    } else {
        Err(DialysisError::not_found(format!("booking {id}")))
    }
}
