//! `swagat-admin dialysis ...`: the dialysis unit from the command line — machines, shifts, unit
//! settings, patients' serology, bookings (single and recurring), the day's schedule, the week,
//! the waitlist, check-in/no-show/completion, and online requests from the state portal.
//!
//! Each command runs one `swagat_dialysis` call inside one store transaction and writes the audit
//! entries it returns (who moved, why) in that same transaction, then prints one JSON object.
//! Refusals and bad values are input errors (exit 2); a missing booking, machine or patient is
//! "not found" (exit 3).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use swagat_core::{Actor, CoreError, Kiosk};
use swagat_dialysis::rusqlite::Connection;
use swagat_dialysis::time::Date;
use swagat_dialysis::{
    self as dialysis, AuditEvent, BookRequest, Move, PatientUpdate, Pool, Serology, Status,
    VascularAccess,
};

use crate::output::CliError;

/// Dialysis unit commands.
#[derive(Debug, Subcommand)]
pub enum DialysisCmd {
    /// Machines: add, list, maintenance, back in service.
    Machine {
        #[command(subcommand)]
        action: MachineCmd,
    },
    /// Shifts of the day.
    Shifts {
        #[command(subcommand)]
        action: ShiftsCmd,
    },
    /// Unit settings (working days, stale-serology threshold); prints them.
    Settings {
        /// Working weekdays, e.g. mon,tue,wed,thu,fri,sat.
        #[arg(long)]
        working_days: Option<String>,
        /// Serology older than this many days is flagged.
        #[arg(long)]
        stale_days: Option<i64>,
    },
    /// Holidays (the unit is closed).
    Holiday {
        #[command(subcommand)]
        action: HolidayCmd,
    },
    /// Dialysis patients: serology, access, dry weight, eligibility; one patient's schedule.
    Patient {
        #[command(subcommand)]
        action: PatientCmd,
    },
    /// Book a session, or a recurring series with --repeat and --weeks.
    Book(BookArgs),
    /// Cancel a booking (or with --series, a series from --from on); frees the machine for the
    /// waitlist.
    Cancel {
        /// The booking id.
        #[arg(long, required_unless_present = "series")]
        booking: Option<String>,
        /// A series id instead.
        #[arg(long, conflicts_with = "booking")]
        series: Option<String>,
        /// With --series: only sessions on or after this date.
        #[arg(long, value_name = "YYYY-MM-DD", requires = "series")]
        from: Option<String>,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Mark a confirmed booking as a no-show; frees the machine for the waitlist.
    NoShow {
        /// The booking id.
        #[arg(long)]
        booking: String,
    },
    /// Check in a patient for a confirmed booking.
    CheckIn {
        /// The booking id.
        #[arg(long)]
        booking: String,
        /// Weight before dialysis (kg).
        #[arg(long)]
        pre_weight: Option<f64>,
    },
    /// Complete a checked-in session.
    Complete {
        /// The booking id.
        #[arg(long)]
        booking: String,
        /// Weight after dialysis (kg).
        #[arg(long)]
        post_weight: Option<f64>,
        /// Weight before dialysis (kg), if not given at check-in.
        #[arg(long)]
        pre_weight: Option<f64>,
    },
    /// One day's board: shifts, machines, bookings and waitlist.
    Schedule {
        /// The day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
    },
    /// Seven days from --from: capacity, bookings and waitlist per shift and pool.
    Week {
        /// First day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
    },
    /// The waitlist in serving order.
    Waitlist {
        /// Only from this date on.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
    },
    /// Online requests pulled from the state portal and their answers (status as the portal
    /// sees it, reason, machine, whether the answer reached the server).
    Requests {
        /// How many, newest first.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Online booking requests from the state portal.
    Online {
        #[command(subcommand)]
        action: OnlineCmd,
    },
}

/// `dialysis book` arguments.
#[derive(Debug, Args)]
pub struct BookArgs {
    /// Patient id (from `register`).
    #[arg(long)]
    patient: String,
    /// The session date (first day of a series).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: String,
    /// Shift number (from 1).
    #[arg(long)]
    shift: u32,
    /// Weekdays of a recurring series: mon,wed,fri / tue,thu,sat / any list.
    #[arg(long, value_name = "DAYS")]
    repeat: Option<String>,
    /// Length of the series in weeks (default 1).
    #[arg(long, requires = "repeat")]
    weeks: Option<u32>,
    /// Waitlist priority: higher is served first.
    #[arg(long, default_value_t = 0)]
    priority: i64,
}

/// `dialysis machine ...`.
#[derive(Debug, Subcommand)]
pub enum MachineCmd {
    /// Add a machine to a pool.
    Add {
        /// Name shown on the board.
        #[arg(long)]
        name: String,
        /// negative, hbv, hcv, hiv or unknown.
        #[arg(long)]
        pool: Pool,
    },
    /// List machines with their maintenance periods.
    List,
    /// Take a machine out of service (its bookings move or go back to the waitlist).
    Maintenance {
        /// Machine name or id.
        #[arg(long)]
        machine: String,
        /// First day out of service (default today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
        /// Last day out of service (default: until `in-service`).
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Put a machine back in service (it serves the waitlist).
    InService {
        /// Machine name or id.
        #[arg(long)]
        machine: String,
        /// From this day (default today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
    },
}

/// `dialysis shifts ...`.
#[derive(Debug, Subcommand)]
pub enum ShiftsCmd {
    /// Replace the shifts by start times.
    Set {
        /// Start times, e.g. 06:00,10:30,15:00.
        #[arg(long)]
        times: String,
        /// Session length in minutes.
        #[arg(long, default_value_t = dialysis::unit::DEFAULT_DURATION_MIN)]
        duration: u32,
    },
    /// List the shifts.
    List,
}

/// `dialysis holiday ...`.
#[derive(Debug, Subcommand)]
pub enum HolidayCmd {
    /// Close the unit on a day.
    Add {
        /// The day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// What it is.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Reopen a day.
    Remove {
        /// The day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
    },
    /// List holidays.
    List,
}

/// `dialysis patient ...`.
#[derive(Debug, Subcommand)]
pub enum PatientCmd {
    /// Create or update a patient's dialysis record.
    Set {
        /// Patient id (from `register`).
        #[arg(long)]
        patient: String,
        /// HBsAg: pos, neg or unknown.
        #[arg(long)]
        hbsag: Option<Serology>,
        /// Anti-HCV: pos, neg or unknown.
        #[arg(long)]
        hcv: Option<Serology>,
        /// HIV: pos, neg or unknown.
        #[arg(long)]
        hiv: Option<Serology>,
        /// Date of these results.
        #[arg(long, value_name = "YYYY-MM-DD")]
        tested_on: Option<String>,
        /// Vascular access: avf, avg, catheter, other.
        #[arg(long)]
        access: Option<VascularAccess>,
        /// Dry weight (kg).
        #[arg(long)]
        dry_weight: Option<f64>,
        /// Eligibility scheme or card (e.g. PMNDP-BPL).
        #[arg(long)]
        eligibility: Option<String>,
        /// Whether the patient may be booked.
        #[arg(long)]
        eligible: Option<bool>,
    },
    /// A patient's record and sessions.
    Show {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Only sessions from this date on.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
    },
}

/// `dialysis online ...`.
#[derive(Debug, Subcommand)]
pub enum OnlineCmd {
    /// Allocate one portal request (JSON: patient_id, date, shift, priority, requested_at).
    Ingest {
        /// The portal's request id.
        #[arg(long)]
        id: String,
        /// The request JSON (a file, or - for stdin).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// The newest requests and their answers.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn date(field: &str, s: &str) -> swagat_core::Result<Date> {
    dialysis::parse_date(field, s).map_err(CoreError::from)
}

fn opt_date(field: &str, s: Option<&str>) -> swagat_core::Result<Option<Date>> {
    s.map(|s| date(field, s)).transpose()
}

fn today(conn: &Connection) -> swagat_core::Result<Date> {
    let s = swagat_core::config::load_settings(conn)?;
    Ok(swagat_core::clock::local_date(
        swagat_core::clock::now_utc(),
        s.utc_offset_minutes,
    ))
}

/// Writes `events` to the audit log as the CLI.
fn audit(conn: &Connection, events: &[AuditEvent]) -> swagat_core::Result<()> {
    for e in events {
        swagat_core::audit::record(
            conn,
            &Actor::Cli,
            e.action,
            e.entity,
            Some(&e.entity_id),
            e.details.clone(),
        )?;
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> swagat_core::Result<Value> {
    serde_json::to_value(v).map_err(|e| CoreError::Corrupt(e.to_string()))
}

/// The bookings that left the waitlist for a machine.
fn promoted(moves: &[Move]) -> Vec<&Move> {
    moves
        .iter()
        .filter(|m| m.from.status == Status::Waitlisted && m.to.status == Status::Confirmed)
        .collect()
}

/// Runs a `dialysis` command; prints nothing itself (the caller prints the JSON).
pub fn run(cmd: DialysisCmd, kiosk: &Kiosk) -> Result<Value, CliError> {
    let store = kiosk.store();
    let d = CoreError::from;
    let value = match cmd {
        DialysisCmd::Machine { action } => match action {
            MachineCmd::Add { name, pool } => store.write(|tx| {
                let out = dialysis::machines::add(tx, &name, pool).map_err(d)?;
                audit(tx, &out.audit)?;
                Ok(
                    json!({ "machine": to_json(&out.machine)?, "moves": to_json(&out.moves)?,
                    "promoted": to_json(&promoted(&out.moves))? }),
                )
            })?,
            MachineCmd::List => store.read(|c| {
                Ok(json!({ "machines": to_json(&dialysis::machines::list(c).map_err(d)?)? }))
            })?,
            MachineCmd::Maintenance {
                machine,
                from,
                to,
                reason,
            } => store.write(|tx| {
                let from = match from.as_deref() {
                    Some(s) => date("from", s)?,
                    None => today(tx)?,
                };
                let to = opt_date("to", to.as_deref())?;
                let out = dialysis::machines::set_maintenance(tx, &machine, from, to, &reason)
                    .map_err(d)?;
                audit(tx, &out.audit)?;
                Ok(
                    json!({ "machine": to_json(&out.machine)?, "moves": to_json(&out.moves)?,
                    "promoted": to_json(&promoted(&out.moves))? }),
                )
            })?,
            MachineCmd::InService { machine, from } => store.write(|tx| {
                let from = match from.as_deref() {
                    Some(s) => date("from", s)?,
                    None => today(tx)?,
                };
                let out = dialysis::machines::end_maintenance(tx, &machine, from).map_err(d)?;
                audit(tx, &out.audit)?;
                Ok(
                    json!({ "machine": to_json(&out.machine)?, "moves": to_json(&out.moves)?,
                    "promoted": to_json(&promoted(&out.moves))? }),
                )
            })?,
        },
        DialysisCmd::Shifts { action } => match action {
            ShiftsCmd::Set { times, duration } => store.write(|tx| {
                let shifts =
                    dialysis::unit::set_shifts(tx, &dialysis::unit::parse_times(&times), duration)
                        .map_err(d)?;
                swagat_core::audit::record(
                    tx,
                    &Actor::Cli,
                    "dialysis.shifts_set",
                    "dialysis_shifts",
                    None,
                    json!({ "times": times, "duration_min": duration }),
                )?;
                Ok(json!({ "shifts": to_json(&shifts)? }))
            })?,
            ShiftsCmd::List => store.read(|c| {
                Ok(json!({ "shifts": to_json(&dialysis::unit::shifts(c).map_err(d)?)? }))
            })?,
        },
        DialysisCmd::Settings {
            working_days,
            stale_days,
        } => store.write(|tx| {
            let days = working_days
                .as_deref()
                .map(|s| dialysis::parse_weekdays("working_days", s))
                .transpose()
                .map_err(d)?;
            let changed = days.is_some() || stale_days.is_some();
            let s = dialysis::unit::set_settings(tx, days.as_deref(), stale_days).map_err(d)?;
            if changed {
                swagat_core::audit::record(
                    tx,
                    &Actor::Cli,
                    "dialysis.settings",
                    "dialysis_unit",
                    None,
                    to_json(&s)?,
                )?;
            }
            Ok(json!({ "settings": to_json(&s)? }))
        })?,
        DialysisCmd::Holiday { action } => match action {
            HolidayCmd::Add { date: day, name } => store.write(|tx| {
                let h = dialysis::unit::add_holiday(tx, date("date", &day)?, &name).map_err(d)?;
                swagat_core::audit::record(
                    tx,
                    &Actor::Cli,
                    "dialysis.holiday_add",
                    "dialysis_holiday",
                    Some(&h.date),
                    json!({}),
                )?;
                Ok(json!({ "holiday": to_json(&h)? }))
            })?,
            HolidayCmd::Remove { date: day } => store.write(|tx| {
                let removed = dialysis::unit::remove_holiday(tx, date("date", &day)?).map_err(d)?;
                if removed {
                    swagat_core::audit::record(
                        tx,
                        &Actor::Cli,
                        "dialysis.holiday_remove",
                        "dialysis_holiday",
                        Some(&day),
                        json!({}),
                    )?;
                }
                Ok(json!({ "date": day, "removed": removed }))
            })?,
            HolidayCmd::List => store.read(|c| {
                Ok(json!({ "holidays": to_json(&dialysis::unit::holidays(c, None).map_err(d)?)? }))
            })?,
        },
        DialysisCmd::Patient { action } => match action {
            PatientCmd::Set {
                patient,
                hbsag,
                hcv,
                hiv,
                tested_on,
                access,
                dry_weight,
                eligibility,
                eligible,
            } => store.write(|tx| {
                let update = PatientUpdate {
                    patient_id: patient.clone(),
                    hbsag,
                    hcv,
                    hiv,
                    tested_on: opt_date("tested_on", tested_on.as_deref())?,
                    vascular_access: access,
                    dry_weight_kg: dry_weight,
                    eligibility: eligibility.clone(),
                    eligible,
                };
                let out = dialysis::patients::set(tx, &update).map_err(d)?;
                audit(tx, &out.audit)?;
                Ok(
                    json!({ "patient": to_json(&out.patient)?, "created": out.created,
                        "moves": to_json(&out.moves)? }),
                )
            })?,
            PatientCmd::Show { patient, from } => store.read(|c| {
                let from = opt_date("from", from.as_deref())?;
                to_json(&dialysis::patient_schedule(c, &patient, from).map_err(d)?)
            })?,
        },
        DialysisCmd::Book(a) => store.write(|tx| {
            let start = date("date", &a.date)?;
            let repeat = a
                .repeat
                .as_deref()
                .map(|s| dialysis::parse_weekdays("repeat", s))
                .transpose()
                .map_err(d)?;
            let req = BookRequest {
                repeat,
                weeks: a.weeks.unwrap_or(1),
                priority: a.priority,
                ..BookRequest::single(a.patient.trim(), start, a.shift)
            };
            let out = dialysis::book(tx, &req).map_err(d)?;
            audit(tx, &out.audit)?;
            Ok(json!({
                "series_id": out.series_id,
                "bookings": to_json(&out.bookings)?,
                "refused": to_json(&out.refused)?,
                "warnings": to_json(&out.warnings)?,
            }))
        })?,
        DialysisCmd::Cancel {
            booking,
            series,
            from,
            reason,
        } => store.write(|tx| {
            let outs = match (booking, series) {
                (Some(id), _) => vec![dialysis::cancel(tx, &id, reason.as_deref()).map_err(d)?],
                (None, Some(series)) => {
                    let from = opt_date("from", from.as_deref())?;
                    dialysis::cancel_series(tx, &series, from, reason.as_deref()).map_err(d)?
                }
                (None, None) => {
                    return Err(CoreError::invalid(
                        "booking",
                        "give --booking or --series",
                        "--booking या --series दें",
                    ))
                }
            };
            let mut moves = Vec::new();
            for o in &outs {
                audit(tx, &o.audit)?;
                moves.extend(o.moves.iter().cloned());
            }
            let bookings: Vec<_> = outs.iter().map(|o| &o.booking).collect();
            let mut v = json!({ "cancelled": to_json(&bookings)?, "moves": to_json(&moves)?,
                "promoted": to_json(&promoted(&moves))? });
            if let [one] = outs.as_slice() {
                v["booking"] = to_json(&one.booking)?;
            }
            Ok(v)
        })?,
        DialysisCmd::NoShow { booking } => store.write(|tx| {
            let out = dialysis::no_show(tx, &booking).map_err(d)?;
            audit(tx, &out.audit)?;
            change_json(&out)
        })?,
        DialysisCmd::CheckIn {
            booking,
            pre_weight,
        } => store.write(|tx| {
            let out = dialysis::check_in(tx, &booking, pre_weight).map_err(d)?;
            audit(tx, &out.audit)?;
            change_json(&out)
        })?,
        DialysisCmd::Complete {
            booking,
            post_weight,
            pre_weight,
        } => store.write(|tx| {
            let out = dialysis::complete(tx, &booking, pre_weight, post_weight).map_err(d)?;
            audit(tx, &out.audit)?;
            change_json(&out)
        })?,
        DialysisCmd::Schedule { date: day } => {
            store.read(|c| to_json(&dialysis::schedule(c, date("date", &day)?).map_err(d)?))?
        }
        DialysisCmd::Week { from } => {
            store.read(|c| to_json(&dialysis::week(c, date("from", &from)?).map_err(d)?))?
        }
        DialysisCmd::Waitlist { from } => store.read(|c| {
            let from = opt_date("from", from.as_deref())?;
            Ok(json!({ "waitlist": to_json(&dialysis::waitlist(c, from).map_err(d)?)? }))
        })?,
        DialysisCmd::Requests { limit } => store.read(|c| {
            Ok(json!({ "requests": swagat_core::inbox::dialysis_requests(c, limit.clamp(1, 10_000))? }))
        })?,
        DialysisCmd::Online { action } => match action {
            OnlineCmd::Ingest { id, file } => {
                let payload = crate::cli::read_input(&file)?;
                store.write(|tx| {
                    let out = dialysis::online::ingest(tx, &id, &payload).map_err(d)?;
                    audit(tx, &out.audit)?;
                    to_json(&out)
                })?
            }
            OnlineCmd::List { limit } => store.read(|c| {
                Ok(json!({ "requests": to_json(&dialysis::online::list(c, limit).map_err(d)?)? }))
            })?,
        },
    };
    Ok(value)
}

fn change_json(out: &dialysis::ChangeOutcome) -> swagat_core::Result<Value> {
    Ok(json!({
        "booking": to_json(&out.booking)?,
        "moves": to_json(&out.moves)?,
        "promoted": to_json(&promoted(&out.moves))?,
        "warnings": to_json(&out.warnings)?,
    }))
}
