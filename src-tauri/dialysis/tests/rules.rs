//! One test per allocation rule (see RULES.md), through the public API on a real SQLite schema.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use swagat_dialysis::{
    book, cancel, check_in, complete, machines, no_show, online, patients, schedule, unit, views,
    waitlist, week, BookRequest, DialysisError, PatientUpdate, Pool, Serology, Status,
};
use time::macros::date;
use time::Weekday;

const MON: time::Date = date!(2026 - 03 - 02);
const TESTED: time::Date = date!(2026 - 02 - 20);

fn one(
    c: &rusqlite::Connection,
    p: &str,
    d: time::Date,
    shift: u32,
) -> swagat_dialysis::BookedSlot {
    book(c, &BookRequest::single(p, d, shift))
        .unwrap()
        .bookings
        .remove(0)
}

#[test]
fn migration_has_defaults() {
    let c = db();
    let s = unit::shifts(&c).unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!((s[0].start.as_str(), s[0].end.as_str()), ("06:00", "10:00"));
    assert_eq!(unit::settings(&c).unwrap().stale_serology_days, 90);
    assert_eq!(unit::settings(&c).unwrap().working_days.len(), 6);
}

#[test]
fn each_serology_goes_to_its_pool_only() {
    let c = db();
    for (name, pool) in [
        ("N1", Pool::Negative),
        ("B1", Pool::Hbv),
        ("C1", Pool::Hcv),
        ("V1", Pool::Hiv),
        ("U1", Pool::Unknown),
    ] {
        machine(&c, name, pool);
    }
    for (id, s, m) in [
        ("n", NEG, "N1"),
        ("b", HBV, "B1"),
        ("c", HCV, "C1"),
        ("v", HIV, "V1"),
        ("u", UNK, "U1"),
    ] {
        patient(&c, id, s, TESTED);
        let b = one(&c, id, MON, 1);
        assert_eq!(
            (b.status, b.machine.as_deref()),
            (Status::Confirmed, Some(m)),
            "{id}"
        );
    }
}

#[test]
fn hbv_patient_waits_rather_than_use_a_free_negative_machine() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "b", HBV, TESTED);
    let b = one(&c, "b", MON, 1);
    assert_eq!((b.status, b.machine), (Status::Waitlisted, None));
}

#[test]
fn co_infection_goes_to_hbv_and_is_flagged() {
    let c = db();
    machine(&c, "C1", Pool::Hcv);
    machine(&c, "B1", Pool::Hbv);
    patient(
        &c,
        "x",
        [Serology::Pos, Serology::Pos, Serology::Neg],
        TESTED,
    );
    let out = book(&c, &BookRequest::single("x", MON, 1)).unwrap();
    assert_eq!(out.bookings[0].machine.as_deref(), Some("B1"));
    assert!(out.warnings.iter().any(|w| w.code == "co_infection"));
}

#[test]
fn stale_serology_is_flagged_at_booking_and_check_in() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "n", NEG, date!(2025 - 10 - 01)); // > 90 days before MON
    let out = book(&c, &BookRequest::single("n", MON, 1)).unwrap();
    assert_eq!(out.bookings[0].status, Status::Confirmed);
    assert_eq!(out.bookings[0].warnings, vec!["serology_stale"]);
    let ci = check_in(&c, &out.bookings[0].id, Some(61.5)).unwrap();
    assert!(ci.warnings.iter().any(|w| w.code == "serology_stale"));
    assert_eq!(ci.booking.status, Status::CheckedIn);
    // Fresh results: no warning.
    patient(&c, "f", NEG, TESTED);
    assert!(one(&c, "f", MON, 2).warnings.is_empty());
}

#[test]
fn machine_under_maintenance_is_not_allocated_and_its_bookings_move() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "N2", Pool::Negative);
    for p in ["a", "b"] {
        patient(&c, p, NEG, TESTED);
    }
    let a = one(&c, "a", MON, 1);
    assert_eq!(a.machine.as_deref(), Some("N1"));
    // N1 out on MON: a moves to N2.
    let out = machines::set_maintenance(&c, "N1", MON, Some(MON), "pump fault").unwrap();
    assert_eq!(out.moves.len(), 1);
    assert_eq!(out.moves[0].to.machine.as_deref(), Some("N2"));
    // b: no negative machine left on MON shift 1.
    let b = one(&c, "b", MON, 1);
    assert_eq!(b.status, Status::Waitlisted);
    // N2 out too: a goes back to the waitlist, ahead of b (earlier request).
    let out = machines::set_maintenance(&c, "N2", MON, None, "service").unwrap();
    assert_eq!(out.moves[0].to.status, Status::Waitlisted);
    let wl = waitlist(&c, None).unwrap();
    assert_eq!(
        wl.iter().map(|b| b.patient_id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    // N1 back in service: a (first in line) gets it.
    let out = machines::end_maintenance(&c, "N1", MON).unwrap();
    assert_eq!(out.moves.len(), 1);
    assert_eq!(out.moves[0].patient_id, "a");
    assert_eq!(out.moves[0].to.machine.as_deref(), Some("N1"));
}

#[test]
fn one_machine_one_shift_one_booking_enforced_by_the_index() {
    let c = db();
    let m = machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    patient(&c, "b", NEG, TESTED);
    one(&c, "a", MON, 1);
    assert_eq!(one(&c, "b", MON, 1).status, Status::Waitlisted);
    let err = c.execute(
        "INSERT INTO dialysis_bookings (id, patient_id, date, shift, machine_id, status, requested_at, updated_at) \
         VALUES ('x', 'b', '2026-03-02', 1, ?1, 'confirmed', 't', 't')",
        [&m],
    );
    assert!(
        err.is_err(),
        "the partial UNIQUE index refuses a second session on N1"
    );
}

#[test]
fn one_session_per_patient_per_day() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    one(&c, "a", MON, 1);
    let e = book(&c, &BookRequest::single("a", MON, 2)).unwrap_err();
    assert!(matches!(e, DialysisError::Refused(r) if r.code == "already_booked"));
}

#[test]
fn holidays_non_working_days_and_unknown_shifts_are_refused() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    let sunday = date!(2026 - 03 - 01);
    let e = book(&c, &BookRequest::single("a", sunday, 1)).unwrap_err();
    assert!(
        matches!(&e, DialysisError::Refused(r) if r.code == "non_working_day"),
        "{e}"
    );
    unit::add_holiday(&c, date!(2026 - 03 - 04), "Holi").unwrap();
    let e = book(&c, &BookRequest::single("a", date!(2026 - 03 - 04), 1)).unwrap_err();
    assert!(
        matches!(&e, DialysisError::Refused(r) if r.code == "holiday"),
        "{e}"
    );
    let e = book(&c, &BookRequest::single("a", MON, 4)).unwrap_err();
    assert!(matches!(&e, DialysisError::Refused(r) if r.code == "unknown_shift"));
    // A series skips the holiday and books the rest.
    let out = book(
        &c,
        &BookRequest::recurring(
            "a",
            MON,
            1,
            vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday],
            2,
        ),
    )
    .unwrap();
    assert_eq!(out.bookings.len(), 5);
    assert_eq!(out.refused.len(), 1);
    assert_eq!(out.refused[0].reason.code, "holiday");
    // A booked day cannot become a holiday.
    assert!(unit::add_holiday(&c, MON, "x").is_err());
}

#[test]
fn booking_needs_a_dialysis_record_and_eligibility() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    c.execute("INSERT INTO patients (id, name) VALUES ('p', 'P')", [])
        .unwrap();
    let e = book(&c, &BookRequest::single("p", MON, 1)).unwrap_err();
    assert!(matches!(&e, DialysisError::Refused(r) if r.code == "no_dialysis_record"));
    assert!(e.as_invalid().unwrap().1.contains("dialysis patient set"));
    let e = book(&c, &BookRequest::single("nobody", MON, 1)).unwrap_err();
    assert!(matches!(e, DialysisError::NotFound { .. }));
    patient(&c, "q", NEG, TESTED);
    patients::set(
        &c,
        &PatientUpdate {
            patient_id: "q".into(),
            eligible: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    let e = book(&c, &BookRequest::single("q", MON, 1)).unwrap_err();
    assert!(matches!(&e, DialysisError::Refused(r) if r.code == "not_eligible"));
    // Results without a test date are refused.
    let e = patients::set(
        &c,
        &PatientUpdate {
            patient_id: "q".into(),
            hbsag: Some(Serology::Neg),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, DialysisError::Invalid { .. }));
}

#[test]
fn recurring_series_keeps_one_machine() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "N2", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    patient(&c, "b", NEG, TESTED);
    one(&c, "a", date!(2026 - 03 - 04), 1); // takes N1 on Wednesday
    let out = book(
        &c,
        &BookRequest::recurring(
            "b",
            MON,
            1,
            vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday],
            4,
        ),
    )
    .unwrap();
    assert_eq!(out.bookings.len(), 12);
    assert!(out.series_id.is_some());
    let names: Vec<_> = out
        .bookings
        .iter()
        .map(|b| b.machine.clone().unwrap())
        .collect();
    assert_eq!(names[0], "N1");
    assert_eq!(names[1], "N2", "N1 taken on Wednesday");
    assert!(
        names[2..].iter().all(|n| n == "N2"),
        "sticks to N2 once moved: {names:?}"
    );
}

#[test]
fn waitlist_is_served_by_priority_then_request_time_and_pool() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "B1", Pool::Hbv);
    for (p, s) in [("a", NEG), ("b", NEG), ("c", NEG), ("h", HBV), ("h2", HBV)] {
        patient(&c, p, s, TESTED);
    }
    let a = one(&c, "a", MON, 1);
    let h = one(&c, "h", MON, 1);
    assert_eq!(one(&c, "h2", MON, 1).status, Status::Waitlisted);
    let b = one(&c, "b", MON, 1);
    assert_eq!(b.status, Status::Waitlisted);
    let urgent = book(
        &c,
        &BookRequest {
            priority: 5,
            ..BookRequest::single("c", MON, 1)
        },
    )
    .unwrap();
    assert_eq!(urgent.bookings[0].status, Status::Waitlisted);
    // Cancel a: c (priority 5) beats b (earlier); the HBV waiter is not eligible for N1.
    let out = cancel(&c, &a.id, Some("travel")).unwrap();
    assert_eq!(out.booking.status, Status::Cancelled);
    assert_eq!(out.moves.len(), 1);
    assert_eq!(out.moves[0].patient_id, "c");
    assert_eq!(
        (out.moves[0].from.status, out.moves[0].to.status),
        (Status::Waitlisted, Status::Confirmed)
    );
    // No-show of h: h2 gets B1.
    let out = no_show(&c, &h.id).unwrap();
    assert_eq!(out.moves[0].patient_id, "h2");
    assert_eq!(out.moves[0].to.machine.as_deref(), Some("B1"));
    // Cancelling a waitlisted booking moves no one.
    assert!(cancel(&c, &b.id, None).unwrap().moves.is_empty());
    assert!(waitlist(&c, None).unwrap().is_empty());
}

#[test]
fn serology_change_moves_bookings_to_the_right_pool() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "B1", Pool::Hbv);
    patient(&c, "a", NEG, TESTED);
    patient(&c, "b", NEG, TESTED);
    let a = one(&c, "a", MON, 1);
    assert_eq!(one(&c, "b", MON, 1).status, Status::Waitlisted);
    let out = patients::set(
        &c,
        &PatientUpdate {
            patient_id: "a".into(),
            hbsag: Some(Serology::Pos),
            tested_on: Some(MON),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.patient.pool, Pool::Hbv);
    let a_move = out.moves.iter().find(|m| m.booking_id == a.id).unwrap();
    assert_eq!(a_move.to.machine.as_deref(), Some("B1"));
    let b_move = out.moves.iter().find(|m| m.patient_id == "b").unwrap();
    assert_eq!(b_move.to.machine.as_deref(), Some("N1"));
}

#[test]
fn check_in_and_complete_record_weights() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    let a = one(&c, "a", MON, 1);
    assert!(
        complete(&c, &a.id, None, Some(58.0)).is_err(),
        "check in first"
    );
    check_in(&c, &a.id, Some(61.2)).unwrap();
    let done = complete(&c, &a.id, None, Some(58.9)).unwrap();
    assert_eq!(done.booking.status, Status::Completed);
    assert_eq!(
        (done.booking.pre_weight_kg, done.booking.post_weight_kg),
        (Some(61.2), Some(58.9))
    );
    assert!(cancel(&c, &a.id, None).is_err());
    assert!(check_in(&c, &a.id, Some(5.0)).is_err());
    let day = schedule(&c, MON).unwrap();
    assert_eq!(day.bookings.len(), 1);
    assert_eq!(day.machines.len(), 1);
    assert!(views::booking(&c, "missing").is_err());
}

#[test]
fn week_view_counts_capacity() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "N2", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    one(&c, "a", MON, 2);
    let w = week(&c, MON).unwrap();
    assert_eq!(w.days.len(), 7);
    assert!(!w.days[6].working_day, "Sunday");
    let slot = &w.days[0].slots[1];
    assert_eq!((slot.pools[0].machines, slot.pools[0].booked), (2, 1));
}

#[test]
fn shifts_are_validated() {
    let c = db();
    let t = |s: &str| unit::parse_times(s);
    assert_eq!(
        unit::set_shifts(&c, &t("06:00,10:30,15:00"), 240)
            .unwrap()
            .len(),
        3
    );
    assert!(
        unit::set_shifts(&c, &t("06:00,09:00"), 240).is_err(),
        "overlap"
    );
    assert!(unit::set_shifts(&c, &t("6am"), 240).is_err());
    assert!(
        unit::set_shifts(&c, &t("22:00"), 240).is_err(),
        "past midnight"
    );
    machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    one(&c, "a", MON, 3);
    assert!(
        unit::set_shifts(&c, &t("07:00,12:00"), 240).is_err(),
        "shift 3 has a booking"
    );
    assert_eq!(
        unit::set_shifts(&c, &t("07:00,11:30,16:00"), 240).unwrap()[2].end,
        "20:00"
    );
}

#[test]
fn online_requests_are_allocated_once() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    patient(&c, "a", NEG, TESTED);
    patient(&c, "b", NEG, TESTED);
    let r = online::ingest(
        &c,
        "PORTAL-1",
        r#"{"patient_id":"a","date":"2026-03-02","shift":1}"#,
    )
    .unwrap();
    assert_eq!(r.result, online::OnlineResult::Confirmed);
    let again = online::ingest(
        &c,
        "PORTAL-1",
        r#"{"patient_id":"a","date":"2026-03-02","shift":1}"#,
    )
    .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.booking.as_ref().map(|b| &b.id),
        r.booking.as_ref().map(|b| &b.id)
    );
    let w = online::ingest(
        &c,
        "PORTAL-2",
        r#"{"patient_id":"b","date":"2026-03-02","shift":1}"#,
    )
    .unwrap();
    assert_eq!(w.result, online::OnlineResult::Waitlisted);
    let x = online::ingest(
        &c,
        "PORTAL-3",
        r#"{"patient_id":"b","date":"2026-03-01","shift":1}"#,
    )
    .unwrap();
    assert_eq!(
        (x.result, x.reason.unwrap().code.as_str()),
        (online::OnlineResult::Refused, "non_working_day")
    );
    let y = online::ingest(&c, "PORTAL-4", "not json").unwrap();
    assert_eq!(y.reason.unwrap().code, "invalid_request");
    let z = online::ingest(
        &c,
        "PORTAL-5",
        r#"{"patient_id":"ghost","date":"2026-03-02","shift":1}"#,
    )
    .unwrap();
    assert_eq!(z.reason.unwrap().code, "unknown_patient");
    assert_eq!(online::list(&c, 10).unwrap().len(), 5);
    let bv = views::booking(&c, &w.booking.unwrap().id).unwrap();
    assert_eq!(bv.source, swagat_dialysis::Source::Online);
}

/// (new pool, the patient's serology, another machine's pool, status after, machine after).
type Case = (
    Pool,
    [Serology; 3],
    Option<Pool>,
    Status,
    Option<&'static str>,
);

/// Re-pooling a machine re-checks its bookings from `today` on, case by case: (the machine's new
/// pool, the patient's serology, another machine free in the slot?) → where the booking ends up.
#[test]
fn a_repooled_machine_keeps_fitting_bookings_and_moves_or_waitlists_the_rest() {
    let table: &[Case] = &[
        // The new pool still accepts the patient: nothing moves.
        (Pool::Negative, NEG, None, Status::Confirmed, Some("X")),
        // It does not: to another machine of the patient's pool in the same slot…
        (
            Pool::Hbv,
            NEG,
            Some(Pool::Negative),
            Status::Confirmed,
            Some("OTHER"),
        ),
        // …or, with none free, onto the waitlist.
        (Pool::Hbv, NEG, None, Status::Waitlisted, None),
        (Pool::Hcv, NEG, Some(Pool::Hcv), Status::Waitlisted, None),
        (
            Pool::Unknown,
            HBV,
            Some(Pool::Hbv),
            Status::Confirmed,
            Some("OTHER"),
        ),
    ];
    for (new_pool, serology, other, status, machine_after) in table {
        let c = db();
        let start_pool = rules_pool(*serology);
        machine(&c, "X", start_pool);
        patient(&c, "p", *serology, TESTED);
        let b = one(&c, "p", MON, 1);
        assert_eq!(b.machine.as_deref(), Some("X"));
        if let Some(p) = other {
            machine(&c, "OTHER", *p);
        }
        let out = machines::set_pool(&c, "X", *new_pool, MON).unwrap();
        assert_eq!(out.machine.pool, *new_pool);
        let now = views::booking(&c, &b.id).unwrap();
        assert_eq!(
            (now.status, now.machine.as_deref()),
            (*status, *machine_after),
            "{new_pool:?} {serology:?} {other:?}"
        );
        // The nurse is told about exactly the bookings that left the machine, by name.
        let moved = *status != Status::Confirmed || *machine_after != Some("X");
        assert_eq!(out.affected.len(), usize::from(moved));
        if moved {
            assert_eq!(out.affected[0].patient_name, "Patient p");
            assert_eq!(out.affected[0].status, *status);
        }
    }
}

fn rules_pool(s: [Serology; 3]) -> Pool {
    swagat_dialysis::rules::pool_for(swagat_dialysis::rules::SerologyResults {
        hbsag: s[0],
        hcv: s[1],
        hiv: s[2],
    })
    .pool
}

#[test]
fn re_pooling_serves_the_new_pools_waitlist_and_leaves_the_past_alone() {
    let c = db();
    machine(&c, "N1", Pool::Negative);
    machine(&c, "X", Pool::Negative);
    patient(&c, "old", NEG, TESTED);
    patient(&c, "hb", HBV, TESTED);
    let past = one(&c, "old", MON, 1);
    // No HBV machine yet: the HBV patient waits.
    let waiting = one(&c, "hb", MON + time::Duration::days(7), 1);
    assert_eq!(waiting.status, Status::Waitlisted);
    let out = machines::set_pool(&c, "X", Pool::Hbv, MON + time::Duration::days(1)).unwrap();
    let w = views::booking(&c, &waiting.id).unwrap();
    assert_eq!(
        (w.status, w.machine.as_deref()),
        (Status::Confirmed, Some("X"))
    );
    assert!(
        out.affected.is_empty(),
        "a promotion is a move, not a displacement"
    );
    assert_eq!(out.moves.len(), 1);
    // The session before `today` stays where it was (on N1 or X, whichever it got).
    assert_eq!(
        views::booking(&c, &past.id).unwrap().status,
        Status::Confirmed
    );
}

#[test]
fn a_retired_machine_takes_no_bookings_moves_its_future_and_keeps_its_history() {
    let c = db();
    machine(&c, "A", Pool::Negative);
    machine(&c, "B", Pool::Negative);
    for p in ["p1", "p2", "p3"] {
        patient(&c, p, NEG, TESTED);
    }
    let tue = MON + time::Duration::days(1);
    let done = one(&c, "p1", MON, 1);
    assert_eq!(done.machine.as_deref(), Some("A"));
    check_in(&c, &done.id, Some(60.0)).unwrap();
    complete(&c, &done.id, None, Some(58.0)).unwrap();
    let on_a = one(&c, "p2", tue, 1);
    let on_b = one(&c, "p3", tue, 1);
    assert_eq!(
        (on_a.machine.as_deref(), on_b.machine.as_deref()),
        (Some("A"), Some("B"))
    );
    let out = machines::retire(&c, "A", tue).unwrap();
    assert!(!out.machine.active);
    // B is full on Tuesday shift 1: p2 waits, and the nurse is told who.
    assert_eq!(out.affected.len(), 1);
    assert_eq!(out.affected[0].patient_name, "Patient p2");
    assert_eq!(out.affected[0].status, Status::Waitlisted);
    // No new bookings on A; a second retirement, a maintenance or a re-pool is refused.
    let next = one(&c, "p2", tue + time::Duration::days(1), 2);
    assert_eq!(next.machine.as_deref(), Some("B"));
    assert!(machines::retire(&c, "A", tue).is_err());
    assert!(machines::set_pool(&c, "A", Pool::Hbv, tue).is_err());
    assert!(machines::set_maintenance(&c, "A", tue, None, "x").is_err());
    // History kept: Monday's completed session still names A, and Monday's board shows A.
    let b = views::booking(&c, &done.id).unwrap();
    assert_eq!(
        (b.status, b.machine.as_deref()),
        (Status::Completed, Some("A"))
    );
    let monday = schedule(&c, MON).unwrap();
    assert!(monday.machines.iter().any(|m| m.name == "A" && m.retired));
    // It leaves the board of days it holds nothing.
    let tuesday = schedule(&c, tue).unwrap();
    assert!(tuesday.machines.iter().all(|m| m.name != "A"));
}

#[test]
fn a_machine_is_renamed_once_and_names_stay_unique() {
    let c = db();
    let a = machine(&c, "HD-1", Pool::Negative);
    machine(&c, "HD-2", Pool::Negative);
    let out = machines::rename(&c, "hd-1", "  HD-01 ").unwrap();
    assert_eq!(
        (out.machine.id.as_str(), out.machine.name.as_str()),
        (a.as_str(), "HD-01")
    );
    assert_eq!(out.audit.len(), 1);
    assert_eq!(
        out.audit[0].action,
        swagat_dialysis::actions::MACHINE_RENAME
    );
    // Same name again: nothing to audit; a taken name (any case) or a blank one is refused.
    assert!(machines::rename(&c, &a, "HD-01").unwrap().audit.is_empty());
    assert!(matches!(
        machines::rename(&c, &a, "hd-2"),
        Err(DialysisError::Invalid { .. })
    ));
    assert!(machines::rename(&c, &a, " ").is_err());
    assert!(machines::rename(&c, "nope", "X").is_err());
}
