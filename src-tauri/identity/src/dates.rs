//! Dates of birth as they appear on Aadhaar and ABHA QR codes: `DD-MM-YYYY`, `d/m/yyyy`,
//! `d-m-yyyy`, ISO `YYYY-MM-DD`, or a year alone. Many patients know only their year of birth,
//! so a [`BirthDate`] is either a full date or a year.

use time::{Date, Month};

use crate::NumberError;

/// Earliest year of birth accepted.
pub const MIN_BIRTH_YEAR: i32 = 1880;
/// Latest year of birth accepted (the crate has no clock; the caller checks "not in the future").
pub const MAX_BIRTH_YEAR: i32 = 2100;

/// A date of birth: a full calendar date or only the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthDate {
    /// Day, month and year known.
    Full(Date),
    /// Only the year known.
    Year(i32),
}

impl BirthDate {
    /// Parses a date of birth.
    ///
    /// Accepted: `YYYY`; `YYYY-MM-DD` (or `/`); `D-M-YYYY`, `D/M/YYYY`, `D.M.YYYY` with one or two
    /// digits for day and month. A date whose day or month is missing, zero or masked
    /// (`0/0/1985`, `/8/1985`, `XX-XX-1985`, `8/1985`) gives [`BirthDate::Year`].
    /// A date that does not exist (`31/02/1990`) is an error, not a year.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let t = text.trim();
        if t.is_empty() || t.len() > 32 {
            return Err(NumberError::Date);
        }
        let parts: Vec<&str> = t.split(['-', '/', '.']).map(str::trim).collect();
        match parts.as_slice() {
            [y] => Ok(Self::Year(year(y)?)),
            [_, y] => Ok(Self::Year(year(y)?)),
            [y, m, d] if y.len() == 4 => {
                let y = year(y)?;
                let (m, d) = (
                    small(m).ok_or(NumberError::Date)?,
                    small(d).ok_or(NumberError::Date)?,
                );
                full(y, m, d)
            }
            [d, m, y] => {
                let y = year(y)?;
                match (small(d), small(m)) {
                    (Some(d), Some(m)) if d > 0 && m > 0 => full(y, m, d),
                    _ => Ok(Self::Year(y)),
                }
            }
            _ => Err(NumberError::Date),
        }
    }

    /// The year of birth.
    pub fn year(&self) -> i32 {
        match self {
            Self::Full(d) => d.year(),
            Self::Year(y) => *y,
        }
    }

    /// `YYYY-MM-DD` for a full date, `None` for a year alone.
    pub fn iso(&self) -> Option<String> {
        match self {
            Self::Full(d) => Some(format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            )),
            Self::Year(_) => None,
        }
    }
}

/// A four-digit year in the accepted range.
fn year(text: &str) -> Result<i32, NumberError> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::Date);
    }
    let y: i32 = text.parse().map_err(|_| NumberError::Date)?;
    if (MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR).contains(&y) {
        Ok(y)
    } else {
        Err(NumberError::DateOutOfRange)
    }
}

/// A one- or two-digit number (day or month).
fn small(text: &str) -> Option<u8> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn full(y: i32, m: u8, d: u8) -> Result<BirthDate, NumberError> {
    let month = Month::try_from(m).map_err(|_| NumberError::DateOutOfRange)?;
    Date::from_calendar_date(y, month, d)
        .map(BirthDate::Full)
        .map_err(|_| NumberError::DateOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let full_cases = [
            ("15-08-1985", "1985-08-15"),
            ("15/08/1985", "1985-08-15"),
            ("23/5/1984", "1984-05-23"),
            ("3-1-1962", "1962-01-03"),
            ("1985-08-15", "1985-08-15"),
            ("1985/8/15", "1985-08-15"),
            (" 07.05.1987 ", "1987-05-07"),
            ("29-02-2000", "2000-02-29"),
        ];
        for (input, iso) in full_cases {
            assert_eq!(
                BirthDate::parse(input).unwrap().iso().as_deref(),
                Some(iso),
                "{input}"
            );
        }
        let year_cases = [
            ("1985", 1985),
            ("0/0/1985", 1985),
            ("/8/1985", 1985),
            ("XX-XX-1985", 1985),
            ("8/1985", 1985),
            ("--1985", 1985),
        ];
        for (input, y) in year_cases {
            assert_eq!(BirthDate::parse(input), Ok(BirthDate::Year(y)), "{input}");
        }
        let errors = [
            ("", NumberError::Date),
            ("yesterday", NumberError::Date),
            ("15-08-85", NumberError::Date),
            ("31/02/1990", NumberError::DateOutOfRange),
            ("15/13/1990", NumberError::DateOutOfRange),
            ("1700", NumberError::DateOutOfRange),
            ("1985-08", NumberError::Date),
            ("1-2-3-1985", NumberError::Date),
        ];
        for (input, e) in errors {
            assert_eq!(BirthDate::parse(input), Err(e), "{input}");
        }
        assert_eq!(BirthDate::parse("15-08-1985").unwrap().year(), 1985);
    }
}
