//! The SQLite [`KioskStore`]: the outbox schema, the transactional-outbox append, and the store
//! the engine reads.
//!
//! The kiosk core puts [`SCHEMA`] in its migrations, calls [`append_outbox`] inside the
//! transaction of every domain write, and hands the engine a [`SqliteKioskStore::from_connection`]
//! on its database file. This crate's tests, the server's end-to-end tests and the benchmarks use
//! the same store (feature `testkit` adds [`SqliteKioskStore::open`] with a stand-in
//! `demo_records` table, and sample data), so all of them exercise a real SQLite file. The DDL is
//! the one documented in `sync/PROTOCOL.md`.

use crate::store::{
    Credentials, DeadLetter, KioskStore, OutboxEntry, PendingEnrollment, RecoveryKey, RestoreEvent,
    RestoreRequest, StoreCounts, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::value::RawValue;
#[cfg(feature = "testkit")]
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use swagat_sync_protocol::{Envelope, ErrorCode, Hlc};
use uuid::Uuid;

/// The outbox and sync tables (the core adds them to its migrations).
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL DEFAULT 0,
    hlc INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    pull_cursor INTEGER NOT NULL DEFAULT 0,
    last_sync_at_ms INTEGER,
    credentials TEXT
);
INSERT OR IGNORE INTO sync_state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS sync_outbox (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    schema_version INTEGER NOT NULL CHECK (schema_version >= 1),
    payload TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_dead_letters (
    seq INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_inbox (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    server_cursor INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_inbox_kind ON sync_inbox (kind);
"#;

/// Columns added to [`SCHEMA`]'s `sync_state` for restore detection and idempotent enrollment
/// (the kiosk core's migration `0013_sync_restore.sql` holds the same statements; [`SCHEMA`]
/// itself is the core's released migration 0005 and never changes).
pub const RESTORE_SCHEMA: &str = r#"
ALTER TABLE sync_state ADD COLUMN restore_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN last_restore_at_ms INTEGER;
ALTER TABLE sync_state ADD COLUMN recovery_pull INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN pending_enrollment TEXT;
"#;

#[cfg(feature = "testkit")]
const DEMO_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS demo_records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
"#;

/// Appends one record change to the outbox inside the caller's transaction (the domain write's
/// own): the next gap-free sequence from `sync_state.last_seq`, an HLC tick, the outbox row, and
/// the updated `sync_state`. Returns the sequence number.
pub fn append_outbox(
    tx: &Connection,
    kind: &str,
    record_id: Uuid,
    payload: &str,
) -> rusqlite::Result<u64> {
    let (last_seq, hlc): (i64, i64) = tx.query_row(
        "SELECT last_seq, hlc FROM sync_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let now = now_ms();
    let seq = last_seq + 1;
    let hlc = Hlc::from_u64(hlc as u64).tick(now as u64);
    tx.prepare_cached(
        "INSERT INTO sync_outbox (seq, record_id, kind, hlc, schema_version, payload, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
    )?
    .execute(params![seq, record_id.to_string(), kind, hlc.to_u64() as i64, payload, now])?;
    tx.prepare_cached("UPDATE sync_state SET last_seq = ?1, hlc = ?2 WHERE id = 1")?
        .execute(params![seq, hlc.to_u64() as i64])?;
    Ok(seq as u64)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(StoreError::new)
}

/// Called by [`KioskStore::apply_pulled`] inside its transaction, after the page was written to
/// `sync_inbox` and before the cursor is saved: the kiosk core folds pulled records into its
/// domain tables here, so a record is folded in the same transaction that consumes it. An error
/// rolls the whole page back (the engine pulls it again).
pub type PullHook =
    Box<dyn Fn(&rusqlite::Transaction<'_>, &[Envelope]) -> Result<(), StoreError> + Send + Sync>;

/// Called by [`KioskStore::recover_from_restore`] inside its transaction, after renumbering: the
/// kiosk core writes its `sync.restore_detected` audit entry here. An error rolls the recovery
/// back (the engine detects the restore again at its next round).
pub type RestoreHook =
    Box<dyn Fn(&rusqlite::Transaction<'_>, &RestoreEvent) -> Result<(), StoreError> + Send + Sync>;

/// Gives the kiosk's recovery key to escrow ([`KioskStore::recovery_key`]): the kiosk core
/// answers while its encrypted database is unlocked.
pub type RecoveryKeyHook = Box<dyn Fn() -> Option<RecoveryKey> + Send + Sync>;

/// How long acknowledged outbox rows are kept by default (PROTOCOL.md §8): 90 days.
pub const DEFAULT_OUTBOX_RETENTION_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// A kiosk store on one SQLite file.
pub struct SqliteKioskStore {
    conn: Mutex<Connection>,
    pull_hook: Option<PullHook>,
    restore_hook: Option<RestoreHook>,
    recovery_key_hook: Option<RecoveryKeyHook>,
    outbox_retention_ms: i64,
}

impl SqliteKioskStore {
    /// A store over an open connection to a database whose migrations already created
    /// [`SCHEMA`] (the kiosk core's database).
    pub fn from_connection(conn: Connection) -> Self {
        SqliteKioskStore {
            conn: Mutex::new(conn),
            pull_hook: None,
            restore_hook: None,
            recovery_key_hook: None,
            outbox_retention_ms: DEFAULT_OUTBOX_RETENTION_MS,
        }
    }

    /// Escrows the recovery key `hook` gives with the state (see [`crate::heartbeat`]).
    pub fn with_recovery_key(mut self, hook: RecoveryKeyHook) -> Self {
        self.recovery_key_hook = Some(hook);
        self
    }

    /// Runs `hook` in the transaction that recovers from a detected restore.
    pub fn with_restore_hook(mut self, hook: RestoreHook) -> Self {
        self.restore_hook = Some(hook);
        self
    }

    /// Folds pulled records with `hook`, in the transaction that applies each pulled page.
    pub fn with_pull_hook(mut self, hook: PullHook) -> Self {
        self.pull_hook = Some(hook);
        self
    }

    /// Keeps acknowledged outbox rows this long (milliseconds) before pruning them.
    pub fn with_outbox_retention_ms(mut self, ms: i64) -> Self {
        self.outbox_retention_ms = ms.max(0);
        self
    }

    /// Deletes acknowledged outbox rows created before `now_ms - retention`; returns how many.
    /// Unacknowledged rows are never touched, and `sync_state.last_seq` keeps issuing sequences.
    /// Runs after every successful sync ([`KioskStore::record_sync_success`]).
    pub fn prune_outbox(&self, now_ms: i64) -> Result<usize, StoreError> {
        let cutoff = now_ms.saturating_sub(self.outbox_retention_ms);
        self.with(|c| prune(c, cutoff))
    }

    /// Opens (creating) a stand-alone test store at `path`, with a stand-in `demo_records` table.
    #[cfg(feature = "testkit")]
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(StoreError::new)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(StoreError::new)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::new)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(StoreError::new)?;
        conn.execute_batch(SCHEMA).map_err(StoreError::new)?;
        let has_restore: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('sync_state') WHERE name = 'restore_count')",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::new)?;
        if !has_restore {
            conn.execute_batch(RESTORE_SCHEMA)
                .map_err(StoreError::new)?;
        }
        conn.execute_batch(DEMO_SCHEMA).map_err(StoreError::new)?;
        Ok(SqliteKioskStore::from_connection(conn))
    }

    /// Copies the whole database to `path` (a consistent snapshot, as a backup tool would take).
    #[cfg(feature = "testkit")]
    pub fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_string_lossy().into_owned();
        self.with(|c| c.execute("VACUUM INTO ?1", [target]).map(|_| ()))
    }

    /// Pulled records in the inbox written by `device` (e.g. a kiosk's own, after a restore).
    pub fn inbox_count_by(&self, device: Uuid) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM sync_inbox WHERE device_id = ?1",
                [device.to_string()],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut c = self
            .conn
            .lock()
            .map_err(|_| StoreError::msg("kiosk store mutex poisoned"))?;
        f(&mut c).map_err(StoreError::new)
    }

    #[cfg(feature = "testkit")]
    /// A domain write plus its outbox row, in one transaction: the transactional outbox.
    /// Returns the record's outbox sequence number.
    pub fn write_record(
        &self,
        kind: &str,
        record_id: Uuid,
        payload: &str,
    ) -> Result<u64, StoreError> {
        Ok(self.write_records(&[(kind.to_string(), record_id, payload.to_string())])?[0])
    }

    #[cfg(feature = "testkit")]
    /// Several domain writes in one transaction (each gets its own outbox row and sequence).
    pub fn write_records(
        &self,
        records: &[(String, Uuid, String)],
    ) -> Result<Vec<u64>, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (mut last_seq, hlc): (i64, i64) = tx.query_row(
                "SELECT last_seq, hlc FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut hlc = Hlc::from_u64(hlc as u64);
            let now = now_ms();
            let mut seqs = Vec::with_capacity(records.len());
            {
                let mut domain = tx.prepare_cached(
                    "INSERT INTO demo_records (id, kind, payload) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET payload = excluded.payload",
                )?;
                let mut outbox = tx.prepare_cached(
                    "INSERT INTO sync_outbox (seq, record_id, kind, hlc, schema_version, payload, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
                )?;
                for (kind, id, payload) in records {
                    domain.execute(params![id.to_string(), kind, payload])?;
                    last_seq += 1;
                    hlc = hlc.tick(now as u64);
                    outbox.execute(params![last_seq, id.to_string(), kind, hlc.to_u64() as i64, payload, now])?;
                    seqs.push(last_seq as u64);
                }
            }
            tx.execute(
                "UPDATE sync_state SET last_seq = ?1, hlc = ?2 WHERE id = 1",
                params![last_seq, hlc.to_u64() as i64],
            )?;
            tx.commit()?;
            Ok(seqs)
        })
    }

    /// Outbox record ids (for comparing with the server's content in tests).
    pub fn outbox_ids(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let rows = self.with(|c| {
            let mut st =
                c.prepare("SELECT DISTINCT record_id, kind FROM sync_outbox ORDER BY record_id")?;
            let v = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })?;
        rows.into_iter()
            .map(|(id, k)| Ok((parse_uuid(&id)?, k)))
            .collect()
    }

    /// Dead letters, in sequence order.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = self.with(|c| {
            let mut st = c.prepare(
                "SELECT seq, record_id, code, reason FROM sync_dead_letters ORDER BY seq",
            )?;
            let v = st
                .query_map([], |r| <(i64, String, String, String)>::try_from(r))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })?;
        rows.into_iter()
            .map(|(seq, id, code, reason)| {
                Ok(DeadLetter {
                    seq: seq as u64,
                    record_id: parse_uuid(&id)?,
                    code: serde_json::from_value(serde_json::Value::String(code))
                        .unwrap_or(ErrorCode::Internal),
                    reason,
                })
            })
            .collect()
    }

    /// Number of pulled records per kind in the inbox.
    pub fn inbox_count(&self, kind: &str) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM sync_inbox WHERE kind = ?1",
                [kind],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }

    /// The store's current HLC.
    pub fn hlc(&self) -> Result<Hlc, StoreError> {
        self.with(|c| {
            c.query_row("SELECT hlc FROM sync_state WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map(|v| Hlc::from_u64(v as u64))
    }
}

/// Upserts a pulled page into `sync_inbox` (newer HLC wins), advances the HLC and saves the cursor.
fn write_pulled(tx: &Connection, records: &[Envelope], cursor: u64) -> rusqlite::Result<()> {
    let hlc: i64 = tx.query_row("SELECT hlc FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    let mut hlc = Hlc::from_u64(hlc as u64);
    {
        let mut up = tx.prepare_cached(
            "INSERT INTO sync_inbox (record_id, kind, device_id, seq, hlc, schema_version, payload, server_cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (record_id) DO UPDATE SET
                kind = excluded.kind, device_id = excluded.device_id, seq = excluded.seq,
                hlc = excluded.hlc, schema_version = excluded.schema_version,
                payload = excluded.payload, server_cursor = excluded.server_cursor
             WHERE excluded.hlc > sync_inbox.hlc",
        )?;
        for e in records {
            up.execute(params![
                e.id.to_string(),
                e.kind,
                e.device.to_string(),
                e.seq as i64,
                e.hlc.to_u64() as i64,
                e.schema,
                e.payload.get(),
                cursor as i64
            ])?;
            hlc = hlc.observe(e.hlc, now_ms() as u64);
        }
    }
    tx.execute(
        "UPDATE sync_state SET pull_cursor = ?1, hlc = ?2 WHERE id = 1",
        params![cursor as i64, hlc.to_u64() as i64],
    )?;
    Ok(())
}

/// The renumbering of [`KioskStore::recover_from_restore`], inside its transaction.
fn renumber(tx: &Connection, r: &RestoreRequest) -> Result<RestoreEvent, StoreError> {
    let e = StoreError::new;
    let (local_acked, creds): (i64, Option<String>) = tx
        .query_row(
            "SELECT acked_seq, credentials FROM sync_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(e)?;
    let server =
        i64::try_from(r.server_acked_seq).map_err(|_| StoreError::msg("sequence too large"))?;
    let keep: std::collections::HashSet<i64> = r.keep.iter().map(|s| *s as i64).collect();
    let unsent: Vec<i64> = {
        let mut st = tx
            .prepare("SELECT seq FROM sync_outbox WHERE seq > ?1 ORDER BY seq")
            .map_err(e)?;
        let v = st
            .query_map([local_acked], |row| row.get::<_, i64>(0))
            .map_err(e)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(e)?;
        v.into_iter().filter(|s| !keep.contains(s)).collect()
    };
    // Move the unsent rows out of the way (far above every sequence), then to their new
    // numbers, in their original order: nothing collides, nothing is lost.
    const AWAY: i64 = 1 << 50;
    for s in &unsent {
        tx.execute(
            "UPDATE sync_outbox SET seq = seq + ?2 WHERE seq = ?1",
            params![s, AWAY],
        )
        .map_err(e)?;
    }
    let mut next = server;
    for s in &unsent {
        next += 1;
        tx.execute(
            "UPDATE sync_outbox SET seq = ?1 WHERE seq = ?2",
            params![next, s + AWAY],
        )
        .map_err(e)?;
    }
    let new_last = next.max(server);
    let mut creds: Option<Credentials> = creds
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(StoreError::new)?;
    let previous_install_id = creds.as_ref().and_then(|c| c.install_id);
    if let Some(c) = creds.as_mut() {
        c.install_id = Some(r.install_id);
    }
    let creds = creds
        .map(|c| serde_json::to_string(&c))
        .transpose()
        .map_err(StoreError::new)?;
    tx.execute(
        "UPDATE sync_state SET last_seq = ?1, acked_seq = ?2, restore_count = restore_count + 1,
            last_restore_at_ms = ?3, recovery_pull = 1, pull_cursor = 0, credentials = ?4 WHERE id = 1",
        params![new_last, server, r.at_ms, creds],
    )
    .map_err(e)?;
    Ok(RestoreEvent {
        local_acked_seq: local_acked.max(0) as u64,
        server_acked_seq: r.server_acked_seq,
        renumbered: unsent.len() as u64,
        last_seq: new_last as u64,
        previous_install_id,
        install_id: r.install_id,
        at_ms: r.at_ms,
    })
}

/// Deletes acknowledged outbox rows created before `cutoff_ms`.
fn prune(c: &Connection, cutoff_ms: i64) -> rusqlite::Result<usize> {
    c.execute(
        "DELETE FROM sync_outbox WHERE created_at_ms < ?1
         AND seq <= (SELECT acked_seq FROM sync_state WHERE id = 1)",
        [cutoff_ms],
    )
}

impl KioskStore for SqliteKioskStore {
    fn recovery_key(&self) -> Option<RecoveryKey> {
        self.recovery_key_hook.as_ref().and_then(|h| h())
    }

    fn pending(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, record_id, kind, hlc, schema_version, payload FROM sync_outbox
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let v = st
                .query_map(params![after_seq as i64, limit as i64], |r| {
                    <(i64, String, String, i64, u32, String)>::try_from(r)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })?;
        rows.into_iter()
            .map(|(seq, id, kind, hlc, schema, payload)| {
                Ok(OutboxEntry {
                    seq: seq as u64,
                    record_id: parse_uuid(&id)?,
                    kind,
                    hlc: Hlc::from_u64(hlc as u64),
                    schema,
                    payload: RawValue::from_string(payload).map_err(StoreError::new)?,
                })
            })
            .collect()
    }

    fn record_ack(&self, acked_seq: u64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sync_state SET acked_seq = ?1 WHERE id = 1",
                [acked_seq as i64],
            )
            .map(|_| ())
        })
    }

    fn dead_letter(&self, l: &DeadLetter) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO sync_dead_letters (seq, record_id, code, reason, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![l.seq as i64, l.record_id.to_string(), l.code.as_str(), l.reason, now_ms()],
            )
            .map(|_| ())
        })
    }

    fn apply_pulled(&self, records: &[Envelope], cursor: u64) -> Result<(), StoreError> {
        let mut c = self
            .conn
            .lock()
            .map_err(|_| StoreError::msg("kiosk store mutex poisoned"))?;
        let hook = self.pull_hook.as_ref();
        (|| -> Result<(), StoreError> {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::new)?;
            write_pulled(&tx, records, cursor).map_err(StoreError::new)?;
            if let Some(hook) = hook {
                hook(&tx, records)?;
            }
            tx.commit().map_err(StoreError::new)
        })()
    }

    fn pull_cursor(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row("SELECT pull_cursor FROM sync_state WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map(|v| v as u64)
    }

    fn load_credentials(&self) -> Result<Option<Credentials>, StoreError> {
        let s: Option<String> = self.with(|c| {
            c.query_row("SELECT credentials FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::flatten)
        })?;
        s.map(|s| serde_json::from_str(&s).map_err(StoreError::new))
            .transpose()
    }

    fn save_credentials(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let s = serde_json::to_string(credentials).map_err(StoreError::new)?;
        self.with(|c| {
            c.execute("UPDATE sync_state SET credentials = ?1 WHERE id = 1", [s])
                .map(|_| ())
        })
    }

    fn record_sync_success(&self, at_ms: i64) -> Result<(), StoreError> {
        let cutoff = at_ms.saturating_sub(self.outbox_retention_ms);
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE sync_state SET last_sync_at_ms = ?1 WHERE id = 1",
                [at_ms],
            )?;
            prune(&tx, cutoff)?;
            tx.commit()
        })
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.with(|c| {
            let (last_seq, acked, cursor, last_sync): (i64, i64, i64, Option<i64>) = c.query_row(
                "SELECT last_seq, acked_seq, pull_cursor, last_sync_at_ms FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            let (restores, last_restore, recovering): (i64, Option<i64>, bool) = c.query_row(
                "SELECT restore_count, last_restore_at_ms, recovery_pull <> 0 FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let dead: i64 = c.query_row("SELECT COUNT(*) FROM sync_dead_letters", [], |r| r.get(0))?;
            Ok(StoreCounts {
                pending: (last_seq - acked).max(0) as u64,
                dead_letters: dead as u64,
                last_seq: last_seq as u64,
                acked_seq: acked as u64,
                pull_cursor: cursor as u64,
                last_sync_at_ms: last_sync,
                restores: restores.max(0) as u64,
                last_restore_at_ms: last_restore,
                recovering,
            })
        })
    }

    fn recover_from_restore(&self, r: &RestoreRequest) -> Result<RestoreEvent, StoreError> {
        let mut c = self
            .conn
            .lock()
            .map_err(|_| StoreError::msg("kiosk store mutex poisoned"))?;
        let hook = self.restore_hook.as_ref();
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::new)?;
        let event = renumber(&tx, r)?;
        if let Some(hook) = hook {
            hook(&tx, &event)?;
        }
        tx.commit().map_err(StoreError::new)?;
        Ok(event)
    }

    fn finish_recovery_pull(&self) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE sync_state SET recovery_pull = 0 WHERE id = 1", [])
                .map(|_| ())
        })
    }

    fn load_pending_enrollment(&self) -> Result<Option<PendingEnrollment>, StoreError> {
        let s: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT pending_enrollment FROM sync_state WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
        })?;
        // An unreadable leftover is simply replaced by a fresh attempt.
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }

    fn save_pending_enrollment(&self, p: Option<&PendingEnrollment>) -> Result<(), StoreError> {
        let s = p
            .map(serde_json::to_string)
            .transpose()
            .map_err(StoreError::new)?;
        self.with(|c| {
            c.execute(
                "UPDATE sync_state SET pending_enrollment = ?1 WHERE id = 1",
                [s],
            )
            .map(|_| ())
        })
    }
}

#[cfg(feature = "testkit")]
/// Deterministic sample records: `patients` patients, then `visits` visits spread over them.
/// Payloads look like the kiosk's (names, year of birth, phone, village; visit department and
/// complaint) so compression figures are realistic. Returns (kind, record id, payload JSON).
pub fn sample_records(patients: usize, visits: usize, seed: u64) -> Vec<(String, Uuid, String)> {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    const GIVEN: &[&str] = &[
        "Aarav", "Vivaan", "Aditya", "Lakshmi", "Priya", "Sunita", "Ramesh", "Kavita", "Mohan",
        "Anjali", "Sita", "Ravi", "Geeta", "Imran", "Fatima", "Arjun", "Meena", "Suresh", "Pooja",
        "Rahul", "Asha", "Deepak", "Rekha", "Vijay", "Nisha", "Manoj", "Savitri",
    ];
    const FAMILY: &[&str] = &[
        "Sharma", "Verma", "Yadav", "Singh", "Kumar", "Patel", "Devi", "Gupta", "Khan", "Mishra",
        "Chauhan", "Reddy", "Nair", "Das", "Mandal", "Meena", "Jat", "Rawat",
    ];
    const VILLAGE: &[&str] = &[
        "Rampur",
        "Sitapur",
        "Khairabad",
        "Bhogpur",
        "Kalyanpur",
        "Nayagaon",
        "Chandpur",
        "Devgarh",
        "Lalpur",
        "Sonpur",
        "Haripur",
        "Shivnagar",
    ];
    const DEPT: &[&str] = &[
        "general",
        "maternal",
        "paediatrics",
        "ncd",
        "dental",
        "eye",
        "ayush",
    ];
    const COMPLAINT: &[&str] = &[
        "fever",
        "cough",
        "body ache",
        "loose motions",
        "headache",
        "antenatal check-up",
        "BP follow-up",
        "sugar follow-up",
        "skin rash",
        "eye pain",
        "tooth ache",
        "injury",
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(patients + visits);
    let mut ids = Vec::with_capacity(patients);
    for i in 0..patients {
        let id = Uuid::now_v7();
        ids.push(id);
        let payload = serde_json::json!({
            "uhid": format!("PHC-{:07}", i + 1),
            "name": format!("{} {}", GIVEN[rng.random_range(0..GIVEN.len())], FAMILY[rng.random_range(0..FAMILY.len())]),
            "sex": if rng.random_bool(0.5) { "F" } else { "M" },
            "yob": rng.random_range(1940..2025),
            "phone": format!("9{:09}", rng.random_range(0..1_000_000_000u64)),
            "village": VILLAGE[rng.random_range(0..VILLAGE.len())],
            "registered_by": "reception-1",
        });
        out.push(("patient".to_string(), id, payload.to_string()));
    }
    for i in 0..visits {
        let id = Uuid::now_v7();
        let patient = if ids.is_empty() {
            Uuid::nil()
        } else {
            ids[i % ids.len()]
        };
        let payload = serde_json::json!({
            "patient_id": patient,
            "token": (i % 300) + 1,
            "department": DEPT[rng.random_range(0..DEPT.len())],
            "complaint": COMPLAINT[rng.random_range(0..COMPLAINT.len())],
            "weight_kg": rng.random_range(3..95),
            "status": "waiting",
        });
        out.push(("visit".to_string(), id, payload.to_string()));
    }
    out
}
