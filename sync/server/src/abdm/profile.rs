//! The share callback's body: checked field by field (every problem listed), normalized, and
//! turned into the `abha_share` record the kiosks pull and the on-share answer ABDM expects.
//!
//! The gateway sends birth parts as strings, `abhaNumber` may be null, and some senders write
//! `pinCode` where the spec says `pincode`: both are accepted. ABHA addresses are lower-cased.

use crate::portal::FieldError;
use serde_json::{json, Map, Value};

/// The intent of a profile share.
pub const INTENT: &str = "PROFILE_SHARE";
/// Longest accepted `REQUEST-ID`.
const MAX_REQUEST_ID: usize = 100;

/// A postal address as shared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Address line.
    pub line: Option<String>,
    /// District name.
    pub district: Option<String>,
    /// State name.
    pub state: Option<String>,
    /// PIN code (6 digits).
    pub pincode: Option<String>,
}

/// A checked, normalized share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidShare {
    /// The gateway's `REQUEST-ID` of this call.
    pub request_id: String,
    /// The facility's HFR id (`metaData.hipId`).
    pub hip_id: String,
    /// The counter (`metaData.context`), 1–20 letters and digits.
    pub counter: String,
    /// ABHA number `XX-XXXX-XXXX-XXXX`, when shared.
    pub abha_number: Option<String>,
    /// ABHA address, lower case.
    pub abha_address: String,
    /// Name as in ABHA.
    pub name: String,
    /// `M`, `F` or `O`, when given.
    pub gender: Option<String>,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Month of birth (1–12).
    pub month_of_birth: Option<u8>,
    /// Day of birth (1–31).
    pub day_of_birth: Option<u8>,
    /// Mobile number, when shared.
    pub mobile: Option<String>,
    /// Address.
    pub address: Address,
}

struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Whether `field` already has a problem (so "is required" is not said twice).
    fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

/// Optional text: absent, null or blank is None; a non-string is a problem.
fn opt_text(
    obj: Option<&Map<String, Value>>,
    key: &str,
    field: &str,
    max: usize,
    p: &mut Problems,
) -> Option<String> {
    match obj.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                None
            } else if s.chars().count() > max {
                p.add(field, format!("longer than {max} characters"));
                None
            } else {
                Some(s.to_string())
            }
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            p.add(field, "must be a string");
            None
        }
    }
}

/// An optional whole number given as a string (or a number) within `lo..=hi`.
fn opt_number(
    obj: Option<&Map<String, Value>>,
    key: &str,
    field: &str,
    lo: i64,
    hi: i64,
    p: &mut Problems,
) -> Option<i64> {
    let text = opt_text(obj, key, field, 8, p)?;
    match text.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Some(n),
        _ => {
            p.add(field, format!("must be a whole number from {lo} to {hi}"));
            None
        }
    }
}

fn object<'a>(
    v: Option<&'a Value>,
    field: &str,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    match v {
        Some(Value::Object(o)) => Some(o),
        None | Some(Value::Null) => {
            p.add(field, "is required");
            None
        }
        Some(_) => {
            p.add(field, "must be an object");
            None
        }
    }
}

/// Checks a callback: the `REQUEST-ID` header and the JSON body. Every problem is listed.
pub fn parse_share(
    request_id: Option<&str>,
    body: &[u8],
    this_year: i32,
) -> Result<ValidShare, Vec<FieldError>> {
    let mut p = Problems(Vec::new());
    let request_id = match request_id.map(str::trim) {
        Some(r)
            if !r.is_empty()
                && r.len() <= MAX_REQUEST_ID
                && r.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(r.to_string())
        }
        Some(_) => {
            p.add("REQUEST-ID", "must be 1 to 100 visible characters (a UUID)");
            None
        }
        None => {
            p.add("REQUEST-ID", "header is required");
            None
        }
    };
    let root: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            p.add("body", format!("not valid JSON: {e}"));
            return Err(p.0);
        }
    };
    let Some(root) = root.as_object() else {
        p.add("body", "must be a JSON object");
        return Err(p.0);
    };
    match root.get("intent").and_then(Value::as_str) {
        Some(INTENT) => {}
        _ => p.add("intent", format!("must be \"{INTENT}\"")),
    }
    let meta = object(root.get("metaData"), "metaData", &mut p);
    let hip_id = opt_text(meta, "hipId", "metaData.hipId", 20, &mut p).and_then(|h| {
        let id = swagat_validate::parse_hfr_id(&h);
        if id.is_err() {
            p.add("metaData.hipId", "must be an HFR id: IN and 10 digits");
        }
        id.ok()
    });
    if hip_id.is_none() && meta.is_some() && !p.has("metaData.hipId") {
        p.add("metaData.hipId", "is required");
    }
    let counter = opt_text(meta, "context", "metaData.context", 40, &mut p).and_then(|c| {
        let id = swagat_validate::parse_counter_id(&c);
        if id.is_err() {
            p.add(
                "metaData.context",
                "the counter id must be 1 to 20 letters or digits",
            );
        }
        id.ok()
    });
    if counter.is_none() && meta.is_some() && !p.has("metaData.context") {
        p.add("metaData.context", "is required (the counter id)");
    }
    let profile = object(root.get("profile"), "profile", &mut p);
    let patient = profile.and_then(|pr| object(pr.get("patient"), "profile.patient", &mut p));
    let f = |k: &str| format!("profile.patient.{k}");
    let abha_number = opt_text(patient, "abhaNumber", &f("abhaNumber"), 20, &mut p).and_then(|n| {
        let norm = swagat_validate::AbhaNumber::parse(&n)
            .ok()
            .map(|a| a.formatted());
        if norm.is_none() {
            p.add(
                &f("abhaNumber"),
                "must be 14 digits (XX-XXXX-XXXX-XXXX) or null",
            );
        }
        norm
    });
    let abha_address =
        opt_text(patient, "abhaAddress", &f("abhaAddress"), 100, &mut p).and_then(|a| {
            let address = swagat_validate::AbhaAddress::parse(&a);
            if let Err(e) = &address {
                p.add(&f("abhaAddress"), format!("is not an ABHA address: {e}"));
            }
            address.ok().map(|a| a.as_str().to_owned())
        });
    if abha_address.is_none() && patient.is_some() && !p.has(&f("abhaAddress")) {
        p.add(&f("abhaAddress"), "is required");
    }
    let name = opt_text(patient, "name", &f("name"), 100, &mut p);
    if name.is_none() && patient.is_some() {
        p.add(&f("name"), "is required");
    }
    let gender = opt_text(patient, "gender", &f("gender"), 10, &mut p).and_then(|g| {
        let g = g.to_uppercase();
        if matches!(g.as_str(), "M" | "F" | "O") {
            Some(g)
        } else {
            p.add(&f("gender"), "must be M, F or O");
            None
        }
    });
    let year = opt_number(
        patient,
        "yearOfBirth",
        &f("yearOfBirth"),
        1890,
        i64::from(this_year),
        &mut p,
    );
    let month = opt_number(patient, "monthOfBirth", &f("monthOfBirth"), 1, 12, &mut p);
    let day = opt_number(patient, "dayOfBirth", &f("dayOfBirth"), 1, 31, &mut p);
    let mobile = opt_text(patient, "phoneNumber", &f("phoneNumber"), 20, &mut p);
    if let Some(m) = &mobile {
        if !m
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b' ' | b'X' | b'x' | b'*'))
        {
            p.add(&f("phoneNumber"), "must be a phone number");
        }
    }
    let addr = match patient.and_then(|pt| pt.get("address")) {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => {
            p.add(&f("address"), "must be an object");
            None
        }
    };
    let a = |k: &str| format!("profile.patient.address.{k}");
    let mut pincode = opt_text(addr, "pincode", &a("pincode"), 10, &mut p);
    if pincode.is_none() {
        pincode = opt_text(addr, "pinCode", &a("pinCode"), 10, &mut p);
    }
    if let Some(pc) = &pincode {
        if let Err(e) = swagat_validate::parse_pincode(pc) {
            p.add(&a("pincode"), e.to_string());
        }
    }
    let address = Address {
        line: opt_text(addr, "line", &a("line"), 300, &mut p),
        district: opt_text(addr, "district", &a("district"), 100, &mut p),
        state: opt_text(addr, "state", &a("state"), 100, &mut p),
        pincode,
    };
    if !p.0.is_empty() {
        return Err(p.0);
    }
    match (request_id, hip_id, counter, abha_address, name) {
        (Some(request_id), Some(hip_id), Some(counter), Some(abha_address), Some(name)) => {
            Ok(ValidShare {
                request_id,
                hip_id,
                counter,
                abha_number,
                abha_address,
                name,
                gender,
                year_of_birth: year.map(|y| y as i32),
                month_of_birth: month.map(|m| m as u8),
                day_of_birth: day.map(|d| d as u8),
                mobile,
                address,
            })
        }
        _ => Err(vec![FieldError {
            field: "body".into(),
            message: "incomplete share".into(),
        }]),
    }
}

/// The payload of the `abha_share` record published to the facility's kiosks.
pub fn record_payload(
    share_id: uuid::Uuid,
    s: &ValidShare,
    token: i64,
    shared_at_ms: i64,
    expires_at_ms: i64,
) -> Value {
    json!({
        "share_id": share_id,
        "request_id": s.request_id,
        "hip_id": s.hip_id,
        "counter": s.counter,
        "token": token.to_string(),
        "abha_number": s.abha_number,
        "abha_address": s.abha_address,
        "name": s.name,
        "gender": s.gender,
        "year_of_birth": s.year_of_birth,
        "month_of_birth": s.month_of_birth,
        "day_of_birth": s.day_of_birth,
        "mobile": s.mobile,
        "address": {
            "line": s.address.line,
            "district": s.address.district,
            "state": s.address.state,
            "pincode": s.address.pincode,
        },
        "shared_at": crate::portal::rfc3339(shared_at_ms),
        "expires_at": crate::portal::rfc3339(expires_at_ms),
    })
}

/// The on-share answer to one callback (`request_id` is that callback's `REQUEST-ID`).
pub fn on_share_body(
    abha_address: &str,
    counter: &str,
    token: i64,
    window_secs: u64,
    request_id: &str,
) -> Value {
    json!({
        "acknowledgement": {
            "status": "SUCCESS",
            "abhaAddress": abha_address,
            "profile": {
                "context": counter,
                "tokenNumber": token.to_string(),
                "expiry": window_secs.to_string(),
            }
        },
        "response": { "requestId": request_id }
    })
}

/// The kiosk's answer `abha_share_result`: `(share id, visit id, registered at ms)` when it
/// says `registered` with a visit id.
pub fn parse_result(payload: &str) -> Option<(uuid::Uuid, uuid::Uuid)> {
    let v: Value = serde_json::from_str(payload).ok()?;
    if v.get("status").and_then(Value::as_str) != Some("registered") {
        return None;
    }
    let share = uuid::Uuid::parse_str(v.get("share_id")?.as_str()?).ok()?;
    let visit = uuid::Uuid::parse_str(v.get("visit_id")?.as_str()?).ok()?;
    Some((share, visit))
}

/// The kiosks' `abha_share_result` answers among accepted envelopes, in order.
pub fn share_results(accepted: &[swagat_sync_protocol::Envelope]) -> Vec<(uuid::Uuid, uuid::Uuid)> {
    accepted
        .iter()
        .filter(|e| e.kind == swagat_sync_protocol::kinds::ABHA_SHARE_RESULT)
        .filter_map(|e| parse_result(e.payload.get()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{"intent":"PROFILE_SHARE","metaData":{"hipId":"IN2810014366","context":"OPD1","hprId":null,"latitude":"25.5941","longitude":"85.1376"},"profile":{"patient":{"abhaNumber":"91-2345-6789-0129","abhaAddress":"Sunita.Devi85@sbx","name":"Sunita Devi","gender":"F","dayOfBirth":"15","monthOfBirth":"8","yearOfBirth":"1985","address":{"line":"Kankarbagh","district":"PATNA","state":"BIHAR","pincode":"800020"},"phoneNumber":"9801234567"}}}"#;

    #[test]
    fn full_profile_is_normalized() {
        let s = parse_share(Some("r1"), FULL.as_bytes(), 2026).unwrap();
        assert_eq!(s.abha_address, "sunita.devi85@sbx");
        assert_eq!(s.abha_number.as_deref(), Some("91-2345-6789-0129"));
        assert_eq!(
            (s.year_of_birth, s.month_of_birth, s.day_of_birth),
            (Some(1985), Some(8), Some(15))
        );
        assert_eq!(s.address.pincode.as_deref(), Some("800020"));
        assert_eq!(s.counter, "OPD1");
    }

    #[test]
    fn null_number_and_pin_code_spelling() {
        let body = FULL
            .replace("\"91-2345-6789-0129\"", "null")
            .replace("\"pincode\"", "\"pinCode\"");
        let s = parse_share(Some("r1"), body.as_bytes(), 2026).unwrap();
        assert_eq!(s.abha_number, None);
        assert_eq!(s.address.pincode.as_deref(), Some("800020"));
    }

    #[test]
    fn every_problem_is_listed() {
        let body = FULL
            .replace("PROFILE_SHARE", "X")
            .replace("OPD1", "OPD-1")
            .replace("\"1985\"", "\"19x5\"")
            .replace("Sunita.Devi85@sbx", "1x");
        let errs = parse_share(None, body.as_bytes(), 2026).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "REQUEST-ID",
            "intent",
            "metaData.context",
            "profile.patient.abhaAddress",
            "profile.patient.yearOfBirth",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let truncated =
            parse_share(Some("r"), &FULL.as_bytes()[..FULL.len() / 2], 2026).unwrap_err();
        assert_eq!(truncated[0].field, "body");
    }
}
