//! Finding patients: the certain match (same ABHA or Aadhaar), possible duplicates, and the
//! counter's search (UHID, mobile, ABHA number and address, Aadhaar, and names through FTS5
//! prefix search over the spelling, a phonetic key and the Devanagari form).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use swagat_identity::{AadhaarNumber, AbhaAddress, AbhaNumber, IndianMobile};

use super::store::{from_row, COLUMNS};
use super::*;
use crate::error::Result;
use crate::opd::names;

/// Patients with this (normalised) mobile number, newest first.
pub fn by_mobile(conn: &Connection, mobile: &str, limit: u32) -> Result<Vec<Patient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE mobile = ?1 AND merged_into IS NULL \
         ORDER BY updated_at DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![mobile, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Finds an existing patient who is certainly the same person: same ABHA number, ABHA address or
/// Aadhaar hash; or same Aadhaar last 4 + year of birth + name key.
pub fn find_same_person(conn: &Connection, p: &ValidPatient) -> Result<Option<Patient>> {
    let probes: [(&str, Option<&String>); 2] = [
        ("abha_number", p.abha_number.as_ref()),
        ("abha_address", p.abha_address.as_ref()),
    ];
    for (col, val) in probes {
        if let Some(v) = val {
            let found = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM patients WHERE {col} = ?1 AND merged_into IS NULL LIMIT 1"
                ))?
                .query_row([v], from_row)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    if let Some(h) = &p.aadhaar_hash {
        // Like with like: only hashes made by the same key are compared.
        let key_id = match &p.aadhaar_key_id {
            Some(k) => Some(k.clone()),
            None => crate::opd::secrets::stored_key_id(conn)?,
        };
        if let Some(key_id) = key_id {
            let found = by_aadhaar_hash(conn, h, &key_id, 1)?.into_iter().next();
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    if let (Some(l4), Some(y)) = (&p.aadhaar_last4, p.year_of_birth) {
        let key = names::name_key(&p.name);
        let found = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM patients WHERE aadhaar_last4 = ?1 AND year_of_birth = ?2 \
                 AND name_key = ?3 AND merged_into IS NULL LIMIT 1"
            ))?
            .query_row(params![l4, y, key], from_row)
            .optional()?;
        return Ok(found);
    }
    Ok(None)
}

/// Unmerged patients whose Aadhaar hash is `hash`, made by key `key_id`, newest first.
pub fn by_aadhaar_hash(
    conn: &Connection,
    hash: &str,
    key_id: &str,
    limit: u32,
) -> Result<Vec<Patient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE aadhaar_hash = ?1 AND aadhaar_key_id = ?2 \
         AND merged_into IS NULL ORDER BY updated_at DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![hash, key_id, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Patients who might be the same person (same name key and year of birth, and same locality or
/// village when known): shown as a warning, never merged automatically.
pub fn possible_duplicates(conn: &Connection, p: &ValidPatient) -> Result<Vec<Patient>> {
    let Some(y) = p.year_of_birth else {
        return Ok(Vec::new());
    };
    let postal = &p.address.postal;
    let place = postal.locality.as_ref().or(postal.vtc.as_ref());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM patients WHERE name_key = ?1 AND year_of_birth BETWEEN ?2 - 1 AND ?2 + 1 \
         AND merged_into IS NULL AND (?3 IS NULL OR lower(coalesce(locality, vtc, '')) = lower(?3)) LIMIT 5"
    ))?;
    let rows = stmt.query_map(params![names::name_key(&p.name), y, place], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// How a search query was understood.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// A UHID.
    Uhid,
    /// A 10-digit mobile number.
    Mobile,
    /// A 14-digit ABHA number.
    AbhaNumber,
    /// An ABHA address.
    AbhaAddress,
    /// A 12-digit Aadhaar number (matched by keyed hash).
    Aadhaar,
    /// Name words.
    Name,
}

/// Searches patients: the query's form decides how (see [`QueryKind`]).
pub fn search(
    conn: &Connection,
    query: &str,
    hash_key: &[u8],
    limit: u32,
) -> Result<(QueryKind, Vec<Patient>)> {
    let q = query.trim();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let only_digits = !q.is_empty()
        && q.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+');
    let by = |col: &str, v: &str| -> Result<Vec<Patient>> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM patients WHERE {col} = ?1 AND merged_into IS NULL \
             ORDER BY updated_at DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![v, limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    };
    if let Some(u) = crate::opd::uhid::normalise(q).filter(|u| u.contains('-') && u.len() > 6) {
        // A merged-away patient's card still carries their old UHID: it finds the kept record.
        let id: Option<String> = conn
            .prepare_cached("SELECT id FROM patients WHERE uhid = ?1")?
            .query_row([&u], |r| r.get(0))
            .optional()?;
        let found = match id {
            Some(id) => vec![resolve(conn, &id)?],
            None => Vec::new(),
        };
        return Ok((QueryKind::Uhid, found));
    }
    if q.contains('@') {
        let addr = AbhaAddress::parse(q)
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|_| q.to_ascii_lowercase());
        return Ok((QueryKind::AbhaAddress, by("abha_address", &addr)?));
    }
    if only_digits {
        if digits.len() == 14 {
            if let Ok(n) = AbhaNumber::parse(&digits) {
                return Ok((QueryKind::AbhaNumber, by("abha_number", &n.formatted())?));
            }
        }
        if digits.len() == 12 {
            if let Ok(n) = AadhaarNumber::parse(&digits) {
                let found = match crate::opd::secrets::stored_key_id(conn)? {
                    Some(key_id) => by_aadhaar_hash(conn, &n.keyed_hash(hash_key), &key_id, limit)?,
                    None => Vec::new(),
                };
                return Ok((QueryKind::Aadhaar, found));
            }
        }
        if let Ok(m) = IndianMobile::parse(q) {
            return Ok((QueryKind::Mobile, by("mobile", m.as_str())?));
        }
    }
    Ok((QueryKind::Name, search_names(conn, q, limit)?))
}

fn search_names(conn: &Connection, q: &str, limit: u32) -> Result<Vec<Patient>> {
    let latin: String = q
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut out: Vec<Patient> = Vec::new();
    if names::has_devanagari(q) {
        // The Devanagari spelling itself first (an exact prefix of the stored Hindi name)…
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM patients WHERE name_hi >= ?1 AND name_hi < ?1 || x'F48FBFBF' \
             AND merged_into IS NULL ORDER BY name_hi LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![q.trim(), limit], from_row)?;
        out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        if out.len() >= limit as usize {
            return Ok(out);
        }
    }
    // …then the typed Latin spelling or the phonetic key (from either script, so "यादव" finds
    // "Yadav" and the reverse), each word as a prefix. FTS5 walks its prefix indexes (2 to 5
    // characters) lazily from the newest row; a longer prefix would make it gather every match
    // first, so words are cut to 5 characters for the index and the full words are checked on
    // the candidates.
    let key = names::name_key(q);
    let cut = |words: &str| -> String {
        words
            .split_whitespace()
            .map(|w| w.get(..FTS_PREFIX_MAX).unwrap_or(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let spelled = names::fts_prefix_query(&cut(&latin));
    let keyed = names::fts_prefix_query(&cut(&key));
    let fts = match (spelled, keyed) {
        (Some(s), Some(k)) => format!("(name : {s}) OR (search_key : {k})"),
        (Some(s), None) => format!("name : {s}"),
        (None, Some(k)) => format!("search_key : {k}"),
        (None, None) => return Ok(out),
    };
    let truncated = latin
        .split_whitespace()
        .chain(key.split_whitespace())
        .any(|w| w.len() > FTS_PREFIX_MAX);
    // Newest matches first, without ranking every match: a common first name matches tens of
    // thousands of a million patients, and bm25 over all of them costs far more than the counter
    // can wait. FTS5 walks its doclists lazily in rowid order, so the rowids are taken one at a
    // time and stop as soon as `limit` patients are found: a two-word query costs half what
    // collecting a fixed number of candidates first did. At most `candidates` are looked at
    // (a truncated word that matches no full word would otherwise walk the whole index).
    let candidates = if truncated { limit * 8 } else { limit * 4 };
    let mut matches = conn.prepare_cached(
        "SELECT rowid FROM patients_fts WHERE patients_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
    )?;
    let mut patient = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, search_key FROM patients WHERE rowid = ?1 AND merged_into IS NULL"
    ))?;
    let latin_words: Vec<String> = latin
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let key_words: Vec<&str> = key.split_whitespace().collect();
    let mut rowids = matches.query(params![fts, candidates])?;
    while let Some(m) = rowids.next()? {
        if out.len() >= limit as usize {
            break;
        }
        let rowid: i64 = m.get(0)?;
        let mut rows = patient.query([rowid])?;
        let Some(row) = rows.next()? else {
            continue; // merged away
        };
        let p = from_row(row)?;
        if out.iter().any(|o| o.id == p.id) {
            continue;
        }
        if truncated {
            // `search_key` is selected right after the patient's columns.
            let stored_key: String = row.get(*SEARCH_KEY_AT)?;
            let name = p.name.to_lowercase();
            let spelled_ok = !latin_words.is_empty() && words_prefixed(&name, &latin_words);
            if !(spelled_ok || words_prefixed(&stored_key, &key_words)) {
                continue;
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// Where the name search's extra `search_key` column is: after every one of [`COLUMNS`].
static SEARCH_KEY_AT: std::sync::LazyLock<usize> =
    std::sync::LazyLock::new(|| crate::store::column_positions(COLUMNS).len());

/// Longest prefix FTS5 has an index for (`prefix = '2 3 4 5'` in migration 0007).
const FTS_PREFIX_MAX: usize = 5;

/// Every query word is the prefix of some word of `text` (as FTS5 matches `"w1"* "w2"*`).
fn words_prefixed<S: AsRef<str>>(text: &str, query: &[S]) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    query
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q.as_ref())))
}
