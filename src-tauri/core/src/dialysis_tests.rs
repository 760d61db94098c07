//! The dialysis use cases through the kiosk: roles, one transaction with its audit entry, and the
//! input rules settled once (empty dates, defaults, settings audited on change).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::staff::{NewStaff, Role};

struct Unit {
    k: Kiosk,
    nurse: Actor,
    reception: Actor,
}

fn unit() -> Unit {
    let k = Kiosk::open_in_memory().unwrap();
    let setup: crate::FirstRunSetup = serde_json::from_value(json!({
        "facility": {"name_en": "Sadar Hospital", "name_hi": "सदर अस्पताल", "kiosk_letter": "D"},
        "admin_name": "Admin", "admin_secret": "135790"}))
    .unwrap();
    let admin = k.first_run_setup(&setup).unwrap();
    let add = |name: &str, role| {
        let m = k
            .add_staff(
                &Actor::Staff(admin.id.clone()),
                &NewStaff {
                    name: name.into(),
                    role,
                    secret: "246802".into(),
                },
            )
            .unwrap();
        Actor::Staff(m.id)
    };
    let nurse = add("Meena", Role::DialysisNurse);
    let reception = add("Reena", Role::Reception);
    Unit {
        k,
        nurse,
        reception,
    }
}

fn register(k: &Kiosk, name: &str) -> String {
    let req: crate::opd::RegisterRequest = serde_json::from_value(json!({"department": "GEN",
        "patient": {"name": name, "gender": "M", "age_years": 50}}))
    .unwrap();
    k.register(&Actor::Cli, &req).unwrap().patient_id
}

fn actions_logged(k: &Kiosk) -> Vec<String> {
    k.audit_log(200)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("dialysis."))
        .collect()
}

fn today_s(k: &Kiosk) -> String {
    k.store()
        .read(|c| Ok(swagat_dialysis::model::fmt_date(today(c)?)))
        .unwrap()
}

fn open_every_day(u: &Unit) {
    u.k.dialysis()
        .set_unit(&u.nurse, Some("mon,tue,wed,thu,fri,sat,sun"), None)
        .unwrap();
}

#[test]
fn only_a_nurse_an_admin_or_the_cli_may_act_and_a_refusal_changes_nothing() {
    let u = unit();
    let unit = u.k.dialysis();
    let err = unit
        .add_machine(&u.reception, "HD-1", Pool::Negative)
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Auth);
    assert!(unit.day(&u.reception, "").is_err(), "reads too");
    assert!(unit.machines(&Actor::System).is_err());
    assert!(
        unit.machines(&Actor::Cli).unwrap().is_empty(),
        "nothing was added"
    );
    unit.add_machine(&u.nurse, "HD-1", Pool::Negative).unwrap();
    unit.add_machine(&Actor::Cli, "HD-2", Pool::Hbv).unwrap();
    assert_eq!(unit.machines(&u.nurse).unwrap().len(), 2);
    let log = u.k.audit_log(50).unwrap();
    let add = log
        .iter()
        .find(|e| e.action == actions::MACHINE_ADD && e.actor == u.nurse.as_db())
        .unwrap();
    assert_eq!(add.entity, entities::MACHINE);
}

#[test]
fn settings_are_audited_only_when_they_change() {
    let u = unit();
    let unit = u.k.dialysis();
    let before = unit.unit(&u.nurse, None).unwrap().settings;
    // Saving the same settings (the app's "save" with nothing changed) is not an audit entry.
    let days = swagat_dialysis::model::fmt_weekdays(&before.working_days);
    unit.set_unit(&u.nurse, Some(&days), Some(before.stale_serology_days))
        .unwrap();
    unit.set_unit(&u.nurse, None, None).unwrap();
    unit.set_unit(&u.nurse, Some(""), None).unwrap();
    assert!(!actions_logged(&u.k).contains(&actions::SETTINGS.to_owned()));
    let s = unit.set_unit(&u.nurse, None, Some(60)).unwrap();
    assert_eq!(s.stale_serology_days, 60);
    let n = actions_logged(&u.k)
        .iter()
        .filter(|a| *a == actions::SETTINGS)
        .count();
    assert_eq!(n, 1);
    // Shifts likewise.
    let shifts = unit.shifts(&u.nurse).unwrap();
    let times: Vec<&str> = shifts.iter().map(|s| s.start.as_str()).collect();
    unit.set_shifts(&u.nurse, &times.join(","), None).unwrap();
    assert!(!actions_logged(&u.k).contains(&actions::SHIFTS_SET.to_owned()));
    unit.set_shifts(&u.nurse, "07:00, 12:00", Some(240))
        .unwrap();
    assert!(actions_logged(&u.k).contains(&actions::SHIFTS_SET.to_owned()));
}

#[test]
fn an_empty_date_is_absent_and_a_maintenance_starts_today_by_default() {
    let u = unit();
    let unit = u.k.dialysis();
    let today = today_s(&u.k);
    assert!(unit.waitlist(&u.nurse, Some("")).unwrap().is_empty());
    assert!(unit.unit(&u.nurse, Some(" ")).is_ok());
    assert_eq!(unit.day(&u.nurse, "").unwrap().date, today);
    assert!(
        unit.day(&u.nurse, "12/01/2026").is_err(),
        "US order is refused"
    );
    unit.add_machine(&u.nurse, "HD-1", Pool::Negative).unwrap();
    let m = unit
        .set_maintenance(&u.nurse, "HD-1", None, Some(""), "pump")
        .unwrap();
    assert_eq!(m.machine.maintenance[0].from_date, today);
    assert_eq!(m.machine.maintenance[0].to_date, None);
    let m = unit.end_maintenance(&u.nurse, "HD-1", Some("")).unwrap();
    assert!(m.machine.maintenance.is_empty());
    // A record with an empty test date and only unknown results is fine; a known result needs
    // its date.
    let p = register(&u.k, "Ramesh Yadav");
    let form = PatientForm {
        patient_id: p.clone(),
        hbsag: Some(Serology::Unknown),
        tested_on: Some(String::new()),
        ..Default::default()
    };
    assert!(unit.set_patient(&u.nurse, &form).unwrap().created);
    let form = PatientForm {
        hbsag: Some(Serology::Neg),
        ..form
    };
    assert_eq!(
        unit.set_patient(&u.nurse, &form).unwrap_err().kind(),
        crate::ErrorKind::Invalid
    );
}

#[test]
fn a_booking_and_its_audit_entry_are_one_transaction() {
    let u = unit();
    let unit = u.k.dialysis();
    open_every_day(&u);
    unit.add_machine(&u.nurse, "HD-1", Pool::Negative).unwrap();
    let p = register(&u.k, "Ramesh Yadav");
    let today = today_s(&u.k);
    unit.set_patient(
        &u.nurse,
        &PatientForm {
            patient_id: p.clone(),
            hbsag: Some(Serology::Neg),
            hcv: Some(Serology::Neg),
            hiv: Some(Serology::Neg),
            tested_on: Some(today.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let form = BookForm {
        patient_id: format!(" {p} "),
        date: today.clone(),
        shift: 1,
        repeat: Some(String::new()),
        ..Default::default()
    };
    let out = unit.book(&u.nurse, &form).unwrap();
    assert_eq!(out.bookings.len(), 1, "an empty pattern is one date");
    assert_eq!(out.bookings[0].status, Status::Confirmed);
    // A second booking the same day is refused: neither a booking nor an audit entry is left.
    let n = actions_logged(&u.k).len();
    assert!(unit.book(&u.nurse, &form).is_err());
    assert_eq!(actions_logged(&u.k).len(), n);
    let id = out.bookings[0].id.clone();
    unit.check_in(&u.nurse, &id, Some(61.0)).unwrap();
    unit.complete(&u.nurse, &id, None, Some(59.5)).unwrap();
    let log = actions_logged(&u.k);
    for a in [actions::BOOK, actions::CHECK_IN, actions::COMPLETE] {
        assert!(log.contains(&a.to_owned()), "{a} in {log:?}");
    }
    assert!(unit.cancel(&u.reception, &id, None).is_err());
}

#[test]
fn re_pooling_and_retiring_move_future_bookings_and_say_who() {
    let u = unit();
    let unit = u.k.dialysis();
    open_every_day(&u);
    unit.add_machine(&u.nurse, "A", Pool::Negative).unwrap();
    unit.add_machine(&u.nurse, "B", Pool::Negative).unwrap();
    let today = today_s(&u.k);
    let mut ids = Vec::new();
    for name in ["Ramesh Yadav", "Suresh Sahu", "Mohan Das"] {
        let p = register(&u.k, name);
        unit.set_patient(
            &u.nurse,
            &PatientForm {
                patient_id: p.clone(),
                hbsag: Some(Serology::Neg),
                hcv: Some(Serology::Neg),
                hiv: Some(Serology::Neg),
                tested_on: Some(today.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        ids.push(p);
    }
    let book = |p: &str, shift| {
        unit.book(
            &u.nurse,
            &BookForm {
                patient_id: p.into(),
                date: today.clone(),
                shift,
                ..Default::default()
            },
        )
        .unwrap()
        .bookings
        .remove(0)
    };
    let first = book(&ids[0], 1);
    let second = book(&ids[1], 1);
    assert_eq!(
        (first.machine.as_deref(), second.machine.as_deref()),
        (Some("A"), Some("B"))
    );
    // Re-pooling A to HBV: Ramesh cannot stay and B is full in his slot, so he waits.
    assert!(unit.set_machine_pool(&u.reception, "A", Pool::Hbv).is_err());
    let out = unit.set_machine_pool(&u.nurse, "A", Pool::Hbv).unwrap();
    assert_eq!(out.affected.len(), 1);
    assert_eq!(out.affected[0].patient_name, "Ramesh Yadav");
    assert_eq!(out.affected[0].status, Status::Waitlisted);
    // Renamed, then retired: Suresh on B moves nowhere (no other negative machine) and waits;
    // the machine stays in the list, inactive.
    unit.rename_machine(&u.nurse, "B", "HD-Old").unwrap();
    let out = unit.retire_machine(&u.nurse, "HD-Old").unwrap();
    assert!(!out.machine.active);
    assert_eq!(out.affected[0].patient_name, "Suresh Sahu");
    assert_eq!(out.affected[0].status, Status::Waitlisted);
    assert_eq!(unit.waitlist(&u.nurse, None).unwrap().len(), 2);
    // A new negative machine serves both.
    let out = unit.add_machine(&u.nurse, "C", Pool::Negative).unwrap();
    assert_eq!(promoted(&out.moves).len(), 1, "one slot, one machine");
    let log = actions_logged(&u.k);
    for a in [
        actions::MACHINE_POOL,
        actions::MACHINE_RENAME,
        actions::MACHINE_RETIRE,
        actions::DISPLACE,
    ] {
        assert!(log.contains(&a.to_owned()), "{a} in {log:?}");
    }
    let board = unit.day(&u.nurse, &today).unwrap();
    assert!(board.machines.iter().all(|m| m.name != "HD-Old"));
}
