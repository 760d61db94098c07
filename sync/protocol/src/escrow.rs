//! Escrow of a kiosk's recovery key with the state (issue 16): the kiosk seals its recovery key
//! (`RK-…`, which is its database's data key) to the **state's escrow public key** and sends the
//! sealed box with its heartbeat; the server stores it per device. The server never holds the
//! matching private key: `swagat-server escrow keygen` writes it to a file the state's IT cell
//! keeps offline, and `swagat-server escrow recover` opens one kiosk's box with it. So a copy of
//! the server database opens no kiosk disk, and a kiosk whose paper recovery key was lost (and
//! whose administrators left) can still be opened by the state.
//!
//! The box is libsodium's sealed box (X25519 + XSalsa20-Poly1305, `crypto_box`): anonymous,
//! authenticated, 48 bytes longer than the recovery text. Keys and boxes travel as standard
//! base64. Sealing draws from the operating system's random numbers; nothing else here does I/O.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Longest base64 sealed box accepted (a recovery text is 74 characters; the box adds 48 bytes).
pub const MAX_SEALED_B64: usize = 400;
/// Longest key check value accepted.
pub const MAX_KEY_CHECK: usize = 64;

/// A sealed recovery key, as sent in [`crate::Heartbeat::recovery_escrow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryEscrow {
    /// The recovery text sealed to the state's escrow public key (standard base64).
    pub sealed: String,
    /// The database key's public check value: tells which key a box holds without opening it
    /// (it changes when a kiosk is set up again).
    pub key_check: String,
}

impl RecoveryEscrow {
    /// Whether the fields are within bounds and of the right alphabet (checked by the server
    /// before storing).
    pub fn is_well_formed(&self) -> bool {
        let b64 = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        };
        !self.sealed.is_empty()
            && self.sealed.len() <= MAX_SEALED_B64
            && b64(&self.sealed)
            && !self.key_check.is_empty()
            && self.key_check.len() <= MAX_KEY_CHECK
            && self.key_check.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EscrowError {
    /// The public or private key is not 32 bytes of base64.
    #[error("the escrow key is not a 32-byte base64 key")]
    BadKey,
    /// The box is not base64, or does not open with this private key.
    #[error("the sealed recovery key does not open with this private key")]
    WontOpen,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn key32(text: &str) -> Result<[u8; 32], EscrowError> {
    let bytes = Zeroizing::new(b64().decode(text.trim()).map_err(|_| EscrowError::BadKey)?);
    bytes.as_slice().try_into().map_err(|_| EscrowError::BadKey)
}

/// A new escrow key pair: (private key, public key), both base64.
pub fn generate_keypair() -> (Zeroizing<String>, String) {
    let secret = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
    let public = b64().encode(secret.public_key().as_bytes());
    (Zeroizing::new(b64().encode(secret.to_bytes())), public)
}

/// The public key of a private key (both base64): checks a key file against the server's key.
pub fn public_of(private_b64: &str) -> Result<String, EscrowError> {
    let secret = crypto_box::SecretKey::from_bytes(key32(private_b64)?);
    Ok(b64().encode(secret.public_key().as_bytes()))
}

/// Seals `recovery_text` to the escrow public key; the box, base64.
pub fn seal(public_b64: &str, recovery_text: &str) -> Result<String, EscrowError> {
    let public = crypto_box::PublicKey::from_bytes(key32(public_b64)?);
    let sealed = public
        .seal(&mut crypto_box::aead::OsRng, recovery_text.as_bytes())
        .map_err(|_| EscrowError::BadKey)?;
    Ok(b64().encode(sealed))
}

/// Opens a box made by [`seal`] with the escrow private key.
pub fn open(private_b64: &str, sealed_b64: &str) -> Result<Zeroizing<String>, EscrowError> {
    let secret = crypto_box::SecretKey::from_bytes(key32(private_b64)?);
    let sealed = b64()
        .decode(sealed_b64.trim())
        .map_err(|_| EscrowError::WontOpen)?;
    let plain = Zeroizing::new(secret.unseal(&sealed).map_err(|_| EscrowError::WontOpen)?);
    String::from_utf8(plain.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| EscrowError::WontOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_the_private_key() {
        let (private, public) = generate_keypair();
        assert_eq!(public_of(&private).as_deref(), Ok(public.as_str()));
        let rk = "RK-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd";
        let sealed = seal(&public, rk).unwrap();
        assert!(!sealed.contains("0123abcd"), "the box hides the key");
        assert!(sealed.len() <= MAX_SEALED_B64, "{}", sealed.len());
        assert_eq!(open(&private, &sealed).unwrap().as_str(), rk);
        // Another state's key, a tampered box, garbage: nothing opens.
        let (other, _) = generate_keypair();
        assert_eq!(open(&other, &sealed), Err(EscrowError::WontOpen));
        let mut bytes = b64().decode(&sealed).unwrap();
        bytes[40] ^= 1;
        assert_eq!(
            open(&private, &b64().encode(bytes)),
            Err(EscrowError::WontOpen)
        );
        assert_eq!(open(&private, "not base64!"), Err(EscrowError::WontOpen));
        assert_eq!(seal("short", rk), Err(EscrowError::BadKey));
        let e = RecoveryEscrow {
            sealed,
            key_check: "a1b2c3d4".into(),
        };
        assert!(e.is_well_formed());
        assert!(!RecoveryEscrow {
            key_check: "a1;drop".into(),
            ..e
        }
        .is_well_formed());
    }
}
