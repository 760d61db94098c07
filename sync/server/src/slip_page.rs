//! The patient's OPD slip on their phone: `GET /s/<visit id>?k=<mac>`, the page the QR on every
//! slip points at.
//!
//! Small, mobile-first, no JavaScript, Hindi first with English beside it. It shows what the
//! printed slip shows — facility, token (large), department and room, date and time, valid
//! until, new/follow-up, fee or waiver, UHID, name, age/sex, cancelled or not — and never the
//! address, mobile or any Aadhaar digits (the projections do not even hold them).
//!
//! The link is authorised by `k` = the first 6 bytes, lowercase hex, of
//! HMAC-SHA256(facility slip-link key, visit id as text) ([`link_mac`], the same as the
//! kiosk's `swagat_core::slip::link_mac`); the key is the facility's
//! ([`crate::store::Store::facility_slip_key`]). A wrong `k` and an unknown visit get one and
//! the same 404 page (a visit not yet synced is, to the server, unknown): the tag is compared in
//! constant time and an unknown visit is checked against a dummy key, so neither the answer nor
//! its timing tells which. Requests are rate-limited per client address.

use crate::dashboard::{client_addr, html_page, i18n, RateLimiter, Web};
use crate::store::{Sql, Store};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use hmac::{KeyInit, Mac};
use minijinja::context;
use serde::{Deserialize, Serialize};
use sha2_11::Sha256;
use std::net::SocketAddr;
use uuid::Uuid;

type HmacSha256 = hmac::Hmac<Sha256>;

/// `k` of a slip link: 12 lowercase hex characters.
pub fn link_mac(key: &[u8], visit_id: &str) -> String {
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(visit_id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..6])
}

/// Whether `k` authorises `visit_id` under `key` (constant-time).
pub fn mac_ok(key: &[u8], visit_id: &str, k: &str) -> bool {
    let tag = if k.len() == 12
        && k.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        hex::decode(k).unwrap_or_default()
    } else {
        Vec::new()
    };
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(visit_id.as_bytes());
    tag.len() == 6 && mac.verify_truncated_left(&tag).is_ok()
}

/// Query of the slip page.
#[derive(Debug, Deserialize)]
pub struct SlipQuery {
    /// The link's MAC.
    pub k: Option<String>,
}

/// What the page shows of a visit.
#[derive(Debug, Clone, Serialize)]
pub struct SlipView {
    pub facility: String,
    pub token: String,
    pub department: String,
    pub room: Option<String>,
    pub date_time: String,
    pub valid_until: String,
    pub follow_up: bool,
    pub fee: i64,
    pub waiver: Option<String>,
    pub uhid: String,
    pub name: String,
    pub name_hi: Option<String>,
    pub age_sex: String,
    pub cancelled: bool,
}

fn ist(rfc3339: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    let t = t.to_offset(time::UtcOffset::from_hms(5, 30, 0).ok()?);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    ))
}

fn age_years(birth: &str, on: &str) -> Option<i64> {
    let b = crate::dashboard::data::parse_day(birth)?;
    let d = crate::dashboard::data::parse_day(on)?;
    let mut a = i64::from(d.year() - b.year());
    if (u8::from(d.month()), d.day()) < (u8::from(b.month()), b.day()) {
        a -= 1;
    }
    (a >= 0).then_some(a)
}

fn sex(g: &str) -> &'static str {
    match g {
        "M" => "पुरुष / M",
        "F" => "महिला / F",
        "T" => "ट्रांसजेंडर / T",
        "O" => "अन्य / O",
        _ => "—",
    }
}

/// A fixed key for unknown visits, so they cost the same HMAC as known ones.
const DUMMY_KEY: [u8; 32] = [0x5a; 32];

async fn lookup<S: Store>(
    store: &S,
    visit: &str,
    k: &str,
) -> Result<Option<SlipView>, crate::StoreError> {
    let Ok(id) = Uuid::parse_str(visit) else {
        let _ = mac_ok(&DUMMY_KEY, visit, k);
        return Ok(None);
    };
    let rows = store
        .sql_query(
            "SELECT v.facility_id, f.name, v.token, v.department, v.room, v.created_at, v.visit_date,
                v.valid_until, v.visit_type, v.fee_rupees, v.waiver_code, v.cancelled,
                p.uhid, p.name, p.name_hi, p.gender, p.birth_date
             FROM proj_visits v JOIN facilities f ON f.id = v.facility_id
             LEFT JOIN proj_patients p ON p.record_id = v.patient_id
             WHERE v.record_id = ?1"
                .into(),
            vec![Sql::Uuid(id)],
        )
        .await?;
    let Some(r) = rows.first() else {
        let _ = mac_ok(&DUMMY_KEY, visit, k);
        return Ok(None);
    };
    let facility_id = Uuid::parse_str(&r[0].str())
        .map_err(|_| crate::StoreError::Corrupt("facility id".into()))?;
    let key = store
        .facility_slip_key(facility_id)
        .await?
        .unwrap_or_else(|| DUMMY_KEY.to_vec());
    // The kiosk MACs the visit id as it prints it: the canonical hyphenated lowercase form.
    if !mac_ok(&key, &id.to_string(), k) {
        return Ok(None);
    }
    let visit_date = r[6].str();
    let age = r[16].text().and_then(|b| age_years(&b, &visit_date));
    let age_sex = format!(
        "{} / {}",
        age.map_or("—".to_string(), |a| format!("{a} वर्ष / y")),
        sex(&r[15].str())
    );
    Ok(Some(SlipView {
        facility: r[1].str(),
        token: r[2].str(),
        department: r[3].str(),
        room: r[4].text(),
        date_time: r[5]
            .text()
            .and_then(|c| ist(&c))
            .unwrap_or_else(|| visit_date.clone()),
        valid_until: r[7].str(),
        follow_up: r[8].str() == "follow_up",
        fee: r[9].int(),
        waiver: r[10].text(),
        cancelled: r[11].int() != 0,
        uhid: r[12].str(),
        name: r[13].str(),
        name_hi: r[14].text(),
        age_sex,
    }))
}

/// The slip page needs nothing but its own inline styles.
const SLIP_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn respond<S>(web: &Web<S>, status: StatusCode, v: Option<SlipView>) -> Response {
    let ctx = context! {
        h => i18n::strings(i18n::Lang::Hi),
        e => i18n::strings(i18n::Lang::En),
        v => v,
    };
    let html = web
        .env
        .get_template("slip.html")
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|_| i18n::t(i18n::Lang::Hi, "slip_unknown").to_string());
    // No referrer: a slip link carries its key.
    html_page(status, html, SLIP_CSP, "no-referrer")
}

/// `GET /s/{visit}?k=…`.
pub async fn page<S: Store>(
    State(web): State<Web<S>>,
    ci: Option<Extension<ConnectInfo<SocketAddr>>>,
    Path(visit): Path<String>,
    Query(q): Query<SlipQuery>,
) -> Response {
    let limiter: &RateLimiter = &web.slip_limit;
    if !limiter.allow(&client_addr(ci)) {
        let mut r = respond(&web, StatusCode::TOO_MANY_REQUESTS, None);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    let k = q.k.unwrap_or_default();
    match lookup(&*web.store, &visit, &k).await {
        Ok(Some(v)) => respond(&web, StatusCode::OK, Some(v)),
        Ok(None) => respond(&web, StatusCode::NOT_FOUND, None),
        Err(e) => {
            tracing::warn!(error = %e, "slip page storage error");
            respond(&web, StatusCode::SERVICE_UNAVAILABLE, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_matches_the_kiosk_definition() {
        let key = [7u8; 32];
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let k = link_mac(&key, id);
        assert_eq!(k.len(), 12);
        assert!(mac_ok(&key, id, &k));
        assert!(!mac_ok(&key, id, &k.to_uppercase()));
        let mut wrong = k.clone().into_bytes();
        wrong[11] = if wrong[11] == b'0' { b'1' } else { b'0' };
        assert!(!mac_ok(&key, id, std::str::from_utf8(&wrong).unwrap()));
        assert!(!mac_ok(&key, id, ""));
        assert!(!mac_ok(&key, id, &k[..10]));
        assert!(!mac_ok(&[8u8; 32], id, &k));
    }

    #[test]
    fn ages() {
        assert_eq!(age_years("2000-06-15", "2026-06-14"), Some(25));
        assert_eq!(age_years("2000-06-15", "2026-06-15"), Some(26));
        assert_eq!(age_years("2030-01-01", "2026-06-15"), None);
    }
}
