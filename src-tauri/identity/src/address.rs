//! The postal address parts common to Aadhaar (Secure QR and XML QR) and ABHA, and the small
//! text clean-up every decoder applies to a field (trim, drop control characters, treat
//! `""`, `"null"` and `"-"` as absent).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An address as printed on an Aadhaar card or an ABHA profile. Every part is optional. It is
/// also the address object of [`crate::QrSummary`], in the same shape, and the postal part of
/// the kiosk's stored patient address.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields = nullable))]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// House number or name.
    pub house: Option<String>,
    /// Street or road.
    pub street: Option<String>,
    /// Landmark.
    pub landmark: Option<String>,
    /// Locality ("location" in the Secure QR, `loc` in the XML QR).
    pub locality: Option<String>,
    /// Village, town or city.
    pub vtc: Option<String>,
    /// Post office.
    pub post_office: Option<String>,
    /// Sub-district (tehsil, block).
    pub sub_district: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// PIN code (6 digits, validated).
    pub pincode: Option<String>,
}

impl Address {
    /// Whether no part is known.
    pub fn is_empty(&self) -> bool {
        self.parts().iter().all(|(_, v)| v.is_none())
    }

    fn parts(&self) -> [(&'static str, &Option<String>); 10] {
        [
            ("house", &self.house),
            ("street", &self.street),
            ("landmark", &self.landmark),
            ("locality", &self.locality),
            ("vtc", &self.vtc),
            ("post_office", &self.post_office),
            ("sub_district", &self.sub_district),
            ("district", &self.district),
            ("state", &self.state),
            ("pincode", &self.pincode),
        ]
    }
}

/// Shows only which parts are present: addresses are personal data and Debug output can reach
/// logs.
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = self
            .parts()
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        write!(f, "Address {{ present: {present:?} }}")
    }
}

/// Cleans one text field: trims, drops control characters, collapses runs of whitespace,
/// and maps `""`, `"null"`, `"-"` to `None`.
pub(crate) fn clean(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else if !c.is_control() && c != '\u{feff}' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if out.is_empty() || out == "-" || out.eq_ignore_ascii_case("null") {
        None
    } else {
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(
            clean("  Near  Siva\tTemple \r\n"),
            Some("Near Siva Temple".into())
        );
        assert_eq!(clean("null"), None);
        assert_eq!(clean("NULL"), None);
        assert_eq!(clean(" - "), None);
        assert_eq!(clean(""), None);
        assert_eq!(clean("a\u{0}b"), Some("ab".into()));
    }

    #[test]
    fn debug_hides_values() {
        let a = Address {
            vtc: Some("Patna".into()),
            ..Address::default()
        };
        let d = format!("{a:?}");
        assert!(!d.contains("Patna"));
        assert!(d.contains("vtc"));
        assert!(!a.is_empty());
        assert!(Address::default().is_empty());
    }
}
