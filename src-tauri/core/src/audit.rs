//! The append-only audit log: who did what, when, to which record.
//!
//! Every edit, cancel, merge, reprint, export, configuration change and login writes a row here in
//! the same transaction as the change itself. SQLite triggers refuse UPDATE and DELETE on the table.
//! Details hold record ids and changed field names, never personal data.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::Result;

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
