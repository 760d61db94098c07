//! Verification of the RSA-2048 PKCS#1 v1.5 SHA-256 signature that ends every Aadhaar Secure QR,
//! with a three-way answer.
//!
//! * `valid`: some trusted key verifies the signature over the signed bytes.
//! * `invalid`: no key verifies it, but under some trusted key the signature opens (s^e mod n)
//!   to a well-formed PKCS#1 v1.5 SHA-256 block whose digest differs. That key did sign a QR, and
//!   these bytes are not what it signed: the data was altered (possible forgery).
//! * `unverified`: no trusted key opens the signature to a well-formed block. The QR was signed
//!   by a key we do not trust (e.g. UIDAI's public 2019 sample, or a certificate not yet added),
//!   or the trust store is empty. We cannot say either way.
//!
//! The chance that a signature from an unknown key opens to a well-formed block under a trusted
//! key is about 2^-1600, so `invalid` means tampering, not "unknown signer".

use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign};
use sha2::{Digest, Sha256};

use crate::trust::TrustStore;

/// Length of the signature at the end of a Secure QR (RSA-2048).
pub const SIGNATURE_LEN: usize = 256;

/// DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Outcome of checking a Secure QR signature; serialised as `"valid"`, `"invalid"` or
/// `"unverified"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureStatus {
    /// A trusted key verifies the signature.
    Valid,
    /// A trusted key signed this QR but the contents were changed afterwards.
    Invalid,
    /// No trusted key signed this QR (or there are no trusted keys).
    Unverified,
}

impl SignatureStatus {
    /// `"valid"`, `"invalid"` or `"unverified"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Unverified => "unverified",
        }
    }
}

/// Checks `signature` over `signed` against every key in `trust`; see the module documentation.
pub fn verify(signed: &[u8], signature: &[u8], trust: &TrustStore) -> SignatureStatus {
    let digest = Sha256::digest(signed);
    let mut opened_by_trusted_key = false;
    for trusted in trust.keys() {
        let key = trusted.key();
        match open(key, signature, &digest) {
            Opened::SameDigest => {
                // Confirm with the rsa crate's own PKCS#1 v1.5 verification.
                let scheme = Pkcs1v15Sign {
                    hash_len: Some(digest.len()),
                    prefix: Box::new(SHA256_DIGEST_INFO),
                };
                if key.verify(scheme, &digest, signature).is_ok() {
                    return SignatureStatus::Valid;
                }
                opened_by_trusted_key = true;
            }
            Opened::OtherDigest => opened_by_trusted_key = true,
            Opened::NotABlock => {}
        }
    }
    if opened_by_trusted_key {
        SignatureStatus::Invalid
    } else {
        SignatureStatus::Unverified
    }
}

/// What a signature opens to under one key.
enum Opened {
    /// A well-formed PKCS#1 v1.5 SHA-256 block with the expected digest.
    SameDigest,
    /// A well-formed block with another digest: this key signed something else.
    OtherDigest,
    /// Anything else: not signed by this key.
    NotABlock,
}

/// Opens the signature with the public key (s^e mod n) and checks for
/// `00 01 FF..FF 00 || DigestInfo(SHA-256) || digest`.
fn open(key: &rsa::RsaPublicKey, signature: &[u8], digest: &[u8]) -> Opened {
    let k = key.size();
    if signature.len() != k {
        return Opened::NotABlock;
    }
    let s = BigUint::from_bytes_be(signature);
    if &s >= key.n() {
        return Opened::NotABlock;
    }
    let m = s.modpow(key.e(), key.n()).to_bytes_be();
    // Left-pad to k bytes.
    let Some(pad) = k.checked_sub(m.len()) else {
        return Opened::NotABlock;
    };
    let mut em = vec![0u8; pad];
    em.extend_from_slice(&m);
    let t_len = SHA256_DIGEST_INFO.len() + digest.len();
    let Some(ps_end) = k.checked_sub(t_len + 1) else {
        return Opened::NotABlock;
    };
    let prefix_end = ps_end + 1 + SHA256_DIGEST_INFO.len();
    let (Some(head), Some(ps), Some(sep), Some(prefix), Some(found)) = (
        em.get(..2),
        em.get(2..ps_end),
        em.get(ps_end),
        em.get(ps_end + 1..prefix_end),
        em.get(prefix_end..),
    ) else {
        return Opened::NotABlock;
    };
    let well_formed = head == [0x00, 0x01]
        && ps.len() >= 8
        && ps.iter().all(|b| *b == 0xff)
        && *sep == 0x00
        && prefix == SHA256_DIGEST_INFO;
    match (well_formed, found == digest) {
        (true, true) => Opened::SameDigest,
        (true, false) => Opened::OtherDigest,
        (false, _) => Opened::NotABlock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_store_is_unverified() {
        let s = verify(b"data", &[1u8; SIGNATURE_LEN], &TrustStore::empty());
        assert_eq!(s, SignatureStatus::Unverified);
    }

    #[test]
    fn garbage_signature_is_unverified_under_builtin() {
        let store = TrustStore::with_builtin();
        for sig in [
            vec![0u8; SIGNATURE_LEN],
            vec![0xffu8; SIGNATURE_LEN],
            vec![7u8; 10],
        ] {
            assert_eq!(verify(b"data", &sig, &store), SignatureStatus::Unverified);
        }
    }
}
