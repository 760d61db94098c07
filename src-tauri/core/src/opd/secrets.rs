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
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [KEY, &to_hex(&k)],
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
