//! Tests of patient edits and merges through the kiosk's use cases.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::audit::Actor;
use crate::opd::{PatientPatch, RegisterRequest, Registration};
use crate::staff::{NewStaff, Role};
use crate::{ErrorKind, Kiosk};

fn kiosk() -> (Kiosk, Actor, Actor) {
    let k = Kiosk::open_in_memory().unwrap();
    let admin = k
        .first_run_setup(&crate::FirstRunSetup {
            facility: serde_json::from_value(json!({"name_en": "UPHC Kankarbagh",
                "kiosk_letter": "A", "facility_code": "PTN12"}))
            .unwrap(),
            admin_name: "Admin".into(),
            admin_secret: "135790".into(),
        })
        .unwrap();
    let rec = k
        .add_staff(
            &Actor::Staff(admin.id.clone()),
            &NewStaff {
                name: "Reena".into(),
                role: Role::Reception,
                secret: "246810".into(),
            },
        )
        .unwrap();
    (k, Actor::Staff(admin.id), Actor::Staff(rec.id))
}

fn register(k: &Kiosk, dept: &str, p: serde_json::Value) -> Registration {
    k.register(
        &Actor::Cli,
        &RegisterRequest {
            department: dept.into(),
            patient: Some(serde_json::from_value(p).unwrap()),
            ..Default::default()
        },
    )
    .unwrap()
}

fn patch(v: serde_json::Value) -> PatientPatch {
    serde_json::from_value(v).unwrap()
}

fn outbox(k: &Kiosk, kind: &str, id: &str) -> Vec<serde_json::Value> {
    k.store()
        .read(|c| {
            let mut st = c.prepare(
                "SELECT payload FROM sync_outbox WHERE kind = ?1 AND record_id = ?2 ORDER BY seq",
            )?;
            let rows = st.query_map([kind, id], |r| r.get::<_, String>(0))?;
            Ok(rows
                .map(|r| serde_json::from_str(&r.unwrap()).unwrap())
                .collect())
        })
        .unwrap()
}

fn sunita() -> serde_json::Value {
    json!({"name": "Sunita Devi", "gender": "F", "age_years": 40, "mobile": "9876543210",
        "aadhaar": "234567890124", "aadhaar_consent": true,
        "address": {"locality": "Kankarbagh", "pincode": "800020"}})
}

#[test]
fn edit_updates_the_row_keeps_history_audits_field_names_and_queues_the_patient() {
    let (k, _admin, rec) = kiosk();
    let r = register(&k, "GEN", sunita());
    let before = k.patient(&r.patient_id).unwrap();
    let e = k
        .edit_patient(
            &rec,
            &r.patient_id,
            &patch(json!({"mobile": "9123456780", "name": "Suneeta Devi",
                "address": {"pincode": "800001"}})),
        )
        .unwrap();
    let mut fields = e.changed_fields.clone();
    fields.sort();
    assert_eq!(fields, ["address.pincode", "mobile", "name"]);
    let now = k.patient(&r.patient_id).unwrap();
    assert_eq!(now.mobile.as_deref(), Some("9123456780"));
    assert_eq!(now.address.postal.pincode.as_deref(), Some("800001"));
    assert_eq!(
        now.address.postal.locality.as_deref(),
        Some("Kankarbagh"),
        "untouched address parts stay"
    );
    assert_eq!(now.dob, before.dob, "an age-derived date stays as it was");
    assert!(now.dob_approximate);
    assert_eq!(
        now.aadhaar_last4.as_deref(),
        Some("0124"),
        "Aadhaar untouched"
    );

    // Search keys follow: the new mobile and spelling find the patient, the old mobile does not.
    assert_eq!(k.search_patients("9123456780", 5).unwrap().1.len(), 1);
    assert!(k.search_patients("9876543210", 5).unwrap().1.is_empty());
    let by_name = k.search_patients("suneeta", 5).unwrap().1;
    assert!(by_name.iter().any(|p| p.id == r.patient_id));
    // The Aadhaar hash still finds them.
    assert_eq!(k.search_patients("234567890124", 5).unwrap().1.len(), 1);

    // History: the previous state, as it was.
    let h = k.patient_history(&r.patient_id).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].action, "edit");
    assert_eq!(h[0].record["mobile"], "9876543210");
    assert!(h[0].record.get("aadhaar_hash").is_none());

    // Audit names the fields, never the values.
    let log = k.audit_log(5).unwrap();
    let entry = log.iter().find(|e| e.action == "patient.edit").unwrap();
    assert_eq!(entry.entity_id.as_deref(), Some(r.patient_id.as_str()));
    assert_eq!(entry.actor, rec.as_db());
    let details = entry.details.to_string();
    assert!(details.contains("mobile") && !details.contains("9123456780"));
    assert!(!details.contains("Suneeta"));

    // The new state is queued for the state server.
    let q = outbox(&k, "patient", &r.patient_id);
    assert_eq!(q.len(), 2, "create, then edit");
    assert_eq!(q[1]["mobile"], "9123456780");

    // An edit that changes nothing leaves no trace.
    let same = k
        .edit_patient(&rec, &r.patient_id, &patch(json!({"mobile": "9123456780"})))
        .unwrap();
    assert!(same.changed_fields.is_empty());
    assert_eq!(k.patient_history(&r.patient_id).unwrap().len(), 1);
    assert_eq!(outbox(&k, "patient", &r.patient_id).len(), 2);
}

#[test]
fn edit_validates_like_registration_and_never_keeps_a_full_aadhaar() {
    let (k, _admin, rec) = kiosk();
    let r = register(
        &k,
        "GEN",
        json!({"name": "Ramesh Kumar", "gender": "M", "dob": "1980-01-15"}),
    );
    for (p, field) in [
        (json!({"mobile": "12345"}), "mobile"),
        (json!({"aadhaar": "234567890125"}), "aadhaar"),
        (json!({"gender": "X"}), "gender"),
        (json!({"name": ""}), "name"),
        (json!({"address": {"pincode": "012345"}}), "address.pincode"),
        (json!({"favourite_colour": "blue"}), "favourite_colour"),
        (json!({}), "patch"),
    ] {
        let e = k.edit_patient(&rec, &r.patient_id, &patch(p)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
        assert!(
            matches!(&e, crate::CoreError::Invalid { field: f, msg } if f == field && !msg.hi.is_empty()),
            "{e}"
        );
    }
    assert!(k.patient_history(&r.patient_id).unwrap().is_empty());

    // A full number with consent: only last 4 + hash are kept, and it finds the patient.
    let e = k
        .edit_patient(
            &rec,
            &r.patient_id,
            &patch(json!({"aadhaar": "498765432102", "aadhaar_consent": true})),
        )
        .unwrap();
    assert!(e.changed_fields.contains(&"aadhaar_last4".to_owned()));
    assert_eq!(e.patient.aadhaar_last4.as_deref(), Some("2102"));
    let found = k.search_patients("498765432102", 5).unwrap().1;
    assert_eq!(found[0].id, r.patient_id);
    let dump: String = k
        .store()
        .read(|c| {
            let mut s = String::new();
            for table in ["patients", "patient_versions", "audit_log", "sync_outbox"] {
                let mut st = c.prepare(&format!("SELECT * FROM {table}"))?;
                let n = st.column_count();
                let mut rows = st.query([])?;
                while let Some(row) = rows.next()? {
                    for i in 0..n {
                        if let Ok(v) = row.get::<_, String>(i) {
                            s.push_str(&v);
                        }
                    }
                }
            }
            Ok(s)
        })
        .unwrap();
    assert!(!dump.contains("498765432102"));

    // Consent withdrawn: nothing of the Aadhaar stays.
    let e = k
        .edit_patient(
            &rec,
            &r.patient_id,
            &patch(json!({"aadhaar_consent": false})),
        )
        .unwrap();
    assert_eq!(e.patient.aadhaar_last4, None);
    assert!(k.search_patients("498765432102", 5).unwrap().1.is_empty());

    // An age replaces the date of birth (approximate).
    let e = k
        .edit_patient(&rec, &r.patient_id, &patch(json!({"age_years": 30})))
        .unwrap();
    assert!(e.patient.dob_approximate);
    assert!(e.changed_fields.contains(&"dob".to_owned()));
}

#[test]
fn edit_refuses_another_patients_abha_and_a_merged_record() {
    let (k, admin, rec) = kiosk();
    let a = register(
        &k,
        "GEN",
        json!({"name": "Sita", "gender": "F", "age_years": 30, "abha_number": "91-2345-6789-0129"}),
    );
    let b = register(
        &k,
        "GEN",
        json!({"name": "Gita", "gender": "F", "age_years": 31}),
    );
    let e = k
        .edit_patient(
            &rec,
            &b.patient_id,
            &patch(json!({"abha_number": "91234567890129"})),
        )
        .unwrap_err();
    assert!(
        matches!(&e, crate::CoreError::Invalid { field, .. } if field == "abha_number"),
        "{e}"
    );
    assert!(e.message(crate::Lang::En).contains(&a.uhid));
    k.merge_patients(&admin, &a.patient_id, &b.patient_id)
        .unwrap();
    let e = k
        .edit_patient(&rec, &b.patient_id, &patch(json!({"mobile": "9123456780"})))
        .unwrap_err();
    assert!(e.message(crate::Lang::En).contains(&a.uhid), "{e}");
}

#[test]
fn merge_moves_visits_carries_identifiers_hides_the_duplicate_and_is_admin_only() {
    let (k, admin, rec) = kiosk();
    // The same woman, registered once by name and mobile, once by ABHA and Aadhaar.
    let keep = register(
        &k,
        "GEN",
        json!({"name": "Sunita Devi", "gender": "F", "age_years": 40, "mobile": "9876543210",
            "address": {"locality": "Kankarbagh"}}),
    );
    let dup = register(
        &k,
        "EYE",
        json!({"name": "Sunita Kumari", "gender": "F", "age_years": 40,
            "abha_number": "91-2345-6789-0129", "aadhaar": "234567890124", "aadhaar_consent": true}),
    );
    let dup2 = k
        .register(
            &Actor::Cli,
            &RegisterRequest {
                department: "ENT".into(),
                patient_id: Some(dup.patient_id.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    let dup_uhid = dup.uhid.clone();

    // Reception may not merge; nothing changes.
    let e = k
        .merge_patients(&rec, &keep.patient_id, &dup.patient_id)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(k.patient(&dup.patient_id).unwrap().merged_into.is_none());
    assert!(k
        .merge_patients(&admin, &keep.patient_id, &keep.patient_id)
        .is_err());

    let m = k
        .merge_patients(&admin, &keep.patient_id, &dup.patient_id)
        .unwrap();
    assert_eq!(m.kept, keep.patient_id);
    assert_eq!(m.merged, dup.patient_id);
    assert_eq!(m.visits_moved, 2);
    let mut carried = m.carried_over.clone();
    carried.sort();
    assert_eq!(carried, ["aadhaar", "abha_number"]);

    // Visits moved.
    let visits = k.patient_visits(&keep.patient_id, 10).unwrap();
    assert_eq!(visits.len(), 3);
    assert!(visits.iter().any(|v| v.id == dup2.visit_id));
    assert!(k.patient_visits(&dup.patient_id, 10).unwrap().is_empty());

    // The duplicate is kept, marked, and opening it lands on the kept patient.
    let opened = k.patient(&dup.patient_id).unwrap();
    assert_eq!(opened.id, keep.patient_id);
    let raw = k
        .store()
        .read(|c| crate::opd::patients::get(c, &dup.patient_id))
        .unwrap();
    assert_eq!(raw.merged_into.as_deref(), Some(keep.patient_id.as_str()));

    // Searches never show the merged-away record; its identifiers now find the kept one.
    for q in [
        "sunita",
        "kumari",
        "91-2345-6789-0129",
        "234567890124",
        "9876543210",
    ] {
        let found = k.search_patients(q, 20).unwrap().1;
        assert!(
            found.iter().all(|p| p.id != dup.patient_id),
            "{q} found the merged record"
        );
    }
    assert_eq!(
        k.search_patients("91-2345-6789-0129", 5).unwrap().1[0].id,
        keep.patient_id
    );
    let by_old_uhid = k.search_patients(&dup_uhid, 5).unwrap().1;
    assert_eq!(by_old_uhid.len(), 1);
    assert_eq!(by_old_uhid[0].id, keep.patient_id);
    // A new scan of the duplicate's Aadhaar is the kept patient returning.
    let again = register(
        &k,
        "GEN",
        json!({"name": "Sunita Kumari", "gender": "F",
        "age_years": 40, "aadhaar": "234567890124", "aadhaar_consent": true}),
    );
    assert!(again.returning);
    assert_eq!(again.patient_id, keep.patient_id);

    // Audited, with history of both records.
    let log = k.audit_log(20).unwrap();
    let entry = log.iter().find(|e| e.action == "patient.merge").unwrap();
    assert_eq!(entry.entity_id.as_deref(), Some(keep.patient_id.as_str()));
    assert_eq!(entry.details["duplicate"], json!(dup.patient_id));
    assert_eq!(entry.details["visits_moved"], json!(2));
    assert_eq!(k.patient_history(&dup.patient_id).unwrap().len(), 1);
    assert_eq!(k.patient_history(&keep.patient_id).unwrap().len(), 1);

    // Outbox: both patients and each moved visit.
    let d = outbox(&k, "patient", &dup.patient_id);
    assert_eq!(d.last().unwrap()["merged_into"], json!(keep.patient_id));
    let kq = outbox(&k, "patient", &keep.patient_id);
    assert_eq!(kq.last().unwrap()["abha_number"], "91-2345-6789-0129");
    for v in [&dup.visit_id, &dup2.visit_id] {
        let q = outbox(&k, "visit", v);
        assert_eq!(q.last().unwrap()["patient_id"], json!(keep.patient_id));
    }

    // Merged twice is refused.
    assert_eq!(
        k.merge_patients(&admin, &keep.patient_id, &dup.patient_id)
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
}

#[test]
fn merge_moves_the_dialysis_record_and_its_bookings() {
    let (k, admin, _rec) = kiosk();
    let keep = register(
        &k,
        "GEN",
        json!({"name": "Mohan Prasad", "gender": "M", "age_years": 55}),
    );
    let dup = register(
        &k,
        "GEN",
        json!({"name": "Mohan Prasad", "gender": "M", "age_years": 56}),
    );
    k.store()
        .write(|tx| {
            tx.execute(
                "INSERT INTO dialysis_patients (patient_id, hbsag, hbsag_tested_on, updated_at) \
                 VALUES (?1, 'neg', '2025-01-01', '2025-01-01T00:00:00Z')",
                [&dup.patient_id],
            )?;
            tx.execute(
                "INSERT INTO dialysis_bookings (id, patient_id, date, shift, status, requested_at, updated_at) \
                 VALUES ('b1', ?1, '2025-02-01', 1, 'waitlisted', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
                [&dup.patient_id],
            )?;
            Ok(())
        })
        .unwrap();
    let m = k
        .merge_patients(&admin, &keep.patient_id, &dup.patient_id)
        .unwrap();
    assert!(m.dialysis_moved);
    let (owner, hbsag): (String, String) = k
        .store()
        .read(|c| {
            Ok(c.query_row(
                "SELECT b.patient_id, d.hbsag FROM dialysis_bookings b \
                 JOIN dialysis_patients d ON d.patient_id = b.patient_id WHERE b.id = 'b1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(owner, keep.patient_id);
    assert_eq!(hbsag, "neg");
}

#[test]
fn long_name_prefixes_are_checked_in_full_after_the_index() {
    let (k, _admin, _rec) = kiosk();
    for name in [
        "Kavitaben Patel",
        "Kavita Devi",
        "Kavitri Sahu",
        "Mohanlal Prasad",
        "Mohan Prakash",
    ] {
        register(
            &k,
            "GEN",
            json!({"name": name, "gender": "F", "age_years": 30}),
        );
    }
    let names = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = k
            .search_patients(q, 20)
            .unwrap()
            .1
            .into_iter()
            .map(|p| p.name)
            .collect();
        v.sort();
        v
    };
    // "kavitab" is cut to "kavit" for the index; the full word decides.
    assert_eq!(names("kavitab"), ["Kavitaben Patel"]);
    // "kavita" keys as "kavit" (a final "a" is dropped), which "Kavitri" starts with: the key is
    // lenient on purpose, as before.
    assert_eq!(
        names("KAVITA"),
        ["Kavita Devi", "Kavitaben Patel", "Kavitri Sahu"]
    );
    assert_eq!(
        names("kavit"),
        ["Kavita Devi", "Kavitaben Patel", "Kavitri Sahu"]
    );
    assert_eq!(names("mohanlal pra"), ["Mohanlal Prasad"]);
    assert_eq!(names("mohan prakas"), ["Mohan Prakash"]);
    // Spelling variants still meet through the phonetic key: "Kavitaaben" keys like "Kavitaben".
    assert_eq!(names("kavitaaben"), ["Kavitaben Patel"]);
}

#[test]
fn a_slip_is_counted_once_printed_and_reprints_are_marked() {
    let (k, _admin, rec) = kiosk();
    let r = k
        .register(
            &rec,
            &RegisterRequest {
                department: "GEN".into(),
                patient: Some(serde_json::from_value(sunita()).unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    // What the next print will be is known without counting it.
    let next = k
        .store()
        .read(|c| crate::slip::next_print_data(c, &r.visit_id))
        .unwrap();
    assert_eq!(next.reprint, None, "the first print is not a reprint");
    assert_eq!(k.visit(&r.visit_id).unwrap().prints, 0);
    let count = |k: &Kiosk| {
        k.store()
            .write(|tx| crate::slip::count_print(tx, &rec, &r.visit_id))
            .unwrap()
    };
    assert_eq!(count(&k), 1);
    assert_eq!(k.visit(&r.visit_id).unwrap().prints, 1);
    assert_eq!(k.audit_log(1).unwrap()[0].action, "slip.print");
    let next = k
        .store()
        .read(|c| crate::slip::next_print_data(c, &r.visit_id))
        .unwrap();
    assert!(next.reprint.is_some(), "the second print is marked");
    assert_eq!(count(&k), 2);
    assert_eq!(k.audit_log(1).unwrap()[0].action, "slip.reprint");
}

#[test]
fn a_print_the_printer_refuses_is_not_counted_and_says_why() {
    let (k, admin, rec) = kiosk();
    let r = k
        .register(
            &rec,
            &RegisterRequest {
                department: "GEN".into(),
                patient: Some(serde_json::from_value(sunita()).unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    // A raw network printer on a port nobody listens on: the job cannot be delivered.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    k.update_config(
        &admin,
        &serde_json::from_value(serde_json::json!({
            "printer": format!("tcp://127.0.0.1:{port}"), "printer_format": "escpos"
        }))
        .unwrap(),
    )
    .unwrap();
    let err = k.print_slip(&rec, &r.visit_id).unwrap_err();
    let report = crate::ErrorReport::from(&err);
    assert_eq!(
        report.problem,
        Some(crate::error::Problem::Print(
            swagat_slip::PrintProblem::Network
        )),
        "{report:?}"
    );
    assert_eq!(
        serde_json::to_value(&report).unwrap()["problem"],
        json!({"area": "print", "code": "network"}),
        "the UI's shape"
    );
    assert!(report.hi.contains("नेटवर्क प्रिंटर"), "{}", report.hi);
    assert!(
        !report.en.contains(" / "),
        "one language per text: {}",
        report.en
    );
    assert_eq!(k.visit(&r.visit_id).unwrap().prints, 0, "nothing counted");
    assert_eq!(k.audit_log(1).unwrap()[0].action, "slip.print_failed");
}

/// Each use case checks the caller's role itself, in its own transaction: the app's session
/// check is not the only guard, so a nurse's or a receptionist's actor that reaches the core
/// another way is refused and nothing is written.
#[test]
fn the_core_refuses_a_role_its_use_case_does_not_allow() {
    let (k, admin, rec) = kiosk();
    let nurse = k
        .add_staff(
            &admin,
            &NewStaff {
                name: "Meena".into(),
                role: Role::DialysisNurse,
                secret: "246802".into(),
            },
        )
        .unwrap();
    let nurse = Actor::Staff(nurse.id);
    let req = RegisterRequest {
        department: "GEN".into(),
        patient: Some(serde_json::from_value(sunita()).unwrap()),
        ..Default::default()
    };
    let refused = |r: crate::Result<()>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::Auth, "{what}: {e}");
    };
    let audit_before = k.audit_log(1000).unwrap().len();
    // The counter's work: reception and administrators, not the dialysis nurse.
    refused(k.register(&nurse, &req).map(|_| ()), "a nurse registers");
    assert_eq!(
        k.audit_log(1000).unwrap().len(),
        audit_before,
        "nothing written"
    );
    let r = k.register(&rec, &req).unwrap();
    refused(
        k.edit_patient(
            &nurse,
            &r.patient_id,
            &serde_json::from_value(json!({"mobile": "9876543210"})).unwrap(),
        )
        .map(|_| ()),
        "a nurse edits a patient",
    );
    refused(
        k.print_slip(&nurse, &r.visit_id).map(|_| ()),
        "a nurse prints",
    );
    refused(
        k.cancel_visit(&nurse, &r.visit_id, "mistake"),
        "a nurse cancels a visit",
    );
    // An administrator's work: not reception.
    let patch: crate::config::ConfigPatch =
        serde_json::from_value(json!({"address": "Kankarbagh"})).unwrap();
    refused(
        k.update_config(&rec, &patch).map(|_| ()),
        "reception changes settings",
    );
    refused(
        k.test_print(&rec, "SwagatPDF", "pdf_a6").map(|_| ()),
        "reception test-prints",
    );
    refused(
        k.print_counter_poster(&rec).map(|_| ()),
        "reception prints the poster",
    );
    k.update_config(&admin, &patch).unwrap();
    // The app acting on its own is no one's role.
    refused(
        k.register(&Actor::System, &req).map(|_| ()),
        "the system registers",
    );
    // `swagat-admin` at the machine may.
    k.update_config(&Actor::Cli, &patch).unwrap();
}
