//! Generation and hashing of enrollment codes and device secrets.
//!
//! The server stores only SHA-256 digests of both: a stolen database cannot be used to
//! impersonate a kiosk or enroll a new one. Both are high-entropy random values, so a fast
//! hash is sufficient (no password-stretching needed).

use rand::Rng;
use sha2::{Digest, Sha256};

const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A new one-time enrollment code, e.g. `K7QF-M2XD-9PLA` (60 bits of entropy, no 0/O/1/I).
pub fn new_enrollment_code() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            s.push('-');
        }
        let idx = rng.random_range(0..CODE_ALPHABET.len());
        s.push(char::from(CODE_ALPHABET[idx]));
    }
    s
}

/// Digest under which an enrollment code is stored; ignores case, dashes and spaces.
pub fn hash_enrollment_code(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(norm.as_bytes()))
}

/// A new device secret: 32 random bytes, hex.
pub fn new_device_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Digest under which a device secret is stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two digests in constant time.
pub fn digests_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalize() {
        let c = new_enrollment_code();
        assert_eq!(c.len(), 14);
        assert_eq!(
            hash_enrollment_code(&c),
            hash_enrollment_code(&c.to_lowercase().replace('-', ""))
        );
        assert!(digests_equal(&hash_secret("a"), &hash_secret("a")));
        assert!(!digests_equal(&hash_secret("a"), &hash_secret("b")));
    }
}
