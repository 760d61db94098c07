//! Dialysis unit scheduling for Swagat: machines in infection-control pools, shifts, recurring
//! bookings, a waitlist, check-in/no-show/completion, and online requests from the state portal.
//!
//! This crate is storage plus logic over SQLite and nothing else: the kiosk core applies
//! [`MIGRATION`] after its own tables (it references `patients`) and calls these functions inside
//! its own transaction, recording the returned [`AuditEvent`]s in its audit log. It never imports
//! the core, Tauri or the network, and never logs: results carry ids and codes, and messages in
//! English and Hindi.
//!
//! # Allocation rules
//!
//! (Also in `RULES.md`; each is enforced where named and covered by tests.)
//!
//! 1. **HBsAg positive → `hbv` pool only**, whatever the other markers ([`rules::pool_for`]).
//! 2. Otherwise **anti-HCV positive → `hcv` pool only**.
//! 3. Otherwise **HIV positive → `hiv` pool only**.
//! 4. Otherwise **any marker unknown → `unknown` pool only** (new patients awaiting results).
//! 5. **All three negative → `negative` pool only.** Co-infection is placed by precedence
//!    HBV > HCV > HIV (HBV is the only infection whose isolation is mandated, and the most
//!    transmissible by blood) and flagged `co_infection`; a known positive is never placed among
//!    unknown-status patients. Reasoning with sources in [`rules::pool_for`].
//! 6. **Stale serology** — any known result older than the unit's threshold (default 90 days) on
//!    the session date, or without a test date — is flagged `serology_stale` at booking and at
//!    check-in; the booking still stands.
//! 7. A machine **under maintenance** on a date (or retired) is not allocated that date.
//! 8. **Never two sessions on one machine in one (date, shift)**: checked before allocating and
//!    enforced by a partial UNIQUE index; never two sessions for one patient on one date.
//! 9. **No bookings on holidays or non-working weekdays** (default Monday–Saturday) or in a shift
//!    that does not exist: refused with a reason (a single date is an error; in a recurring
//!    series the date is listed as refused and the rest booked).
//! 10. A patient needs a **dialysis record** (serology) and must be **eligible** to be booked.
//! 11. **When no machine fits, the booking is waitlisted**, served by priority (higher first),
//!     then request time, then insertion order, per (date, shift).
//! 12. **A cancellation, a no-show, a machine returning to service or a new machine serves the
//!     waitlist** of the freed slots in order — only bookings whose pool matches the free machine.
//!     A machine going under maintenance moves its confirmed bookings to another free machine of
//!     the same pool or back onto the waitlist (keeping their place); a serology change does the
//!     same for the patient's bookings on machines of the wrong pool. Results list every move
//!     (booking id, patient id, from → to).
//! 13. A recurring series keeps to one machine where it can; each date is allocated on its own.
//! 14. An online request is answered once (idempotent by portal id): confirmed, waitlisted, or
//!     refused with a reason.

pub mod alloc;
pub mod booking;
pub mod error;
pub mod machines;
pub mod model;
pub mod online;
pub mod patients;
pub mod rules;
pub mod unit;
pub mod views;

/// Audit action names, each written by one operation. The kiosk core writes the unit-level ones
/// (shifts, settings, holidays) itself; everything else arrives in an [`AuditEvent`].
pub mod actions {
    /// A session booked (one per date of a series).
    pub const BOOK: &str = "dialysis.book";
    /// A booking cancelled.
    pub const CANCEL: &str = "dialysis.cancel";
    /// A patient did not come.
    pub const NO_SHOW: &str = "dialysis.no_show";
    /// A patient checked in.
    pub const CHECK_IN: &str = "dialysis.check_in";
    /// A session completed.
    pub const COMPLETE: &str = "dialysis.complete";
    /// A waitlisted booking got a machine.
    pub const PROMOTE: &str = "dialysis.promote";
    /// A confirmed booking left its machine (maintenance, a serology or pool change, retirement).
    pub const DISPLACE: &str = "dialysis.displace";
    /// A machine went under maintenance.
    pub const MAINTENANCE: &str = "dialysis.maintenance";
    /// A machine came back into service.
    pub const IN_SERVICE: &str = "dialysis.in_service";
    /// A machine added.
    pub const MACHINE_ADD: &str = "dialysis.machine_add";
    /// A machine renamed.
    pub const MACHINE_RENAME: &str = "dialysis.machine_rename";
    /// A machine moved to another infection-control pool.
    pub const MACHINE_POOL: &str = "dialysis.machine_pool";
    /// A machine retired.
    pub const MACHINE_RETIRE: &str = "dialysis.machine_retire";
    /// A dialysis record created.
    pub const PATIENT_CREATE: &str = "dialysis.patient_create";
    /// A dialysis record changed.
    pub const PATIENT_UPDATE: &str = "dialysis.patient_update";
    /// An online request answered.
    pub const ONLINE_REQUEST: &str = "dialysis.online_request";
    /// The shifts replaced.
    pub const SHIFTS_SET: &str = "dialysis.shifts_set";
    /// The unit's settings changed.
    pub const SETTINGS: &str = "dialysis.settings";
    /// A holiday declared.
    pub const HOLIDAY_ADD: &str = "dialysis.holiday_add";
    /// A holiday removed.
    pub const HOLIDAY_REMOVE: &str = "dialysis.holiday_remove";
    /// Two counters' bookings clashed (one machine-shift, or one patient-day) and sync settled it.
    pub const SYNC_CLASH: &str = "dialysis.sync_clash";
}

/// The `status_reason` prefix of a booking that lost a clash with another counter's booking
/// (`sync_clash:<the booking that kept the place>`).
pub const SYNC_CLASH_REASON: &str = "sync_clash";

/// Audit entity names (the kind of record an entry is about).
pub mod entities {
    /// A booking.
    pub const BOOKING: &str = "dialysis_booking";
    /// A machine.
    pub const MACHINE: &str = "dialysis_machine";
    /// A dialysis patient record.
    pub const PATIENT: &str = "dialysis_patient";
    /// An online request.
    pub const ONLINE_REQUEST: &str = "dialysis_online_request";
    /// The shifts.
    pub const SHIFTS: &str = "dialysis_shifts";
    /// The unit's settings.
    pub const UNIT: &str = "dialysis_unit";
    /// A holiday.
    pub const HOLIDAY: &str = "dialysis_holiday";
}

use serde::Serialize;

/// The SQLite binding this crate is built on (callers name `Connection` through it).
pub use rusqlite;
/// The date library of this crate's API (`Date`, `Weekday`).
pub use time;

pub use alloc::{Move, SlotState, Warning};
pub use booking::{
    book, cancel, cancel_series, check_in, complete, no_show, BookOutcome, BookRequest, BookedSlot,
    ChangeOutcome, RefusedDate,
};
pub use error::{DialysisError, Refusal, Result};
pub use machines::{AffectedBooking, Machine, MachineOutcome, MaintenancePeriod};
pub use model::{parse_date, parse_weekdays, Pool, Serology, Source, Status, VascularAccess};
pub use online::{OnlineOutcome, OnlineResult};
pub use patients::{DialysisPatient, PatientOutcome, PatientUpdate};
pub use views::{patient_schedule, schedule, waitlist, week, BookingView, DaySchedule, WeekView};

/// The schema: STRICT tables for the unit's settings, holidays, shifts, machines, maintenance,
/// dialysis patients, bookings and online requests, with the indexes behind the rules. Appended
/// to the core's numbered migrations (it needs the core's `patients` table); no transaction
/// statements inside, the migration runner wraps it.
pub const MIGRATION: &str = include_str!("../migrations/dialysis.sql");

/// An audit entry for the caller to write (`swagat_core::audit::record`) in the same transaction.
/// Details hold ids, dates, statuses and field names, never personal data.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// e.g. `dialysis.book`, `dialysis.cancel`, `dialysis.promote`, `dialysis.maintenance`.
    pub action: &'static str,
    /// `dialysis_booking`, `dialysis_machine`, `dialysis_patient`, `dialysis_online_request`.
    pub entity: &'static str,
    /// The record's id.
    pub entity_id: String,
    /// Extra facts.
    pub details: serde_json::Value,
}
