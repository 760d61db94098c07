//! Number and code checks used at the counter: Aadhaar (Verhoeff) here, because only the kiosk
//! ever sees an Aadhaar number; the ABHA number (Luhn as a warning) and address, Indian mobile
//! numbers and PIN codes from `swagat-validate`, the rules the state server checks with too.
//! Each validated value is a type, so the rest of the app cannot hold an unchecked one by mistake.

pub mod aadhaar;
pub mod verhoeff;

pub use swagat_validate::numbers::{abha, luhn, mobile, pincode};

pub use aadhaar::AadhaarNumber;
pub use abha::{AbhaAddress, AbhaNumber};
pub use mobile::IndianMobile;
pub use pincode::parse_pincode;
