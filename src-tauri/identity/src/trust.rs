//! The set of public keys trusted to sign Aadhaar Secure QR codes.
//!
//! UIDAI signs with offline-signing certificates, each valid for a few years, and new ones appear
//! every few years, so the set is: the certificates shipped inside the binary (embedded from
//! `assets/uidai-certs/`) plus every file an admin drops in a folder. A file may hold an X.509
//! certificate or a bare RSA public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`), in PEM or
//! DER. Certificate validity dates are deliberately ignored: a card printed in 2019 stays validly
//! signed after its certificate expires. Files that hold no usable key are skipped and reported,
//! never fatal. Private keys are never loaded.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use x509_cert::der::{Decode, Encode};

use crate::{KeyFileError, TrustError};

/// The UIDAI certificates shipped with the app.
const BUILTIN: [(&str, &[u8]); 3] = [
    (
        "uidai_offline_publickey_26022019.pem",
        include_bytes!("../../../assets/uidai-certs/uidai_offline_publickey_26022019.pem"),
    ),
    (
        "uidai_offline_publickey_26022021.cer",
        include_bytes!("../../../assets/uidai-certs/uidai_offline_publickey_26022021.cer"),
    ),
    (
        "uidai_prod_cdup.cer",
        include_bytes!("../../../assets/uidai-certs/uidai_prod_cdup.cer"),
    ),
];

/// Largest key or certificate file read from the admin folder.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most files looked at in the admin folder.
const MAX_FILES: usize = 1000;
/// OID of rsaEncryption (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// One trusted RSA public key and where it came from.
#[derive(Clone)]
pub struct TrustedKey {
    label: String,
    key: RsaPublicKey,
}

impl TrustedKey {
    /// Where the key came from: `builtin:<file>` or the file's path.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn key(&self) -> &RsaPublicKey {
        &self.key
    }
}

impl fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrustedKey({})", self.label)
    }
}

/// A file in the admin folder that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: KeyFileError,
}

/// The keys a Secure QR signature is checked against.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
}

impl TrustStore {
    /// A store with no keys: every signature is then "unverified".
    pub fn empty() -> Self {
        Self::default()
    }

    /// The UIDAI certificates embedded in the binary.
    pub fn with_builtin() -> Self {
        let mut store = Self::empty();
        for (name, bytes) in BUILTIN {
            // The embedded files are tested to parse; a failure would only lose that key.
            let _ = store.add_key_bytes(&format!("builtin:{name}"), bytes);
        }
        store
    }

    /// The built-in certificates plus every key or certificate file in `dir`.
    ///
    /// Files without a usable key are skipped and listed; only an unreadable folder is an error.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<(Self, Vec<SkippedFile>), TrustError> {
        let mut store = Self::with_builtin();
        let skipped = store.add_dir(dir)?;
        Ok((store, skipped))
    }

    /// Adds every key or certificate file in `dir` (not recursive, in file-name order).
    pub fn add_dir(&mut self, dir: impl AsRef<Path>) -> Result<Vec<SkippedFile>, TrustError> {
        let dir = dir.as_ref();
        let unreadable = |source| TrustError::DirUnreadable {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .take(MAX_FILES)
            .collect();
        paths.sort();
        let mut skipped = Vec::new();
        for path in paths {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => continue,
                Ok(m) if m.len() > MAX_FILE_BYTES => {
                    skipped.push(SkippedFile {
                        path,
                        reason: KeyFileError::TooLarge,
                    });
                    continue;
                }
                Ok(_) => {}
                Err(_) => {
                    skipped.push(SkippedFile {
                        path,
                        reason: KeyFileError::Unreadable,
                    });
                    continue;
                }
            }
            let result = std::fs::read(&path)
                .map_err(|_| KeyFileError::Unreadable)
                .and_then(|bytes| self.add_key_bytes(&path.display().to_string(), &bytes));
            if let Err(reason) = result {
                skipped.push(SkippedFile { path, reason });
            }
        }
        Ok(skipped)
    }

    /// Adds the keys found in one file's contents (PEM or DER; certificate, SPKI or PKCS#1).
    /// Returns how many keys were found (a key already present counts but is not added twice).
    pub fn add_key_bytes(&mut self, label: &str, bytes: &[u8]) -> Result<usize, KeyFileError> {
        let keys = keys_from_bytes(bytes)?;
        let n = keys.len();
        for key in keys {
            if !self.keys.iter().any(|k| k.key == key) {
                self.keys.push(TrustedKey {
                    label: label.to_owned(),
                    key,
                });
            }
        }
        Ok(n)
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Number of trusted keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Why a DER blob gave no key.
enum DerOutcome {
    Key(RsaPublicKey),
    NotRsa,
    Nothing,
}

/// All RSA public keys in a file's contents.
fn keys_from_bytes(bytes: &[u8]) -> Result<Vec<RsaPublicKey>, KeyFileError> {
    let mut keys = Vec::new();
    let mut not_rsa = false;
    let blocks = pem_blocks(bytes);
    let outcomes: Vec<DerOutcome> = if blocks.is_empty() {
        vec![from_any_der(bytes)]
    } else {
        blocks
            .iter()
            .map(|(label, der)| match label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => from_cert_der(der),
                "PUBLIC KEY" => from_spki_der(der),
                "RSA PUBLIC KEY" => from_pkcs1_der(der),
                _ => DerOutcome::Nothing,
            })
            .collect()
    };
    for o in outcomes {
        match o {
            DerOutcome::Key(k) => keys.push(k),
            DerOutcome::NotRsa => not_rsa = true,
            DerOutcome::Nothing => {}
        }
    }
    match (keys.is_empty(), not_rsa) {
        (false, _) => Ok(keys),
        (true, true) => Err(KeyFileError::NotRsa),
        (true, false) => Err(KeyFileError::NoKey),
    }
}

/// The `(label, der)` of every well-formed PEM block. Tolerates CRLF, any line width and
/// RFC 1421 header lines; a block whose base64 does not decode is left out.
fn pem_blocks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + "-----BEGIN ".len()..).unwrap_or_default();
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after.get(..label_end).unwrap_or_default().trim().to_owned();
        let body_and_rest = after.get(label_end + 5..).unwrap_or_default();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_and_rest.find(&end_marker) else {
            break;
        };
        let body = body_and_rest.get(..end).unwrap_or_default();
        let b64: String = body
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
            out.push((label, der));
        }
        rest = body_and_rest
            .get(end + end_marker.len()..)
            .unwrap_or_default();
    }
    out
}

fn from_any_der(der: &[u8]) -> DerOutcome {
    for parse in [from_cert_der, from_spki_der, from_pkcs1_der] {
        match parse(der) {
            DerOutcome::Nothing => {}
            found => return found,
        }
    }
    DerOutcome::Nothing
}

fn from_cert_der(der: &[u8]) -> DerOutcome {
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return DerOutcome::Nothing;
    };
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return DerOutcome::NotRsa;
    }
    match spki.to_der() {
        Ok(spki_der) => match RsaPublicKey::from_public_key_der(&spki_der) {
            Ok(k) => DerOutcome::Key(k),
            Err(_) => DerOutcome::NotRsa,
        },
        Err(_) => DerOutcome::Nothing,
    }
}

fn from_spki_der(der: &[u8]) -> DerOutcome {
    match RsaPublicKey::from_public_key_der(der) {
        Ok(k) => DerOutcome::Key(k),
        Err(_) => DerOutcome::Nothing,
    }
}

fn from_pkcs1_der(der: &[u8]) -> DerOutcome {
    match RsaPublicKey::from_pkcs1_der(der) {
        Ok(k) => DerOutcome::Key(k),
        Err(_) => DerOutcome::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_certificates_all_load() {
        let store = TrustStore::with_builtin();
        assert_eq!(store.len(), BUILTIN.len());
        assert!(store
            .keys()
            .iter()
            .all(|k| k.label().starts_with("builtin:")));
    }

    #[test]
    fn garbage_is_no_key() {
        assert_eq!(keys_from_bytes(b"hello").err(), Some(KeyFileError::NoKey));
        assert_eq!(keys_from_bytes(&[]).err(), Some(KeyFileError::NoKey));
        assert_eq!(
            keys_from_bytes(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").err(),
            Some(KeyFileError::NoKey)
        );
    }
}
