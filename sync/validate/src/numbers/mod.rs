//! Identity numbers typed at the counter or received from ABDM and the booking portal: mobile,
//! ABHA number and address, PIN code. Each validated value is a type, so neither side can hold
//! an unchecked one by mistake.

pub mod abha;
pub mod luhn;
pub mod mobile;
pub mod pincode;
