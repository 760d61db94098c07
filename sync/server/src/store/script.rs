//! The shared transaction scripts of the two backends: every decision a store method makes
//! between its reads and its writes, written once.
//!
//! A backend reads the facts with its own SQL, asks one of these pure functions (or small
//! types) what to do, and writes the answer with its own SQL, all inside its transaction; so
//! SQLite and PostgreSQL cannot drift apart in behaviour, only in SQL. [`super::plan_ingest`]
//! is the ingest script's decision; the ones here are for the other methods: a portal's
//! submission ([`decide_submit`]), a pull page ([`PullPage`]), a server-authored record
//! ([`may_publish`], [`PublishedVersion`]) and a new facility ([`plan_facility`], whose
//! configuration record each backend then publishes with its own `publish_tx`); and around
//! ingest, which facts to read ([`new_record_ids`], [`duplicate_span`]) and the answer
//! ([`IngestPlan::stored_bytes`], [`IngestPlan::into_response`]); an enrollment's code
//! ([`decide_enroll`], [`confirm_retry`]) and a re-enrolled device's succession
//! ([`plan_succession`]).

use super::{Facility, IngestPlan, NewFacility, Portal, RequestRow, StoreError, ValidRequest};
use swagat_sync_protocol::{content_hash, Envelope, Hlc, PullResponse, PushResponse, Rejection};
use uuid::Uuid;

/// What [`super::Store::submit_request`] does with a portal's request.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitDecision {
    /// The reference was used before with the same body: answer the stored request again.
    Replay(RequestRow),
    /// A new reference: store and publish this request.
    Create(NewRequest),
}

/// A request to store and publish, as decided by [`decide_submit`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    /// Its id (also the id of the published `dialysis_request` record).
    pub id: Uuid,
    /// When the server received it (Unix ms).
    pub received_at_ms: i64,
    /// The payload of the record published to the facility's kiosks (JSON text).
    pub payload: String,
}

/// Idempotency of a portal's submission: `existing` is the request the portal already made
/// with the same reference, if any. The same body again answers it again
/// ([`SubmitDecision::Replay`]); another body is [`StoreError::ReferenceConflict`]; a new
/// reference is a new request received at `now_ms`.
pub fn decide_submit(
    existing: Option<RequestRow>,
    portal: &Portal,
    req: &ValidRequest,
    now_ms: i64,
) -> Result<SubmitDecision, StoreError> {
    match existing {
        Some(row) if row.body_hash == req.body_hash => Ok(SubmitDecision::Replay(row)),
        Some(_) => Err(StoreError::ReferenceConflict),
        None => {
            let id = Uuid::now_v7();
            let payload = crate::portal::published_payload(id, &portal.name, req, now_ms);
            Ok(SubmitDecision::Create(NewRequest {
                id,
                received_at_ms: now_ms,
                payload: payload.to_string(),
            }))
        }
    }
}

/// One page of [`super::Store::pull`], filled from change-log rows read in id order after the
/// cursor (at most [`PullPage::rows_to_read`] of them): at most `limit` records and, past the
/// first record, at most `max_bytes` of payload. Reading one row more than `limit` is what
/// tells whether `more` follows.
#[derive(Debug)]
pub struct PullPage {
    limit: u32,
    max_bytes: usize,
    bytes: usize,
    records: Vec<Envelope>,
    cursor: u64,
    more: bool,
}

/// A sequence number or cursor as an SQL parameter: both backends store them as signed 64-bit
/// integers, so a value past `i64::MAX` (never issued) is clamped rather than wrapped negative.
pub fn sql_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl PullPage {
    /// An empty page after `cursor`.
    pub fn new(cursor: u64, limit: u32, max_bytes: usize) -> PullPage {
        PullPage {
            limit,
            max_bytes,
            bytes: 0,
            records: Vec::new(),
            cursor,
            more: false,
        }
    }

    /// The cursor as an SQL parameter (change-log ids are signed 64-bit).
    pub fn cursor_param(cursor: u64) -> i64 {
        sql_u64(cursor)
    }

    /// How many rows the backend reads: one more than `limit`.
    pub fn rows_to_read(limit: u32) -> i64 {
        i64::from(limit) + 1
    }

    /// Whether the next row (with `payload_len` bytes of payload) belongs on the page; when it
    /// does not, the page is full, `more` is set and the backend stops reading.
    pub fn admits(&mut self, payload_len: usize) -> bool {
        self.bytes += payload_len;
        if self.records.len() as u32 == self.limit
            || (!self.records.is_empty() && self.bytes > self.max_bytes)
        {
            self.more = true;
            return false;
        }
        true
    }

    /// Adds the admitted row: change-log id `id`, its change `e`.
    pub fn push(&mut self, id: u64, e: Envelope) {
        self.cursor = id;
        self.records.push(e);
    }

    /// The answer: the records, the cursor after the last of them, and whether more follow.
    pub fn finish(self) -> PullResponse {
        PullResponse {
            records: self.records,
            cursor: self.cursor,
            more: self.more,
        }
    }
}

/// Whether the server may publish a version of a record for facility `facility`: `owner` is
/// the stored record's owner (`None`: a new record). Only records the facility's pseudo-device
/// (id = facility id) authored may be replaced; a kiosk's record is [`StoreError::NotOwner`].
pub fn may_publish(owner: Option<Uuid>, facility: Uuid) -> Result<(), StoreError> {
    match owner {
        Some(o) if o != facility => Err(StoreError::NotOwner),
        _ => Ok(()),
    }
}

/// The version stamp of a server-authored record published at `now_ms` (schema 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedVersion {
    /// Its HLC, as stored (signed 64-bit).
    pub hlc: i64,
    /// Its content hash (what a duplicate is recognised by).
    pub content_hash: String,
}

impl PublishedVersion {
    /// The version of `record_id` (`kind`, `payload`) published at `now_ms`.
    pub fn new(record_id: Uuid, kind: &str, payload: &str, now_ms: i64) -> PublishedVersion {
        let hlc = Hlc::ZERO.tick(now_ms as u64);
        PublishedVersion {
            hlc: hlc.to_u64() as i64,
            content_hash: content_hash(record_id, kind, hlc, 1, payload),
        }
    }
}

/// What `facility add` writes, decided by [`plan_facility`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityPlan {
    /// The new facility (a fresh id).
    pub facility: Facility,
    /// Payload of its configuration record ([`super::FACILITY_CONFIG_KIND`]), which every
    /// kiosk of the facility pulls: the parameters of `facility add`.
    pub config: String,
}

/// Plans `facility add`: [`StoreError::FacilityExists`] when a facility already has the code
/// (`exists`), else the new facility and its configuration record's payload.
pub fn plan_facility(exists: bool, f: &NewFacility) -> Result<FacilityPlan, StoreError> {
    if exists {
        return Err(StoreError::FacilityExists);
    }
    let config = serde_json::to_string(f).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(FacilityPlan {
        facility: Facility {
            id: Uuid::now_v7(),
            code: f.code.clone(),
            name: f.name.clone(),
        },
        config,
    })
}

/// The record ids whose stored facts (facility, owner) ingest needs: those of the batch's
/// envelopes past the acknowledged sequence (the others are duplicates or conflicts).
pub fn new_record_ids(envelopes: &[Envelope], acked_seq: u64) -> Vec<Uuid> {
    envelopes
        .iter()
        .filter(|e| e.seq > acked_seq)
        .map(|e| e.id)
        .collect()
}

/// The sequences of the batch already acknowledged (lowest, highest), whose stored content
/// hashes ingest reads to tell duplicates from conflicts; `None` when there are none.
pub fn duplicate_span(envelopes: &[Envelope], acked_seq: u64) -> Option<(u64, u64)> {
    let dups = envelopes.iter().map(|e| e.seq).filter(|s| *s <= acked_seq);
    dups.clone().min().zip(dups.max())
}

impl IngestPlan {
    /// Payload bytes the accepted envelopes add to the device's stored total (its quota).
    pub fn stored_bytes(&self) -> i64 {
        self.accepted
            .iter()
            .map(|e| e.payload.get().len() as i64)
            .sum()
    }

    /// The push's answer: `earlier` are the stored rejections of the batch's duplicates
    /// (re-reported), followed by this batch's new ones.
    pub fn into_response(self, mut earlier: Vec<Rejection>) -> PushResponse {
        let accepted = self.accepted.len() as u64;
        earlier.extend(self.rejected);
        PushResponse {
            acked_seq: self.new_acked,
            accepted,
            duplicates: self.duplicates,
            rejected: earlier,
        }
    }
}

/// What an enrollment does with its code, from the code's row (see [`decide_enroll`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollStep {
    /// The code was already used by this device: a v2 kiosk retrying after a lost answer gets the
    /// same device back, once [`confirm_retry`] has seen the same secret.
    Retry(Uuid),
    /// An unused code within its time: a new device.
    New,
}

/// An enrollment code's fate: used (by `used_by`) means a retry, or an invalid code if no device
/// is recorded; otherwise it must not have expired by `now_ms`. A used code is a retry even
/// past its expiry: the kiosk enrolled in time and only lost the answer.
pub fn decide_enroll(
    used_at_ms: Option<i64>,
    used_by: Option<Uuid>,
    expires_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<EnrollStep, StoreError> {
    match (used_at_ms, used_by) {
        (Some(_), Some(device)) => Ok(EnrollStep::Retry(device)),
        (Some(_), None) => Err(StoreError::InvalidEnrollmentCode),
        (None, _) if expires_at_ms.is_some_and(|t| t <= now_ms) => {
            Err(StoreError::EnrollmentCodeExpired)
        }
        (None, _) => Ok(EnrollStep::New),
    }
}

/// A retry is answered only for the kiosk that used the code: `same_secret` is whether the
/// device's stored secret hash is the one presented (`None`: the device is gone).
pub fn confirm_retry(same_secret: Option<bool>) -> Result<(), StoreError> {
    if same_secret == Some(true) {
        Ok(())
    } else {
        Err(StoreError::InvalidEnrollmentCode)
    }
}

/// How a re-enrolled device continues its predecessor (see [`plan_succession`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Succession {
    /// The sequence the new device starts after.
    pub start_seq: i64,
    /// Whether the old device is revoked (not when the kiosk re-enrolling is an install the
    /// old device has already moved on from: a restored copy must not cut off the live one).
    pub revoke_old: bool,
}

/// A re-enrollment's succession. `previous` is the old device's facility and acknowledged
/// sequence (`None`: no such device), `facility` the code's facility, `kiosk_acked` the last
/// acknowledgement the kiosk recorded, `install_superseded` whether the install it presented is
/// recorded as superseded on the old device (`None`: none presented, or not recorded).
pub fn plan_succession(
    previous: Option<(Uuid, i64)>,
    facility: Uuid,
    kiosk_acked: Option<u64>,
    install_superseded: Option<bool>,
) -> Result<Succession, StoreError> {
    let (old_facility, acked) = previous.ok_or(StoreError::InvalidEnrollmentCode)?;
    if old_facility != facility {
        return Err(StoreError::PreviousDeviceElsewhere);
    }
    Ok(Succession {
        start_seq: super::continuation_seq(acked.max(0) as u64, kiosk_acked) as i64,
        revoke_old: install_superseded != Some(true),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::PortalScope;
    use serde_json::value::RawValue;

    fn portal() -> Portal {
        Portal {
            id: Uuid::now_v7(),
            name: "Sahay".into(),
            token_hash: String::new(),
            revoked: false,
            scope: PortalScope::default(),
        }
    }

    fn request(hash: &str) -> ValidRequest {
        ValidRequest {
            facility: "PHC1".into(),
            reference: "ref-1".into(),
            body: serde_json::json!({"date": "2025-01-02", "shift": "morning"}),
            body_hash: hash.into(),
        }
    }

    fn row(hash: &str) -> RequestRow {
        RequestRow {
            id: Uuid::now_v7(),
            portal_id: Uuid::now_v7(),
            reference: "ref-1".into(),
            facility: "PHC1".into(),
            body: "{}".into(),
            body_hash: hash.into(),
            status: "pending".into(),
            answer: None,
            received_at_ms: 5,
            answered_at_ms: None,
        }
    }

    #[test]
    fn same_reference_same_body_replays_the_stored_request() {
        let stored = row("h1");
        let d = decide_submit(Some(stored.clone()), &portal(), &request("h1"), 99).unwrap();
        assert_eq!(d, SubmitDecision::Replay(stored));
    }

    #[test]
    fn same_reference_other_body_is_a_conflict() {
        let d = decide_submit(Some(row("h1")), &portal(), &request("h2"), 99);
        assert!(matches!(d, Err(StoreError::ReferenceConflict)));
    }

    #[test]
    fn a_new_reference_is_created_with_the_published_payload() {
        let p = portal();
        let req = request("h1");
        let Ok(SubmitDecision::Create(n)) = decide_submit(None, &p, &req, 1_700_000_000_000) else {
            panic!("a new reference must be created");
        };
        assert_eq!(n.received_at_ms, 1_700_000_000_000);
        let want = crate::portal::published_payload(n.id, &p.name, &req, n.received_at_ms);
        assert_eq!(n.payload, want.to_string());
        let v: serde_json::Value = serde_json::from_str(&n.payload).unwrap();
        assert_eq!(v["request_id"], serde_json::json!(n.id));
        assert_eq!(v["portal"], "Sahay");
        // Two new requests never share an id.
        let Ok(SubmitDecision::Create(m)) = decide_submit(None, &p, &req, 1) else {
            panic!("a new reference must be created");
        };
        assert_ne!(m.id, n.id);
    }

    fn env(payload_len: usize) -> Envelope {
        let text = format!("\"{}\"", "x".repeat(payload_len.saturating_sub(2)));
        Envelope {
            id: Uuid::now_v7(),
            kind: "patient".into(),
            facility: Uuid::nil(),
            device: Uuid::nil(),
            seq: 1,
            hlc: Hlc::new(1, 0),
            schema: 1,
            payload: RawValue::from_string(text).unwrap(),
        }
    }

    /// Fills a page from rows (change-log id, payload length) the way the backends do.
    fn fill(cursor: u64, limit: u32, max_bytes: usize, rows: &[(u64, usize)]) -> PullResponse {
        let mut page = PullPage::new(cursor, limit, max_bytes);
        let take = PullPage::rows_to_read(limit) as usize;
        for &(id, len) in rows.iter().take(take) {
            if !page.admits(len) {
                break;
            }
            page.push(id, env(len));
        }
        page.finish()
    }

    #[test]
    fn a_page_stops_at_its_limit_and_says_more_follows() {
        let rows = [(11, 10), (12, 10), (13, 10), (14, 10)];
        let p = fill(10, 2, 1_000, &rows);
        assert_eq!((p.records.len(), p.cursor, p.more), (2, 12, true));
        // Exactly `limit` rows left: no more.
        let p = fill(10, 4, 1_000, &rows);
        assert_eq!((p.records.len(), p.cursor, p.more), (4, 14, false));
        // Fewer rows than the limit.
        let p = fill(10, 9, 1_000, &rows[..1]);
        assert_eq!((p.records.len(), p.cursor, p.more), (1, 11, false));
    }

    #[test]
    fn an_empty_page_keeps_the_cursor() {
        let p = fill(42, 5, 1_000, &[]);
        assert_eq!((p.records.len(), p.cursor, p.more), (0, 42, false));
    }

    #[test]
    fn the_byte_cap_applies_past_the_first_record_only() {
        // The first record always goes, however big (else a page could never move on).
        let p = fill(0, 10, 5, &[(1, 50), (2, 1)]);
        assert_eq!((p.records.len(), p.cursor, p.more), (1, 1, true));
        // Up to the cap exactly fits; one byte over does not.
        let p = fill(0, 10, 30, &[(1, 10), (2, 20), (3, 1)]);
        assert_eq!((p.records.len(), p.cursor, p.more), (2, 2, true));
        let p = fill(0, 10, 30, &[(1, 10), (2, 20)]);
        assert_eq!((p.records.len(), p.cursor, p.more), (2, 2, false));
    }

    #[test]
    fn page_parameters() {
        assert_eq!(PullPage::rows_to_read(500), 501);
        assert_eq!(PullPage::rows_to_read(u32::MAX), i64::from(u32::MAX) + 1);
        assert_eq!(PullPage::cursor_param(7), 7);
        assert_eq!(PullPage::cursor_param(u64::MAX), i64::MAX);
    }

    #[test]
    fn only_the_facilitys_own_records_may_be_republished() {
        let facility = Uuid::now_v7();
        assert!(may_publish(None, facility).is_ok());
        assert!(may_publish(Some(facility), facility).is_ok());
        assert!(matches!(
            may_publish(Some(Uuid::now_v7()), facility),
            Err(StoreError::NotOwner)
        ));
    }

    #[test]
    fn a_published_version_is_stamped_at_the_wall_clock() {
        let id = Uuid::now_v7();
        let now = 1_700_000_000_123;
        let v = PublishedVersion::new(id, "master_department", "{\"a\":1}", now);
        let hlc = Hlc::from_u64(v.hlc as u64);
        assert_eq!(hlc, Hlc::ZERO.tick(now as u64));
        assert_eq!((hlc.millis, hlc.counter), (now as u64, 0));
        assert_eq!(
            v.content_hash,
            content_hash(id, "master_department", hlc, 1, "{\"a\":1}")
        );
        // Another payload, kind or record is another content.
        assert_ne!(v, PublishedVersion::new(id, "master_department", "{}", now));
        assert_ne!(
            v,
            PublishedVersion::new(id, "master_room", "{\"a\":1}", now)
        );
        let other = Uuid::now_v7();
        assert_ne!(
            v,
            PublishedVersion::new(other, "master_department", "{\"a\":1}", now)
        );
    }

    #[test]
    fn a_facility_code_is_added_once_with_its_configuration() {
        let f = NewFacility {
            code: "PHC1".into(),
            name: "PHC One".into(),
            hfr_id: None,
            state_lgd: Some(9),
            district_lgd: Some(162),
        };
        assert!(matches!(
            plan_facility(true, &f),
            Err(StoreError::FacilityExists)
        ));
        let plan = plan_facility(false, &f).unwrap();
        assert_eq!(
            (plan.facility.code.as_str(), plan.facility.name.as_str()),
            ("PHC1", "PHC One")
        );
        let config: serde_json::Value = serde_json::from_str(&plan.config).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"code": "PHC1", "name": "PHC One", "state_lgd": 9, "district_lgd": 162})
        );
        assert_ne!(
            plan_facility(false, &f).unwrap().facility.id,
            plan.facility.id
        );
    }

    fn at(seq: u64, payload_len: usize) -> Envelope {
        Envelope {
            seq,
            ..env(payload_len)
        }
    }

    #[test]
    fn ingest_reads_facts_for_new_envelopes_and_hashes_for_old_ones() {
        let batch = vec![at(4, 2), at(2, 2), at(3, 2), at(6, 2), at(5, 2)];
        let ids = new_record_ids(&batch, 3);
        assert_eq!(ids, vec![batch[0].id, batch[3].id, batch[4].id]);
        assert_eq!(duplicate_span(&batch, 3), Some((2, 3)));
        assert_eq!(duplicate_span(&batch, 1), None);
        assert_eq!(duplicate_span(&batch, 9), Some((2, 6)));
        assert!(new_record_ids(&batch, 9).is_empty());
        assert_eq!(duplicate_span(&[], 9), None);
    }

    #[test]
    fn the_push_answer_re_reports_earlier_rejections_first() {
        let rejection = |seq| Rejection {
            seq,
            id: Uuid::now_v7(),
            code: swagat_sync_protocol::ErrorCode::NotOwner,
            reason: String::new(),
        };
        let plan = IngestPlan {
            accepted: vec![at(5, 10), at(6, 32)],
            rejected: vec![rejection(7)],
            rejected_hashes: vec![String::new()],
            duplicates: 2,
            duplicate_range: Some((3, 4)),
            new_acked: 7,
        };
        assert_eq!(plan.stored_bytes(), 42);
        let r = plan.into_response(vec![rejection(3)]);
        assert_eq!((r.acked_seq, r.accepted, r.duplicates), (7, 2, 2));
        let seqs: Vec<u64> = r.rejected.iter().map(|x| x.seq).collect();
        assert_eq!(seqs, vec![3, 7]);
    }

    #[test]
    fn an_enrollment_code_is_used_once_retried_by_its_device_and_expires() {
        let dev = Uuid::now_v7();
        assert!(matches!(
            decide_enroll(None, None, None, 10),
            Ok(EnrollStep::New)
        ));
        assert!(matches!(
            decide_enroll(None, None, Some(11), 10),
            Ok(EnrollStep::New)
        ));
        assert!(matches!(
            decide_enroll(None, None, Some(10), 10),
            Err(StoreError::EnrollmentCodeExpired)
        ));
        // Used in time, retried after its expiry: still the same device.
        assert!(matches!(
            decide_enroll(Some(5), Some(dev), Some(8), 10),
            Ok(EnrollStep::Retry(d)) if d == dev
        ));
        assert!(matches!(
            decide_enroll(Some(5), None, None, 10),
            Err(StoreError::InvalidEnrollmentCode)
        ));
        assert!(confirm_retry(Some(true)).is_ok());
        for other in [Some(false), None] {
            assert!(matches!(
                confirm_retry(other),
                Err(StoreError::InvalidEnrollmentCode)
            ));
        }
    }

    #[test]
    fn a_succession_continues_its_device_in_the_same_facility_only() {
        let (f, g) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(matches!(
            plan_succession(None, f, None, None),
            Err(StoreError::InvalidEnrollmentCode)
        ));
        assert!(matches!(
            plan_succession(Some((g, 7)), f, None, None),
            Err(StoreError::PreviousDeviceElsewhere)
        ));
        let s = plan_succession(Some((f, 7)), f, None, None).unwrap();
        assert_eq!(
            s,
            Succession {
                start_seq: 7,
                revoke_old: true
            }
        );
        // A copied disk that recorded less starts there; a superseded install revokes nothing.
        let s = plan_succession(Some((f, 7)), f, Some(4), Some(true)).unwrap();
        assert_eq!(
            s,
            Succession {
                start_seq: 4,
                revoke_old: false
            }
        );
        let s = plan_succession(Some((f, 7)), f, Some(9), Some(false)).unwrap();
        assert_eq!(
            s,
            Succession {
                start_seq: 7,
                revoke_old: true
            }
        );
        assert_eq!(
            plan_succession(Some((f, -1)), f, None, None)
                .unwrap()
                .start_seq,
            0
        );
    }
}
