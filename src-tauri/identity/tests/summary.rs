//! The contract JSON printed by `swagat-admin decode-qr`: exact key set, values per kind, and no
//! full Aadhaar number anywhere.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use swagat_identity::{decode_and_summarize, DecodeError, TrustStore};

const KEYS: [&str; 18] = [
    "kind",
    "version",
    "name",
    "gender",
    "dob",
    "year_of_birth",
    "care_of",
    "address",
    "aadhaar_last4",
    "mobile_last4",
    "signature",
    "has_photo",
    "abha_number",
    "abha_address",
    "state_lgd",
    "district_lgd",
    "mobile",
    "warnings",
];

const ADDRESS_KEYS: [&str; 10] = [
    "house",
    "street",
    "landmark",
    "locality",
    "vtc",
    "post_office",
    "sub_district",
    "district",
    "state",
    "pincode",
];

fn summary_json(raw: &str, trust: &TrustStore) -> Value {
    let v = serde_json::to_value(decode_and_summarize(raw, trust).unwrap()).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    if let Some(addr) = obj["address"].as_object() {
        let mut keys: Vec<&str> = addr.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = ADDRESS_KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want);
    }
    v
}

#[test]
fn secure_qr_v2_summary() {
    let mut trust = TrustStore::with_builtin();
    trust
        .add_key_bytes("t", read("aadhaar_synthetic_test_key.pub.pem").as_bytes())
        .unwrap();
    let v = summary_json(&read("aadhaar_secure_qr_synthetic_v2.txt"), &trust);
    assert_eq!(
        v,
        json!({
            "kind": "aadhaar_secure_qr",
            "version": "V2",
            "name": "Sunita Devi",
            "gender": "F",
            "dob": "1985-08-15",
            "year_of_birth": null,
            "care_of": "W/O: Ramesh Prasad",
            "address": {
                "house": "12B", "street": "Road No 5", "landmark": "Near Hanuman Mandir",
                "locality": "Kankarbagh", "vtc": "Patna", "post_office": "Kankarbagh",
                "sub_district": "Patna Rural", "district": "Patna", "state": "Bihar",
                "pincode": "800020"
            },
            "aadhaar_last4": "4321",
            "mobile_last4": "7890",
            "signature": "valid",
            "has_photo": true,
            "abha_number": null,
            "abha_address": null,
            "state_lgd": null,
            "district_lgd": null,
            "mobile": null,
            "warnings": []
        })
    );
}

#[test]
fn secure_qr_v1_sample_summary() {
    let v = summary_json(
        &read("aadhaar_secure_qr_uidai_sample_2019.txt"),
        &TrustStore::with_builtin(),
    );
    assert_eq!(v["kind"], "aadhaar_secure_qr");
    assert_eq!(v["version"], "V1");
    assert_eq!(v["name"], "Penumarthi Venkat");
    assert_eq!(v["dob"], "1987-05-07");
    assert_eq!(v["gender"], "M");
    assert_eq!(v["aadhaar_last4"], "8908");
    assert_eq!(v["mobile_last4"], Value::Null);
    assert_eq!(v["signature"], "unverified");
    assert_eq!(v["has_photo"], true);
    assert_eq!(v["address"]["pincode"], "533016");
    assert_eq!(v["warnings"][0]["code"], "signature_unverified");
    assert!(v["warnings"][0]["message"].as_str().unwrap().len() > 10);
}

#[test]
fn xml_qr_summary() {
    let raw = r#"</?xml version="1.0" encoding="UTF-8"?>
<PrintLetterBarcodeData uid="498765432102" name="Ram Kumar Sahu" gender="MALE" yob="1962" co="S/O Shyam Lal" vtc="Raipur" dist="Raipur" state="Chhattisgarh" pc="492001" lm="null"/>"#;
    let v = summary_json(raw, &TrustStore::with_builtin());
    assert_eq!(v["kind"], "aadhaar_xml_qr");
    assert_eq!(v["version"], Value::Null);
    assert_eq!(v["gender"], "M");
    assert_eq!(v["dob"], Value::Null);
    assert_eq!(v["year_of_birth"], 1962);
    assert_eq!(v["aadhaar_last4"], "2102");
    assert_eq!(v["signature"], "unverified");
    assert_eq!(v["has_photo"], false);
    assert_eq!(v["address"]["landmark"], Value::Null);
    assert_eq!(v["address"]["pincode"], "492001");
    assert_eq!(v["warnings"][0]["code"], "xml_qr_unsigned");
    assert!(!v.to_string().contains("498765432102"));
}

#[test]
fn abha_summary() {
    let line = read("abha_qr_examples.jsonl")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let v = summary_json(&line, &TrustStore::empty());
    assert_eq!(
        v,
        json!({
            "kind": "abha_qr",
            "version": null,
            "name": "Sunita Devi",
            "gender": "F",
            "dob": "1985-08-15",
            "year_of_birth": null,
            "care_of": null,
            "address": {
                "house": "W/O Ramesh Prasad, Road No 5, Kankarbagh, Patna",
                "street": null, "landmark": null, "locality": null, "vtc": null,
                "post_office": null, "sub_district": null,
                "district": "PATNA", "state": "BIHAR", "pincode": null
            },
            "aadhaar_last4": null,
            "mobile_last4": null,
            "signature": null,
            "has_photo": false,
            "abha_number": "91-2345-6789-0129",
            "abha_address": "sunita.devi85@abdm",
            "state_lgd": "10",
            "district_lgd": "212",
            "mobile": "98XXXXXX21",
            "warnings": []
        })
    );
    // Partial dob gives year_of_birth; a full mobile gives its last 4.
    let v = summary_json(
        r#"{"phr":"abcd.efg@abdm","dob":"0/0/1990","mobile":"9876543210"}"#,
        &TrustStore::empty(),
    );
    assert_eq!(v["dob"], Value::Null);
    assert_eq!(v["year_of_birth"], 1990);
    assert_eq!(v["mobile_last4"], "3210");
    assert_eq!(v["address"], Value::Null);
    assert_eq!(v["abha_number"], Value::Null);
}

#[test]
fn summary_round_trips() {
    let s = decode_and_summarize(
        &read("aadhaar_secure_qr_synthetic_v2.txt"),
        &TrustStore::with_builtin(),
    )
    .unwrap();
    let text = serde_json::to_string(&s).unwrap();
    let back: swagat_identity::QrSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    assert!(!format!("{s:?}").contains("Sunita"));
}

#[test]
fn errors_have_english_and_hindi_messages() {
    let errors = [
        DecodeError::Empty,
        DecodeError::TooLong { max: 8192 },
        DecodeError::NotRecognised,
        DecodeError::FacilityQr,
        DecodeError::SecureQrNotCompressed,
        DecodeError::SecureQrTooLarge { max: 65536 },
        DecodeError::SecureQrTruncated,
        DecodeError::SecureQrBadIndicator,
        DecodeError::XmlMalformed,
        DecodeError::XmlEmpty,
        DecodeError::AbhaJsonInvalid,
        DecodeError::AbhaMissingId,
    ];
    for e in errors {
        assert!(e.to_string().is_ascii(), "{e}");
        let hi = e.message_hi();
        assert!(
            hi.chars().any(|c| ('\u{0900}'..='\u{097f}').contains(&c)),
            "{hi}"
        );
        assert!(!e.code().is_empty());
    }
    let not_recognised = DecodeError::NotRecognised.to_string();
    assert!(not_recognised.contains("Secure QR"));
    assert!(not_recognised.contains("XML"));
    assert!(not_recognised.contains("ABHA"));
}

#[test]
fn signed_test_payload_summary_signature_values() {
    let body = versioned_body("V3", &Fields::default(), "1111", &photo());
    let trusted = signer_trust();
    let good = qr(&body, &signer());
    assert_eq!(summary_json(&good, &trusted)["signature"], "valid");
    assert_eq!(
        summary_json(&good, &TrustStore::empty())["signature"],
        "unverified"
    );
    let mut tampered = sign(&body, &signer());
    tampered[10] ^= 0x20;
    assert_eq!(
        summary_json(&to_qr_text(&tampered), &trusted)["signature"],
        "invalid"
    );
}
