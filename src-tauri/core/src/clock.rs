//! Time as the kiosk records it: UTC instants stored as RFC 3339 text, and the facility's local
//! date (India has one offset, +05:30, but it is configuration, not a constant).

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Now, in UTC.
pub fn now_utc() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `t` as stored in the database (RFC 3339, UTC).
pub fn to_db(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Parses a stored timestamp.
pub fn from_db(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// The facility's local date at `t`, for an offset in minutes east of UTC.
pub fn local_date(t: OffsetDateTime, utc_offset_minutes: i32) -> Date {
    let offset = UtcOffset::from_whole_seconds(utc_offset_minutes.saturating_mul(60))
        .unwrap_or(UtcOffset::UTC);
    t.to_offset(offset).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn local_date_crosses_midnight_in_india() {
        let t = datetime!(2026-11-22 19:00 UTC);
        assert_eq!(local_date(t, 330).to_string(), "2026-11-23");
        assert_eq!(local_date(t, 0).to_string(), "2026-11-22");
        let s = to_db(t);
        assert_eq!(from_db(&s), Some(t));
    }
}
