//! The dialysis unit's use cases: what the app's dialysis commands and `swagat-admin dialysis …`
//! both call, so the two can never drift apart.
//!
//! Each method of [`DialysisUnit`] (from [`Kiosk::dialysis`]) is one action of the nurse: it
//! checks the actor's role (a dialysis nurse or an administrator; `swagat-admin` at the machine),
//! runs the `swagat_dialysis` call and writes its audit entries in ONE store transaction, with the
//! action names of [`actions`]. Inputs arrive as the screens and the command line give them
//! (dates as `YYYY-MM-DD` text) and are settled here once: an empty date is absent, a maintenance
//! period or a return to service without a first day starts today (the facility's today), a
//! series runs one week and a booking has normal priority unless told otherwise, and the unit's
//! settings are audited only when they change.
//!
//! The shell and the admin CLI depend on this crate only: the dialysis types they name are
//! re-exported here.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use crate::audit::{self, Actor};
use crate::error::{CoreError, Result};
use crate::kiosk::Kiosk;
use crate::store::Store;

pub use swagat_dialysis::unit::{Holiday, Shift, UnitSettings, DEFAULT_DURATION_MIN};
pub use swagat_dialysis::views::PatientSchedule;
pub use swagat_dialysis::{
    actions, entities, AffectedBooking, AuditEvent, BookOutcome, BookedSlot, BookingView,
    ChangeOutcome, DaySchedule, DialysisPatient, Machine, MachineOutcome, Move, OnlineOutcome,
    PatientOutcome, Pool, Serology, Status, VascularAccess, Warning, WeekView,
};

/// The booking form: one date, or a weekday pattern (`mon,wed,fri`, `mwf`, `tts`) for a number
/// of weeks.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BookForm {
    /// The core's patient id.
    pub patient_id: String,
    /// The session date, or the first day of a series (`YYYY-MM-DD`).
    pub date: String,
    /// Shift number (from 1).
    pub shift: u32,
    /// Weekdays of a series; empty or absent: the one date.
    #[serde(default)]
    pub repeat: Option<String>,
    /// Length of the series in weeks (default 1).
    #[serde(default)]
    pub weeks: Option<u32>,
    /// Waitlist priority, higher first (default 0).
    #[serde(default)]
    pub priority: Option<i64>,
}

/// The dialysis record form (serology, access, dry weight, eligibility); absent fields are left
/// as they are.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields = nullable))]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PatientForm {
    /// The core's patient id.
    pub patient_id: String,
    /// HBsAg.
    #[serde(default)]
    pub hbsag: Option<Serology>,
    /// Anti-HCV.
    #[serde(default)]
    pub hcv: Option<Serology>,
    /// HIV.
    #[serde(default)]
    pub hiv: Option<Serology>,
    /// Date of these results (`YYYY-MM-DD`; empty is absent).
    #[serde(default)]
    pub tested_on: Option<String>,
    /// Vascular access.
    #[serde(default)]
    pub vascular_access: Option<VascularAccess>,
    /// Dry weight (kg).
    #[serde(default)]
    pub dry_weight_kg: Option<f64>,
    /// Eligibility scheme or card.
    #[serde(default)]
    pub eligibility: Option<String>,
    /// May be booked.
    #[serde(default)]
    pub eligible: Option<bool>,
}

/// The unit's settings (working weekdays, stale-serology threshold) and coming holidays.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct UnitSetup {
    /// Settings.
    pub settings: UnitSettings,
    /// Holidays from the requested day on.
    pub holidays: Vec<Holiday>,
}

/// The dialysis unit of a kiosk (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct DialysisUnit<'k> {
    store: &'k Store,
}

impl Kiosk {
    /// The dialysis unit's use cases.
    pub fn dialysis(&self) -> DialysisUnit<'_> {
        DialysisUnit {
            store: self.store(),
        }
    }
}

/// The bookings among `moves` that left the waitlist for a machine.
pub fn promoted(moves: &[Move]) -> Vec<&Move> {
    moves
        .iter()
        .filter(|m| m.from.status == Status::Waitlisted && m.to.status == Status::Confirmed)
        .collect()
}

/// Refuses anyone but a dialysis nurse or an administrator (active accounts), or `swagat-admin`
/// at the machine.
pub fn require_nurse(conn: &Connection, actor: &Actor) -> Result<()> {
    use crate::staff::{require_role, Role};
    require_role(
        conn,
        actor,
        &[Role::DialysisNurse, Role::Admin],
        (
            "only a dialysis nurse or an administrator may do this",
            "यह केवल डायलिसिस नर्स या व्यवस्थापक कर सकते हैं",
        ),
    )
}

fn date(field: &str, s: &str) -> Result<Date> {
    swagat_dialysis::parse_date(field, s).map_err(CoreError::from)
}

/// An optional date: absent or empty is `None`.
fn opt_date(field: &str, s: Option<&str>) -> Result<Option<Date>> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| date(field, s))
        .transpose()
}

/// An optional date defaulting to the facility's today.
fn date_or_today(conn: &Connection, field: &str, s: Option<&str>) -> Result<Date> {
    match opt_date(field, s)? {
        Some(d) => Ok(d),
        None => today(conn),
    }
}

/// The facility's today (its time zone, like the OPD's "today").
pub fn today(conn: &Connection) -> Result<Date> {
    let s = crate::config::load_settings(conn)?;
    Ok(crate::clock::local_date(
        crate::clock::now_utc(),
        s.utc_offset_minutes,
    ))
}

fn weekdays(field: &str, s: Option<&str>) -> Result<Option<Vec<time::Weekday>>> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| swagat_dialysis::parse_weekdays(field, s))
        .transpose()
        .map_err(CoreError::from)
}

/// Writes the audit entries a dialysis use case returned, in its transaction (the use cases
/// here and the online requests folded by the inbox).
pub(crate) fn record_all(conn: &Connection, actor: &Actor, events: &[AuditEvent]) -> Result<()> {
    for e in events {
        audit::record(
            conn,
            actor,
            e.action,
            e.entity,
            Some(&e.entity_id),
            e.details.clone(),
        )?;
    }
    Ok(())
}

fn d<T>(r: swagat_dialysis::Result<T>) -> Result<T> {
    r.map_err(CoreError::from)
}

impl DialysisUnit<'_> {
    /// One transaction as `actor`, after the role check.
    fn write<T>(&self, actor: &Actor, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.store.write(|tx| {
            require_nurse(tx, actor)?;
            f(tx)
        })
    }

    /// A read as `actor`, after the role check.
    fn read<T>(&self, actor: &Actor, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.store.read(|c| {
            require_nurse(c, actor)?;
            f(c)
        })
    }

    /// The day board of `day` (`YYYY-MM-DD`; empty: today).
    pub fn day(&self, actor: &Actor, day: &str) -> Result<DaySchedule> {
        self.read(actor, |c| {
            let day = date_or_today(c, "day", Some(day))?;
            d(swagat_dialysis::schedule(c, day))
        })
    }

    /// Seven days from `from` (empty: today).
    pub fn week(&self, actor: &Actor, from: &str) -> Result<WeekView> {
        self.read(actor, |c| {
            let from = date_or_today(c, "from", Some(from))?;
            d(swagat_dialysis::week(c, from))
        })
    }

    /// The waitlist in serving order, from `from` on (everything when absent).
    pub fn waitlist(&self, actor: &Actor, from: Option<&str>) -> Result<Vec<BookingView>> {
        self.read(actor, |c| {
            d(swagat_dialysis::waitlist(c, opt_date("from", from)?))
        })
    }

    /// One patient's dialysis record and sessions from `from` on (all when absent).
    pub fn patient_schedule(
        &self,
        actor: &Actor,
        patient_id: &str,
        from: Option<&str>,
    ) -> Result<PatientSchedule> {
        self.read(actor, |c| {
            d(swagat_dialysis::patient_schedule(
                c,
                patient_id,
                opt_date("from", from)?,
            ))
        })
    }

    /// Every machine (retired ones included) with its maintenance periods.
    pub fn machines(&self, actor: &Actor) -> Result<Vec<Machine>> {
        self.read(actor, |c| d(swagat_dialysis::machines::list(c)))
    }

    fn machine_change(
        &self,
        actor: &Actor,
        f: impl FnOnce(&Connection) -> Result<MachineOutcome>,
    ) -> Result<MachineOutcome> {
        self.write(actor, |tx| {
            let out = f(tx)?;
            record_all(tx, actor, &out.audit)?;
            Ok(out)
        })
    }

    /// Adds a machine to a pool (it serves the waitlist at once).
    pub fn add_machine(&self, actor: &Actor, name: &str, pool: Pool) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            d(swagat_dialysis::machines::add(tx, name, pool))
        })
    }

    /// Renames a machine (by id or name).
    pub fn rename_machine(
        &self,
        actor: &Actor,
        machine: &str,
        new_name: &str,
    ) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            d(swagat_dialysis::machines::rename(tx, machine, new_name))
        })
    }

    /// Moves a machine to another pool from today on; its future bookings that the new pool does
    /// not accept are moved to a fitting machine in the same slot or waitlisted, and listed in
    /// `affected`.
    pub fn set_machine_pool(
        &self,
        actor: &Actor,
        machine: &str,
        pool: Pool,
    ) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            let today = today(tx)?;
            d(swagat_dialysis::machines::set_pool(
                tx, machine, pool, today,
            ))
        })
    }

    /// Retires a machine: no new bookings, its future bookings moved or waitlisted (listed in
    /// `affected`), its history kept.
    pub fn retire_machine(&self, actor: &Actor, machine: &str) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            let today = today(tx)?;
            d(swagat_dialysis::machines::retire(tx, machine, today))
        })
    }

    /// Takes a machine out of service from `from` (default today) to `to` (open-ended when
    /// absent).
    pub fn set_maintenance(
        &self,
        actor: &Actor,
        machine: &str,
        from: Option<&str>,
        to: Option<&str>,
        reason: &str,
    ) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            let from = date_or_today(tx, "from", from)?;
            let to = opt_date("to", to)?;
            d(swagat_dialysis::machines::set_maintenance(
                tx, machine, from, to, reason,
            ))
        })
    }

    /// Puts a machine back in service from `from` (default today).
    pub fn end_maintenance(
        &self,
        actor: &Actor,
        machine: &str,
        from: Option<&str>,
    ) -> Result<MachineOutcome> {
        self.machine_change(actor, |tx| {
            let from = date_or_today(tx, "from", from)?;
            d(swagat_dialysis::machines::end_maintenance(
                tx, machine, from,
            ))
        })
    }

    /// The shifts of the day.
    pub fn shifts(&self, actor: &Actor) -> Result<Vec<Shift>> {
        self.read(actor, |c| d(swagat_dialysis::unit::shifts(c)))
    }

    /// Replaces the shifts (`06:00,10:30,15:00`), each `duration_min` long (default 240);
    /// audited when they change.
    pub fn set_shifts(
        &self,
        actor: &Actor,
        times: &str,
        duration_min: Option<u32>,
    ) -> Result<Vec<Shift>> {
        self.write(actor, |tx| {
            let duration = duration_min.unwrap_or(DEFAULT_DURATION_MIN);
            let before = d(swagat_dialysis::unit::shifts(tx))?;
            let starts = swagat_dialysis::unit::parse_times(times);
            let shifts = d(swagat_dialysis::unit::set_shifts(tx, &starts, duration))?;
            if shifts != before {
                let times: Vec<&str> = shifts.iter().map(|s| s.start.as_str()).collect();
                audit::record(
                    tx,
                    actor,
                    actions::SHIFTS_SET,
                    entities::SHIFTS,
                    None,
                    json!({ "times": times.join(","), "duration_min": duration }),
                )?;
            }
            Ok(shifts)
        })
    }

    /// The unit's settings and the holidays from `from` on (all when absent).
    pub fn unit(&self, actor: &Actor, from: Option<&str>) -> Result<UnitSetup> {
        self.read(actor, |c| {
            Ok(UnitSetup {
                settings: d(swagat_dialysis::unit::settings(c))?,
                holidays: d(swagat_dialysis::unit::holidays(c, opt_date("from", from)?))?,
            })
        })
    }

    /// Changes the working weekdays (`mon,tue,...`; empty or absent: unchanged) and/or the
    /// stale-serology threshold; audited only when something changed.
    pub fn set_unit(
        &self,
        actor: &Actor,
        working_days: Option<&str>,
        stale_days: Option<i64>,
    ) -> Result<UnitSettings> {
        self.write(actor, |tx| {
            let days = weekdays("working_days", working_days)?;
            let before = d(swagat_dialysis::unit::settings(tx))?;
            let s = d(swagat_dialysis::unit::set_settings(
                tx,
                days.as_deref(),
                stale_days,
            ))?;
            if s != before {
                let details =
                    serde_json::to_value(&s).map_err(|e| CoreError::Corrupt(e.to_string()))?;
                audit::record(tx, actor, actions::SETTINGS, entities::UNIT, None, details)?;
            }
            Ok(s)
        })
    }

    /// Declares a holiday (refused while the day has active bookings).
    pub fn add_holiday(&self, actor: &Actor, day: &str, name: &str) -> Result<Holiday> {
        self.write(actor, |tx| {
            let h = d(swagat_dialysis::unit::add_holiday(
                tx,
                date("date", day)?,
                name,
            ))?;
            audit::record(
                tx,
                actor,
                actions::HOLIDAY_ADD,
                entities::HOLIDAY,
                Some(&h.date),
                json!({}),
            )?;
            Ok(h)
        })
    }

    /// Removes a holiday; `false` if there was none (then nothing is audited).
    pub fn remove_holiday(&self, actor: &Actor, day: &str) -> Result<bool> {
        self.write(actor, |tx| {
            let day = date("date", day)?;
            let removed = d(swagat_dialysis::unit::remove_holiday(tx, day))?;
            if removed {
                audit::record(
                    tx,
                    actor,
                    actions::HOLIDAY_REMOVE,
                    entities::HOLIDAY,
                    Some(&swagat_dialysis::model::fmt_date(day)),
                    json!({}),
                )?;
            }
            Ok(removed)
        })
    }

    /// Creates or updates a patient's dialysis record (a serology change moves bookings).
    pub fn set_patient(&self, actor: &Actor, form: &PatientForm) -> Result<PatientOutcome> {
        self.write(actor, |tx| {
            let update = swagat_dialysis::PatientUpdate {
                patient_id: form.patient_id.trim().to_owned(),
                hbsag: form.hbsag,
                hcv: form.hcv,
                hiv: form.hiv,
                tested_on: opt_date("tested_on", form.tested_on.as_deref())?,
                vascular_access: form.vascular_access,
                dry_weight_kg: form.dry_weight_kg,
                eligibility: form.eligibility.clone(),
                eligible: form.eligible,
            };
            let out = d(swagat_dialysis::patients::set(tx, &update))?;
            record_all(tx, actor, &out.audit)?;
            Ok(out)
        })
    }

    /// Books a session or a recurring series.
    pub fn book(&self, actor: &Actor, form: &BookForm) -> Result<BookOutcome> {
        self.write(actor, |tx| {
            let req = swagat_dialysis::BookRequest {
                repeat: weekdays("repeat", form.repeat.as_deref())?,
                weeks: form.weeks.unwrap_or(1),
                priority: form.priority.unwrap_or(0),
                ..swagat_dialysis::BookRequest::single(
                    form.patient_id.trim(),
                    date("date", &form.date)?,
                    form.shift,
                )
            };
            let out = d(swagat_dialysis::book(tx, &req))?;
            record_all(tx, actor, &out.audit)?;
            Ok(out)
        })
    }

    fn change(
        &self,
        actor: &Actor,
        f: impl FnOnce(&Connection) -> Result<ChangeOutcome>,
    ) -> Result<ChangeOutcome> {
        self.write(actor, |tx| {
            let out = f(tx)?;
            record_all(tx, actor, &out.audit)?;
            Ok(out)
        })
    }

    /// Cancels a booking; the freed machine serves the waitlist.
    pub fn cancel(
        &self,
        actor: &Actor,
        booking_id: &str,
        reason: Option<&str>,
    ) -> Result<ChangeOutcome> {
        self.change(actor, |tx| {
            d(swagat_dialysis::cancel(tx, booking_id, reason))
        })
    }

    /// Cancels a series' sessions from `from` on (all when absent), in one transaction.
    pub fn cancel_series(
        &self,
        actor: &Actor,
        series_id: &str,
        from: Option<&str>,
        reason: Option<&str>,
    ) -> Result<Vec<ChangeOutcome>> {
        self.write(actor, |tx| {
            let outs = d(swagat_dialysis::cancel_series(
                tx,
                series_id,
                opt_date("from", from)?,
                reason,
            ))?;
            for o in &outs {
                record_all(tx, actor, &o.audit)?;
            }
            Ok(outs)
        })
    }

    /// Marks a no-show; the freed machine serves the waitlist.
    pub fn no_show(&self, actor: &Actor, booking_id: &str) -> Result<ChangeOutcome> {
        self.change(actor, |tx| d(swagat_dialysis::no_show(tx, booking_id)))
    }

    /// Checks a patient in (stale serology comes back as a warning).
    pub fn check_in(
        &self,
        actor: &Actor,
        booking_id: &str,
        pre_weight_kg: Option<f64>,
    ) -> Result<ChangeOutcome> {
        self.change(actor, |tx| {
            d(swagat_dialysis::check_in(tx, booking_id, pre_weight_kg))
        })
    }

    /// Completes a checked-in session.
    pub fn complete(
        &self,
        actor: &Actor,
        booking_id: &str,
        pre_weight_kg: Option<f64>,
        post_weight_kg: Option<f64>,
    ) -> Result<ChangeOutcome> {
        self.change(actor, |tx| {
            d(swagat_dialysis::complete(
                tx,
                booking_id,
                pre_weight_kg,
                post_weight_kg,
            ))
        })
    }

    /// Online requests pulled from the state portal, newest first, with the unit's answers and
    /// whether the server has them (no patient details).
    pub fn online_requests(
        &self,
        actor: &Actor,
        limit: u32,
    ) -> Result<Vec<crate::inbox::DialysisRequest>> {
        self.read(actor, |c| {
            crate::inbox::dialysis_requests(c, limit.clamp(1, 10_000))
        })
    }

    /// Allocates one portal request by hand (its JSON payload); answered once per request id.
    pub fn online_ingest(
        &self,
        actor: &Actor,
        request_id: &str,
        payload: &str,
    ) -> Result<OnlineOutcome> {
        self.write(actor, |tx| {
            let out = d(swagat_dialysis::online::ingest(tx, request_id, payload))?;
            record_all(tx, actor, &out.audit)?;
            Ok(out)
        })
    }

    /// The newest requests answered on this kiosk.
    pub fn online_list(
        &self,
        actor: &Actor,
        limit: u32,
    ) -> Result<Vec<swagat_dialysis::online::OnlineRequest>> {
        self.read(actor, |c| d(swagat_dialysis::online::list(c, limit)))
    }
}

#[cfg(test)]
#[path = "dialysis_tests.rs"]
mod tests;
