//! The dialysis module's vocabulary: pools, serology results, booking statuses, and the date and
//! time formats it stores.
//!
//! Every enum round-trips through the exact text the SQL `CHECK` constraints allow, so a value read
//! back from the database is either one of these or reported as corrupt, never guessed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Weekday};

use crate::error::{DialysisError, Result};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal $(| $alt:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$v),+];

            /// The stored (and command-line) text.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s $(| $alt)* => Ok(Self::$v),)+
                    _ => Err(format!(
                        "expected one of: {}",
                        [$($s),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// The serology group a machine is dedicated to (infection control).
    Pool {
        /// All three markers negative.
        Negative = "negative" | "neg",
        /// HBsAg positive (blue area).
        Hbv = "hbv",
        /// Anti-HCV positive (yellow area).
        Hcv = "hcv",
        /// HIV positive.
        Hiv = "hiv",
        /// Results pending (new patients).
        Unknown = "unknown",
    }
);

text_enum!(
    /// One serology result.
    Serology {
        /// Positive.
        Pos = "pos" | "positive" | "+",
        /// Negative.
        Neg = "neg" | "negative" | "-",
        /// Not tested, or the result has not come.
        Unknown = "unknown" | "pending",
    }
);

text_enum!(
    /// Where a booking stands.
    Status {
        /// Has a machine.
        Confirmed = "confirmed",
        /// Waiting for a machine of the patient's pool.
        Waitlisted = "waitlisted",
        /// The patient arrived; the session is on.
        CheckedIn = "checked_in",
        /// The patient did not come; the machine was freed.
        NoShow = "no_show",
        /// The session happened.
        Completed = "completed",
        /// Called off; the machine was freed.
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// Where a booking came from.
    Source {
        /// Made at the unit.
        Local = "local",
        /// From the state portal.
        Online = "online",
    }
);

text_enum!(
    /// A patient's vascular access.
    VascularAccess {
        /// Arteriovenous fistula.
        Avf = "avf",
        /// Arteriovenous graft.
        Avg = "avg",
        /// Central venous catheter.
        Catheter = "catheter",
        /// Anything else.
        Other = "other",
    }
);

impl Status {
    /// Whether a booking in this status holds its machine for the shift.
    pub fn occupies(self) -> bool {
        matches!(self, Self::Confirmed | Self::CheckedIn | Self::Completed)
    }
}

/// Reads a stored enum value, reporting anything else as corrupt data.
pub(crate) fn from_db<T: FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse()
        .map_err(|_| DialysisError::Corrupt(format!("{what} {s:?}")))
}

const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const INSTANT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Parses a `YYYY-MM-DD` date given for `field`.
pub fn parse_date(field: &str, s: &str) -> Result<Date> {
    Date::parse(s.trim(), DATE).map_err(|_| {
        DialysisError::invalid(
            field,
            format!("{s:?} is not a date; use YYYY-MM-DD"),
            "तारीख YYYY-MM-DD रूप में दें",
        )
    })
}

/// `d` as stored: `YYYY-MM-DD`.
pub fn fmt_date(d: Date) -> String {
    d.format(DATE)
        .unwrap_or_else(|_| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
}

/// Reads a stored date.
pub(crate) fn date_from_db(s: &str) -> Result<Date> {
    Date::parse(s, DATE).map_err(|_| DialysisError::Corrupt(format!("date {s:?}")))
}

/// `t` in the fixed-width UTC form stored in `requested_at` (sorts as text in time order).
pub fn fmt_instant(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(INSTANT)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Now, in the stored form.
pub fn now_instant() -> String {
    fmt_instant(OffsetDateTime::now_utc())
}

/// The three-letter lower-case name of a weekday (`mon`...`sun`).
pub fn weekday_str(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// The Hindi name of a weekday (for messages in Hindi).
pub fn weekday_hi(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "सोमवार",
        Weekday::Tuesday => "मंगलवार",
        Weekday::Wednesday => "बुधवार",
        Weekday::Thursday => "गुरुवार",
        Weekday::Friday => "शुक्रवार",
        Weekday::Saturday => "शनिवार",
        Weekday::Sunday => "रविवार",
    }
}

/// Parses one weekday: `mon`, `Monday`, `MON`...
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let s = s.trim().to_ascii_lowercase();
    let w = match s.get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    };
    // "monkey" is not a weekday: accept the 3-letter form or the full name only.
    (s.len() == 3 || s == format!("{w}").to_ascii_lowercase()).then_some(w)
}

/// Parses a comma-separated weekday list (`mon,wed,fri`), or a named pattern: `mwf`
/// (Mon/Wed/Fri), `tts` (Tue/Thu/Sat). Duplicates are dropped; order follows the week.
pub fn parse_weekdays(field: &str, s: &str) -> Result<Vec<Weekday>> {
    let bad = || {
        DialysisError::invalid(
            field,
            format!("{s:?} is not a weekday list; use e.g. mon,wed,fri"),
            "सप्ताह के दिन ऐसे दें: mon,wed,fri",
        )
    };
    let lower = s.trim().to_ascii_lowercase();
    let items: Vec<&str> = match lower.as_str() {
        "mwf" => vec!["mon", "wed", "fri"],
        "tts" => vec!["tue", "thu", "sat"],
        other => other.split(',').filter(|p| !p.trim().is_empty()).collect(),
    };
    if items.is_empty() {
        return Err(bad());
    }
    let mut days = Vec::new();
    for item in items {
        let w = parse_weekday(item).ok_or_else(bad)?;
        if !days.contains(&w) {
            days.push(w);
        }
    }
    days.sort_by_key(|w| w.number_days_from_monday());
    Ok(days)
}

/// A weekday list as stored: `mon,wed,fri`.
pub fn fmt_weekdays(days: &[Weekday]) -> String {
    days.iter()
        .map(|w| weekday_str(*w))
        .collect::<Vec<_>>()
        .join(",")
}

/// A new time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn enums_round_trip_and_accept_synonyms() {
        for p in Pool::ALL {
            assert_eq!(p.as_str().parse::<Pool>().unwrap(), *p);
        }
        assert_eq!("Positive".parse::<Serology>().unwrap(), Serology::Pos);
        assert!("maybe".parse::<Serology>().is_err());
        assert_eq!(
            serde_json::to_string(&Status::CheckedIn).unwrap(),
            "\"checked_in\""
        );
    }

    #[test]
    fn dates_and_weekdays_parse() {
        assert_eq!(
            parse_date("date", "2026-03-02").unwrap(),
            date!(2026 - 03 - 02)
        );
        assert!(parse_date("date", "2026-02-30").is_err());
        assert!(parse_date("date", "02/03/2026").is_err());
        assert_eq!(fmt_date(date!(2026 - 03 - 02)), "2026-03-02");
        let d = parse_weekdays("repeat", "fri,mon,wed,mon").unwrap();
        assert_eq!(fmt_weekdays(&d), "mon,wed,fri");
        assert_eq!(
            fmt_weekdays(&parse_weekdays("r", "TTS").unwrap()),
            "tue,thu,sat"
        );
        assert_eq!(parse_weekday("Thursday"), Some(Weekday::Thursday));
        assert_eq!(parse_weekday("monkey"), None);
        assert!(parse_weekdays("repeat", "").is_err());
        assert!(parse_weekdays("repeat", "mon,xyz").is_err());
    }

    #[test]
    fn instants_sort_as_text() {
        let a = fmt_instant(datetime!(2026-01-01 00:00:00 UTC));
        let b = fmt_instant(datetime!(2026-01-01 00:00:00.5 UTC));
        let c = fmt_instant(datetime!(2026-01-01 00:00:01 UTC));
        assert_eq!(a, "2026-01-01T00:00:00.000000Z");
        assert!(a < b && b < c);
    }
}
