//! Gender codes. Aadhaar uses `M`/`F`/`T` (old XML QRs also `MALE`/`FEMALE`); ABHA uses
//! `M`/`F`/`O`. Swagat keeps the single-letter code of the source: `T` stays `T`, `O` stays `O`.

use crate::NumberError;

/// A gender code as recorded on the identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Male.
    M,
    /// Female.
    F,
    /// Transgender (Aadhaar).
    T,
    /// Other (ABHA).
    O,
}

impl Gender {
    /// Parses `M`, `F`, `T`, `O`, `MALE`, `FEMALE`, `TRANSGENDER`, `OTHER` (any case).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let t = text.trim();
        let g = if t.eq_ignore_ascii_case("m") || t.eq_ignore_ascii_case("male") {
            Self::M
        } else if t.eq_ignore_ascii_case("f") || t.eq_ignore_ascii_case("female") {
            Self::F
        } else if t.eq_ignore_ascii_case("t") || t.eq_ignore_ascii_case("transgender") {
            Self::T
        } else if t.eq_ignore_ascii_case("o")
            || t.eq_ignore_ascii_case("other")
            || t.eq_ignore_ascii_case("others")
        {
            Self::O
        } else {
            return Err(NumberError::Gender);
        };
        Ok(g)
    }

    /// The one-letter code: `"M"`, `"F"`, `"T"` or `"O"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::M => "M",
            Self::F => "F",
            Self::T => "T",
            Self::O => "O",
        }
    }
}

impl serde::Serialize for Gender {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let cases = [
            ("M", Gender::M),
            ("male", Gender::M),
            ("MALE", Gender::M),
            ("F", Gender::F),
            ("Female", Gender::F),
            ("T", Gender::T),
            ("TRANSGENDER", Gender::T),
            ("O", Gender::O),
            ("other", Gender::O),
        ];
        for (input, g) in cases {
            assert_eq!(Gender::parse(input), Ok(g), "{input}");
        }
        assert_eq!(Gender::parse("X"), Err(NumberError::Gender));
        assert_eq!(Gender::parse(""), Err(NumberError::Gender));
        assert_eq!(Gender::T.code(), "T");
    }
}
