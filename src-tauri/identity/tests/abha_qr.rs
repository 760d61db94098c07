//! ABHA QR codes: the shipped examples and every key/value variant, built here as JSON.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use swagat_identity::{decode, AbhaQr, BirthDate, DecodeError, Document, Gender};

fn abha(text: &str) -> AbhaQr {
    match decode(text).unwrap() {
        Document::AbhaQr(a) => a,
        other => panic!("not an ABHA QR: {other:?}"),
    }
}

fn codes(a: &AbhaQr) -> Vec<&'static str> {
    a.warnings.iter().map(|w| w.code()).collect()
}

#[test]
fn shipped_examples() {
    let lines: Vec<String> = read("abha_qr_examples.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3);

    let a = abha(&lines[0]);
    assert_eq!(
        a.abha_number.as_ref().unwrap().formatted(),
        "91-2345-6789-0129"
    );
    assert_eq!(
        a.abha_address.as_ref().unwrap().as_str(),
        "sunita.devi85@abdm"
    );
    assert_eq!(a.name.as_deref(), Some("Sunita Devi"));
    assert_eq!(a.gender, Some(Gender::F));
    assert_eq!(
        a.birth_date.and_then(|b| b.iso()).as_deref(),
        Some("1985-08-15")
    );
    assert_eq!(a.state_lgd.as_deref(), Some("10"));
    assert_eq!(a.district_lgd.as_deref(), Some("212"));
    assert_eq!(a.state_name.as_deref(), Some("BIHAR"));
    assert_eq!(a.district_name.as_deref(), Some("PATNA"));
    assert_eq!(a.mobile.as_deref(), Some("98XXXXXX21"));
    assert!(a.address_line.as_deref().unwrap().contains("Kankarbagh"));
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);

    let b = abha(&lines[1]);
    assert_eq!(
        b.abha_address.as_ref().unwrap().as_str(),
        "ramkumar.sahu@abdm"
    );
    assert_eq!(
        b.birth_date.and_then(|b| b.iso()).as_deref(),
        Some("1962-01-03")
    );
    assert_eq!(b.district_lgd.as_deref(), Some("387"));
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);

    let c = abha(&lines[2]);
    assert_eq!(
        c.abha_address.as_ref().unwrap().as_str(),
        "rajeshyadav@ndhm"
    );
    let luhn_ok = c.abha_number.as_ref().unwrap().luhn_valid();
    assert_eq!(codes(&c).contains(&"abha_number_checksum"), !luhn_ok);
}

#[test]
fn lgd_codes_of_examples_exist() {
    let lgd: serde_json::Value = serde_json::from_str(&read("lgd_states_districts.json")).unwrap();
    let states = lgd["states"].as_array().unwrap();
    for line in read("abha_qr_examples.jsonl")
        .lines()
        .filter(|l| !l.is_empty())
    {
        let a = abha(line);
        let state: u64 = a.state_lgd.unwrap().parse().unwrap();
        let dist: u64 = a.district_lgd.unwrap().parse().unwrap();
        let s = states.iter().find(|s| s["state_code"] == state).unwrap();
        assert!(s["districts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["district_code"] == dist));
    }
}

#[test]
fn key_and_value_variants() {
    // (what, json, check)
    type Check = fn(&AbhaQr);
    let cases: Vec<(&str, &str, Check)> = vec![
        (
            "app phr, state_name, dist name",
            r#"{"phr":"Asha.Kumari@ABDM","name":"Asha Kumari","gender":"F","state_name":"CHHATTISGARH","dist name":"BASTAR","statelgd":"22","distlgd":"374","dob":"1/1/2001"}"#,
            |a| {
                assert_eq!(
                    a.abha_address.as_ref().unwrap().as_str(),
                    "asha.kumari@abdm"
                );
                assert_eq!(a.abha_number, None);
                assert_eq!(a.state_name.as_deref(), Some("CHHATTISGARH"));
                assert_eq!(a.district_name.as_deref(), Some("BASTAR"));
                assert_eq!(
                    a.birth_date.and_then(|b| b.iso()).as_deref(),
                    Some("2001-01-01")
                );
            },
        ),
        (
            "state name with space, district_name",
            r#"{"hid":"abcd@sbx","state name":"BIHAR","district_name":"GAYA","statelgd":"10","distlgd":"196"}"#,
            |a| {
                assert_eq!(a.state_name.as_deref(), Some("BIHAR"));
                assert_eq!(a.district_name.as_deref(), Some("GAYA"));
                assert_eq!(a.district_lgd.as_deref(), Some("196"));
                assert_eq!(a.name, None);
                assert!(codes(a).contains(&"name_missing"));
            },
        ),
        (
            "distlgd dash",
            r#"{"hidn":"91-2345-6789-0129","name":"X Y","distlgd":"-","statelgd":"10"}"#,
            |a| {
                assert_eq!(a.district_lgd, None);
                assert_eq!(a.state_lgd.as_deref(), Some("10"));
                assert!(a.warnings.is_empty(), "{:?}", a.warnings);
            },
        ),
        (
            "numeric lgd codes",
            r#"{"hidn":"91-2345-6789-0129","statelgd":10,"distlgd":212}"#,
            |a| {
                assert_eq!(a.state_lgd.as_deref(), Some("10"));
                assert_eq!(a.district_lgd.as_deref(), Some("212"));
            },
        ),
        (
            "bad lgd",
            r#"{"hidn":"91-2345-6789-0129","distlgd":"PATNA"}"#,
            |a| {
                assert_eq!(a.district_lgd, None);
                assert!(codes(a).contains(&"lgd_code_invalid"));
            },
        ),
        (
            "dashed dob",
            r#"{"hidn":"91-2345-6789-0129","dob":"3-1-1962"}"#,
            |a| {
                assert_eq!(
                    a.birth_date.and_then(|b| b.iso()).as_deref(),
                    Some("1962-01-03")
                );
            },
        ),
        (
            "partial dob",
            r#"{"hidn":"91-2345-6789-0129","dob":"0/0/1962"}"#,
            |a| {
                assert_eq!(a.birth_date, Some(BirthDate::Year(1962)));
                assert!(codes(a).contains(&"dob_partial"));
            },
        ),
        (
            "partial dob, day missing",
            r#"{"hidn":"91-2345-6789-0129","dob":"/1/1962"}"#,
            |a| {
                assert_eq!(a.birth_date, Some(BirthDate::Year(1962)));
            },
        ),
        (
            "year only dob",
            r#"{"hidn":"91-2345-6789-0129","dob":"1962"}"#,
            |a| {
                assert_eq!(a.birth_date, Some(BirthDate::Year(1962)));
                assert!(!codes(a).contains(&"dob_partial"));
            },
        ),
        (
            "yob key",
            r#"{"hidn":"91-2345-6789-0129","yob":"1962"}"#,
            |a| {
                assert_eq!(a.birth_date, Some(BirthDate::Year(1962)));
            },
        ),
        (
            "bad dob",
            r#"{"hidn":"91-2345-6789-0129","dob":"30/2/1962"}"#,
            |a| {
                assert_eq!(a.birth_date, None);
                assert!(codes(a).contains(&"dob_invalid"));
            },
        ),
        (
            "luhn failure is a warning",
            r#"{"hidn":"91-2345-6789-0128","name":"Z"}"#,
            |a| {
                assert_eq!(
                    a.abha_number.as_ref().unwrap().formatted(),
                    "91-2345-6789-0128"
                );
                assert!(codes(a).contains(&"abha_number_checksum"));
            },
        ),
        ("hidn without dashes", r#"{"hidn":"91876500432102"}"#, |a| {
            assert_eq!(
                a.abha_number.as_ref().unwrap().formatted(),
                "91-8765-0043-2102"
            );
        }),
        (
            "bad hidn and good hid",
            r#"{"hidn":"12-34","hid":"sita.devi@abdm","name":"Q"}"#,
            |a| {
                assert_eq!(a.abha_number, None);
                assert!(a.abha_address.is_some());
                assert!(codes(a).contains(&"abha_number_invalid"));
            },
        ),
        (
            "gender O",
            r#"{"hidn":"91-2345-6789-0129","gender":"O"}"#,
            |a| {
                assert_eq!(a.gender, Some(Gender::O));
            },
        ),
        (
            "full mobile",
            r#"{"hidn":"91-2345-6789-0129","mobile":"+91 98765 43210"}"#,
            |a| {
                assert_eq!(a.mobile.as_deref(), Some("9876543210"));
            },
        ),
        (
            "bad mobile",
            r#"{"hidn":"91-2345-6789-0129","mobile":"12345"}"#,
            |a| {
                assert_eq!(a.mobile, None);
                assert!(codes(a).contains(&"mobile_invalid"));
            },
        ),
        (
            "pincode",
            r#"{"hidn":"91-2345-6789-0129","pincode":"800020"}"#,
            |a| {
                assert_eq!(a.pincode.as_deref(), Some("800020"));
            },
        ),
        (
            "unknown keys and nested values ignored",
            r#"{"hidn":"91-2345-6789-0129","x":{"y":[1,2]},"name":null}"#,
            |a| {
                assert_eq!(a.name, None);
            },
        ),
    ];
    for (what, json, check) in cases {
        let a = abha(json);
        check(&a);
        let _ = what;
    }
}

#[test]
fn not_abha() {
    let cases = [
        (r#"{"name":"No Id"}"#, DecodeError::AbhaMissingId),
        // Both ids present but unusable: refused, not half-accepted.
        (
            r#"{"hidn":"12-34","hid":"1abc@abdm","name":"Q"}"#,
            DecodeError::AbhaMissingId,
        ),
        (r#"{"hidn":"91-2345"#, DecodeError::AbhaJsonInvalid),
        (r#"{"hidn": 1, }"#, DecodeError::AbhaJsonInvalid),
    ];
    for (text, want) in cases {
        assert_eq!(decode(text).err(), Some(want), "{text}");
    }
}
