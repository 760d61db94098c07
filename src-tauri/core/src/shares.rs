//! ABHA scan-and-share at the counter: the shared-profiles queue and registering a share.
//!
//! The state server is the facility's ABDM endpoint: each profile a patient shares by scanning
//! the counter's QR arrives here as a server-authored `abha_share` record (pulled by sync into
//! `sync_inbox`; only records whose author is the server, `device_id` = the facility id, are
//! read). The queue is read straight from there, so it refreshes with every pull. Registering
//! a share pre-fills the registration from the profile — the returning patient is found by ABHA
//! number, then ABHA address, by the usual registration rules — issues the department token as
//! usual, remembers the share's registration (`abha_share_registrations`, so a second tap gives
//! the same patient and visit) and queues an `abha_share_result` for the server and the other
//! kiosks. A share answered by another kiosk's `abha_share_result` shows as registered
//! elsewhere; one past its window as expired. Nothing here logs personal data.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use swagat_sync_client::protocol::kinds::{ABHA_SHARE, ABHA_SHARE_RESULT};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::audit::{self, Actor};
use crate::clock;
use crate::config;
use crate::error::{CoreError, Result};
use crate::opd::patients::{PatientAddress, PatientInput};
use crate::opd::{self, RegisterRequest, Registration};

/// Default scan-and-share page (the ABDM sandbox's); production is configured.
pub const DEFAULT_SHARE_BASE: &str = "https://phrsbx.abdm.gov.in/share-profile";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ShareAddress {
    line: Option<String>,
    district: Option<String>,
    state: Option<String>,
    pincode: Option<String>,
}

/// The `abha_share` payload (see sync/PROTOCOL.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SharePayload {
    share_id: String,
    counter: String,
    token: String,
    abha_number: Option<String>,
    abha_address: String,
    name: String,
    gender: Option<String>,
    year_of_birth: Option<i32>,
    month_of_birth: Option<u8>,
    day_of_birth: Option<u8>,
    mobile: Option<String>,
    address: Option<ShareAddress>,
    shared_at: String,
    expires_at: String,
}

/// One shared profile in the counter's queue.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SharedProfile {
    /// Share id (the `abha_share` record id).
    pub id: String,
    /// The token the patient's app shows, exactly as sent to ABDM.
    pub token: String,
    /// The counter it was shared at (`metaData.context`).
    pub context: String,
    /// Name as in ABHA.
    pub name: String,
    /// `M`, `F` or `O`.
    pub gender: Option<String>,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Age in years today, from the year of birth.
    pub age_years: Option<i32>,
    /// ABHA address.
    pub abha_address: String,
    /// ABHA number, when shared.
    pub abha_number: Option<String>,
    /// When it was shared (RFC 3339).
    pub shared_at: String,
    /// When its token lapses (RFC 3339).
    pub expires_at: String,
    /// Minutes since it was shared.
    pub minutes_waiting: i64,
    /// `waiting`, `registered` (here), `registered_elsewhere` (by another kiosk) or `expired`.
    pub status: String,
    /// The visit registered for it at this kiosk.
    pub visit_id: Option<String>,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// The pulled `abha_share` payloads authored by the server for this kiosk's facility.
fn pulled_shares(conn: &Connection) -> Result<Vec<SharePayload>> {
    let rows: Vec<String> = conn
        .prepare_cached(
            "SELECT i.payload FROM sync_inbox i JOIN sync_state s ON s.id = 1 \
             WHERE i.kind = ?1 AND i.device_id = json_extract(s.credentials, '$.facility_id')",
        )?
        .query_map([ABHA_SHARE], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .iter()
        .filter_map(|p| serde_json::from_str::<SharePayload>(p).ok())
        .filter(|p| !p.share_id.is_empty())
        .collect())
}

fn one_share(conn: &Connection, share_id: &str) -> Result<SharePayload> {
    let payload: Option<String> = conn
        .prepare_cached(
            "SELECT i.payload FROM sync_inbox i JOIN sync_state s ON s.id = 1 \
             WHERE i.record_id = ?1 AND i.kind = ?2 AND i.device_id = json_extract(s.credentials, '$.facility_id')",
        )?
        .query_row(params![share_id, ABHA_SHARE], |r| r.get(0))
        .optional()?;
    payload
        .and_then(|p| serde_json::from_str::<SharePayload>(&p).ok())
        .ok_or_else(|| CoreError::NotFound {
            what: "shared profile".into(),
        })
}

fn answered_elsewhere(conn: &Connection) -> Result<HashSet<String>> {
    let rows: Vec<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(payload, '$.share_id') FROM sync_inbox WHERE kind = ?1 \
             AND json_extract(payload, '$.status') = 'registered'",
        )?
        .query_map([ABHA_SHARE_RESULT], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows.into_iter().flatten().collect())
}

fn registered_here(conn: &Connection, share_id: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT visit_id, registration FROM abha_share_registrations WHERE share_id = ?1",
        )?
        .query_row([share_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Today's shared profiles of the facility (every counter), this kiosk's counter first, then
/// by counter and token.
pub fn list(conn: &Connection) -> Result<Vec<SharedProfile>> {
    let settings = config::load_settings(conn)?;
    let now = clock::now_utc();
    let today = clock::local_date(now, settings.utc_offset_minutes);
    let elsewhere = answered_elsewhere(conn)?;
    let mut out = Vec::new();
    for p in pulled_shares(conn)? {
        let Some(shared) = parse_time(&p.shared_at) else {
            continue;
        };
        if clock::local_date(shared, settings.utc_offset_minutes) != today {
            continue;
        }
        let expired = parse_time(&p.expires_at).is_none_or(|e| e <= now);
        let here = registered_here(conn, &p.share_id)?;
        let status = if here.is_some() {
            "registered"
        } else if elsewhere.contains(&p.share_id) {
            "registered_elsewhere"
        } else if expired {
            "expired"
        } else {
            "waiting"
        };
        out.push(SharedProfile {
            id: p.share_id,
            token: p.token,
            context: p.counter,
            name: p.name,
            gender: p.gender,
            year_of_birth: p.year_of_birth,
            age_years: p.year_of_birth.map(|y| today.year() - y),
            abha_address: p.abha_address,
            abha_number: p.abha_number,
            shared_at: p.shared_at,
            expires_at: p.expires_at,
            minutes_waiting: ((now - shared).whole_minutes()).max(0),
            status: status.to_owned(),
            visit_id: here.map(|(v, _)| v),
        });
    }
    let own = settings.counter_id.clone().unwrap_or_default();
    out.sort_by(|a, b| {
        (
            a.context != own,
            &a.context,
            a.token.parse::<u64>().unwrap_or(u64::MAX),
            &a.id,
        )
            .cmp(&(
                b.context != own,
                &b.context,
                b.token.parse::<u64>().unwrap_or(u64::MAX),
                &b.id,
            ))
    });
    Ok(out)
}

/// The registration form's fields from a shared profile. A mobile or PIN code the
/// registration rules would refuse (masked, malformed) is left out rather than failing.
fn patient_input(p: &SharePayload) -> PatientInput {
    let dob = match (p.day_of_birth, p.month_of_birth, p.year_of_birth) {
        (Some(d), Some(m), Some(y))
            if swagat_identity::BirthDate::parse(&format!("{d}/{m}/{y}")).is_ok() =>
        {
            Some(format!("{y:04}-{m:02}-{d:02}"))
        }
        (_, _, Some(y)) => Some(y.to_string()),
        _ => None,
    };
    let mobile = p
        .mobile
        .as_deref()
        .filter(|m| swagat_identity::IndianMobile::parse(m).is_ok())
        .map(str::to_owned);
    let addr = p.address.clone().unwrap_or_default();
    // The same PIN rule as the form's (a shared "800 020" is kept, a "012345" dropped).
    let pincode = addr
        .pincode
        .and_then(|pc| swagat_identity::numbers::parse_pincode(&pc).ok());
    PatientInput {
        name: p.name.clone(),
        gender: p.gender.clone().unwrap_or_else(|| "O".into()),
        age_years: if dob.is_none() { Some(0) } else { None },
        dob,
        mobile,
        abha_number: p.abha_number.clone(),
        abha_address: Some(p.abha_address.clone()),
        address: PatientAddress {
            postal: swagat_identity::Address {
                street: addr.line,
                district: addr.district,
                state: addr.state,
                pincode,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A shared profile as the registration form opens it: the form's fields from the profile and
/// the returning patient it matches (by ABHA number, then ABHA address), if any.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct SharePrefill {
    /// Share id.
    pub share_id: String,
    /// The token the patient's app shows.
    pub token: String,
    /// The counter it was shared at.
    pub context: String,
    /// The registration form's fields.
    pub input: PatientInput,
    /// The registered patient with this ABHA number or address (a returning patient).
    pub existing: Option<crate::opd::Patient>,
    /// `waiting`, `registered`, `registered_elsewhere` or `expired` (as in the queue).
    pub status: String,
    /// The registration made for it at this kiosk, when it was registered here.
    pub registration: Option<Registration>,
}

/// A share's registration: the registration as `register` returns it, with the share's ABHA
/// address for the token screen (what `shares_register` and `swagat-admin shares register`
/// answer).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareRegistration {
    /// The registration (its fields, flattened).
    #[serde(flatten)]
    pub registration: Registration,
    /// The ABHA address the patient shared.
    pub abha_address: String,
}

/// The registration stored for a share registered here, read back.
fn stored_registration(json: &str) -> Result<Registration> {
    serde_json::from_str(json).map_err(|e| CoreError::Corrupt(e.to_string()))
}

fn refuse_elsewhere(conn: &Connection, share_id: &str) -> Result<()> {
    if answered_elsewhere(conn)?.contains(share_id) {
        return Err(CoreError::invalid(
            "share",
            "this shared profile was already registered at another counter",
            "यह साझा प्रोफ़ाइल किसी दूसरे काउंटर पर पहले ही पंजीकृत हो चुकी है",
        ));
    }
    Ok(())
}

/// Opens a share for registration: the form's fields and the returning patient, matched by
/// ABHA number first, then ABHA address (then the form's usual duplicate check does the rest).
/// `hash_key` is the state's Aadhaar hash key (the profile carries no Aadhaar; validation needs
/// it all the same). Writes nothing.
pub fn prefill(conn: &Connection, hash_key: &[u8], share_id: &str) -> Result<SharePrefill> {
    let share = one_share(conn, share_id)?;
    let settings = config::load_settings(conn)?;
    let now = clock::now_utc();
    let today = clock::local_date(now, settings.utc_offset_minutes);
    let input = patient_input(&share);
    let here = registered_here(conn, share_id)?;
    let registration = here
        .as_ref()
        .and_then(|(_, json)| stored_registration(json).ok());
    let existing = match registration.as_ref().map(|r| r.patient_id.as_str()) {
        Some(id) => Some(opd::patients::get(conn, id)?),
        None => match opd::patients::validate(&input, hash_key, today) {
            Ok(v) => opd::patients::find_same_person(conn, &v)?,
            Err(_) => None,
        },
    };
    let status = if here.is_some() {
        "registered"
    } else if answered_elsewhere(conn)?.contains(share_id) {
        "registered_elsewhere"
    } else if parse_time(&share.expires_at).is_none_or(|e| e <= now) {
        "expired"
    } else {
        "waiting"
    };
    Ok(SharePrefill {
        share_id: share.share_id,
        token: share.token,
        context: share.counter,
        input,
        existing,
        status: status.to_owned(),
        registration,
    })
}

/// Registers a share at this kiosk with the one tap's defaults: the returning patient it
/// matches (by ABHA number, then ABHA address), else a new patient from the profile, for
/// `department`. What `swagat-admin shares register` does. Registering the same share again
/// returns the first registration unchanged. Call inside one write transaction.
pub fn register(
    tx: &Connection,
    actor: &Actor,
    share_id: &str,
    department: &str,
) -> Result<ShareRegistration> {
    if let Some((_, json)) = registered_here(tx, share_id)? {
        return again(tx, share_id, &json);
    }
    let key = opd::secrets::aadhaar_hash_key(tx)?;
    let p = prefill(tx, &key, share_id)?;
    let req = match p.existing {
        Some(patient) => RegisterRequest {
            department: department.to_owned(),
            patient_id: Some(patient.id),
            ..Default::default()
        },
        None => RegisterRequest {
            department: department.to_owned(),
            patient: Some(p.input),
            ..Default::default()
        },
    };
    register_with(tx, actor, share_id, &req)
}

/// Registers a share with the registration the operator confirmed (the pre-filled form as
/// edited, or the returning patient chosen): the patient and visit as `register` makes them,
/// the visit marked as come by scan and share (`share_id`, `via: "scan_share"` in its synced
/// payload), the share remembered as registered here and an `abha_share_result` queued for the
/// server and the other kiosks. Registering the same share again returns the first
/// registration unchanged; one registered by another kiosk is refused. Call inside one write
/// transaction. Returns the registration as `register` prints it.
pub fn register_with(
    tx: &Connection,
    actor: &Actor,
    share_id: &str,
    req: &RegisterRequest,
) -> Result<ShareRegistration> {
    if let Some((_, json)) = registered_here(tx, share_id)? {
        return again(tx, share_id, &json);
    }
    let share = one_share(tx, share_id)?;
    refuse_elsewhere(tx, share_id)?;
    let reg = opd::register::register(tx, actor, req)?;
    let now = clock::to_db(clock::now_utc());
    let json = serde_json::to_value(&reg).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO abha_share_registrations (share_id, patient_id, visit_id, registration, registered_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![share_id, reg.patient_id, reg.visit_id, json.to_string(), now],
    )?;
    // The visit again, now with its scan-and-share marker (`records::visit_payload` reads it
    // from `abha_share_registrations`), so the state's figures count it.
    crate::outbox::queue_visit(tx, &reg.visit_id)?;
    let record_id = crate::outbox::record_id_for(tx, ABHA_SHARE_RESULT, share_id)?;
    let registered_at = clock::now_utc()
        .format(&Rfc3339)
        .map_err(|e| CoreError::Corrupt(e.to_string()))?;
    crate::outbox::queue(
        tx,
        ABHA_SHARE_RESULT,
        &record_id.to_string(),
        &serde_json::json!({
            "share_id": share_id,
            "status": "registered",
            "visit_id": reg.visit_id,
            "patient_id": reg.patient_id,
            "registered_at": registered_at,
        }),
    )?;
    audit::record(
        tx,
        actor,
        crate::audit::actions::ABHA_SHARE_REGISTER,
        "visit",
        Some(&reg.visit_id),
        serde_json::json!({ "share_id": share_id, "returning": reg.returning }),
    )?;
    Ok(ShareRegistration {
        registration: reg,
        abha_address: share.abha_address,
    })
}

/// A share registered here before: its first registration, unchanged.
fn again(conn: &Connection, share_id: &str, json: &str) -> Result<ShareRegistration> {
    Ok(ShareRegistration {
        registration: stored_registration(json)?,
        abha_address: one_share(conn, share_id)?.abha_address,
    })
}

/// The share a visit was registered from at this kiosk, if any (the visit's scan-and-share
/// marker in its synced payload).
pub fn share_of_visit(conn: &Connection, visit_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT share_id FROM abha_share_registrations WHERE visit_id = ?1")?
        .query_row([visit_id], |r| r.get(0))
        .optional()?)
}

/// Active visits of `from`..=`to` (facility-local dates) that came by scan and share: those
/// registered from a share here, and those another kiosk of the facility registered from one
/// (named by its pulled `abha_share_result`).
pub fn registered_between(conn: &Connection, from: &str, to: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM visits v WHERE v.visit_date BETWEEN ?1 AND ?2 AND v.status = 'active' \
             AND (v.id IN (SELECT visit_id FROM abha_share_registrations) \
                  OR v.id IN (SELECT json_extract(payload, '$.visit_id') FROM sync_inbox \
                              WHERE kind = ?3 AND json_extract(payload, '$.status') = 'registered'))",
        )?
        .query_row(params![from, to, ABHA_SHARE_RESULT], |r| r.get(0))?)
}

/// Today's visits that came by scan and share (still active), at any counter of the facility.
pub fn registered_today(conn: &Connection, date: &str) -> Result<i64> {
    registered_between(conn, date, date)
}

/// The counter's scan-and-share QR ([`Kiosk::counter_qr`](crate::Kiosk::counter_qr)).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct CounterQr {
    /// The QR's text ([`counter_qr_url`]).
    pub url: String,
    /// The QR as an SVG image.
    pub svg: String,
}

/// The counter's scan-and-share QR text: `<share base>?hip-id=<HFR id>&counter-id=<counter>`.
/// Needs the facility's HFR id and this kiosk's counter id.
pub fn counter_qr_url(conn: &Connection) -> Result<String> {
    let s = config::load_settings(conn)?;
    let hfr = s.hfr_id.ok_or_else(|| {
        CoreError::invalid(
            "hfr_id",
            "set the facility's HFR id first",
            "पहले सुविधा की HFR आईडी दर्ज करें",
        )
    })?;
    let counter = s.counter_id.ok_or_else(|| {
        CoreError::invalid(
            "counter_id",
            "set this kiosk's counter id first",
            "पहले इस कियोस्क की काउंटर आईडी दर्ज करें",
        )
    })?;
    let base = s
        .share_base_url
        .unwrap_or_else(|| DEFAULT_SHARE_BASE.to_owned());
    Ok(format!("{base}?hip-id={hfr}&counter-id={counter}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::ConfigPatch;
    use crate::{FirstRunSetup, Kiosk};

    const FACILITY: &str = "0193a000-0000-7000-8000-000000000001";

    fn kiosk() -> Kiosk {
        let k = Kiosk::open_in_memory().unwrap();
        k.first_run_setup(&FirstRunSetup {
            facility: serde_json::from_str(
                r#"{"name_en":"UPHC Kankarbagh","name_hi":"यूपीएचसी कंकड़बाग","kiosk_letter":"A","hfr_id":"IN2810014366"}"#,
            )
            .unwrap(),
            admin_name: "Admin".into(),
            admin_secret: "135790".into(),
        })
        .unwrap();
        k.store()
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_state SET credentials = ?1 WHERE id = 1",
                    [serde_json::json!({"facility_id": FACILITY}).to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        k
    }

    #[test]
    fn a_shared_pin_code_meets_the_forms_rule() {
        let pin = |pc: &str| {
            let p: SharePayload = serde_json::from_value(serde_json::json!({
                "name": "Sunita Devi",
                "abha_address": "sunita@abdm",
                "address": { "pincode": pc },
            }))
            .unwrap();
            patient_input(&p).address.postal.pincode
        };
        assert_eq!(pin("800020").as_deref(), Some("800020"));
        assert_eq!(
            pin("800 020").as_deref(),
            Some("800020"),
            "one inner space, as typed"
        );
        assert_eq!(pin("012345"), None, "no postal region starts with 0");
        assert_eq!(pin("80002"), None);
    }

    fn rfc(t: OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap()
    }

    /// Puts a pulled record into the inbox as sync would.
    fn pulled(k: &Kiosk, kind: &str, device: &str, payload: serde_json::Value) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let mut payload = payload;
        if kind == ABHA_SHARE {
            payload["share_id"] = serde_json::json!(id);
        }
        k.store()
            .write(|tx| {
                tx.execute(
                    "INSERT INTO sync_inbox (record_id, kind, device_id, seq, hlc, schema_version, payload, server_cursor) \
                     VALUES (?1, ?2, ?3, 1, 1, 1, ?4, 1)",
                    params![id, kind, device, payload.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        id
    }

    fn share(k: &Kiosk, token: &str, address: &str, number: Option<&str>, age_min: i64) -> String {
        // Shared `age_min` minutes ago, but never before the facility's midnight: the queue
        // lists today's shares only, and this test must pass at 00:10 as well as at noon. The
        // 30-minute window ends where it would have, so an old share is still past it.
        let now = clock::now_utc();
        let offset_min = k
            .store()
            .read(|c| Ok(config::load_settings(c)?.utc_offset_minutes))
            .unwrap();
        let offset = time::UtcOffset::from_whole_seconds(offset_min * 60).unwrap();
        let midnight = now
            .to_offset(offset)
            .replace_time(time::Time::MIDNIGHT)
            .to_offset(time::UtcOffset::UTC);
        let ago = now - time::Duration::minutes(age_min);
        let shared = ago.max(midnight);
        let expires = ago + time::Duration::minutes(30);
        pulled(
            k,
            ABHA_SHARE,
            FACILITY,
            serde_json::json!({"request_id": "r", "hip_id": "IN2810014366", "counter": "OPD1", "token": token,
                "abha_number": number, "abha_address": address, "name": "Sunita Devi", "gender": "F",
                "year_of_birth": 1985, "month_of_birth": 8, "day_of_birth": 15, "mobile": "98012XXXXX",
                "address": {"line": "Road No 5, Kankarbagh", "district": "PATNA", "state": "BIHAR", "pincode": "800020"},
                "shared_at": rfc(shared), "expires_at": rfc(expires)}),
        )
    }

    #[test]
    fn queue_register_once_and_figures() {
        let k = kiosk();
        let first = share(&k, "1", "sunita.devi85@sbx", Some("91-2345-6789-0129"), 4);
        // Not authored by the server: ignored.
        let forged = share(&k, "9", "x.y@sbx", None, 1);
        k.store()
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_inbox SET device_id = 'someone-else' WHERE record_id = ?1",
                    [&forged],
                )?;
                Ok(())
            })
            .unwrap();
        let q = k.shared_profiles().unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (
                q[0].token.as_str(),
                q[0].status.as_str(),
                q[0].minutes_waiting
            ),
            ("1", "waiting", 4)
        );
        assert_eq!(q[0].age_years, Some(clock::now_utc().year() - 1985));
        assert!(k.register_share(&Actor::Cli, &forged, "GEN").is_err());

        let r1 = k.register_share(&Actor::Cli, &first, "GEN").unwrap();
        assert!(!r1.registration.returning);
        let again = k.register_share(&Actor::Cli, &first, "GEN").unwrap();
        assert_eq!(again, r1, "registering twice gives the same registration");
        let p = k.patient(&r1.registration.patient_id).unwrap();
        assert_eq!(p.abha_address.as_deref(), Some("sunita.devi85@sbx"));
        assert_eq!(p.mobile, None, "a masked mobile is left out");
        assert_eq!(p.address.postal.pincode.as_deref(), Some("800020"));
        let q = k.shared_profiles().unwrap();
        assert_eq!(q[0].status, "registered");
        assert_eq!(
            q[0].visit_id.as_deref(),
            Some(r1.registration.visit_id.as_str())
        );
        // The result is queued for the server.
        let queued: i64 = k
            .store()
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sync_outbox WHERE kind = ?1",
                    [ABHA_SHARE_RESULT],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(queued, 1);

        // She shares again later (ABHA address only): the same patient, a new visit.
        let second = share(&k, "2", "sunita.devi85@sbx", None, 0);
        let r2 = k.register_share(&Actor::Cli, &second, "GEN").unwrap();
        assert!(r2.registration.returning);
        assert_eq!(r2.registration.patient_id, r1.registration.patient_id);
        assert_eq!(r2.abha_address, "sunita.devi85@sbx");

        // Another kiosk answered this one; this one is past its window.
        let elsewhere = share(&k, "3", "ram.kumar@sbx", None, 2);
        pulled(
            &k,
            ABHA_SHARE_RESULT,
            "0193a000-0000-7000-8000-0000000000ff",
            serde_json::json!({"share_id": elsewhere, "status": "registered", "visit_id": uuid::Uuid::now_v7()}),
        );
        let old = share(&k, "4", "old.one@sbx", None, 45);
        let q = k.shared_profiles().unwrap();
        let status = |id: &str| q.iter().find(|s| s.id == id).unwrap().status.clone();
        assert_eq!(status(&elsewhere), "registered_elsewhere");
        assert_eq!(status(&old), "expired");
        assert!(k.register_share(&Actor::Cli, &elsewhere, "GEN").is_err());

        let h = k.home_summary().unwrap();
        assert_eq!(
            (
                h.registrations_today,
                h.abha_linked_today,
                h.scan_share_today
            ),
            (2, 2, 2)
        );
    }

    /// The latest queued payload of `kind` record `id`.
    fn queued(k: &Kiosk, kind: &str, id: &str) -> serde_json::Value {
        k.store()
            .read(|c| {
                let p: String = c.query_row(
                    "SELECT payload FROM sync_outbox WHERE kind = ?1 AND record_id = ?2 ORDER BY seq DESC LIMIT 1",
                    params![kind, id],
                    |r| r.get(0),
                )?;
                Ok(serde_json::from_str(&p).unwrap())
            })
            .unwrap()
    }

    #[test]
    fn one_tap_prefills_then_the_confirmed_form_registers_with_the_marker() {
        let k = kiosk();
        let s1 = share(&k, "5", "sunita.devi85@sbx", Some("91-2345-6789-0129"), 1);
        let p = k.share_prefill(&s1).unwrap();
        assert_eq!((p.token.as_str(), p.status.as_str()), ("5", "waiting"));
        assert!(p.existing.is_none());
        assert_eq!(p.input.name, "Sunita Devi");
        assert_eq!(p.input.gender, "F");
        assert_eq!(p.input.dob.as_deref(), Some("1985-08-15"));
        assert_eq!(p.input.abha_number.as_deref(), Some("91-2345-6789-0129"));
        assert_eq!(p.input.abha_address.as_deref(), Some("sunita.devi85@sbx"));
        assert_eq!(p.input.address.postal.district.as_deref(), Some("PATNA"));
        assert_eq!(
            p.input.address.postal.street.as_deref(),
            Some("Road No 5, Kankarbagh")
        );
        assert_eq!(p.input.mobile, None, "a masked mobile is left out");

        // The operator corrects the name on the form and confirms.
        let mut input = p.input.clone();
        input.name = "Sunita Devi Sharma".into();
        input.mobile = Some("9801234567".into());
        let req = RegisterRequest {
            department: "GEN".into(),
            patient: Some(input),
            ..Default::default()
        };
        let r = k.register_share_with(&Actor::Cli, &s1, &req).unwrap();
        assert!(!r.registration.returning);
        let again = k.register_share(&Actor::Cli, &s1, "GEN").unwrap();
        assert_eq!(again, r, "a second registration of the share is the first");
        let patient = k.patient(&r.registration.patient_id).unwrap();
        assert_eq!(
            (patient.name.as_str(), patient.mobile.as_deref()),
            ("Sunita Devi Sharma", Some("9801234567"))
        );
        // The visit goes to the state with its scan-and-share marker.
        let visit = queued(&k, "visit", &r.registration.visit_id);
        assert_eq!(
            (visit["share_id"].as_str(), visit["via"].as_str()),
            (Some(s1.as_str()), Some("scan_share"))
        );
        let p = k.share_prefill(&s1).unwrap();
        assert_eq!(p.status, "registered");
        assert_eq!(p.registration.as_ref(), Some(&r.registration));

        // Her next share (ABHA number only this time): the form opens on the returning patient.
        let s2 = share(&k, "6", "other.address@sbx", Some("91-2345-6789-0129"), 0);
        let p2 = k.share_prefill(&s2).unwrap();
        assert_eq!(
            p2.existing.as_ref().map(|e| e.id.as_str()),
            Some(r.registration.patient_id.as_str()),
            "matched by ABHA number first"
        );
        // And by ABHA address when the number is not shared.
        let s3 = share(&k, "7", "sunita.devi85@sbx", None, 0);
        let p3 = k.share_prefill(&s3).unwrap();
        assert_eq!(p3.existing.map(|e| e.id), Some(patient.id.clone()));
        let r3 = k
            .register_share_with(
                &Actor::Cli,
                &s3,
                &RegisterRequest {
                    department: "GEN".into(),
                    patient_id: Some(patient.id.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            (
                r3.registration.returning,
                r3.registration.patient_id.as_str()
            ),
            (true, patient.id.as_str())
        );

        // An ordinary registration carries no marker.
        let plain = k
            .register(
                &Actor::Cli,
                &RegisterRequest {
                    department: "GEN".into(),
                    patient_id: Some(patient.id.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
        let v = queued(&k, "visit", &plain.visit_id);
        assert!(v.get("share_id").is_none() && v.get("via").is_none(), "{v}");

        // The report and the home screen count the scan-and-share visits (2 of 3 today).
        let today = k.home_summary().unwrap().date;
        let sum = k.report_summary(&today, &today).unwrap();
        assert_eq!((sum.registrations, sum.scan_share), (3, 2));
        assert!(String::from_utf8(sum.to_csv())
            .unwrap()
            .contains("total,scan_share,2"));
        assert_eq!(k.home_summary().unwrap().scan_share_today, 2);
        assert!(k.share_prefill("nope").is_err());
    }

    #[test]
    fn counter_qr_needs_the_counter_and_is_exact() {
        let k = kiosk();
        assert!(k.counter_qr_url().is_err());
        let bad: ConfigPatch = serde_json::from_str(r#"{"counter_id":"OPD-1"}"#).unwrap();
        assert!(k.update_config(&Actor::Cli, &bad).is_err());
        let ok: ConfigPatch = serde_json::from_str(r#"{"counter_id":"OPD1"}"#).unwrap();
        k.update_config(&Actor::Cli, &ok).unwrap();
        assert_eq!(
            k.counter_qr_url().unwrap(),
            "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2810014366&counter-id=OPD1"
        );
        let base: ConfigPatch =
            serde_json::from_str(r#"{"share_base_url":"https://phr.abdm.gov.in/share-profile"}"#)
                .unwrap();
        k.update_config(&Actor::Cli, &base).unwrap();
        assert!(k
            .counter_qr_url()
            .unwrap()
            .starts_with("https://phr.abdm.gov.in/share-profile?hip-id="));
        let pdf = k.counter_poster_pdf().unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let svg = k.counter_qr().unwrap().svg;
        assert!(svg.starts_with("<svg") && svg.contains("<path"));
    }
}
