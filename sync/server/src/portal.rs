//! Online dialysis booking requests from a state portal: validation of the portal's JSON, the
//! record published to the facility's kiosk, and the status the portal reads back.
//!
//! The unit's kiosk is the authority for its machines, so the server never allocates: it
//! checks the request, publishes it as a server-authored `dialysis_request` record for the
//! facility (record id = request id), and answers `pending` until the kiosk's
//! `dialysis_request_result` record arrives by push (see `store::apply_results`). A portal's
//! own reference makes a request idempotent: the same reference with the same content gives
//! the same request id; with different content it is refused as a conflict. Personal data in
//! the request is never logged.

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// Kind of the server-authored record that carries a request to the kiosk.
pub const REQUEST_KIND: &str = swagat_sync_protocol::kinds::DIALYSIS_REQUEST;
/// Kind of the kiosk's answer record.
pub const RESULT_KIND: &str = swagat_sync_protocol::kinds::DIALYSIS_REQUEST_RESULT;
/// Statuses a request can have (`pending` until the kiosk answers).
pub const STATUSES: &[&str] = &["pending", "confirmed", "waitlisted", "refused", "cancelled"];

/// How far ahead a session may be requested.
const MAX_DAYS_AHEAD: i64 = 366;
/// Indian Standard Time: requests are for the facility's local calendar.
const IST_MINUTES: i16 = 330;

/// One problem with a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `patient.mobile`.
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
}

/// A checked request, normalized (the form stored and published).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRequest {
    /// Facility code.
    pub facility: String,
    /// The portal's own reference (idempotency key).
    pub reference: String,
    /// The normalized request (patient, date, shift, priority), without server fields.
    pub body: Value,
    /// SHA-256 (hex) of the normalized body: the same reference must come with the same body.
    pub body_hash: String,
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Today in India.
pub fn today_ist() -> Date {
    let off = UtcOffset::from_whole_seconds(i32::from(IST_MINUTES) * 60).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(off).date()
}

/// `ms` (Unix milliseconds) as an RFC 3339 UTC time.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

struct Checker<'a> {
    obj: &'a Map<String, Value>,
    prefix: &'static str,
    errors: &'a mut Vec<FieldError>,
}

impl Checker<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: format!("{}{field}", self.prefix),
            message: message.into(),
        });
    }

    fn unknown(&mut self, allowed: &[&str]) {
        let extra: Vec<String> = self
            .obj
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in extra {
            self.err(
                &k,
                format!("unknown field; expected one of: {}", allowed.join(", ")),
            );
        }
    }

    /// A text field: trimmed, 1..=max characters, no control characters.
    fn text(&mut self, field: &str, required: bool, max: usize) -> Option<String> {
        match self.obj.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.err(field, "is required");
                }
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    if required {
                        self.err(field, "must not be empty");
                    }
                    None
                } else if t.chars().count() > max || t.chars().any(char::is_control) {
                    self.err(
                        field,
                        format!("must be at most {max} characters of plain text"),
                    );
                    None
                } else {
                    Some(t.to_owned())
                }
            }
            Some(_) => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    fn int(&mut self, field: &str, lo: i64, hi: i64) -> Option<i64> {
        match self.obj.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(n) if (lo..=hi).contains(&n) => Some(n),
                _ => {
                    self.err(field, format!("must be a whole number from {lo} to {hi}"));
                    None
                }
            },
        }
    }
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), DATE).ok()
}

fn gender(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "m" | "male" => Some("M"),
        "f" | "female" => Some("F"),
        "t" | "transgender" => Some("T"),
        "o" | "other" => Some("O"),
        _ => None,
    }
}

fn serology(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pos" | "positive" | "reactive" => Some("pos"),
        "neg" | "negative" | "non-reactive" | "nonreactive" => Some("neg"),
        "unknown" | "pending" | "not tested" => Some("unknown"),
        _ => None,
    }
}

fn check_patient(v: Option<&Value>, today: Date, errors: &mut Vec<FieldError>) -> Option<Value> {
    let Some(obj) = v.and_then(Value::as_object) else {
        errors.push(FieldError {
            field: "patient".into(),
            message:
                "is required: an object with name, gender, year_of_birth or age, mobile or ABHA"
                    .into(),
        });
        return None;
    };
    let n0 = errors.len();
    let mut c = Checker {
        obj,
        prefix: "patient.",
        errors,
    };
    c.unknown(&[
        "name",
        "gender",
        "year_of_birth",
        "age",
        "mobile",
        "abha_number",
        "abha_address",
        "serology",
    ]);
    let name = c.text("name", true, 80);
    let gender = match c.text("gender", true, 20) {
        Some(g) => match gender(&g) {
            Some(g) => Some(g),
            None => {
                c.err("gender", "must be M, F, T or O");
                None
            }
        },
        None => None,
    };
    let this_year = i64::from(today.year());
    let yob = c.int("year_of_birth", 1890, this_year);
    let age = c.int("age", 0, 130);
    let year_of_birth = match (yob, age) {
        (Some(y), _) => Some(y),
        (None, Some(a)) => Some(this_year - a),
        (None, None) => {
            if !c.obj.contains_key("year_of_birth") && !c.obj.contains_key("age") {
                c.err("year_of_birth", "give year_of_birth or age");
            }
            None
        }
    };
    // The kiosk's rules (swagat-validate): a request the server accepts must register there.
    let mobile =
        c.text("mobile", false, 20)
            .and_then(|m| match swagat_validate::IndianMobile::parse(&m) {
                Ok(m) => Some(m.as_str().to_owned()),
                Err(_) => {
                    c.err(
                        "mobile",
                        "must be a 10-digit Indian mobile number starting with 6-9",
                    );
                    None
                }
            });
    let abha_number = c.text("abha_number", false, 20).and_then(|a| {
        match swagat_validate::AbhaNumber::parse(&a) {
            Ok(n) => Some(n.formatted()),
            Err(_) => {
                c.err(
                    "abha_number",
                    "must be the 14-digit ABHA number (e.g. 91-1234-5678-9012)",
                );
                None
            }
        }
    });
    let abha_address = c.text("abha_address", false, 64).and_then(|a| {
        match swagat_validate::AbhaAddress::parse(&a) {
            Ok(a) => Some(a.as_str().to_owned()),
            Err(e) => {
                c.err(
                    "abha_address",
                    format!("must be an ABHA address like name@abdm: {e}"),
                );
                None
            }
        }
    });
    if mobile.is_none()
        && abha_number.is_none()
        && abha_address.is_none()
        && !["mobile", "abha_number", "abha_address"]
            .iter()
            .any(|k| c.obj.get(*k).is_some_and(|v| !v.is_null()))
    {
        c.err(
            "mobile",
            "give at least one of mobile, abha_number, abha_address",
        );
    }
    let sero = match c.obj.get("serology") {
        None | Some(Value::Null) => None,
        Some(Value::Object(s)) => {
            let mut sc = Checker {
                obj: s,
                prefix: "patient.serology.",
                errors: c.errors,
            };
            sc.unknown(&["hbsag", "hcv", "hiv", "tested_on"]);
            let mut out = Map::new();
            let mut known = false;
            for marker in ["hbsag", "hcv", "hiv"] {
                let r = match sc.text(marker, false, 20) {
                    Some(t) => match serology(&t) {
                        Some(r) => r,
                        None => {
                            sc.err(marker, "must be pos, neg or unknown");
                            "unknown"
                        }
                    },
                    None => "unknown",
                };
                known |= r != "unknown";
                out.insert(marker.into(), json!(r));
            }
            match sc.text("tested_on", false, 10) {
                Some(t) => match parse_date(&t) {
                    Some(d) if d <= today => {
                        out.insert("tested_on".into(), json!(t));
                    }
                    Some(_) => sc.err("tested_on", "is in the future"),
                    None => sc.err("tested_on", "must be a date YYYY-MM-DD"),
                },
                None if known => sc.err("tested_on", "is required when a result is pos or neg"),
                None => {}
            }
            Some(Value::Object(out))
        }
        Some(_) => {
            c.err(
                "serology",
                "must be an object with hbsag, hcv, hiv, tested_on",
            );
            None
        }
    };
    if errors.len() > n0 {
        return None;
    }
    let mut p = Map::new();
    p.insert("name".into(), json!(name));
    p.insert("gender".into(), json!(gender));
    p.insert("year_of_birth".into(), json!(year_of_birth));
    for (k, v) in [
        ("mobile", mobile),
        ("abha_number", abha_number),
        ("abha_address", abha_address),
    ] {
        if let Some(v) = v {
            p.insert(k.into(), json!(v));
        }
    }
    if let Some(s) = sero {
        p.insert("serology".into(), s);
    }
    Some(Value::Object(p))
}

/// Checks a request body; on success the normalized request, else every problem found.
pub fn validate(body: &Value, today: Date) -> Result<ValidRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError {
            field: String::new(),
            message: "the body must be a JSON object".into(),
        }]);
    };
    let mut c = Checker {
        obj,
        prefix: "",
        errors: &mut errors,
    };
    c.unknown(&[
        "facility",
        "reference",
        "patient",
        "date",
        "shift",
        "priority",
    ]);
    let facility = c.text("facility", true, 40);
    let reference = c.text("reference", true, 100);
    let date = match c.text("date", true, 10) {
        Some(t) => match parse_date(&t) {
            Some(d) if d < today => {
                c.err("date", "is in the past");
                None
            }
            Some(d) if (d - today).whole_days() > MAX_DAYS_AHEAD => {
                c.err("date", format!("is more than {MAX_DAYS_AHEAD} days ahead"));
                None
            }
            Some(_) => Some(t),
            None => {
                c.err("date", "must be a date YYYY-MM-DD");
                None
            }
        },
        None => None,
    };
    let shift = c.int("shift", 1, 12);
    if shift.is_none() && c.obj.get("shift").is_none_or(Value::is_null) {
        c.err("shift", "is required (1 for the first shift of the day)");
    }
    let priority = c.int("priority", -100, 100).unwrap_or(0);
    let patient = check_patient(obj.get("patient"), today, &mut errors);
    match (facility, reference, patient, date, shift) {
        (Some(facility), Some(reference), Some(patient), Some(date), Some(shift))
            if errors.is_empty() =>
        {
            let body = json!({
                "facility": facility,
                "reference": reference,
                "patient": patient,
                "date": date,
                "shift": shift,
                "priority": priority,
            });
            let body_hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
            Ok(ValidRequest {
                facility,
                reference,
                body,
                body_hash,
            })
        }
        _ => Err(errors),
    }
}

/// The payload of the `dialysis_request` record published to the facility's kiosk.
pub fn published_payload(
    request_id: uuid::Uuid,
    portal_name: &str,
    req: &ValidRequest,
    received_at_ms: i64,
) -> Value {
    let mut p = req.body.clone();
    if let Some(m) = p.as_object_mut() {
        m.insert("request_id".into(), json!(request_id));
        m.insert("portal".into(), json!(portal_name));
        m.insert("requested_at".into(), json!(rfc3339(received_at_ms)));
    }
    p
}

/// A stored request, as the portal reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    /// Request id (= record id of the published record).
    pub id: uuid::Uuid,
    /// The portal that made it.
    pub portal_id: uuid::Uuid,
    /// The portal's reference.
    pub reference: String,
    /// Facility code.
    pub facility: String,
    /// The normalized request body (JSON text).
    pub body: String,
    /// SHA-256 of the normalized body.
    pub body_hash: String,
    /// `pending`, `confirmed`, `waitlisted`, `refused` or `cancelled`.
    pub status: String,
    /// The kiosk's answer record payload (JSON text), once answered.
    pub answer: Option<String>,
    /// When the server received it.
    pub received_at_ms: i64,
    /// When the kiosk's answer reached the server.
    pub answered_at_ms: Option<i64>,
}

/// The JSON the portal gets for a request (`POST` and `GET`).
pub fn status_json(row: &RequestRow) -> Value {
    let body: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
    let mut v = json!({
        "id": row.id,
        "reference": row.reference,
        "facility": row.facility,
        "status": row.status,
        "requested": { "date": body["date"], "shift": body["shift"], "priority": body["priority"] },
        "received_at": rfc3339(row.received_at_ms),
        "answered_at": row.answered_at_ms.map(rfc3339),
    });
    if let Some(answer) = row
        .answer
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
    {
        for k in ["date", "shift", "machine", "reason", "booking_status"] {
            if let Some(x) = answer.get(k).filter(|x| !x.is_null()) {
                v[k] = x.clone();
            }
        }
    }
    v
}

/// The request id and status a kiosk's answer record carries, if it is well formed.
pub fn parse_result(payload: &str) -> Option<(uuid::Uuid, String)> {
    let v: Value = serde_json::from_str(payload).ok()?;
    let id = uuid::Uuid::parse_str(v.get("request_id")?.as_str()?).ok()?;
    let status = v.get("status")?.as_str()?;
    (STATUSES.contains(&status) && status != "pending").then(|| (id, status.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn good() -> Value {
        json!({
            "facility": "PTN12", "reference": "PMNDP-1",
            "patient": { "name": "Sunita Devi", "gender": "female", "age": 50,
                "mobile": "+91 98765-43210", "abha_number": "91123456789012",
                "serology": { "hbsag": "negative", "hcv": "neg", "hiv": "neg", "tested_on": "2026-01-05" } },
            "date": "2026-03-02", "shift": 1
        })
    }

    #[test]
    fn normalizes_a_good_request() {
        let r = validate(&good(), date!(2026 - 03 - 01)).unwrap();
        let p = &r.body["patient"];
        assert_eq!(p["gender"], "F");
        assert_eq!(p["year_of_birth"], 1976);
        assert_eq!(p["mobile"], "9876543210");
        assert_eq!(p["abha_number"], "91-1234-5678-9012");
        assert_eq!(p["serology"]["hbsag"], "neg");
        assert_eq!(r.body["priority"], 0);
        let again = validate(&good(), date!(2026 - 03 - 01)).unwrap();
        assert_eq!(r.body_hash, again.body_hash);
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let mut b = good();
        b["date"] = json!("2026-02-01");
        b["shift"] = json!(0);
        b["shfit"] = json!(1);
        b["patient"]["mobile"] = json!("12345");
        b["patient"]["serology"]["tested_on"] = Value::Null;
        let errs = validate(&b, date!(2026 - 03 - 01)).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "date",
            "shift",
            "shfit",
            "patient.mobile",
            "patient.serology.tested_on",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
        let mut b = good();
        b["patient"] = json!({ "name": "X", "gender": "F", "age": 30 });
        let errs = validate(&b, date!(2026 - 03 - 01)).unwrap_err();
        assert_eq!(errs[0].field, "patient.mobile", "{errs:?}");
    }

    #[test]
    fn results_are_parsed_strictly() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(
            parse_result(&json!({"request_id": id, "status": "confirmed"}).to_string()),
            Some((id, "confirmed".into()))
        );
        assert_eq!(
            parse_result(&json!({"request_id": id, "status": "pending"}).to_string()),
            None
        );
        assert_eq!(parse_result("{}"), None);
    }
}
