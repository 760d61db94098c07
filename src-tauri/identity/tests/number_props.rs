//! Property tests for the number checks: Verhoeff (Aadhaar) and Luhn (ABHA) catch every
//! single-digit change and every swap of two different adjacent digits; parsers accept what
//! they print.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use swagat_identity::numbers::{luhn, verhoeff};
use swagat_identity::{AadhaarNumber, AbhaNumber, IndianMobile, NumberError};

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

fn aadhaar_payload() -> impl Strategy<Value = String> {
    (2u8..10, digits(10)).prop_map(|(first, rest)| format!("{}{rest}", char::from(b'0' + first)))
}

fn with_verhoeff(payload: &str) -> String {
    format!("{payload}{}", verhoeff::check_digit(payload).unwrap())
}

fn with_luhn(payload: &str) -> String {
    format!("{payload}{}", luhn::check_digit(payload).unwrap())
}

fn replace_at(s: &str, i: usize, d: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    b[i] = b'0' + d;
    String::from_utf8(b).unwrap()
}

fn swap_at(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b.swap(i, i + 1);
    String::from_utf8(b).unwrap()
}

proptest! {
    #[test]
    fn verhoeff_completed_numbers_are_valid_aadhaar(p in aadhaar_payload()) {
        let n = with_verhoeff(&p);
        prop_assert!(verhoeff::is_valid(&n));
        let a = AadhaarNumber::parse(&n).unwrap();
        prop_assert_eq!(a.last4(), n[8..].to_string());
        let shown = format!("{a:?}{a}");
        prop_assert!(!shown.contains(&n));
    }

    #[test]
    fn verhoeff_catches_single_digit_changes(p in aadhaar_payload(), i in 0usize..12, d in 0u8..10) {
        let n = with_verhoeff(&p);
        prop_assume!(n.as_bytes()[i] != b'0' + d);
        let changed = replace_at(&n, i, d);
        prop_assert!(!verhoeff::is_valid(&changed));
        prop_assert!(AadhaarNumber::parse(&changed).is_err());
    }

    #[test]
    fn verhoeff_catches_adjacent_swaps(p in aadhaar_payload(), i in 0usize..11) {
        let n = with_verhoeff(&p);
        prop_assume!(n.as_bytes()[i] != n.as_bytes()[i + 1]);
        prop_assert!(!verhoeff::is_valid(&swap_at(&n, i)));
    }

    #[test]
    fn aadhaar_starting_0_or_1_rejected(first in 0u8..2, rest in digits(10)) {
        let n = with_verhoeff(&format!("{}{rest}", char::from(b'0' + first)));
        prop_assert_eq!(AadhaarNumber::parse(&n).err(), Some(NumberError::AadhaarFirstDigit));
    }

    #[test]
    fn aadhaar_wrong_length_rejected(d in digits(11)) {
        prop_assert_eq!(AadhaarNumber::parse(&d).err(), Some(NumberError::AadhaarLength));
    }

    #[test]
    fn luhn_completed_numbers_are_valid(p in digits(13)) {
        let n = with_luhn(&p);
        prop_assert!(luhn::is_valid(&n));
        let abha = AbhaNumber::parse(&n).unwrap();
        prop_assert!(abha.luhn_valid());
        // Normalised form parses back to the same number.
        prop_assert_eq!(AbhaNumber::parse(&abha.formatted()).unwrap(), abha);
    }

    #[test]
    fn luhn_catches_single_digit_changes(p in digits(13), i in 0usize..14, d in 0u8..10) {
        let n = with_luhn(&p);
        prop_assume!(n.as_bytes()[i] != b'0' + d);
        let changed = replace_at(&n, i, d);
        prop_assert!(!luhn::is_valid(&changed));
        // A Luhn failure never rejects an ABHA number.
        prop_assert!(!AbhaNumber::parse(&changed).unwrap().luhn_valid());
    }

    #[test]
    fn luhn_catches_adjacent_swaps_except_09(p in digits(13), i in 0usize..13) {
        let n = with_luhn(&p);
        let (a, b) = (n.as_bytes()[i], n.as_bytes()[i + 1]);
        // Luhn's one blind spot: swapping 0 and 9.
        prop_assume!(a != b && !matches!((a, b), (b'0', b'9') | (b'9', b'0')));
        prop_assert!(!luhn::is_valid(&swap_at(&n, i)));
    }

    #[test]
    fn mobiles_with_prefixes(first in 6u8..10, rest in digits(9), prefix in prop::sample::select(vec!["", "+91", "+91 ", "91", "0", "+91-"])) {
        let national = format!("{}{rest}", char::from(b'0' + first));
        let m = IndianMobile::parse(&format!("{prefix}{national}")).unwrap();
        prop_assert_eq!(m.as_str(), national.as_str());
    }

    #[test]
    fn mobiles_starting_0_to_5_rejected(first in 0u8..6, rest in digits(9)) {
        let n = format!("{}{rest}", char::from(b'0' + first));
        prop_assert!(IndianMobile::parse(&n).is_err());
    }
}

#[test]
fn domain_brief_examples() {
    for ok in ["234567890124", "498765432102", "876543210988"] {
        assert!(AadhaarNumber::parse(ok).is_ok(), "{ok}");
    }
    let bad = [
        ("234567890125", NumberError::AadhaarChecksum),
        ("234657890124", NumberError::AadhaarChecksum),
        ("198765432107", NumberError::AadhaarFirstDigit),
        ("123456789012", NumberError::AadhaarFirstDigit),
        ("23456789012", NumberError::AadhaarLength),
        ("2345678901245", NumberError::AadhaarLength),
        ("2345678901a4", NumberError::AadhaarLength),
    ];
    for (n, e) in bad {
        assert_eq!(AadhaarNumber::parse(n).err(), Some(e), "{n}");
        assert!(!e.message_hi().is_empty());
    }
    assert!(AbhaNumber::parse("91-2345-6789-0129").unwrap().luhn_valid());
    assert!(AbhaNumber::parse("91-8765-0043-2102").unwrap().luhn_valid());
    assert!(!AbhaNumber::parse("91-2345-6789-0128").unwrap().luhn_valid());
}
