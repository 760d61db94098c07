//! The Aadhaar number as a privacy-safe type.
//!
//! The Aadhaar Act (s.29) forbids displaying or publishing the number, and Swagat never stores it.
//! [`AadhaarNumber`] therefore validates the 12 digits and then only ever shows `XXXX XXXX 1234`
//! (Debug, Display, Serialize). What leaves it is [`AadhaarNumber::last4`] and
//! [`AadhaarNumber::keyed_hash`] (HMAC-SHA256 with a per-state secret, to find returning
//! patients). The digits are wiped from memory when the value is dropped.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::verhoeff;
use crate::NumberError;

/// A validated Aadhaar number (12 digits, first digit 2–9, Verhoeff check digit last).
///
/// It cannot be printed, serialised or read back in full: see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct AadhaarNumber {
    /// ASCII digits; zeroed on drop.
    digits: Zeroizing<[u8; 12]>,
}

impl AadhaarNumber {
    /// Validates an Aadhaar number. Spaces and dashes between digits are tolerated
    /// (`2345 6789 0124`, `2345-6789-0124`).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let mut digits = Zeroizing::new([0u8; 12]);
        let mut n = 0usize;
        for b in text.trim().bytes() {
            match b {
                b'0'..=b'9' => {
                    let slot = digits.get_mut(n).ok_or(NumberError::AadhaarLength)?;
                    *slot = b;
                    n += 1;
                }
                b' ' | b'-' => {}
                _ => return Err(NumberError::AadhaarLength),
            }
        }
        if n != 12 {
            return Err(NumberError::AadhaarLength);
        }
        if matches!(digits.first(), Some(b'0' | b'1')) {
            return Err(NumberError::AadhaarFirstDigit);
        }
        // The digits are ASCII, so this cannot fail; a failure would only reject the number.
        let as_str = std::str::from_utf8(&digits[..]).map_err(|_| NumberError::AadhaarLength)?;
        if !verhoeff::is_valid(as_str) {
            return Err(NumberError::AadhaarChecksum);
        }
        Ok(Self { digits })
    }

    /// The last four digits, e.g. `"0124"`: the only part that may be shown or stored.
    pub fn last4(&self) -> String {
        self.digits[8..].iter().map(|b| char::from(*b)).collect()
    }

    /// The masked form shown on screen and slips: `XXXX XXXX 0124`.
    pub fn masked(&self) -> String {
        format!("XXXX XXXX {}", self.last4())
    }

    /// HMAC-SHA256 of the 12 ASCII digits (no spaces) under `secret`, as 64 lower-case hex
    /// characters. With a per-state secret this finds returning patients without storing the
    /// number; every component that computes it must use exactly this input.
    pub fn keyed_hash(&self, secret: &[u8]) -> String {
        // HMAC accepts keys of any length, so this constructor cannot fail.
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(&self.digits[..]);
        let tag = mac.finalize().into_bytes();
        crate::hex::lower(&tag)
    }
}

impl fmt::Debug for AadhaarNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AadhaarNumber({})", self.masked())
    }
}

impl fmt::Display for AadhaarNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl serde::Serialize for AadhaarNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_full_number() {
        let a = AadhaarNumber::parse("2345 6789 0124").unwrap();
        assert_eq!(a.last4(), "0124");
        assert_eq!(a.to_string(), "XXXX XXXX 0124");
        assert_eq!(format!("{a:?}"), "AadhaarNumber(XXXX XXXX 0124)");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"XXXX XXXX 0124\"");
        assert!(!format!("{a:?}{a}").contains("23456789"));
    }

    #[test]
    fn keyed_hash_is_hmac_sha256_hex() {
        let a = AadhaarNumber::parse("234567890124").unwrap();
        let h = a.keyed_hash(b"state-secret");
        assert_eq!(h.len(), 64);
        assert_eq!(h, a.keyed_hash(b"state-secret"));
        assert_ne!(h, a.keyed_hash(b"other-secret"));
        // RFC 2104 HMAC-SHA256 of "234567890124" under "key", computed independently.
        assert_eq!(
            a.keyed_hash(b"key"),
            "e4872ba49516829f15a628b3d9299fb42834a2a170bb9b35551c7d751febd727"
        );
    }
}
