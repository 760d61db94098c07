//! The trust store: built-in UIDAI certificates, and an admin folder of PEM/DER certificates and
//! bare public keys (SPKI and PKCS#1), with unusable files skipped and reported.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use swagat_identity::{KeyFileError, TrustError, TrustStore};

#[test]
fn builtin_has_the_three_uidai_certificates() {
    let t = TrustStore::with_builtin();
    assert_eq!(t.len(), 3);
    let labels: Vec<&str> = t.keys().iter().map(|k| k.label()).collect();
    assert!(labels.contains(&"builtin:uidai_offline_publickey_26022019.pem"));
    assert!(labels.contains(&"builtin:uidai_offline_publickey_26022021.cer"));
    assert!(labels.contains(&"builtin:uidai_prod_cdup.cer"));
}

#[test]
fn every_key_encoding_loads() {
    // (file, keys expected)
    let cases = [
        ("uidai-certs/uidai_offline_publickey_26022019.pem", 1),
        ("uidai-certs/uidai_offline_publickey_26022021.cer", 1),
        ("uidai-certs/uidai_prod_cdup.cer", 1),
        ("uidai_prod_cdup.der", 1),
        ("aadhaar_synthetic_test_key.pub.pem", 1),
        ("synthetic_test_key_spki.der", 1),
        ("synthetic_test_key_pkcs1.pem", 1),
        ("synthetic_test_key_pkcs1.der", 1),
        ("test_signer_pub.pem", 1),
    ];
    for (file, n) in cases {
        let mut t = TrustStore::empty();
        let bytes = std::fs::read(data(file)).unwrap();
        assert_eq!(t.add_key_bytes(file, &bytes), Ok(n), "{file}");
        assert_eq!(t.len(), n, "{file}");
    }
}

#[test]
fn same_key_in_many_encodings_is_added_once() {
    let mut t = TrustStore::empty();
    for file in [
        "aadhaar_synthetic_test_key.pub.pem",
        "synthetic_test_key_spki.der",
        "synthetic_test_key_pkcs1.pem",
        "synthetic_test_key_pkcs1.der",
    ] {
        t.add_key_bytes(file, &std::fs::read(data(file)).unwrap())
            .unwrap();
    }
    assert_eq!(t.len(), 1);
    // A folder holding the built-in certificates again adds nothing.
    let (t, skipped) = TrustStore::load_dir(data("uidai-certs")).unwrap();
    assert_eq!(t.len(), 3);
    assert!(skipped.is_empty());
}

#[test]
fn folder_with_good_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(data(from), dir.path().join(to)).unwrap();
    copy("aadhaar_synthetic_test_key.pub.pem", "synthetic.pem");
    copy("synthetic_test_key_pkcs1.der", "synthetic-again.der");
    copy("test_signer_pub.pem", "signer.pub");
    copy("ec_cert.pem", "ec.pem");
    copy("test_signer_key.pem", "private.pem");
    std::fs::write(dir.path().join("garbage.cer"), b"\x00\x01not a certificate").unwrap();
    std::fs::write(dir.path().join("empty.pem"), b"").unwrap();
    std::fs::write(dir.path().join("README.md"), b"# certificates\n").unwrap();
    std::fs::write(dir.path().join("huge.der"), vec![0u8; 2 * 1024 * 1024]).unwrap();
    std::fs::create_dir(dir.path().join("subfolder")).unwrap();

    let (t, skipped) = TrustStore::load_dir(dir.path()).unwrap();
    assert_eq!(t.len(), 3 + 2, "builtin + synthetic + signer");
    let mut reasons: Vec<(String, KeyFileError)> = skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    reasons.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        reasons,
        vec![
            ("README.md".to_string(), KeyFileError::NoKey),
            ("ec.pem".to_string(), KeyFileError::NotRsa),
            ("empty.pem".to_string(), KeyFileError::NoKey),
            ("garbage.cer".to_string(), KeyFileError::NoKey),
            ("huge.der".to_string(), KeyFileError::TooLarge),
            ("private.pem".to_string(), KeyFileError::NoKey),
        ]
    );
    for s in &skipped {
        assert!(!s.reason.to_string().is_empty());
        assert!(!s.reason.message_hi().is_empty());
    }
}

#[test]
fn missing_folder_is_an_error() {
    let err = TrustStore::load_dir("/nonexistent/swagat/uidai-certs").unwrap_err();
    assert!(matches!(err, TrustError::DirUnreadable { .. }));
    assert!(err.to_string().contains("could not be read"));
    assert!(err.message_hi().contains("फ़ोल्डर"));
}

#[test]
fn multiple_pem_blocks_in_one_file() {
    let bundle = format!(
        "{}\n{}",
        read("uidai-certs/uidai_prod_cdup.cer"),
        read("test_signer_pub.pem")
    );
    let mut t = TrustStore::empty();
    assert_eq!(t.add_key_bytes("bundle", bundle.as_bytes()), Ok(2));
}
