//! UHIDs: patient numbers issued offline that are unique across every kiosk of the state.
//!
//! Shape: `<facility code>-<kiosk letter><sequence>-<check>`, e.g. `PTN12-A00017-K`. The facility
//! code is unique in the state (assigned when the facility is created on the state server), the
//! kiosk letter unique in the facility, the sequence this kiosk's own counter: no coordination is
//! needed. The check character (Luhn mod 36 over the other characters) catches a mistyped or
//! misheard character when a UHID is read aloud or typed in.

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

/// The Luhn mod 36 check character for `payload` (letters and digits; others are ignored).
pub fn check_char(payload: &str) -> char {
    let n = ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for c in payload
        .bytes()
        .rev()
        .filter_map(|b| value(b.to_ascii_uppercase()))
    {
        let addend = factor * c;
        sum += addend / n + addend % n;
        factor = if factor == 2 { 1 } else { 2 };
    }
    let check = (n - (sum % n)) % n;
    char::from(ALPHABET[check])
}

/// Formats a UHID.
pub fn format(facility_code: &str, kiosk_letter: &str, sequence: u64) -> String {
    let body = format!("{facility_code}-{kiosk_letter}{sequence:05}");
    format!("{body}-{}", check_char(&body))
}

/// Normalises typed text to the stored form (upper-case, dashes restored) if its check character
/// is right; `None` otherwise.
pub fn normalise(text: &str) -> Option<String> {
    let up = text.trim().to_ascii_uppercase();
    let (body, check) = up.rsplit_once('-')?;
    let mut chars = check.chars();
    let c = chars.next()?;
    if chars.next().is_some() || body.is_empty() {
        return None;
    }
    (check_char(body) == c).then_some(up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uhids_validate_and_catch_single_errors() {
        let u = format("PTN12", "A", 17);
        assert!(u.starts_with("PTN12-A00017-"));
        assert_eq!(normalise(&u.to_lowercase()).as_deref(), Some(u.as_str()));
        // Every single-character substitution in the body is caught.
        let body: Vec<char> = u[..u.len() - 2].chars().collect();
        for i in 0..body.len() {
            if body[i] == '-' {
                continue;
            }
            for sub in ALPHABET.iter().map(|&b| char::from(b)) {
                if sub == body[i] {
                    continue;
                }
                let mut b = body.clone();
                b[i] = sub;
                let typo: String = b.into_iter().collect::<String>() + &u[u.len() - 2..];
                assert!(normalise(&typo).is_none(), "{typo}");
            }
        }
        assert!(normalise("garbage").is_none());
        assert!(normalise("-").is_none());
    }
}
