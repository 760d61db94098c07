//! Indian postal PIN codes: 6 digits, the first (postal region) never 0.

use crate::NumberError;

/// Validates a PIN code, tolerating surrounding whitespace and one inner space (`800 020`).
/// Returns the 6 digits.
pub fn parse_pincode(text: &str) -> Result<String, NumberError> {
    let t = text.trim();
    if t.len() > 8 {
        return Err(NumberError::Pincode);
    }
    let digits: String = t.chars().filter(|c| *c != ' ').collect();
    let ok = digits.len() == 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
        && t.chars().filter(|c| *c == ' ').count() <= 1;
    if ok {
        Ok(digits)
    } else {
        Err(NumberError::Pincode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pincodes() {
        assert_eq!(parse_pincode("800020").unwrap(), "800020");
        assert_eq!(parse_pincode(" 800 020 ").unwrap(), "800020");
        for bad in ["080002", "80002", "8000201", "80002a", "", "8 0 0020"] {
            assert_eq!(parse_pincode(bad), Err(NumberError::Pincode), "{bad}");
        }
    }
}
