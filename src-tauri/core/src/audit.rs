//! The append-only audit log: who did what, when, to which record.
//!
//! Every edit, cancel, merge, reprint, export, configuration change and login writes a row here in
//! the same transaction as the change itself. SQLite triggers refuse UPDATE and DELETE on the table.
//! Details hold record ids and changed field names, never personal data.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::Result;

/// The kiosk's audit action names, one constant each, so a use case and the tests that read
/// the log name an action the same way (the dialysis unit's are in `swagat_dialysis::actions`).
pub mod actions {
    /// The first-run setup made the facility and its first administrator.
    pub const CONFIG_FIRST_RUN: &str = "config.first_run";
    /// Settings saved (the changed field names).
    pub const CONFIG_UPDATE: &str = "config.update";
    /// The facility's settings taken from the state server.
    pub const CONFIG_SYNC: &str = "config.sync";
    /// This kiosk enrolled with the state server (its device and facility ids).
    pub const SYNC_ENROLL: &str = "sync.enroll";
    /// The state's Aadhaar key and the facility's slip-link key installed at enrollment.
    pub const SYNC_KEYS: &str = "sync.keys";
    /// The database was found restored from a backup, and the kiosk renumbered.
    pub const SYNC_RESTORE_DETECTED: &str = "sync.restore_detected";
    /// A patient registered for the first time.
    pub const PATIENT_CREATE: &str = "patient.create";
    /// A patient's details corrected (the changed field names).
    pub const PATIENT_EDIT: &str = "patient.edit";
    /// Two records of one person merged.
    pub const PATIENT_MERGE: &str = "patient.merge";
    /// A visit registered and its token issued.
    pub const VISIT_CREATE: &str = "visit.create";
    /// A visit cancelled, with its reason.
    pub const VISIT_CANCEL: &str = "visit.cancel";
    /// A scan-and-share profile registered at the counter.
    pub const ABHA_SHARE_REGISTER: &str = "abha_share.register";
    /// A visit's first slip accepted by the printer.
    pub const SLIP_PRINT: &str = "slip.print";
    /// A later slip of the same visit accepted by the printer.
    pub const SLIP_REPRINT: &str = "slip.reprint";
    /// A slip the printer did not take (not counted).
    pub const SLIP_PRINT_FAILED: &str = "slip.print_failed";
    /// A slip saved as a file.
    pub const SLIP_EXPORT: &str = "slip.export";
    /// A test page sent from Settings.
    pub const SLIP_TEST_PRINT: &str = "slip.test_print";
    /// The counter's scan-and-share poster printed.
    pub const SHARES_POSTER_PRINT: &str = "shares.poster_print";
    /// A report saved as a file.
    pub const REPORT_EXPORT: &str = "report.export";
    /// A report printed.
    pub const REPORT_PRINT: &str = "report.print";
    /// A verified backup made.
    pub const BACKUP_CREATE: &str = "backup.create";
    /// The database replaced by a backup.
    pub const BACKUP_RESTORE: &str = "backup.restore";
    /// A staff account added.
    pub const STAFF_CREATE: &str = "staff.create";
    /// A staff account enabled.
    pub const STAFF_ENABLE: &str = "staff.enable";
    /// A staff account disabled.
    pub const STAFF_DISABLE: &str = "staff.disable";
    /// A PIN or passphrase reset (never the secret).
    pub const STAFF_RESET_PIN: &str = "staff.reset_pin";
    /// An account's lockout lifted.
    pub const STAFF_UNLOCK: &str = "staff.unlock";
    /// A login.
    pub const STAFF_LOGIN: &str = "staff.login";
    /// A refused login.
    pub const STAFF_LOGIN_FAILED: &str = "staff.login_failed";
    /// Demonstration patients and visits added.
    pub const DEMO_SEED: &str = "demo.seed";
}

/// Who performed an action.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A logged-in staff member (their id).
    Staff(String),
    /// Someone at the machine running `swagat-admin`.
    Cli,
    /// The app itself (migrations, sync).
    System,
}

impl Actor {
    /// How the actor is stored: `staff:<id>`, `cli` or `system`.
    pub fn as_db(&self) -> String {
        match self {
            Self::Staff(id) => format!("staff:{id}"),
            Self::Cli => "cli".to_owned(),
            Self::System => "system".to_owned(),
        }
    }
}

/// One audit entry.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who (`staff:<id>`, `cli`, `system`).
    pub actor: String,
    /// What, e.g. `config.update`, `staff.create`, `slip.reprint`.
    pub action: String,
    /// The kind of record.
    pub entity: String,
    /// The record's id, if one.
    pub entity_id: Option<String>,
    /// Extra facts (ids, field names; never personal data).
    pub details: serde_json::Value,
}

/// Appends an entry. Call inside the transaction that makes the change.
pub fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, details) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        clock::to_db(clock::now_utc()),
        actor.as_db(),
        action,
        entity,
        entity_id,
        details.to_string()
    ])?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, action, entity, entity_id, details FROM audit_log \
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        let details: String = r.get(6)?;
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            entity_id: r.get(5)?,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
