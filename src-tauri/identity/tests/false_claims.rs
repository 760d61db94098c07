//! Identity payloads that are not what they claim: an "Aadhaar XML QR" without its uid, an ABHA
//! QR with neither a usable number nor address, Secure QRs whose fields are out of place. Each
//! is refused with a clear reason (English and Hindi), never half-accepted as a document. The
//! payloads live in `tests/data/false_claims/` (seeds of the fuzz corpus too).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use swagat_identity::{decode, decode_and_summarize, DecodeError, TrustStore};

fn claims(name: &str) -> String {
    read(&format!("false_claims/{name}"))
}

fn refused(text: &str, want: DecodeError) {
    let got = decode(text).err();
    assert_eq!(got, Some(want.clone()), "{text:.80}");
    assert!(!want.to_string().is_empty());
    assert!(want
        .message_hi()
        .chars()
        .any(|c| ('\u{0900}'..='\u{097f}').contains(&c)));
    // The one entry point the app and the CLI use refuses it the same way.
    assert!(decode_and_summarize(text, &TrustStore::with_builtin()).is_err());
}

#[test]
fn an_xml_qr_without_its_uid_is_refused() {
    for f in [
        "xml_without_uid.txt",
        "xml_empty_uid.txt",
        "xml_null_uid.txt",
    ] {
        refused(&claims(f), DecodeError::XmlMissingUid);
    }
    assert_eq!(DecodeError::XmlMissingUid.code(), "xml_missing_uid");
    // A masked uid is still an Aadhaar QR (mAadhaar prints it so), and so is a wrong one
    // (kept with a warning, without the number).
    assert!(decode(r#"<PrintLetterBarcodeData uid="XXXXXXXX0124" name="A B"/>"#).is_ok());
    assert!(decode(r#"<PrintLetterBarcodeData uid="234567890125" name="A B"/>"#).is_ok());
}

#[test]
fn an_abha_qr_without_a_usable_number_or_address_is_refused() {
    for f in [
        "abha_no_ids.txt",
        "abha_empty_ids.txt",
        "abha_invalid_ids.txt",
    ] {
        refused(&claims(f), DecodeError::AbhaMissingId);
    }
    // One usable id is enough (the bad other one is a warning).
    assert!(decode(r#"{"hidn":"12-34","phr":"sita.devi@abdm","name":"Sita"}"#).is_ok());
}

/// The Secure QRs out of place, built and signed by the trusted test signer: a valid signature
/// does not make shifted fields readable.
fn secure_cases() -> Vec<(&'static str, String)> {
    let f = Fields::default();
    // The reference id is missing: every later field moves up one place.
    let shifted = Fields {
        reference_id: f.name.clone(),
        name: f.dob.clone(),
        dob: f.gender.clone(),
        gender: f.care_of.clone(),
        care_of: f.district.clone(),
        pincode: f.post_office.clone(),
        ..Fields::default()
    };
    // Name where the reference id goes, a name where the date of birth goes.
    let misplaced = Fields {
        reference_id: "Ramesh Kumar".into(),
        dob: "Suresh Kumar".into(),
        ..Fields::default()
    };
    vec![
        (
            "secure_qr_shifted_fields.txt",
            qr(&v1_body(0, &shifted, &photo(), &[]), &signer()),
        ),
        (
            "secure_qr_missing_reference.txt",
            qr(
                &versioned_body("V2", &misplaced, "1234", &photo()),
                &signer(),
            ),
        ),
    ]
}

#[test]
fn a_secure_qr_whose_fields_are_out_of_place_is_refused_even_when_signed() {
    let write = std::env::var_os("SWAGAT_WRITE_FALSE_CLAIMS").is_some();
    for (file, text) in secure_cases() {
        if write {
            std::fs::write(data(&format!("false_claims/{file}")), &text).unwrap();
        }
        refused(&text, DecodeError::SecureQrFieldsOutOfPlace);
        // The committed corpus seed is a refused one too.
        refused(&claims(file), DecodeError::SecureQrFieldsOutOfPlace);
    }
    // One odd field is only a warning (see secure_qr.rs, bad_field_values_are_warnings).
    let one_odd = Fields {
        gender: "Q".into(),
        ..Fields::default()
    };
    assert!(decode(&qr(&v1_body(0, &one_odd, &photo(), &[]), &signer())).is_ok());
}
