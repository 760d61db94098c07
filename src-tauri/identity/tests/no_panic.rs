//! Robustness: no input makes the decoder panic. Random bytes and text, digit strings of every
//! length (big decimals that are not gzip, gzip of garbage), and mutations of valid XML, JSON and
//! Secure QR payloads all give a document or an error. Runs in plain `cargo test`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use swagat_identity::{decode, decode_and_summarize, BirthDate, Gender, TrustStore};

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><PrintLetterBarcodeData uid="234567890124" name="Sunita Devi" gender="F" yob="1985" co="W/O Ramesh" house="12B" street="Road 5" lm="null" loc="Kankarbagh" vtc="Patna" po="Kankarbagh" dist="Patna" subdist="Patna Rural" state="Bihar" pc="800020" dob="15/08/1985"/>"#;
const JSON: &str = r#"{"hidn":"91-2345-6789-0129","hid":"sunita.devi85@abdm","name":"Sunita Devi","gender":"F","statelgd":"10","distlgd":"212","dob":"15/8/1985","state name":"BIHAR","district_name":"PATNA","mobile":"98XXXXXX21","address":"Kankarbagh, Patna"}"#;

fn check(raw: &str, trust: &TrustStore) {
    // Either outcome is fine; a panic fails the test.
    let _ = decode_and_summarize(raw, trust);
}

fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for (pos, byte, op) in edits {
        if v.is_empty() {
            v.push(*byte);
            continue;
        }
        let i = pos % v.len();
        match op % 3 {
            0 => v[i] = *byte,
            1 => {
                v.remove(i);
            }
            _ => v.insert(i, *byte),
        }
    }
    v
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&String::from_utf8_lossy(&bytes), &TrustStore::with_builtin());
    }

    #[test]
    fn random_text(s in ".{0,512}") {
        check(&s, &TrustStore::empty());
    }

    #[test]
    fn random_digit_strings(s in "[0-9]{0,4000}") {
        check(&s, &TrustStore::with_builtin());
    }

    #[test]
    fn gzip_of_garbage_as_decimal(payload in proptest::collection::vec(any::<u8>(), 0..1500)) {
        check(&to_qr_text(&payload), &signer_trust());
    }

    #[test]
    fn gzip_of_delimited_garbage(fields in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..30), tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut payload = Vec::new();
        for f in fields {
            payload.extend(f);
            payload.push(0xff);
        }
        payload.extend(tail);
        check(&to_qr_text(&payload), &signer_trust());
    }

    #[test]
    fn mutated_secure_qr_payload(e in edits()) {
        let body = versioned_body("V2", &Fields::default(), "1234", &photo());
        let signed = sign(&body, &signer());
        check(&to_qr_text(&mutate(&signed, &e)), &signer_trust());
    }

    #[test]
    fn mutated_secure_qr_digits(e in edits()) {
        let text = read("aadhaar_secure_qr_synthetic_v2.txt");
        let m = mutate(text.trim().as_bytes(), &e);
        check(&String::from_utf8_lossy(&m), &TrustStore::with_builtin());
    }

    #[test]
    fn mutated_xml(e in edits()) {
        let m = mutate(XML.as_bytes(), &e);
        check(&String::from_utf8_lossy(&m), &TrustStore::empty());
    }

    #[test]
    fn mutated_json(e in edits()) {
        let m = mutate(JSON.as_bytes(), &e);
        check(&String::from_utf8_lossy(&m), &TrustStore::empty());
    }

    #[test]
    fn xml_attribute_values(v in ".{0,64}", key in prop::sample::select(vec!["uid", "name", "gender", "yob", "dob", "pc", "lm"])) {
        let escaped = v.replace('"', "&quot;").replace('<', "&lt;");
        let raw = format!("<PrintLetterBarcodeData {key}=\"{escaped}\" name=\"A\"/>");
        check(&raw, &TrustStore::empty());
    }

    #[test]
    fn json_values(v in ".{0,64}", key in prop::sample::select(vec!["hidn", "hid", "phr", "dob", "gender", "mobile", "statelgd", "distlgd", "pincode"])) {
        let raw = serde_json::json!({ key: v, "hid": "abcd@abdm" }).to_string();
        check(&raw, &TrustStore::empty());
    }

    #[test]
    fn field_parsers(s in ".{0,40}") {
        let _ = BirthDate::parse(&s);
        let _ = Gender::parse(&s);
        let _ = swagat_identity::AadhaarNumber::parse(&s);
        let _ = swagat_identity::AbhaNumber::parse(&s);
        let _ = swagat_identity::AbhaAddress::parse(&s);
        let _ = swagat_identity::IndianMobile::parse(&s);
        let _ = swagat_identity::numbers::parse_pincode(&s);
    }
}

#[test]
fn decompression_bomb_is_refused() {
    let bomb = to_qr_text(&vec![0u8; 200_000]);
    assert!(
        bomb.len() < 7_000,
        "the bomb must fit in a QR to be a fair test"
    );
    assert!(matches!(
        decode(&bomb),
        Err(swagat_identity::DecodeError::SecureQrTooLarge { .. })
    ));
}
