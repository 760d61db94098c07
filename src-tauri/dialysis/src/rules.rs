//! The allocation rules as pure functions: which pool a patient belongs to, when serology is
//! stale, which days the unit works. Kept free of SQL so each rule is tested on its own; the
//! booking code (`booking.rs`) applies them. The full list is in the crate docs and `RULES.md`.

use serde::Serialize;
use time::{Date, Weekday};

use crate::model::{Pool, Serology};

/// A patient's three serology markers.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SerologyResults {
    /// Hepatitis B surface antigen.
    pub hbsag: Serology,
    /// Antibody to hepatitis C.
    pub hcv: Serology,
    /// HIV.
    pub hiv: Serology,
}

/// Where a patient may be dialysed, and whether that placement needs a warning.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// The only pool whose machines the patient may use.
    pub pool: Pool,
    /// More than one marker is positive (placed by precedence; see [`pool_for`]).
    pub co_infection: bool,
}

/// Rules 1–5: the pool for a set of results.
///
/// 1. HBsAg positive → `hbv`, whatever the other markers say.
/// 2. otherwise anti-HCV positive → `hcv`.
/// 3. otherwise HIV positive → `hiv`.
/// 4. otherwise any marker unknown → `unknown`.
/// 5. all three negative → `negative`.
///
/// Co-infection is placed by that precedence (HBV > HCV > HIV) and flagged: HBV is the only
/// infection for which isolation (own room, machine and staff) is mandated (CDC 2001
/// recommendations for chronic haemodialysis units; KDIGO), it is by far the most transmissible by
/// blood exposure (~30% per needlestick vs ~1.8% HCV and ~0.3% HIV) and survives on surfaces for a
/// week; HCV's dedicated machines are mandated by Indian (PMNDP/ISN) guidance while HIV's are
/// "often" used. A known positive is never placed among `unknown` patients (mostly new, negative
/// patients awaiting results): it goes to its infection's pool even while other results are
/// pending.
pub fn pool_for(s: SerologyResults) -> Placement {
    let positives = [s.hbsag, s.hcv, s.hiv]
        .iter()
        .filter(|r| **r == Serology::Pos)
        .count();
    let pool = if s.hbsag == Serology::Pos {
        Pool::Hbv
    } else if s.hcv == Serology::Pos {
        Pool::Hcv
    } else if s.hiv == Serology::Pos {
        Pool::Hiv
    } else if [s.hbsag, s.hcv, s.hiv].contains(&Serology::Unknown) {
        Pool::Unknown
    } else {
        Pool::Negative
    };
    Placement {
        pool,
        co_infection: positives > 1,
    }
}

/// Rule 6: results are stale on `on` when the oldest known test is more than `threshold_days`
/// before it, or when a known result has no test date. Unknown results have nothing to age.
pub fn serology_stale(tests: &[(Serology, Option<Date>)], on: Date, threshold_days: i64) -> bool {
    tests
        .iter()
        .any(|(result, tested_on)| match (result, tested_on) {
            (Serology::Unknown, _) => false,
            (_, None) => true,
            (_, Some(d)) => (on - *d).whole_days() > threshold_days,
        })
}

/// Rule 9: whether the unit works on `date`, given its working weekdays and whether the date is a
/// holiday.
pub fn is_working_day(date: Date, working_days: &[Weekday], holiday: bool) -> bool {
    !holiday && working_days.contains(&date.weekday())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use Serology::{Neg, Pos, Unknown};

    fn s(hbsag: Serology, hcv: Serology, hiv: Serology) -> SerologyResults {
        SerologyResults { hbsag, hcv, hiv }
    }

    #[test]
    fn single_infections_go_to_their_pool() {
        assert_eq!(pool_for(s(Pos, Neg, Neg)).pool, Pool::Hbv);
        assert_eq!(pool_for(s(Neg, Pos, Neg)).pool, Pool::Hcv);
        assert_eq!(pool_for(s(Neg, Neg, Pos)).pool, Pool::Hiv);
        assert_eq!(pool_for(s(Neg, Neg, Neg)).pool, Pool::Negative);
        assert!(!pool_for(s(Pos, Neg, Neg)).co_infection);
    }

    #[test]
    fn any_unknown_without_positive_goes_to_unknown() {
        assert_eq!(pool_for(s(Unknown, Neg, Neg)).pool, Pool::Unknown);
        assert_eq!(pool_for(s(Neg, Neg, Unknown)).pool, Pool::Unknown);
        assert_eq!(pool_for(s(Unknown, Unknown, Unknown)).pool, Pool::Unknown);
    }

    #[test]
    fn known_positive_wins_over_unknown() {
        assert_eq!(pool_for(s(Pos, Unknown, Unknown)).pool, Pool::Hbv);
        assert_eq!(pool_for(s(Unknown, Pos, Neg)).pool, Pool::Hcv);
    }

    #[test]
    fn co_infection_follows_precedence_and_is_flagged() {
        let p = pool_for(s(Pos, Pos, Neg));
        assert_eq!((p.pool, p.co_infection), (Pool::Hbv, true));
        let p = pool_for(s(Neg, Pos, Pos));
        assert_eq!((p.pool, p.co_infection), (Pool::Hcv, true));
        let p = pool_for(s(Pos, Neg, Pos));
        assert_eq!((p.pool, p.co_infection), (Pool::Hbv, true));
    }

    #[test]
    fn staleness() {
        let on = date!(2026 - 04 - 01);
        let tested = Some(date!(2026 - 01 - 01)); // 90 days before
        assert!(!serology_stale(&[(Neg, tested)], on, 90));
        assert!(serology_stale(&[(Neg, tested)], on, 89));
        assert!(serology_stale(&[(Pos, None)], on, 90));
        assert!(!serology_stale(&[(Unknown, None)], on, 90));
        assert!(serology_stale(&[(Neg, Some(on)), (Neg, tested)], on, 30));
    }

    #[test]
    fn working_days() {
        let mon_to_sat = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
        ];
        assert!(is_working_day(date!(2026 - 03 - 02), &mon_to_sat, false)); // Monday
        assert!(!is_working_day(date!(2026 - 03 - 01), &mon_to_sat, false)); // Sunday
        assert!(!is_working_day(date!(2026 - 03 - 02), &mon_to_sat, true));
    }
}
