//! ABHA (Ayushman Bharat Health Account) identifiers: the 14-digit ABHA number and the
//! ABHA address (`name@abdm`). The number is normalised to `XX-XXXX-XXXX-XXXX`; its Luhn
//! check is reported, never enforced, because NHA documents no checksum.

use std::fmt;

use super::luhn;
use crate::NumberError;

/// A 14-digit ABHA number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AbhaNumber {
    digits: String,
}

impl AbhaNumber {
    /// Parses 14 digits, tolerating spaces and dashes anywhere (`91-2345-6789-0129`).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let mut digits = String::with_capacity(14);
        for c in text.trim().chars() {
            match c {
                '0'..='9' => {
                    if digits.len() == 14 {
                        return Err(NumberError::AbhaNumberLength);
                    }
                    digits.push(c);
                }
                ' ' | '-' => {}
                _ => return Err(NumberError::AbhaNumberLength),
            }
        }
        if digits.len() != 14 {
            return Err(NumberError::AbhaNumberLength);
        }
        Ok(Self { digits })
    }

    /// The 14 digits without separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The normalised form `XX-XXXX-XXXX-XXXX`.
    pub fn formatted(&self) -> String {
        let d = &self.digits;
        match (d.get(0..2), d.get(2..6), d.get(6..10), d.get(10..14)) {
            (Some(a), Some(b), Some(c), Some(e)) => format!("{a}-{b}-{c}-{e}"),
            _ => d.clone(),
        }
    }

    /// Whether the number passes the Luhn check. A failure means "please re-check", not
    /// "reject": see the module documentation.
    pub fn luhn_valid(&self) -> bool {
        luhn::is_valid(&self.digits)
    }
}

impl fmt::Display for AbhaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl fmt::Debug for AbhaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbhaNumber({})", self.formatted())
    }
}

impl serde::Serialize for AbhaNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.formatted())
    }
}

/// Suffixes an ABHA address may carry: production, legacy and sandbox.
pub const ABHA_SUFFIXES: [&str; 3] = ["abdm", "ndhm", "sbx"];

/// An ABHA address such as `sunita.devi85@abdm`, lower-cased.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AbhaAddress {
    address: String,
}

impl AbhaAddress {
    /// Validates and lower-cases an ABHA address.
    ///
    /// Rules: suffix `@abdm`, `@ndhm` or `@sbx`; user part of at least 4 characters from
    /// letters, digits, `.` and `_`, not starting with a digit or `.`, not ending with `.`;
    /// an all-digit user part is allowed only as the 14-digit ABHA number.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let lower = text.trim().to_ascii_lowercase();
        let (user, suffix) = lower
            .rsplit_once('@')
            .ok_or(NumberError::AbhaAddressSuffix)?;
        if !ABHA_SUFFIXES.contains(&suffix) {
            return Err(NumberError::AbhaAddressSuffix);
        }
        if !user_part_ok(user) {
            return Err(NumberError::AbhaAddressInvalid);
        }
        Ok(Self { address: lower })
    }

    /// The address, lower-cased, e.g. `sunita.devi85@abdm`.
    pub fn as_str(&self) -> &str {
        &self.address
    }
}

/// Longest user part accepted: far above any real one, it only bounds garbage.
const MAX_USER_LEN: usize = 64;

fn user_part_ok(user: &str) -> bool {
    let bytes = user.as_bytes();
    if bytes.len() < 4 || bytes.len() > MAX_USER_LEN {
        return false;
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'_')
    {
        return false;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return bytes.len() == 14;
    }
    let starts_ok = bytes
        .first()
        .is_some_and(|b| !b.is_ascii_digit() && *b != b'.');
    let ends_ok = bytes.last().is_some_and(|b| *b != b'.');
    starts_ok && ends_ok
}

impl fmt::Display for AbhaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

impl fmt::Debug for AbhaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbhaAddress({})", self.address)
    }
}

impl serde::Serialize for AbhaAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abha_numbers() {
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("91-2345-6789-0129", Some("91-2345-6789-0129"), true),
            ("91 8765 0043 2102", Some("91-8765-0043-2102"), true),
            ("91234567890128", Some("91-2345-6789-0128"), false),
            ("9123456789012", None, false),
            ("912345678901290", None, false),
            ("91-2345-6789-012x", None, false),
        ];
        for (input, formatted, luhn_ok) in cases {
            let parsed = AbhaNumber::parse(input);
            match formatted {
                Some(f) => {
                    let n = parsed.unwrap();
                    assert_eq!(n.formatted(), *f, "{input}");
                    assert_eq!(n.luhn_valid(), *luhn_ok, "{input}");
                }
                None => assert_eq!(parsed, Err(NumberError::AbhaNumberLength), "{input}"),
            }
        }
    }

    #[test]
    fn abha_addresses() {
        let cases: &[(&str, Result<&str, NumberError>)] = &[
            ("Sunita.Devi85@ABDM", Ok("sunita.devi85@abdm")),
            ("rajeshyadav@ndhm", Ok("rajeshyadav@ndhm")),
            ("test_user@sbx", Ok("test_user@sbx")),
            ("_abc@abdm", Ok("_abc@abdm")),
            ("91234567890129@abdm", Ok("91234567890129@abdm")),
            ("abc@abdm", Err(NumberError::AbhaAddressInvalid)),
            ("1abcd@abdm", Err(NumberError::AbhaAddressInvalid)),
            (".abcd@abdm", Err(NumberError::AbhaAddressInvalid)),
            ("abcd.@abdm", Err(NumberError::AbhaAddressInvalid)),
            ("ab-cd@abdm", Err(NumberError::AbhaAddressInvalid)),
            ("12345@abdm", Err(NumberError::AbhaAddressInvalid)),
            ("sunita@gmail.com", Err(NumberError::AbhaAddressSuffix)),
            ("sunita", Err(NumberError::AbhaAddressSuffix)),
        ];
        for (input, expected) in cases {
            let got = AbhaAddress::parse(input).map(|a| a.as_str().to_owned());
            assert_eq!(got.as_deref().map_err(|e| *e), *expected, "{input}");
        }
    }
}
