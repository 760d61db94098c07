//! Tests of what the counter needs before it registers: cross-script search, every field problem
//! at once, duplicates offered before submit, a second token the same day.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::audit::Actor;
use crate::opd::register::MatchReason;
use crate::opd::{RegisterRequest, Registration};
use crate::Kiosk;

fn kiosk() -> Kiosk {
    let k = Kiosk::open_in_memory().unwrap();
    k.first_run_setup(&crate::FirstRunSetup {
        facility: serde_json::from_value(json!({"name_en": "UPHC Kankarbagh",
            "kiosk_letter": "A", "facility_code": "PTN12"}))
        .unwrap(),
        admin_name: "Admin".into(),
        admin_secret: "135790".into(),
    })
    .unwrap();
    k
}

fn request(dept: &str, p: serde_json::Value) -> RegisterRequest {
    RegisterRequest {
        department: dept.into(),
        patient: Some(serde_json::from_value(p).unwrap()),
        ..Default::default()
    }
}

fn register(k: &Kiosk, dept: &str, p: serde_json::Value) -> Registration {
    k.register(&Actor::Cli, &request(dept, p)).unwrap()
}

fn names_found(k: &Kiosk, q: &str) -> Vec<String> {
    k.search_patients(q, 20)
        .unwrap()
        .1
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn a_devanagari_query_finds_latin_names_and_the_reverse() {
    let k = kiosk();
    // Each row's first spelling is stored, every other spelling must find it.
    for (i, row) in crate::opd::names::tests::CROSS_SCRIPT.iter().enumerate() {
        let k = if i == 0 { &k } else { &kiosk() };
        register(
            k,
            "GEN",
            json!({"name": row[0], "gender": "F", "age_years": 30}),
        );
        for q in row.iter() {
            let found = names_found(k, q);
            assert_eq!(found, vec![row[0].to_string()], "query {q} for {}", row[0]);
        }
        // And the reverse: the last (Latin) spelling stored, the Devanagari query finds it.
        let k2 = kiosk();
        let latin = row[row.len() - 1];
        register(
            &k2,
            "GEN",
            json!({"name": latin, "gender": "M", "age_years": 30}),
        );
        assert_eq!(
            names_found(&k2, row[0]),
            vec![latin.to_string()],
            "query {} for {latin}",
            row[0]
        );
    }
}

#[test]
fn a_hindi_name_beside_a_latin_one_is_searchable_in_both_scripts_and_by_prefix() {
    let k = kiosk();
    register(
        &k,
        "GEN",
        json!({"name": "Sunita Yadav", "name_hi": "सुनीता यादव",
        "gender": "F", "age_years": 35}),
    );
    register(
        &k,
        "GEN",
        json!({"name": "Ramesh Kumar", "gender": "M", "age_years": 50}),
    );
    assert_eq!(names_found(&k, "सुनिता"), vec!["Sunita Yadav"]);
    assert_eq!(names_found(&k, "यादव"), vec!["Sunita Yadav"]);
    assert_eq!(names_found(&k, "Suneeta"), vec!["Sunita Yadav"]);
    assert_eq!(names_found(&k, "कुमार"), vec!["Ramesh Kumar"]);
    assert_eq!(names_found(&k, "रमेश कु"), vec!["Ramesh Kumar"]);
    assert!(names_found(&k, "सरिता").is_empty());
}

#[test]
fn a_name_search_gives_the_newest_matches_up_to_its_limit_and_checks_long_words() {
    let k = kiosk();
    let mut ids = Vec::new();
    for i in 0..30 {
        let r = register(
            &k,
            "GEN",
            json!({"name": format!("Lakshmi Devi {}", ["A", "B", "C"][i % 3]),
            "gender": "F", "age_years": 20 + i}),
        );
        ids.push(r.patient_id);
    }
    // Same first five letters, another name: the index matches "laksh", the check refuses it.
    register(
        &k,
        "GEN",
        json!({"name": "Lakshman Devi", "gender": "F", "age_years": 40}),
    );
    // Newest first, at most the limit.
    let (_, found) = k.search_patients("lakshmi dev", 20).unwrap();
    let got: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
    let newest: Vec<&str> = ids.iter().rev().take(20).map(String::as_str).collect();
    assert_eq!(got, newest);
    assert_eq!(k.search_patients("lakshmi", 5).unwrap().1.len(), 5);
    assert!(names_found(&k, "lakshmibai").is_empty());
    assert_eq!(names_found(&k, "lakshman"), ["Lakshman Devi"]);
    // A merged-away record is not offered; its kept record is.
    k.merge_patients(&Actor::Cli, &ids[0], &ids[29]).unwrap();
    let (_, found) = k.search_patients("lakshmi dev", 40).unwrap();
    assert_eq!(found.len(), 29);
    assert!(found.iter().all(|p| p.id != ids[29]));
    assert!(found.iter().any(|p| p.id == ids[0]));
}

#[test]
fn a_hindi_only_name_is_accepted_and_found_by_its_latin_spelling() {
    let k = kiosk();
    let r = register(
        &k,
        "GEN",
        json!({"name": "फूलमती अंसारी", "gender": "F", "age_years": 60}),
    );
    let p = k.patient(&r.patient_id).unwrap();
    assert_eq!(p.name_hi.as_deref(), Some("फूलमती अंसारी"));
    assert_eq!(names_found(&k, "Phulmati Ansari"), vec!["फूलमती अंसारी"]);
}

#[test]
fn the_check_reports_every_field_problem_at_once() {
    let k = kiosk();
    let c = k
        .check_registration(&request(
            "GEN",
            json!({"name": "", "gender": "X",
            "mobile": "12345", "address": {"pincode": "12"}}),
        ))
        .unwrap();
    let fields: Vec<&str> = c.problems.iter().map(|p| p.field.as_str()).collect();
    for f in ["name", "gender", "dob", "mobile", "address.pincode"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(c
        .problems
        .iter()
        .all(|p| !p.en.is_empty() && !p.hi.is_empty()));
    assert!(c.candidates.is_empty());
    // A valid form has none.
    let ok = k
        .check_registration(&request(
            "GEN",
            json!({"name": "Sunita", "gender": "F", "age_years": 30}),
        ))
        .unwrap();
    assert!(ok.problems.is_empty(), "{:?}", ok.problems);
}

#[test]
fn possible_duplicates_are_offered_before_submit_by_name_year_place_mobile_and_abha() {
    let k = kiosk();
    let first = register(
        &k,
        "GEN",
        json!({"name": "Phulmati Ansari", "gender": "F", "age_years": 60,
        "address": {"locality": "Sabzibagh"}}),
    );
    let by_mobile = register(
        &k,
        "GEN",
        json!({"name": "Ramesh Paswan", "gender": "M", "age_years": 44,
        "mobile": "9876543210"}),
    );
    let by_abha = register(
        &k,
        "GEN",
        json!({"name": "Geeta Sahu", "gender": "F", "age_years": 25,
        "abha_number": "91-2345-6789-0129"}),
    );
    let before = k.home_summary().unwrap().registrations_today;

    // Same name (other script), same year, same place.
    let c = k
        .check_registration(&request(
            "GEN",
            json!({"name": "फूलमती अंसारी", "gender": "F",
            "age_years": 60, "address": {"locality": "sabzibagh"}}),
        ))
        .unwrap();
    assert_eq!(c.candidates.len(), 1);
    assert_eq!(c.candidates[0].patient.id, first.patient_id);
    assert_eq!(c.candidates[0].reasons, vec![MatchReason::NameYearPlace]);
    assert!(!c.candidates[0].certain);
    assert!(c.candidates[0].last_visit.is_some());
    // Another locality: not offered.
    let c = k
        .check_registration(&request(
            "GEN",
            json!({"name": "Phulmati Ansari", "gender": "F",
            "age_years": 60, "address": {"locality": "Danapur"}}),
        ))
        .unwrap();
    assert!(c.candidates.is_empty());
    // Same mobile, other name.
    let c = k
        .check_registration(&request(
            "GEN",
            json!({"name": "Sita Devi", "gender": "F",
            "age_years": 40, "mobile": "+91 98765 43210"}),
        ))
        .unwrap();
    assert_eq!(c.candidates.len(), 1);
    assert_eq!(c.candidates[0].patient.id, by_mobile.patient_id);
    assert_eq!(c.candidates[0].reasons, vec![MatchReason::Mobile]);
    // Same ABHA: certain, and she already has a GEN token today.
    let c = k
        .check_registration(&request(
            "GEN",
            json!({"name": "Gita", "gender": "F",
            "age_years": 25, "abha_number": "91234567890129"}),
        ))
        .unwrap();
    assert_eq!(c.candidates[0].patient.id, by_abha.patient_id);
    assert_eq!(c.candidates[0].reasons, vec![MatchReason::Abha]);
    assert!(c.candidates[0].certain);
    assert!(c.repeat_today);
    let c = k
        .check_registration(&request(
            "EYE",
            json!({"name": "Gita", "gender": "F",
            "age_years": 25, "abha_number": "91234567890129"}),
        ))
        .unwrap();
    assert!(!c.repeat_today, "another department is not a repeat");
    // The check wrote nothing.
    assert_eq!(k.home_summary().unwrap().registrations_today, before);
}

#[test]
fn a_second_token_the_same_day_is_flagged_and_the_department_comes_with_the_token() {
    let k = kiosk();
    let r1 = register(
        &k,
        "GEN",
        json!({"name": "Sunita", "gender": "F", "age_years": 30,
        "abha_number": "91-2345-6789-0129"}),
    );
    assert!(!r1.repeat_today);
    assert_eq!(r1.department.code, "GEN");
    assert!(!r1.department.name_hi.is_empty() && !r1.department.room.is_empty());
    let check = k
        .check_registration(&RegisterRequest {
            department: "GEN".into(),
            patient_id: Some(r1.patient_id.clone()),
            ..Default::default()
        })
        .unwrap();
    assert!(check.repeat_today);
    let r2 = register(
        &k,
        "GEN",
        json!({"name": "Sunita", "gender": "F", "age_years": 30,
        "abha_number": "91-2345-6789-0129"}),
    );
    assert!(r2.returning && r2.repeat_today);
    assert_eq!(r2.patient_id, r1.patient_id);
    assert_ne!(r2.token, r1.token);
}

#[test]
fn login_names_list_active_staff_only() {
    let k = kiosk();
    let names: Vec<String> = k
        .login_names()
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, vec!["Admin"]);
}
