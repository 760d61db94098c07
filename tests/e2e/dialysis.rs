//! End to end: a dialysis nurse sets up the unit, records serology, books, checks in and
//! completes a session in the real app — and infection control holds on screen: an HBsAg-positive
//! patient lands on the HBV machine, never on the negative one. Then a machine is added, renamed
//! and retired: it leaves the day board, its record stays.
#![allow(clippy::unwrap_used)]

mod common;

use common::{by_id, connect, screenshot, type_into, wait_text, ONE_AT_A_TIME};
use fantoccini::{Client, Locator};
use serde_json::json;
use swagat_core::opd::RegisterRequest;
use swagat_core::{Actor, Kiosk, NewStaff, Role};
use swagat_tests::{app_binary, start_tauri_driver, start_xvfb};

/// Seeds what reception would have done: the facility, a nurse's account, two registered patients.
fn seed(db: &std::path::Path) {
    let (kiosk, admin) = common::seed_facility(
        db,
        json!({"name_en": "District Hospital Bhagalpur",
                "name_hi": "सदर अस्पताल भागलपुर", "kiosk_letter": "D", "facility_code": "BGP01"}),
        "Admin",
        "135790",
    );
    kiosk
        .add_staff(
            &Actor::Staff(admin.id),
            &NewStaff {
                name: "Meena".into(),
                role: Role::DialysisNurse,
                secret: "246802".into(),
            },
        )
        .unwrap();
    for (name, gender, age) in [("Ramesh Yadav", "M", 52), ("Shanti Kumari", "F", 47)] {
        let req: RegisterRequest = serde_json::from_value(json!({"department": "GEN",
            "patient": {"name": name, "gender": gender, "age_years": age}}))
        .unwrap();
        kiosk.register(&Actor::Cli, &req).unwrap();
    }
}

/// Patient name, machine, status, weight before and after.
type SessionRow = (String, String, String, Option<f64>, Option<f64>);

/// Clicks `id` after scrolling it to the middle of the screen (the chosen-patient bar sticks to
/// the top and the toast is fixed there: neither may cover what is clicked).
async fn click(c: &Client, id: &str) {
    let el = by_id(c, id).await;
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'})",
        vec![serde_json::to_value(&el).unwrap()],
    )
    .await
    .unwrap();
    el.click().await.unwrap();
}

/// On the patient tab: finds `name`, records serology (HBsAg as given, the rest negative).
async fn record_serology(c: &Client, name: &str, hbsag: &str) {
    click(c, "dialysis-tab-patient").await;
    type_into(c, "dialysis-patient-query", name).await;
    by_id(c, "dialysis-patient-query")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    click(c, "dialysis-result").await;
    wait_text(c, "dialysis-patient-name", |t| t.contains(name)).await;
    // A new dialysis patient: the form is loaded (and will not be reset under the taps).
    by_id(c, "dialysis-no-record").await;
    click(c, &format!("dialysis-hbsag-{hbsag}")).await;
    click(c, "dialysis-hcv-neg").await;
    click(c, "dialysis-hiv-neg").await;
    click(c, "dialysis-serology-save").await;
    by_id(c, "dialysis-patient-pool").await;
    saved(c).await;
}

/// The app-wide toast says the change was saved (errors would show there too, as `error`).
async fn saved(c: &Client) {
    let t = by_id(c, "toast").await;
    let kind = t.attr("data-kind").await.unwrap();
    let text = t.text().await.unwrap_or_default();
    assert_eq!(kind.as_deref(), Some("ok"), "the toast said: {text}");
}

/// On the day board: opens the booking form from a free cell, picks `name`, books once.
async fn book(c: &Client, free_cell: &str, name: &str) {
    click(c, "dialysis-tab-day").await;
    click(c, free_cell).await;
    by_id(c, "dialysis-book-form").await;
    type_into(c, "dialysis-patient-query", name).await;
    click(c, "dialysis-patient-search").await;
    click(c, "dialysis-result").await;
    wait_text(c, "dialysis-chosen", |t| t.contains(name)).await;
    click(c, "dialysis-repeat-none").await;
    click(c, "dialysis-book-submit").await;
    wait_text(c, "dialysis-book-result", |t| t.contains("1")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_sets_up_the_unit_books_checks_in_and_completes_a_session() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_binary().unwrap();
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("kiosk.db");
    seed(&db);
    let (display, _xvfb) = start_xvfb().unwrap();
    let (port, _driver) = start_tauri_driver(
        &display,
        &[("SWAGAT_DB", &db), ("XDG_DATA_HOME", data.path())],
    )
    .unwrap();
    let c = connect(port, &app).await;
    type_into(&c, "login-name", "Meena").await;
    type_into(&c, "login-pin", "246802").await;
    click(&c, "login-submit").await;
    click(&c, "home-dialysis").await;
    by_id(&c, "dialysis").await;

    // Unit setup: a negative machine and an HBV machine, two shifts, open every day (so the
    // test can book today whatever weekday it runs on).
    click(&c, "dialysis-tab-unit").await;
    by_id(&c, "dialysis-unit").await;
    for (name, pool) in [("M-1", "negative"), ("B-1", "hbv")] {
        type_into(&c, "unit-machine-name", name).await;
        by_id(&c, "unit-machine-pool")
            .await
            .select_by_value(pool)
            .await
            .unwrap();
        click(&c, "unit-machine-add").await;
        by_id(&c, &format!("unit-machine-{name}")).await;
    }
    // One time per shift; the typed list is behind "type the times".
    click(&c, "unit-shift-typed").await;
    type_into(&c, "unit-shift-times", "06:00,10:30").await;
    // Leave the field first (its change redraws the shift fields, moving the save button).
    by_id(&c, "unit-shift-times")
        .await
        .send_keys("\u{E004}")
        .await
        .unwrap();
    wait_text(&c, "unit-shifts-save", |_| true).await;
    click(&c, "unit-shifts-save").await;
    saved(&c).await;
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        let b = by_id(&c, &format!("unit-day-{day}")).await;
        if !b.is_selected().await.unwrap() {
            b.click().await.unwrap();
        }
    }
    click(&c, "unit-days-save").await;
    saved(&c).await;
    screenshot(&c, "20-dialysis-unit").await;

    record_serology(&c, "Ramesh", "neg").await;
    record_serology(&c, "Shanti", "pos").await;

    // Book from the day board. The HBsAg-positive patient goes to B-1 even though the cell
    // tapped was on M-1's row: the pool decides the machine, not the tap.
    book(&c, "dialysis-free-M-1-1", "Ramesh").await;
    wait_text(&c, "dialysis-slot-M-1-1", |t| t.contains("Ramesh")).await;
    book(&c, "dialysis-free-M-1-2", "Shanti").await;
    wait_text(&c, "dialysis-slot-B-1-2", |t| t.contains("Shanti")).await;
    by_id(&c, "dialysis-free-M-1-2").await;
    screenshot(&c, "21-dialysis-day-board").await;

    // Check in with the weight, then complete.
    click(&c, "dialysis-slot-M-1-1").await;
    by_id(&c, "dialysis-action").await;
    type_into(&c, "dialysis-pre-weight", "62.4").await;
    click(&c, "dialysis-check-in").await;
    wait_text(&c, "dialysis-slot-M-1-1", |t| {
        t.contains("Checked in") || t.contains("आ गए")
    })
    .await;
    click(&c, "dialysis-slot-M-1-1").await;
    type_into(&c, "dialysis-post-weight", "60.1").await;
    click(&c, "dialysis-complete").await;
    wait_text(&c, "dialysis-slot-M-1-1", |t| {
        t.contains("Done") || t.contains("पूर्ण")
    })
    .await;
    screenshot(&c, "22-dialysis-completed").await;

    // A machine bought by mistake under the wrong name: added, renamed, then retired. It leaves
    // the unit's list of machines in service and the day board.
    click(&c, "dialysis-tab-unit").await;
    type_into(&c, "unit-machine-name", "M-9").await;
    by_id(&c, "unit-machine-pool")
        .await
        .select_by_value("negative")
        .await
        .unwrap();
    click(&c, "unit-machine-add").await;
    click(&c, "unit-edit-M-9").await;
    type_into(&c, "unit-rename-input", "M-3").await;
    click(&c, "unit-rename-save").await;
    click(&c, "unit-edit-M-3").await;
    click(&c, "unit-retire").await;
    click(&c, "unit-retire-confirm").await;
    wait_text(&c, "unit-state-M-3", |t| {
        t.contains("Retired") || t.contains("सेवा से हटाई")
    })
    .await;
    screenshot(&c, "23-dialysis-machine-retired").await;
    click(&c, "dialysis-tab-day").await;
    by_id(&c, "dialysis-machine-M-1").await;
    assert!(
        c.find(Locator::Css("[data-testid='dialysis-machine-M-3']"))
            .await
            .is_err(),
        "a retired machine with no session that day is not on the board"
    );
    c.close().await.unwrap();

    // What the screen did is in the database, read through the core the CLI uses.
    let kiosk = Kiosk::open(&db).unwrap();
    let rows: Vec<SessionRow> = kiosk
        .store()
        .read(|c| {
            let mut st = c.prepare(
                "SELECT p.name, m.name, b.status, b.pre_weight_kg, b.post_weight_kg \
                 FROM dialysis_bookings b JOIN patients p ON p.id = b.patient_id \
                 LEFT JOIN dialysis_machines m ON m.id = b.machine_id ORDER BY p.name",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .unwrap();
    let log = kiosk.audit_log(200).unwrap();
    for action in [
        swagat_core::dialysis::actions::MACHINE_RENAME,
        swagat_core::dialysis::actions::MACHINE_RETIRE,
    ] {
        assert!(
            log.iter()
                .any(|e| e.action == action && e.actor.starts_with("staff:")),
            "{action} audited as the nurse"
        );
    }
    let machines: Vec<(String, bool)> = kiosk
        .dialysis()
        .machines(&Actor::Cli)
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.active))
        .collect();
    assert!(
        machines.contains(&("M-3".to_owned(), false)),
        "{machines:?}"
    );
    assert_eq!(
        rows,
        vec![
            (
                "Ramesh Yadav".to_owned(),
                "M-1".to_owned(),
                "completed".to_owned(),
                Some(62.4),
                Some(60.1)
            ),
            (
                "Shanti Kumari".to_owned(),
                "B-1".to_owned(),
                "confirmed".to_owned(),
                None,
                None
            ),
        ]
    );
}
