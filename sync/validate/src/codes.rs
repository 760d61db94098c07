//! The codes a facility and its counters are known by: the facility code an administrator
//! chooses at `swagat-server facility add` (and every kiosk of the facility is configured with),
//! the HFR facility id that is the facility's ABDM `hipId`, and the counter id of a
//! scan-and-share QR.

use std::fmt;

use crate::NumberError;

/// A facility code: 2 to 8 ASCII letters or digits, upper-cased (`uphc07` is `UPHC07`).
///
/// Short because it is printed on every slip and typed at enrollment; letters and digits only
/// because it becomes part of UHIDs and file names.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FacilityCode(String);

impl FacilityCode {
    /// Checks and upper-cases a facility code, tolerating surrounding whitespace.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let t = text.trim();
        if (2..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(t.to_ascii_uppercase()))
        } else {
            Err(NumberError::FacilityCode)
        }
    }

    /// The code, upper-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code, upper-cased, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for FacilityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an HFR facility id, `IN` followed by 10 digits; returns it upper-cased.
pub fn parse_hfr_id(text: &str) -> Result<String, NumberError> {
    let up = text.trim().to_ascii_uppercase();
    let ok =
        up.len() == 12 && up.starts_with("IN") && up.bytes().skip(2).all(|b| b.is_ascii_digit());
    if ok {
        Ok(up)
    } else {
        Err(NumberError::HfrId)
    }
}

/// Checks a scan-and-share counter id: 1 to 20 ASCII letters or digits, kept as typed (ABDM
/// sends it back verbatim as the share's `context`).
pub fn parse_counter_id(text: &str) -> Result<String, NumberError> {
    let t = text.trim();
    if (1..=20).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(t.to_owned())
    } else {
        Err(NumberError::CounterId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_codes() {
        for (input, want) in [("UPHC07", "UPHC07"), (" ptn12 ", "PTN12"), ("AB", "AB")] {
            assert_eq!(
                FacilityCode::parse(input).map(FacilityCode::into_string),
                Ok(want.into())
            );
        }
        // The code of the issue: accepted by the server before, refused by every kiosk.
        for bad in ["BR-PAT-UPHC07", "A", "UPHC0007X", "PHC 07", "पीएचसी", ""] {
            assert_eq!(
                FacilityCode::parse(bad),
                Err(NumberError::FacilityCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn hfr_ids_and_counters() {
        assert_eq!(
            parse_hfr_id(" in2810014366 ").as_deref(),
            Ok("IN2810014366")
        );
        for bad in [
            "IN281001436",
            "IN28100143666",
            "XX2810014366",
            "IN28100143a6",
            "ININ",
        ] {
            assert_eq!(parse_hfr_id(bad), Err(NumberError::HfrId), "{bad}");
        }
        assert_eq!(parse_counter_id("OPD1").as_deref(), Ok("OPD1"));
        for bad in ["", "A_B", "OPD 1", "123456789012345678901"] {
            assert_eq!(parse_counter_id(bad), Err(NumberError::CounterId), "{bad}");
        }
    }
}
