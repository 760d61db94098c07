//! Aadhaar Secure QR: the shipped samples, and payloads made and signed here (V1 with every
//! email/mobile indicator, V2, V3, tampering, unknown signer, truncation).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use swagat_identity::{
    decode, decode_and_summarize, BirthDate, ContactIndicator, ContactMatch, DecodeError, Document,
    Gender, SecureQr, SecureQrVersion, SignatureStatus, TrustStore,
};

fn secure(text: &str) -> SecureQr {
    match decode(text).unwrap() {
        Document::AadhaarSecureQr(s) => s,
        other => panic!("not a Secure QR: {other:?}"),
    }
}

fn synthetic_key_trust() -> TrustStore {
    let mut t = TrustStore::with_builtin();
    t.add_key_bytes(
        "synthetic",
        read("aadhaar_synthetic_test_key.pub.pem").as_bytes(),
    )
    .unwrap();
    t
}

#[test]
fn uidai_2019_sample_parses_and_is_unverified() {
    let s = secure(&read("aadhaar_secure_qr_uidai_sample_2019.txt"));
    assert_eq!(s.version, SecureQrVersion::V1);
    assert_eq!(s.contact_indicator, Some(ContactIndicator::Mobile));
    assert_eq!(s.aadhaar_last4.as_deref(), Some("8908"));
    assert_eq!(s.name.as_deref(), Some("Penumarthi Venkat"));
    assert_eq!(
        s.birth_date.and_then(|b| b.iso()).as_deref(),
        Some("1987-05-07")
    );
    assert_eq!(s.gender, Some(Gender::M));
    assert_eq!(s.care_of.as_deref(), Some("S/O: Pattabhi Rama Rao"));
    assert_eq!(s.address.district.as_deref(), Some("East Godavari"));
    assert_eq!(s.address.landmark.as_deref(), Some("Near Siva Temple"));
    assert_eq!(s.address.house.as_deref(), Some("4-83"));
    assert_eq!(s.address.locality.as_deref(), Some("Sctor-2"));
    assert_eq!(s.address.pincode.as_deref(), Some("533016"));
    assert_eq!(s.address.post_office.as_deref(), Some("Aratlakatta"));
    assert_eq!(s.address.state.as_deref(), Some("Andhra Pradesh"));
    assert_eq!(s.address.street.as_deref(), Some("Main Road"));
    assert_eq!(s.address.sub_district.as_deref(), Some("Karapa"));
    assert_eq!(s.address.vtc.as_deref(), Some("Aratlakatta"));
    assert_eq!(s.mobile_last4, None);
    assert_eq!(s.photo().len(), 883);
    assert_eq!(s.photo().get(..4), Some(&[0xff, 0x4f, 0xff, 0x51][..]));
    assert_eq!(s.generated_at.map(|t| t.year()), Some(2019));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // Signed by a key we do not ship: unverified, not invalid.
    assert_eq!(
        s.verify_signature(&TrustStore::with_builtin()),
        SignatureStatus::Unverified
    );
    assert_eq!(
        s.verify_signature(&synthetic_key_trust()),
        SignatureStatus::Unverified
    );
    assert_eq!(
        s.verify_signature(&TrustStore::empty()),
        SignatureStatus::Unverified
    );
    // Mobile hash present, email not.
    assert_eq!(s.verify_mobile("9876543210"), ContactMatch::DoesNotMatch);
    assert_eq!(s.verify_email("a@b.c"), ContactMatch::NotAvailable);
}

#[test]
fn synthetic_v2_sample_verifies_with_test_key_only() {
    let s = secure(&read("aadhaar_secure_qr_synthetic_v2.txt"));
    assert_eq!(s.version, SecureQrVersion::V(2));
    assert_eq!(s.aadhaar_last4.as_deref(), Some("4321"));
    assert_eq!(s.name.as_deref(), Some("Sunita Devi"));
    assert_eq!(s.birth_date, BirthDate::parse("15-08-1985").ok());
    assert_eq!(s.gender, Some(Gender::F));
    assert_eq!(s.mobile_last4.as_deref(), Some("7890"));
    assert_eq!(s.address.pincode.as_deref(), Some("800020"));
    assert!(s.has_photo());
    assert_eq!(
        s.verify_signature(&synthetic_key_trust()),
        SignatureStatus::Valid
    );
    assert_eq!(
        s.verify_signature(&TrustStore::with_builtin()),
        SignatureStatus::Unverified
    );
    assert_eq!(
        s.verify_mobile("+91 98765 47890"),
        ContactMatch::Last4Matches
    );
    assert_eq!(s.verify_mobile("9876543210"), ContactMatch::DoesNotMatch);
    assert_eq!(s.verify_email("x@y.z"), ContactMatch::NotAvailable);
}

#[test]
fn synthetic_v2_sample_verifies_with_key_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("aadhaar_synthetic_test_key.pub.pem"),
        dir.path().join("aadhaar_synthetic_test_key.pub.pem"),
    )
    .unwrap();
    let (trust, skipped) = TrustStore::load_dir(dir.path()).unwrap();
    assert!(skipped.is_empty());
    let summary =
        decode_and_summarize(&read("aadhaar_secure_qr_synthetic_v2.txt"), &trust).unwrap();
    assert_eq!(summary.signature, Some(SignatureStatus::Valid));
}

#[test]
fn v1_every_indicator_with_hashes() {
    // Reference id starts 5678: last digit 8, so contact hashes are chained 8 times.
    let mobile = "9812345678";
    let email = "ramesh.kumar@example.in";
    let mh = contact_hash(mobile, 8);
    let eh = contact_hash(email, 8);
    let cases: [(u8, Vec<[u8; 32]>, ContactIndicator); 4] = [
        (0, vec![], ContactIndicator::None),
        (1, vec![eh], ContactIndicator::Email),
        (2, vec![mh], ContactIndicator::Mobile),
        (3, vec![eh, mh], ContactIndicator::Both),
    ];
    let trust = signer_trust();
    for (indicator, hashes, expected) in cases {
        let body = v1_body(indicator, &Fields::default(), &photo(), &hashes);
        let s = secure(&qr(&body, &signer()));
        assert_eq!(s.version, SecureQrVersion::V1);
        assert_eq!(s.contact_indicator, Some(expected));
        assert_eq!(s.photo(), photo().as_slice(), "indicator {indicator}");
        assert_eq!(s.name.as_deref(), Some("Ramesh Kumar"));
        assert_eq!(s.address.vtc.as_deref(), Some("Gaya"));
        assert_eq!(s.verify_signature(&trust), SignatureStatus::Valid);

        let (want_mobile, want_email) = match expected {
            ContactIndicator::None => (ContactMatch::NotAvailable, ContactMatch::NotAvailable),
            ContactIndicator::Email => (ContactMatch::NotAvailable, ContactMatch::Matches),
            ContactIndicator::Mobile => (ContactMatch::Matches, ContactMatch::NotAvailable),
            ContactIndicator::Both => (ContactMatch::Matches, ContactMatch::Matches),
        };
        assert_eq!(
            s.verify_mobile("+91-98123-45678"),
            want_mobile,
            "{indicator}"
        );
        assert_eq!(
            s.verify_email(" Ramesh.Kumar@example.in "),
            want_email,
            "{indicator}"
        );
        if want_mobile == ContactMatch::Matches {
            assert_eq!(s.verify_mobile("9812345679"), ContactMatch::DoesNotMatch);
        }
        if want_email == ContactMatch::Matches {
            assert_eq!(
                s.verify_email("other@example.in"),
                ContactMatch::DoesNotMatch
            );
        }
    }
}

#[test]
fn v1_hash_rounds_zero_and_one_mean_once() {
    for (reference, rounds) in [("1230", 1), ("1231", 1), ("1232", 2), ("1239", 9)] {
        let fields = Fields {
            reference_id: format!("{reference}20240115103045123"),
            ..Fields::default()
        };
        let body = v1_body(2, &fields, &photo(), &[contact_hash("9812345678", rounds)]);
        let s = secure(&qr(&body, &signer()));
        assert_eq!(
            s.verify_mobile("9812345678"),
            ContactMatch::Matches,
            "{reference}"
        );
    }
}

#[test]
fn versioned_formats() {
    let trust = signer_trust();
    for version in ["V2", "V3", "V5", "V12"] {
        let body = versioned_body(version, &Fields::default(), "5678", &photo());
        let s = secure(&qr(&body, &signer()));
        assert_eq!(s.version.to_string(), version);
        assert_eq!(s.mobile_last4.as_deref(), Some("5678"));
        assert_eq!(s.photo(), photo().as_slice());
        assert_eq!(s.verify_signature(&trust), SignatureStatus::Valid);
        let summary = swagat_identity::summarize(&Document::AadhaarSecureQr(s), &trust);
        assert_eq!(summary.version.as_deref(), Some(version));
        assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    }
}

#[test]
fn tampered_byte_is_invalid() {
    let trust = signer_trust();
    let body = versioned_body("V2", &Fields::default(), "5678", &photo());
    let signed = sign(&body, &signer());
    // Change a name letter, a photo byte, and a signature byte in turn.
    let name_at = signed.windows(6).position(|w| w == b"Ramesh").unwrap();
    let photo_at = body.len() - 10;
    let sig_at = signed.len() - 100;
    for at in [name_at, photo_at, sig_at] {
        let mut t = signed.clone();
        t[at] ^= 0x01;
        let s = secure(&to_qr_text(&t));
        let status = s.verify_signature(&trust);
        if at == sig_at {
            // A changed signature no longer opens to a valid block: nobody we trust signed it.
            assert_eq!(status, SignatureStatus::Unverified);
        } else {
            assert_eq!(status, SignatureStatus::Invalid, "byte {at}");
        }
    }
    // Also with the built-in certificates alongside.
    let mut both = TrustStore::with_builtin();
    both.add_key_bytes("signer", read("test_signer_pub.pem").as_bytes())
        .unwrap();
    let mut t = signed.clone();
    t[name_at] = b'X';
    let summary = decode_and_summarize(&to_qr_text(&t), &both).unwrap();
    assert_eq!(summary.signature, Some(SignatureStatus::Invalid));
    assert_eq!(summary.warnings[0].code, "signature_invalid");
}

#[test]
fn unknown_signer_is_unverified() {
    let body = versioned_body("V2", &Fields::default(), "5678", &photo());
    let s = secure(&qr(&body, &stranger()));
    assert_eq!(
        s.verify_signature(&signer_trust()),
        SignatureStatus::Unverified
    );
    assert_eq!(
        s.verify_signature(&TrustStore::with_builtin()),
        SignatureStatus::Unverified
    );
    let summary =
        decode_and_summarize(&qr(&body, &stranger()), &TrustStore::with_builtin()).unwrap();
    assert_eq!(summary.signature, Some(SignatureStatus::Unverified));
    assert!(summary
        .warnings
        .iter()
        .any(|w| w.code == "signature_unverified"));
}

#[test]
fn malformed_payloads_are_errors() {
    let good = v1_body(0, &Fields::default(), &photo(), &[]);
    let cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        (
            "too short for a signature",
            vec![b'0', 0xff, b'1'],
            DecodeError::SecureQrTruncated,
        ),
        (
            "no delimiters",
            vec![b'a'; 600],
            DecodeError::SecureQrTruncated,
        ),
        (
            "bad indicator",
            {
                let mut b = good.clone();
                b[0] = b'7';
                sign(&b, &signer())
            },
            DecodeError::SecureQrBadIndicator,
        ),
        (
            "fields cut short",
            {
                let b: Vec<u8> = good.iter().take(40).copied().collect();
                let mut p = b;
                p.extend(vec![0u8; 256]);
                p
            },
            DecodeError::SecureQrTruncated,
        ),
        (
            "hashes promised but missing",
            {
                let mut b = v1_body(3, &Fields::default(), &[], &[]);
                b.extend(vec![0u8; 256]);
                b
            },
            DecodeError::SecureQrTruncated,
        ),
    ];
    for (what, payload, want) in cases {
        assert_eq!(decode(&to_qr_text(&payload)).err(), Some(want), "{what}");
    }
    // Digits that are not gzip.
    let not_gzip = "9".repeat(500);
    assert_eq!(
        decode(&not_gzip).err(),
        Some(DecodeError::SecureQrNotCompressed)
    );
    // Gzip cut in the middle.
    let full = to_qr_text(&sign(&good, &signer()));
    let bytes = num_bigint::BigUint::parse_bytes(full.as_bytes(), 10)
        .unwrap()
        .to_bytes_be();
    let cut = num_bigint::BigUint::from_bytes_be(&bytes[..bytes.len() / 2]).to_str_radix(10);
    assert_eq!(decode(&cut).err(), Some(DecodeError::SecureQrNotCompressed));
    // Too many digits.
    assert!(matches!(
        decode(&"1".repeat(8000)),
        Err(DecodeError::TooLong { .. })
    ));
}

#[test]
fn scanner_noise_is_tolerated() {
    let text = read("aadhaar_secure_qr_synthetic_v2.txt");
    let digits = text.trim();
    let (a, b) = digits.split_at(600);
    for noisy in [
        format!("\u{feff}{digits}\r\n"),
        format!("  {digits}\n\n"),
        format!("{digits}\r"),
        format!("{a}\r\n{b}"),
    ] {
        assert_eq!(secure(&noisy).name.as_deref(), Some("Sunita Devi"));
    }
}

#[test]
fn bad_field_values_are_warnings() {
    let fields = Fields {
        reference_id: "ab".into(),
        name: "".into(),
        dob: "31-02-1990".into(),
        gender: "Q".into(),
        pincode: "012345".into(),
        ..Fields::default()
    };
    let body = versioned_body("V2", &fields, "78x0", &photo());
    let s = secure(&qr(&body, &signer()));
    let codes: Vec<&str> = s.warnings.iter().map(|w| w.code()).collect();
    for code in [
        "reference_id_invalid",
        "name_missing",
        "dob_invalid",
        "gender_unknown",
        "pincode_invalid",
        "mobile_invalid",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // The last-4 field is unusable and V2 has no hash: nothing to compare.
    assert_eq!(s.verify_mobile("9812345678"), ContactMatch::NotAvailable);
    // Year-only date of birth and transgender code.
    let fields = Fields {
        dob: "1979".into(),
        gender: "T".into(),
        ..Fields::default()
    };
    let s = secure(&qr(&v1_body(0, &fields, &photo(), &[]), &signer()));
    assert_eq!(s.birth_date, Some(BirthDate::Year(1979)));
    assert_eq!(s.gender, Some(Gender::T));
}

#[test]
fn debug_output_hides_personal_data() {
    let s = secure(&read("aadhaar_secure_qr_synthetic_v2.txt"));
    let d = format!("{s:?}");
    for secret in ["Sunita", "Kankarbagh", "800020", "7890", "4321"] {
        assert!(!d.contains(secret), "{secret} in {d}");
    }
}
