//! The Luhn (mod 10) check. NHA documents no checksum for ABHA numbers, but every real-looking
//! ABHA number seen passes Luhn while placeholders fail, so a failure is only a warning.

/// Whether `digits` (ASCII digits, check digit last) passes the Luhn check.
/// Empty or non-digit input is never valid.
pub fn is_valid(digits: &str) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum: u32 = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum = (sum + d) % 10;
    }
    sum == 0
}

/// The Luhn check digit to append to `payload` (ASCII digits); `None` on a non-digit.
pub fn check_digit(payload: &str) -> Option<u8> {
    for c in 0..10u8 {
        let mut s = String::with_capacity(payload.len() + 1);
        s.push_str(payload);
        s.push(char::from(b'0' + c));
        if is_valid(&s) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert!(is_valid("91234567890129"));
        assert!(is_valid("91876500432102"));
        assert!(!is_valid("91234567890128"));
        assert!(!is_valid(""));
        assert!(!is_valid("9a"));
        assert_eq!(check_digit("9123456789012"), Some(9));
        assert_eq!(check_digit("x"), None);
    }
}
