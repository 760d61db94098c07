//! Number and code checks used at the counter: Aadhaar (Verhoeff), ABHA number (Luhn as a
//! warning) and address, Indian mobile numbers and PIN codes. Each validated value is a type,
//! so the rest of the app cannot hold an unchecked one by mistake.

pub mod aadhaar;
pub mod abha;
pub mod luhn;
pub mod mobile;
pub mod pincode;
pub mod verhoeff;

pub use aadhaar::AadhaarNumber;
pub use abha::{AbhaAddress, AbhaNumber};
pub use mobile::IndianMobile;
pub use pincode::parse_pincode;
