//! The Aadhaar hashing key: the state's secret behind the keyed hash of Aadhaar numbers.
//!
//! Returning patients are found by HMAC-SHA256(state secret, Aadhaar number), so every kiosk of a
//! state must use the same secret; it arrives with enrollment (sync) or `swagat-admin config`. A
//! kiosk that has none yet generates a random one so it can work offline from the first patient
//! (its hashes then match only its own records until the state's secret is installed). The secret is
//! never printed by `config show` and never logged.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{CoreError, Result};

const KEY: &str = "aadhaar_hmac_key";
const KEY_ID: &str = "aadhaar_hmac_key_id";
/// Prefix of the ids of kiosk-local keys (never a state key id).
pub const LOCAL_KEY_PREFIX: &str = "local:";

fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| CoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(to_hex(&b))
}

/// The id of the key hashes are made with now (creating the local key if there is none). Call
/// inside a write.
pub fn current_key_id(conn: &Connection) -> Result<String> {
    aadhaar_hash_key(conn)?;
    match setting(conn, KEY_ID)? {
        Some(id) => Ok(id),
        None => {
            let id = format!("{LOCAL_KEY_PREFIX}{}", random_hex(8)?);
            put(conn, KEY_ID, &id)?;
            Ok(id)
        }
    }
}

/// The id of the current key if one is stored (reads never create it).
pub fn stored_key_id(conn: &Connection) -> Result<Option<String>> {
    setting(conn, KEY_ID)
}

/// Installs the state's Aadhaar key delivered at enrollment (`key_b64`: base64 of 32 bytes or
/// more) under `key_id` (derived from the key when the server gives none). Returns whether
/// anything changed. Hashes made before keep the id of the key that made them.
pub fn install_state_key(conn: &Connection, key_b64: &str, key_id: Option<&str>) -> Result<bool> {
    use base64::Engine as _;
    let bad = || {
        CoreError::invalid(
            "aadhaar_key",
            "the state's Aadhaar key from enrollment is not 32 bytes of base64",
            "नामांकन से मिली राज्य की आधार कुंजी मान्य नहीं है",
        )
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64.trim())
        .map_err(|_| bad())?;
    if key.len() < 32 {
        return Err(bad());
    }
    let id = match key_id.map(str::trim).filter(|i| !i.is_empty()) {
        Some(i) if !i.starts_with(LOCAL_KEY_PREFIX) => i.to_owned(),
        _ => {
            use sha2::Digest as _;
            let d = sha2::Sha256::digest(&key);
            format!("state:{}", to_hex(&d[..8]))
        }
    };
    if stored_key(conn)?.as_deref() == Some(key.as_slice())
        && stored_key_id(conn)?.as_deref() == Some(id.as_str())
    {
        return Ok(false);
    }
    // Pin the hashes made so far to the key that made them (the local one).
    if stored_key(conn)?.is_some() {
        let old = current_key_id(conn)?;
        conn.execute(
            "UPDATE patients SET aadhaar_key_id = ?1 WHERE aadhaar_hash IS NOT NULL AND aadhaar_key_id IS NULL",
            [&old],
        )?;
    }
    put(conn, KEY, &to_hex(&key))?;
    put(conn, KEY_ID, &id)?;
    Ok(true)
}

/// The secret, generating and storing a random one if there is none. Call inside a write.
pub fn aadhaar_hash_key(conn: &Connection) -> Result<Vec<u8>> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [KEY], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(hex) = stored {
        return from_hex(&hex).ok_or_else(|| CoreError::Corrupt("aadhaar hash key".into()));
    }
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| CoreError::Corrupt(format!("no randomness: {e}")))?;
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)",
        [KEY, &to_hex(&key)],
    )?;
    // A new local key gets a new local id (an id never names two keys).
    put(
        conn,
        KEY_ID,
        &format!("{LOCAL_KEY_PREFIX}{}", random_hex(8)?),
    )?;
    Ok(key)
}

/// The secret if one is stored (reads never create it).
pub fn stored_key(conn: &Connection) -> Result<Option<Vec<u8>>> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(stored.and_then(|h| from_hex(&h)))
}

/// Installs the state's secret (hex, at least 32 bytes).
pub fn set_key(conn: &Connection, hex: &str) -> Result<()> {
    match from_hex(hex.trim()) {
        Some(k) if k.len() >= 32 => {
            use base64::Engine as _;
            install_state_key(
                conn,
                &base64::engine::general_purpose::STANDARD.encode(&k),
                None,
            )?;
            Ok(())
        }
        _ => Err(CoreError::invalid(
            "aadhaar_hash_key",
            "the key is at least 64 hex digits",
            "कुंजी कम से कम 64 हेक्स अंकों की होती है",
        )),
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}
