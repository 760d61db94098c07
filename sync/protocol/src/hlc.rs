//! Hybrid logical clock: a timestamp that follows wall time but never goes backwards.
//!
//! Kiosk clocks in primary health centres drift and get reset; ordering record versions by
//! raw wall time would let a kiosk with a clock in the past lose its own newer edits. An HLC
//! keeps the physical part close to wall time and breaks ties with a logical counter. The API
//! is pure (`now_ms` is passed in) so that it is trivially testable and the caller decides
//! where the last value is persisted (the kiosk keeps it in its SQLite `sync_state`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A hybrid-logical-clock timestamp: milliseconds since the Unix epoch plus a logical counter.
///
/// On the wire and in storage it is a single unsigned 64-bit integer (`millis << 16 | counter`,
/// see [`Hlc::to_u64`]), which sorts exactly like the timestamp itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Physical component: Unix time in milliseconds (48 bits are kept).
    pub millis: u64,
    /// Logical component: orders events within the same millisecond.
    pub counter: u16,
}

const MILLIS_MASK: u64 = (1 << 48) - 1;

impl Hlc {
    /// The zero timestamp (before everything).
    pub const ZERO: Hlc = Hlc {
        millis: 0,
        counter: 0,
    };

    /// Builds a timestamp from its parts (the physical part is truncated to 48 bits).
    pub fn new(millis: u64, counter: u16) -> Self {
        Hlc {
            millis: millis & MILLIS_MASK,
            counter,
        }
    }

    /// Timestamp for a local event: strictly greater than `self` (the last issued or
    /// observed timestamp) and at least the wall clock `now_ms`.
    pub fn tick(self, now_ms: u64) -> Hlc {
        let now = now_ms & MILLIS_MASK;
        if now > self.millis {
            Hlc::new(now, 0)
        } else {
            self.successor()
        }
    }

    /// Timestamp after receiving `remote`: strictly greater than both `self` and `remote`,
    /// and at least the wall clock `now_ms`.
    pub fn observe(self, remote: Hlc, now_ms: u64) -> Hlc {
        let now = now_ms & MILLIS_MASK;
        let top = self.max(remote);
        if now > top.millis {
            Hlc::new(now, 0)
        } else {
            top.successor()
        }
    }

    /// The next timestamp; when the counter is exhausted the physical part advances.
    fn successor(self) -> Hlc {
        match self.counter.checked_add(1) {
            Some(c) => Hlc::new(self.millis, c),
            None => Hlc::new(self.millis + 1, 0),
        }
    }

    /// Packs the timestamp into one sortable integer.
    pub fn to_u64(self) -> u64 {
        (self.millis << 16) | u64::from(self.counter)
    }

    /// Unpacks a timestamp produced by [`Hlc::to_u64`].
    pub fn from_u64(v: u64) -> Hlc {
        Hlc {
            millis: v >> 16,
            counter: (v & 0xffff) as u16,
        }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.millis, self.counter)
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.to_u64())
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64::deserialize(d).map(Hlc::from_u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_follows_wall_clock_and_never_goes_back() {
        let a = Hlc::ZERO.tick(1000);
        assert_eq!(a, Hlc::new(1000, 0));
        let b = a.tick(1000);
        assert_eq!(b, Hlc::new(1000, 1));
        // Clock went backwards: still strictly increasing.
        let c = b.tick(500);
        assert!(c > b);
        let d = c.tick(2000);
        assert_eq!(d, Hlc::new(2000, 0));
    }

    #[test]
    fn observe_jumps_past_remote() {
        let local = Hlc::new(1000, 3);
        let remote = Hlc::new(5000, 7);
        let o = local.observe(remote, 1200);
        assert_eq!(o, Hlc::new(5000, 8));
        assert!(local.observe(Hlc::new(10, 0), 1200) == Hlc::new(1200, 0));
    }

    #[test]
    fn counter_overflow_advances_millis() {
        let h = Hlc::new(7, u16::MAX).tick(0);
        assert_eq!(h, Hlc::new(8, 0));
    }

    #[test]
    fn packing_round_trips_and_sorts() {
        let a = Hlc::new(1_700_000_000_000, 5);
        let b = Hlc::new(1_700_000_000_000, 6);
        assert_eq!(Hlc::from_u64(a.to_u64()), a);
        assert!(a.to_u64() < b.to_u64());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap(), a);
    }
}
