//! Indian mobile numbers: 10 digits starting 6–9, typed or scanned with an optional `+91`,
//! `91` or `0` prefix and with spaces, dashes or brackets between digits.

use std::fmt;

use crate::NumberError;

/// A normalised 10-digit Indian mobile number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IndianMobile {
    digits: String,
}

/// Longest input considered: bounds work on garbage.
const MAX_INPUT: usize = 32;

impl IndianMobile {
    /// Parses `98765 43210`, `+91-98765-43210`, `09876543210`, `919876543210` and the like.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let text = text.trim();
        if text.len() > MAX_INPUT {
            return Err(NumberError::Mobile);
        }
        let (plus, rest) = match text.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let mut digits = String::with_capacity(12);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(NumberError::Mobile),
            }
        }
        let national = match (plus, digits.len()) {
            (false, 10) => digits.as_str(),
            (_, 12) if digits.starts_with("91") => digits.get(2..).unwrap_or_default(),
            (false, 11) if digits.starts_with('0') => digits.get(1..).unwrap_or_default(),
            (false, 13) if digits.starts_with("091") => digits.get(3..).unwrap_or_default(),
            (false, 14) if digits.starts_with("0091") => digits.get(4..).unwrap_or_default(),
            _ => return Err(NumberError::Mobile),
        };
        if !matches!(national.as_bytes().first(), Some(b'6'..=b'9')) || national.len() != 10 {
            return Err(NumberError::Mobile);
        }
        Ok(Self {
            digits: national.to_owned(),
        })
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        self.digits.get(6..).unwrap_or_default()
    }
}

impl fmt::Display for IndianMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

impl fmt::Debug for IndianMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug output can end up in logs: show only the last two digits.
        write!(
            f,
            "IndianMobile(XXXXXXXX{})",
            self.digits.get(8..).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        let ok = [
            ("9876543210", "9876543210"),
            ("98765 43210", "9876543210"),
            ("+91 98765-43210", "9876543210"),
            ("+919876543210", "9876543210"),
            ("919876543210", "9876543210"),
            ("09876543210", "9876543210"),
            ("0091 98765 43210", "9876543210"),
            ("6000000000", "6000000000"),
        ];
        for (input, want) in ok {
            assert_eq!(
                IndianMobile::parse(input).unwrap().as_str(),
                want,
                "{input}"
            );
        }
        for bad in [
            "5876543210",
            "987654321",
            "98765432101",
            "+1 9876543210",
            "98765x3210",
            "",
            "+09876543210",
        ] {
            assert_eq!(IndianMobile::parse(bad), Err(NumberError::Mobile), "{bad}");
        }
        let m = IndianMobile::parse("9876543210").unwrap();
        assert_eq!(m.last4(), "3210");
        assert_eq!(format!("{m:?}"), "IndianMobile(XXXXXXXX10)");
    }
}
