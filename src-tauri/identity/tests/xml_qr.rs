//! The old Aadhaar XML QR and all its variants, built here as text.
#![allow(clippy::unwrap_used)]

use swagat_identity::{decode, BirthDate, DecodeError, Document, Gender, TrustStore, XmlQr};

fn xml(text: &str) -> XmlQr {
    match decode(text).unwrap() {
        Document::AadhaarXmlQr(x) => x,
        other => panic!("not an XML QR: {other:?}"),
    }
}

const FULL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<PrintLetterBarcodeData uid="234567890124" name="Sunita Devi" gender="F" yob="1985" co="W/O Ramesh Prasad" house="12B" street="Road No 5" lm="Near Hanuman Mandir" loc="Kankarbagh" vtc="Patna" po="Kankarbagh" dist="Patna" subdist="Patna Rural" state="Bihar" pc="800020" dob="15/08/1985"/>"#;

#[test]
fn full_letter() {
    let x = xml(FULL);
    assert_eq!(x.aadhaar_last4.as_deref(), Some("0124"));
    assert_eq!(x.aadhaar.as_ref().map(|a| a.last4()), Some("0124".into()));
    assert_eq!(x.name.as_deref(), Some("Sunita Devi"));
    assert_eq!(x.gender, Some(Gender::F));
    assert_eq!(
        x.birth_date.and_then(|b| b.iso()).as_deref(),
        Some("1985-08-15")
    );
    assert_eq!(x.care_of.as_deref(), Some("W/O Ramesh Prasad"));
    let a = &x.address;
    assert_eq!(a.house.as_deref(), Some("12B"));
    assert_eq!(a.street.as_deref(), Some("Road No 5"));
    assert_eq!(a.landmark.as_deref(), Some("Near Hanuman Mandir"));
    assert_eq!(a.locality.as_deref(), Some("Kankarbagh"));
    assert_eq!(a.vtc.as_deref(), Some("Patna"));
    assert_eq!(a.post_office.as_deref(), Some("Kankarbagh"));
    assert_eq!(a.district.as_deref(), Some("Patna"));
    assert_eq!(a.sub_district.as_deref(), Some("Patna Rural"));
    assert_eq!(a.state.as_deref(), Some("Bihar"));
    assert_eq!(a.pincode.as_deref(), Some("800020"));
    let codes: Vec<&str> = x.warnings.iter().map(|w| w.code()).collect();
    assert_eq!(codes, ["xml_qr_unsigned"]);
}

/// Builds a one-element XML QR from attribute pairs.
fn element(attrs: &[(&str, &str)]) -> String {
    let mut s = String::from("<PrintLetterBarcodeData");
    for (k, v) in attrs {
        s.push_str(&format!(" {k}=\"{v}\""));
    }
    s.push_str("/>");
    s
}

/// (what, text, expected birth date, expected gender, expected landmark, warnings expected)
type Case = (
    &'static str,
    String,
    Option<BirthDate>,
    Option<Gender>,
    Option<&'static str>,
    Vec<&'static str>,
);

#[test]
fn variants() {
    let base = [("uid", "498765432102"), ("name", "Ram Kumar")];
    let with = |extra: &[(&str, &str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        element(&v)
    };
    let y1962 = Some(BirthDate::Year(1962));
    let d = |s: &str| BirthDate::parse(s).ok();
    let cases: Vec<Case> = vec![
        (
            "yob only",
            with(&[("yob", "1962"), ("gender", "M")]),
            y1962,
            Some(Gender::M),
            None,
            vec![],
        ),
        (
            "no dob no yob",
            with(&[("gender", "MALE")]),
            None,
            Some(Gender::M),
            None,
            vec![],
        ),
        (
            "iso dob",
            with(&[("dob", "1962-01-03"), ("gender", "FEMALE")]),
            d("3-1-1962"),
            Some(Gender::F),
            None,
            vec![],
        ),
        (
            "dd/mm/yyyy dob",
            with(&[("dob", "03/01/1962"), ("yob", "1962")]),
            d("3-1-1962"),
            None,
            None,
            vec![],
        ),
        (
            "dd-mm-yyyy dob",
            with(&[("dob", "03-01-1962")]),
            d("3-1-1962"),
            None,
            None,
            vec![],
        ),
        (
            "lm null",
            with(&[("lm", "null"), ("gender", "T")]),
            None,
            Some(Gender::T),
            None,
            vec![],
        ),
        (
            "lm present",
            with(&[("lm", "Near Temple")]),
            None,
            None,
            Some("Near Temple"),
            vec![],
        ),
        (
            "dob and yob disagree",
            with(&[("dob", "03/01/1962"), ("yob", "1963")]),
            d("3-1-1962"),
            None,
            None,
            vec!["dob_yob_mismatch"],
        ),
        (
            "bad dob",
            with(&[("dob", "32/01/1962")]),
            None,
            None,
            None,
            vec!["dob_invalid"],
        ),
        (
            "bad gender",
            with(&[("gender", "Q")]),
            None,
            None,
            None,
            vec!["gender_unknown"],
        ),
        (
            "bad pincode",
            with(&[("pc", "0123")]),
            None,
            None,
            None,
            vec!["pincode_invalid"],
        ),
    ];
    for (what, text, birth, gender, landmark, warnings) in cases {
        let x = xml(&text);
        assert_eq!(x.birth_date, birth, "{what}");
        assert_eq!(x.gender, gender, "{what}");
        assert_eq!(x.address.landmark.as_deref(), landmark, "{what}");
        assert_eq!(x.aadhaar_last4.as_deref(), Some("2102"), "{what}");
        for w in warnings {
            assert!(x.warnings.iter().any(|x| x.code() == w), "{what}: {w}");
        }
    }
}

#[test]
fn broken_prolog_and_noise() {
    let body = element(&[
        ("uid", "876543210988"),
        ("name", "A &amp; B"),
        ("yob", "1990"),
    ]);
    for text in [
        format!("</?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
        format!("\u{feff}{body}\r\n"),
        format!("{body} trailing junk"),
        format!("garbage before {body}"),
        body.to_lowercase().replace("a &amp; b", "A &amp; B"),
    ] {
        let x = xml(&text);
        assert_eq!(x.name.as_deref(), Some("A & B"), "{text}");
        assert_eq!(x.aadhaar_last4.as_deref(), Some("0988"), "{text}");
    }
    // A bare ampersand, as some letters have.
    let x = xml(&element(&[
        ("uid", "876543210988"),
        ("name", "A & B"),
        ("co", "S/O R & K"),
    ]));
    assert_eq!(x.name.as_deref(), Some("A & B"));
    assert_eq!(x.care_of.as_deref(), Some("S/O R & K"));
}

#[test]
fn uid_handling() {
    let cases: [(&str, Option<&str>, bool, bool); 5] = [
        // (uid, last4, full number kept, warning)
        ("234567890124", Some("0124"), true, false),
        ("2345 6789 0124", Some("0124"), true, false),
        ("234567890125", None, false, true),
        ("123456789012", None, false, true),
        ("XXXXXXXX0124", Some("0124"), false, false),
    ];
    // No uid at all ("null" is how some printers wrote "none"): not an Aadhaar QR.
    assert_eq!(
        decode(&element(&[("uid", "null"), ("name", "Test Name")])).err(),
        Some(DecodeError::XmlMissingUid)
    );
    for (uid, last4, kept, warned) in cases {
        let x = xml(&element(&[("uid", uid), ("name", "Test Name")]));
        assert_eq!(x.aadhaar_last4.as_deref(), last4, "{uid}");
        assert_eq!(x.aadhaar.is_some(), kept, "{uid}");
        assert_eq!(
            x.warnings
                .iter()
                .any(|w| w.code() == "aadhaar_number_invalid"),
            warned,
            "{uid}"
        );
    }
}

#[test]
fn full_number_never_leaks() {
    let x = xml(FULL);
    let debug = format!("{x:?}");
    assert!(!debug.contains("234567890124"));
    assert!(!debug.contains("Sunita"));
    let doc = decode(FULL).unwrap();
    let json =
        serde_json::to_string(&swagat_identity::summarize(&doc, &TrustStore::empty())).unwrap();
    assert!(!json.contains("234567890124"));
    assert!(!json.contains("23456789"));
    assert!(json.contains("\"aadhaar_last4\":\"0124\""));
    // The keyed hash is available for finding returning patients.
    let h = doc.aadhaar_number().unwrap().keyed_hash(b"bihar-secret");
    assert_eq!(h.len(), 64);
}

#[test]
fn malformed_xml() {
    let cases = [
        (
            "<PrintLetterBarcodeData uid=\"234567890124",
            DecodeError::XmlMalformed,
        ),
        (
            "<PrintLetterBarcodeData uid=234567890124 />",
            DecodeError::XmlMalformed,
        ),
        ("<PrintLetterBarcodeData/>", DecodeError::XmlEmpty),
        (
            "<PrintLetterBarcodeData gender=\"M\"/>",
            DecodeError::XmlEmpty,
        ),
        (
            "<OtherData uid=\"234567890124\"/>",
            DecodeError::NotRecognised,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(decode(text).err(), Some(want), "{text}");
    }
}
