//! The number and code rules the kiosk and the state server must agree on, in one place.
//!
//! A value the server accepts and a kiosk then refuses is a silent failure in the field: a
//! facility added as `BR-PAT-UPHC07` consumed its one-time enrollment code on the server and
//! then failed on the kiosk. So the kiosk (through `swagat-identity` and the core) and the
//! server (facility administration, the booking portal, ABDM profiles) both check with the
//! functions here, and nowhere else:
//!
//! - [`IndianMobile`]: 10 digits starting 6–9, with `+91`/`91`/`0` prefixes and separators;
//! - [`AbhaNumber`] (14 digits, Luhn reported, never enforced) and [`AbhaAddress`] (`name@abdm`);
//! - [`parse_pincode`]: 6 digits, not starting with 0;
//! - [`FacilityCode`], [`parse_hfr_id`], [`parse_counter_id`]: the codes a facility and its
//!   counters are known by.
//!
//! Each check bounds its input before looking at it, never panics, and returns a
//! [`NumberError`] with an English and a Hindi message. The Aadhaar number is not here: the
//! server never sees one (Aadhaar Act s.29); it lives in `swagat-identity`.

pub mod codes;
pub mod error;
pub mod numbers;

pub use codes::{parse_counter_id, parse_hfr_id, FacilityCode};
pub use error::NumberError;
pub use numbers::abha::{AbhaAddress, AbhaNumber, ABHA_SUFFIXES};
pub use numbers::luhn;
pub use numbers::mobile::IndianMobile;
pub use numbers::pincode::parse_pincode;
