//! Storage of shares, tokens and the on-share queue: the [`ShareStore`] contract (a part of
//! [`crate::Store`]) with one implementation per backend.
//!
//! [`ShareStore::record_share`] is the one place tokens are handed out. In one transaction,
//! serialized per facility (SQLite's single writer; a PostgreSQL advisory lock), it finds the
//! share a call belongs to — by its `REQUEST-ID`, else by the same ABHA address at the same
//! counter within the window — or takes the next token of (facility, counter, IST day) from
//! `abha_counters`, stores the share (unique on its token), publishes it as an `abha_share`
//! record and queues this call's on-share answer. Unique keys on (facility, `REQUEST-ID`) and
//! (facility, counter, day, token) back the rule up: a token is never given twice.

use super::profile::ValidShare;
use crate::store::{DbStore, Facility, StoreError};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

mod pg;
mod sqlite;

pub(crate) const SQLITE_MIGRATION: &str = r#"
CREATE TABLE abha_counters (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    counter TEXT NOT NULL,
    day TEXT NOT NULL,
    last_token INTEGER NOT NULL,
    PRIMARY KEY (facility_id, counter, day)
);
CREATE TABLE abha_shares (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    counter TEXT NOT NULL,
    day TEXT NOT NULL,
    token INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    abha_address TEXT NOT NULL,
    abha_number TEXT,
    name TEXT NOT NULL,
    shared_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    visit_id TEXT,
    registered_at_ms INTEGER,
    UNIQUE (facility_id, counter, day, token)
);
CREATE INDEX abha_shares_address ON abha_shares (facility_id, counter, abha_address, expires_at_ms);
CREATE INDEX abha_shares_day ON abha_shares (facility_id, day);
CREATE TABLE abha_share_requests (
    facility_id TEXT NOT NULL REFERENCES facilities(id),
    request_id TEXT NOT NULL,
    share_id TEXT NOT NULL REFERENCES abha_shares(id),
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (facility_id, request_id)
);
CREATE TABLE abha_on_share_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id TEXT NOT NULL REFERENCES abha_shares(id),
    request_id TEXT NOT NULL,
    hip_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL,
    sent_at_ms INTEGER,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX abha_on_share_due ON abha_on_share_queue (next_at_ms) WHERE sent_at_ms IS NULL;
"#;

pub(crate) const PG_MIGRATION: &str = r#"
CREATE TABLE abha_counters (
    facility_id UUID NOT NULL REFERENCES facilities(id),
    counter TEXT NOT NULL,
    day TEXT NOT NULL,
    last_token BIGINT NOT NULL,
    PRIMARY KEY (facility_id, counter, day)
);
CREATE TABLE abha_shares (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    counter TEXT NOT NULL,
    day TEXT NOT NULL,
    token BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    abha_address TEXT NOT NULL,
    abha_number TEXT,
    name TEXT NOT NULL,
    shared_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    visit_id UUID,
    registered_at_ms BIGINT,
    UNIQUE (facility_id, counter, day, token)
);
CREATE INDEX abha_shares_address ON abha_shares (facility_id, counter, abha_address, expires_at_ms);
CREATE INDEX abha_shares_day ON abha_shares (facility_id, day);
CREATE TABLE abha_share_requests (
    facility_id UUID NOT NULL REFERENCES facilities(id),
    request_id TEXT NOT NULL,
    share_id UUID NOT NULL REFERENCES abha_shares(id),
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (facility_id, request_id)
);
CREATE TABLE abha_on_share_queue (
    id BIGSERIAL PRIMARY KEY,
    share_id UUID NOT NULL REFERENCES abha_shares(id),
    request_id TEXT NOT NULL,
    hip_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX abha_on_share_due ON abha_on_share_queue (next_at_ms) WHERE sent_at_ms IS NULL;
"#;

/// What [`ShareStore::record_share`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOutcome {
    /// The share (also the id of its `abha_share` record).
    pub share_id: Uuid,
    /// Its token.
    pub token: i64,
    /// True when this call created the share (false: a retry or a repeat).
    pub created: bool,
    /// This call's on-share answer, queued already claimed for [`HANDOFF_LEASE`]: the caller
    /// hands it straight to the sender, so the answer goes out without waiting for a poll (and
    /// if the process dies first, the queue sends it once the lease lapses).
    pub job: OnShareJob,
}

/// How long an answer queued by the callback (and handed to the sender at once) or claimed by
/// the sender stays reserved for it before the queue offers it again.
pub const HANDOFF_LEASE: Duration = Duration::from_secs(15);

/// One queued on-share answer, claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnShareJob {
    /// Queue row id.
    pub id: i64,
    /// `X-HIP-ID` to send.
    pub hip_id: String,
    /// The JSON body.
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// A share as `swagat-server shares list` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShareRow {
    /// Share id.
    pub id: Uuid,
    /// `REQUEST-ID` of the first call.
    pub request_id: String,
    /// ABHA address.
    pub abha_address: String,
    /// ABHA number, if shared.
    pub abha_number: Option<String>,
    /// Name.
    pub name: String,
    /// Counter (`metaData.context`).
    pub context: String,
    /// Token, exactly the `tokenNumber` sent.
    pub token: String,
    /// `waiting`, `registered` or `expired`.
    pub status: String,
    /// The visit registered for it, once a kiosk did.
    pub visit_id: Option<Uuid>,
}

/// Status of a share from its stored facts.
pub fn status(visit_id: Option<Uuid>, expires_at_ms: i64, now_ms: i64) -> &'static str {
    if visit_id.is_some() {
        "registered"
    } else if expires_at_ms <= now_ms {
        "expired"
    } else {
        "waiting"
    }
}

/// The IST calendar day of now, `YYYY-MM-DD`.
pub fn today() -> String {
    let d = crate::portal::today_ist();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Storage of scan-and-share (see the module doc). Every method is one transaction.
pub trait ShareStore: Send + Sync + 'static {
    /// Stores one callback: finds or creates its share and token, publishes a new share to the
    /// facility's kiosks and queues this call's on-share answer.
    /// [`StoreError::UnknownFacility`] when no facility has the HFR id `share.hip_id`.
    fn record_share(
        &self,
        share: ValidShare,
        window: Duration,
    ) -> impl Future<Output = Result<ShareOutcome, StoreError>> + Send;

    /// Claims up to `limit` due on-share answers for `lease` (another attempt after it if the
    /// sender dies), oldest first.
    fn claim_on_shares(
        &self,
        limit: u32,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<OnShareJob>, StoreError>> + Send;

    /// Marks queued answers delivered (one transaction for the lot).
    fn on_shares_sent(&self, ids: Vec<i64>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a failed attempt; the answer is due again after `retry_in`.
    fn on_share_failed(
        &self,
        id: i64,
        retry_in: Duration,
        error: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The facility's shares of an IST day (`YYYY-MM-DD`), by counter and token.
    fn shares(
        &self,
        facility_code: String,
        day: String,
    ) -> impl Future<Output = Result<Vec<ShareRow>, StoreError>> + Send;

    /// Changes a facility's HFR id and/or name, and republishes its configuration record so
    /// kiosks learn it. [`StoreError::HfrIdTaken`] when another facility has that HFR id.
    fn set_facility(
        &self,
        code: String,
        hfr_id: Option<String>,
        name: Option<String>,
    ) -> impl Future<Output = Result<Facility, StoreError>> + Send;
}

/// The facility configuration payload with `hfr_id`/`name` replaced.
pub(crate) fn patch_config(
    payload: &str,
    hfr_id: &Option<String>,
    name: &Option<String>,
) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(payload).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(o) = v.as_object_mut() {
        if let Some(h) = hfr_id {
            o.insert("hfr_id".into(), serde_json::Value::String(h.clone()));
        }
        if let Some(n) = name {
            o.insert("name".into(), serde_json::Value::String(n.clone()));
        }
    }
    v.to_string()
}

/// Backoff before the next attempt of an on-share answer: 0.5 s doubling, at most 60 s.
pub fn backoff(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(7);
    Duration::from_millis(500u64 << exp).min(Duration::from_secs(60))
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            DbStore::Sqlite($s) => $e,
            DbStore::Postgres($s) => $e,
        }
    };
}

impl ShareStore for DbStore {
    async fn record_share(
        &self,
        share: ValidShare,
        window: Duration,
    ) -> Result<ShareOutcome, StoreError> {
        delegate!(self, s => s.record_share(share, window).await)
    }
    async fn claim_on_shares(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OnShareJob>, StoreError> {
        delegate!(self, s => s.claim_on_shares(limit, lease).await)
    }
    async fn on_shares_sent(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        delegate!(self, s => s.on_shares_sent(ids).await)
    }
    async fn on_share_failed(
        &self,
        id: i64,
        retry_in: Duration,
        error: String,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.on_share_failed(id, retry_in, error).await)
    }
    async fn shares(
        &self,
        facility_code: String,
        day: String,
    ) -> Result<Vec<ShareRow>, StoreError> {
        delegate!(self, s => s.shares(facility_code, day).await)
    }
    async fn set_facility(
        &self,
        code: String,
        hfr_id: Option<String>,
        name: Option<String>,
    ) -> Result<Facility, StoreError> {
        delegate!(self, s => s.set_facility(code, hfr_id, name).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(100), Duration::from_secs(60));
    }

    #[test]
    fn status_rules() {
        assert_eq!(status(None, 10, 5), "waiting");
        assert_eq!(status(None, 10, 10), "expired");
        assert_eq!(status(Some(Uuid::nil()), 10, 50), "registered");
    }
}
