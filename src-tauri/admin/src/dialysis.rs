//! `swagat-admin dialysis ...`: the dialysis unit from the command line — machines, shifts, unit
//! settings, patients' serology, bookings (single and recurring), the day's schedule, the week,
//! the waitlist, check-in/no-show/completion, and online requests from the state portal.
//!
//! Each arm is one call to the core's [`swagat_core::dialysis::DialysisUnit`] (the same use cases
//! the app's dialysis screen calls: role check, one transaction with its audit entries) as the CLI
//! actor, then prints one JSON object. Refusals and bad values are input errors (exit 2); a
//! missing booking, machine or patient is "not found" (exit 3).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use swagat_core::dialysis::{
    promoted, BookForm, ChangeOutcome, MachineOutcome, PatientForm, Pool, Serology, VascularAccess,
    DEFAULT_DURATION_MIN,
};
use swagat_core::{Actor, CoreError, Kiosk};

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
    /// Rename a machine (its bookings and history stay with it).
    Rename {
        /// Machine name or id.
        #[arg(long)]
        machine: String,
        /// The new name.
        #[arg(long)]
        name: String,
    },
    /// Move a machine to another pool from today on: its future bookings the new pool does not
    /// accept move to a fitting machine in the same slot or to the waitlist ("affected").
    Repool {
        /// Machine name or id.
        #[arg(long)]
        machine: String,
        /// negative, hbv, hcv, hiv or unknown.
        #[arg(long)]
        pool: Pool,
    },
    /// Retire a machine: no new bookings, its future bookings moved or waitlisted ("affected"),
    /// its history kept.
    Retire {
        /// Machine name or id.
        #[arg(long)]
        machine: String,
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
        #[arg(long, default_value_t = DEFAULT_DURATION_MIN)]
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

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, CliError> {
    serde_json::to_value(v).map_err(|e| CliError::Other(e.to_string()))
}

fn machine_json(out: &MachineOutcome) -> Result<Value, CliError> {
    Ok(json!({
        "machine": to_json(&out.machine)?,
        "moves": to_json(&out.moves)?,
        "promoted": to_json(&promoted(&out.moves))?,
        "affected": to_json(&out.affected)?,
    }))
}

fn change_json(out: &ChangeOutcome) -> Result<Value, CliError> {
    Ok(json!({
        "booking": to_json(&out.booking)?,
        "moves": to_json(&out.moves)?,
        "promoted": to_json(&promoted(&out.moves))?,
        "warnings": to_json(&out.warnings)?,
    }))
}

/// Runs a `dialysis` command; prints nothing itself (the caller prints the JSON).
pub fn run(cmd: DialysisCmd, kiosk: &Kiosk) -> Result<Value, CliError> {
    let unit = kiosk.dialysis();
    let me = &Actor::Cli;
    match cmd {
        DialysisCmd::Machine { action } => match action {
            MachineCmd::Add { name, pool } => machine_json(&unit.add_machine(me, &name, pool)?),
            MachineCmd::List => Ok(json!({ "machines": to_json(&unit.machines(me)?)? })),
            MachineCmd::Maintenance {
                machine,
                from,
                to,
                reason,
            } => machine_json(&unit.set_maintenance(
                me,
                &machine,
                from.as_deref(),
                to.as_deref(),
                &reason,
            )?),
            MachineCmd::InService { machine, from } => {
                machine_json(&unit.end_maintenance(me, &machine, from.as_deref())?)
            }
            MachineCmd::Rename { machine, name } => {
                machine_json(&unit.rename_machine(me, &machine, &name)?)
            }
            MachineCmd::Repool { machine, pool } => {
                machine_json(&unit.set_machine_pool(me, &machine, pool)?)
            }
            MachineCmd::Retire { machine } => machine_json(&unit.retire_machine(me, &machine)?),
        },
        DialysisCmd::Shifts { action } => match action {
            ShiftsCmd::Set { times, duration } => {
                Ok(json!({ "shifts": to_json(&unit.set_shifts(me, &times, Some(duration))?)? }))
            }
            ShiftsCmd::List => Ok(json!({ "shifts": to_json(&unit.shifts(me)?)? })),
        },
        DialysisCmd::Settings {
            working_days,
            stale_days,
        } => {
            let s = unit.set_unit(me, working_days.as_deref(), stale_days)?;
            Ok(json!({ "settings": to_json(&s)? }))
        }
        DialysisCmd::Holiday { action } => match action {
            HolidayCmd::Add { date, name } => {
                Ok(json!({ "holiday": to_json(&unit.add_holiday(me, &date, &name)?)? }))
            }
            HolidayCmd::Remove { date } => {
                let removed = unit.remove_holiday(me, &date)?;
                Ok(json!({ "date": date, "removed": removed }))
            }
            HolidayCmd::List => Ok(json!({ "holidays": to_json(&unit.unit(me, None)?.holidays)? })),
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
            } => {
                let out = unit.set_patient(
                    me,
                    &PatientForm {
                        patient_id: patient,
                        hbsag,
                        hcv,
                        hiv,
                        tested_on,
                        vascular_access: access,
                        dry_weight_kg: dry_weight,
                        eligibility,
                        eligible,
                    },
                )?;
                Ok(
                    json!({ "patient": to_json(&out.patient)?, "created": out.created,
                    "moves": to_json(&out.moves)? }),
                )
            }
            PatientCmd::Show { patient, from } => {
                to_json(&unit.patient_schedule(me, &patient, from.as_deref())?)
            }
        },
        DialysisCmd::Book(a) => to_json(&unit.book(
            me,
            &BookForm {
                patient_id: a.patient,
                date: a.date,
                shift: a.shift,
                repeat: a.repeat,
                weeks: a.weeks,
                priority: Some(a.priority),
            },
        )?),
        DialysisCmd::Cancel {
            booking,
            series,
            from,
            reason,
        } => {
            let outs = match (booking, series) {
                (Some(id), _) => vec![unit.cancel(me, &id, reason.as_deref())?],
                (None, Some(series)) => {
                    unit.cancel_series(me, &series, from.as_deref(), reason.as_deref())?
                }
                (None, None) => {
                    return Err(CoreError::invalid(
                        "booking",
                        "give --booking or --series",
                        "--booking या --series दें",
                    )
                    .into())
                }
            };
            let moves: Vec<_> = outs.iter().flat_map(|o| o.moves.iter().cloned()).collect();
            let bookings: Vec<_> = outs.iter().map(|o| &o.booking).collect();
            let mut v = json!({ "cancelled": to_json(&bookings)?, "moves": to_json(&moves)?,
                "promoted": to_json(&promoted(&moves))? });
            if let [one] = outs.as_slice() {
                v["booking"] = to_json(&one.booking)?;
            }
            Ok(v)
        }
        DialysisCmd::NoShow { booking } => change_json(&unit.no_show(me, &booking)?),
        DialysisCmd::CheckIn {
            booking,
            pre_weight,
        } => change_json(&unit.check_in(me, &booking, pre_weight)?),
        DialysisCmd::Complete {
            booking,
            post_weight,
            pre_weight,
        } => change_json(&unit.complete(me, &booking, pre_weight, post_weight)?),
        DialysisCmd::Schedule { date } => to_json(&unit.day(me, &date)?),
        DialysisCmd::Week { from } => to_json(&unit.week(me, &from)?),
        DialysisCmd::Waitlist { from } => {
            Ok(json!({ "waitlist": to_json(&unit.waitlist(me, from.as_deref())?)? }))
        }
        DialysisCmd::Requests { limit } => {
            Ok(json!({ "requests": unit.online_requests(me, limit)? }))
        }
        DialysisCmd::Online { action } => match action {
            OnlineCmd::Ingest { id, file } => {
                let payload = crate::cli::read_input(&file)?;
                to_json(&unit.online_ingest(me, &id, &payload)?)
            }
            OnlineCmd::List { limit } => {
                Ok(json!({ "requests": to_json(&unit.online_list(me, limit)?)? }))
            }
        },
    }
}
