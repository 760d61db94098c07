//! Booking requests from the state portal (PMNDP online booking), pulled in by sync and allocated
//! here under the same rules as a local booking.
//!
//! A request is answered exactly once: its portal id is the primary key of
//! `dialysis_online_requests`, so a request pulled twice returns the stored answer instead of
//! booking twice. Every request gets an answer for the portal — `confirmed`, `waitlisted`, or
//! `refused` with a reason — even one whose payload is unreadable. The sync layer maps the portal's
//! identity (ABHA) to the kiosk's patient id before calling [`ingest`].
//!
//! Payload (JSON): `{"patient_id": "...", "date": "YYYY-MM-DD", "shift": 1,
//! "priority": 0, "requested_at": "RFC 3339"}` (priority and requested_at optional; the request
//! time orders the waitlist fairly with local bookings).

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::alloc::Warning;
use crate::booking::{self, BookRequest, BookedSlot};
use crate::error::{DialysisError, Refusal, Result};
use crate::model::{fmt_instant, now_instant, parse_date, Source, Status};
use crate::views;
use crate::AuditEvent;

/// The portal's answer for a request.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineResult {
    /// Booked on a machine.
    Confirmed,
    /// On the waitlist.
    Waitlisted,
    /// Not booked; see the reason.
    Refused,
}

impl OnlineResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Waitlisted => "waitlisted",
            Self::Refused => "refused",
        }
    }
}

/// Why a request was refused (as stored).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineRefusal {
    /// Refusal code (see [`Refusal`]).
    pub code: String,
    /// English.
    pub en: String,
    /// Hindi.
    pub hi: String,
}

impl From<Refusal> for OnlineRefusal {
    fn from(r: Refusal) -> Self {
        Self {
            code: r.code.to_owned(),
            en: r.en,
            hi: r.hi,
        }
    }
}

/// The answer to one request.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct OnlineOutcome {
    /// The portal's request id.
    pub request_id: String,
    /// confirmed, waitlisted or refused.
    pub result: OnlineResult,
    /// Why it was refused.
    pub reason: Option<OnlineRefusal>,
    /// The booking made, if any.
    pub booking: Option<BookedSlot>,
    /// The request had been received before; this is the stored answer.
    pub duplicate: bool,
    /// Warnings (stale serology...).
    pub warnings: Vec<Warning>,
    /// Audit entries for the caller to record.
    #[serde(skip)]
    pub audit: Vec<AuditEvent>,
}

#[derive(Deserialize)]
struct Payload {
    patient_id: String,
    date: String,
    shift: u32,
    #[serde(default)]
    priority: i64,
    requested_at: Option<String>,
}

fn invalid(en: impl Into<String>) -> Refusal {
    Refusal::new(
        "invalid_request",
        "payload",
        en,
        "ऑनलाइन अनुरोध पढ़ा नहीं जा सका",
    )
}

/// Allocates a request, or refuses it; database failures are errors (nothing is stored).
fn allocate(
    conn: &Connection,
    request_id: &str,
    payload: &str,
) -> Result<std::result::Result<(BookedSlot, Vec<Warning>), Refusal>> {
    let p: Payload = match serde_json::from_str(payload) {
        Ok(p) => p,
        Err(e) => return Ok(Err(invalid(format!("unreadable request: {e}")))),
    };
    let date = match parse_date("date", &p.date) {
        Ok(d) => d,
        Err(_) => return Ok(Err(invalid(format!("{:?} is not a date", p.date)))),
    };
    let requested_at = match p
        .requested_at
        .as_deref()
        .map(|s| OffsetDateTime::parse(s, &Rfc3339))
    {
        None => None,
        Some(Ok(t)) => Some(fmt_instant(t)),
        Some(Err(_)) => return Ok(Err(invalid("requested_at is not an RFC 3339 time"))),
    };
    let req = BookRequest {
        priority: p.priority,
        source: Source::Online,
        online_request_id: Some(request_id.to_owned()),
        requested_at,
        ..BookRequest::single(p.patient_id, date, p.shift)
    };
    match booking::book(conn, &req) {
        Ok(mut out) => match out.bookings.pop() {
            Some(b) => Ok(Ok((b, out.warnings))),
            None => Ok(Err(invalid("no session could be booked"))),
        },
        Err(DialysisError::Refused(r)) => Ok(Err(r)),
        Err(DialysisError::NotFound { .. }) => Ok(Err(Refusal::new(
            "unknown_patient",
            "patient",
            "the patient is not registered at this facility",
            "मरीज़ इस केंद्र में पंजीकृत नहीं है",
        ))),
        Err(DialysisError::Invalid { en, hi, .. }) => {
            Ok(Err(Refusal::new("invalid_request", "payload", en, hi)))
        }
        Err(e) => Err(e),
    }
}

/// Ingests one portal request: allocates it locally and stores the answer (or returns the stored
/// answer if this request id was seen before).
pub fn ingest(conn: &Connection, request_id: &str, payload: &str) -> Result<OnlineOutcome> {
    let request_id = check_id(request_id)?;
    if let Some(stored) = stored(conn, request_id)? {
        return Ok(stored);
    }
    let answer = allocate(conn, request_id, payload)?;
    record(conn, request_id, payload, answer)
}

/// Answers a request with a refusal decided by the caller (e.g. the sync layer could not match
/// or register the portal's patient), stored like any answer so the request is answered once.
/// Returns the stored answer if this request id was seen before.
pub fn refuse(
    conn: &Connection,
    request_id: &str,
    payload: &str,
    refusal: Refusal,
) -> Result<OnlineOutcome> {
    let request_id = check_id(request_id)?;
    if let Some(stored) = stored(conn, request_id)? {
        return Ok(stored);
    }
    record(conn, request_id, payload, Err(refusal))
}

fn check_id(request_id: &str) -> Result<&str> {
    let request_id = request_id.trim();
    if request_id.is_empty() || request_id.len() > 100 {
        return Err(DialysisError::invalid(
            "request_id",
            "a request id of 1 to 100 characters is needed",
            "अनुरोध संख्या 1 से 100 अक्षर की होनी चाहिए",
        ));
    }
    Ok(request_id)
}

/// Stores the answer to a new request and returns it with its audit entries.
fn record(
    conn: &Connection,
    request_id: &str,
    payload: &str,
    answer: std::result::Result<(BookedSlot, Vec<Warning>), Refusal>,
) -> Result<OnlineOutcome> {
    let (result, reason, booking, warnings) = match answer {
        Ok((b, w)) => {
            let r = if b.status == Status::Confirmed {
                OnlineResult::Confirmed
            } else {
                OnlineResult::Waitlisted
            };
            (r, None, Some(b), w)
        }
        Err(r) => (
            OnlineResult::Refused,
            Some(OnlineRefusal::from(r)),
            None,
            Vec::new(),
        ),
    };
    let reason_json = reason.as_ref().and_then(|r| serde_json::to_string(r).ok());
    conn.execute(
        "INSERT INTO dialysis_online_requests (id, received_at, payload, result, reason, booking_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![request_id, now_instant(), payload, result.as_str(), reason_json, booking.as_ref().map(|b| &b.id)],
    )?;
    let mut audit = Vec::new();
    if let Some(b) = &booking {
        audit.push(AuditEvent {
            action: crate::actions::BOOK,
            entity: crate::entities::BOOKING,
            entity_id: b.id.clone(),
            details: json!({ "date": b.date, "shift": b.shift, "status": b.status,
                "machine_id": b.machine_id, "source": "online", "online_request_id": request_id }),
        });
    }
    audit.push(AuditEvent {
        action: crate::actions::ONLINE_REQUEST,
        entity: crate::entities::ONLINE_REQUEST,
        entity_id: request_id.to_owned(),
        details: json!({ "result": result, "reason": reason.as_ref().map(|r| &r.code),
            "booking_id": booking.as_ref().map(|b| &b.id) }),
    });
    Ok(OnlineOutcome {
        request_id: request_id.to_owned(),
        result,
        reason,
        booking,
        duplicate: false,
        warnings,
        audit,
    })
}

fn stored(conn: &Connection, request_id: &str) -> Result<Option<OnlineOutcome>> {
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT result, reason, booking_id FROM dialysis_online_requests WHERE id = ?1",
        )?
        .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((result, reason, booking_id)) = row else {
        return Ok(None);
    };
    let result: OnlineResult = serde_json::from_value(json!(result))
        .map_err(|_| DialysisError::Corrupt(format!("online result {result:?}")))?;
    let reason = reason
        .map(|r| serde_json::from_str::<OnlineRefusal>(&r))
        .transpose()
        .map_err(|_| DialysisError::Corrupt("online refusal".into()))?;
    let booking = booking_id
        .map(|id| views::booking(conn, &id))
        .transpose()?
        .map(|b| BookedSlot {
            id: b.id,
            date: b.date,
            shift: b.shift,
            machine_id: b.machine_id,
            machine: b.machine,
            status: b.status,
            warnings: Vec::new(),
        });
    Ok(Some(OnlineOutcome {
        request_id: request_id.to_owned(),
        result,
        reason,
        booking,
        duplicate: true,
        warnings: Vec::new(),
        audit: Vec::new(),
    }))
}

/// A received request and its answer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct OnlineRequest {
    /// The portal's id.
    pub id: String,
    /// When it was received (UTC).
    pub received_at: String,
    /// The answer.
    pub result: OnlineResult,
    /// Refusal code, if refused.
    pub reason_code: Option<String>,
    /// The booking made, if any.
    pub booking_id: Option<String>,
}

/// The newest `limit` requests, newest first (payloads are not returned).
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<OnlineRequest>> {
    type Raw = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<Raw> = conn
        .prepare_cached(
            "SELECT id, received_at, result, reason, booking_id FROM dialysis_online_requests \
             ORDER BY received_at DESC, rowid DESC LIMIT ?1",
        )?
        .query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(id, received_at, result, reason, booking_id)| {
            Ok(OnlineRequest {
                id,
                received_at,
                result: serde_json::from_value(json!(result))
                    .map_err(|_| DialysisError::Corrupt(format!("online result {result:?}")))?,
                reason_code: reason
                    .and_then(|r| serde_json::from_str::<OnlineRefusal>(&r).ok())
                    .map(|r| r.code),
                booking_id,
            })
        })
        .collect()
}
