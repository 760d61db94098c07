//! The reports against a recount of the raw visits: the per-day counts the triggers keep must
//! equal what counting `visits` ⋈ `patients` directly gives, for random days of demo data plus
//! registrations with waivers, follow-ups, cancels, a corrected patient and a merge.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::opd::RegisterRequest;
use crate::{FirstRunSetup, Kiosk};

pub(crate) fn kiosk() -> (Kiosk, Actor) {
    let k = Kiosk::open_in_memory().unwrap();
    let admin = k
        .first_run_setup(&FirstRunSetup {
            facility: serde_json::from_value(json!({
                "name_en": "PHC Bihta", "name_hi": "प्राथमिक स्वास्थ्य केंद्र बिहटा",
                "kiosk_letter": "A", "state_lgd": 10, "district_lgd": 212
            }))
            .unwrap(),
            admin_name: "Admin".into(),
            admin_secret: "135790".into(),
        })
        .unwrap();
    (k, Actor::Staff(admin.id))
}

fn register(
    k: &Kiosk,
    actor: &Actor,
    dept: &str,
    patient: serde_json::Value,
    waiver: Option<&str>,
) -> String {
    k.register(
        actor,
        &RegisterRequest {
            department: dept.into(),
            patient: Some(serde_json::from_value(patient).unwrap()),
            patient_id: None,
            waiver: waiver.map(str::to_owned),
            waiver_reason: None,
        },
    )
    .unwrap()
    .visit_id
}

/// What the summary should say, counted from the raw tables in Rust.
#[derive(Debug, Default, PartialEq)]
struct Recount {
    registrations: i64,
    new: i64,
    follow_up: i64,
    cancelled: i64,
    fees: i64,
    abha: i64,
    dept: BTreeMap<String, i64>,
    gender: BTreeMap<String, i64>,
    band: BTreeMap<String, i64>,
    waiver: BTreeMap<String, i64>,
    hour: BTreeMap<u8, i64>,
}

fn band(age: i32) -> &'static str {
    match age {
        i32::MIN..=4 => "0-4",
        5..=14 => "5-14",
        15..=29 => "15-29",
        30..=44 => "30-44",
        45..=59 => "45-59",
        _ => "60+",
    }
}

fn recount(k: &Kiosk, from: &str, to: &str) -> Recount {
    k.store()
        .read(|c| {
            let mut st = c.prepare(
                "SELECT v.department, v.visit_type, v.fee_rupees, v.waiver_code, v.status, \
                 v.abha_linked, v.created_at, v.visit_date, p.gender, p.dob, p.year_of_birth \
                 FROM visits v JOIN patients p ON p.id = v.patient_id \
                 WHERE v.visit_date >= ?1 AND v.visit_date <= ?2",
            )?;
            let mut out = Recount::default();
            let mut q = st.query([from, to])?;
            while let Some(r) = q.next()? {
                if r.get::<_, String>(4)? == "cancelled" {
                    out.cancelled += 1;
                    continue;
                }
                out.registrations += 1;
                let vt: String = r.get(1)?;
                if vt == "new" {
                    out.new += 1
                } else {
                    out.follow_up += 1
                }
                out.fees += r.get::<_, i64>(2)?;
                if let Some(w) = r.get::<_, Option<String>>(3)? {
                    *out.waiver.entry(w).or_default() += 1;
                }
                out.abha += r.get::<_, i64>(5)?;
                *out.dept.entry(r.get(0)?).or_default() += 1;
                let g: String = r.get(8)?;
                let g = if g == "M" || g == "F" { g } else { "O".into() };
                *out.gender.entry(g).or_default() += 1;
                let visit = parse_date("d", &r.get::<_, String>(7)?).unwrap();
                let dob: Option<String> = r.get(9)?;
                let age = match dob {
                    Some(d) => {
                        let d = parse_date("d", &d).unwrap();
                        visit.year()
                            - d.year()
                            - i32::from(
                                (u8::from(visit.month()), visit.day())
                                    < (u8::from(d.month()), d.day()),
                            )
                    }
                    None => visit.year() - r.get::<_, i32>(10)?,
                };
                *out.band.entry(band(age).to_owned()).or_default() += 1;
                let created = crate::clock::from_db(&r.get::<_, String>(6)?).unwrap();
                let hour = created.to_offset(time::macros::offset!(+5:30)).hour();
                *out.hour.entry(hour).or_default() += 1;
            }
            Ok(out)
        })
        .unwrap()
}

fn from_summary(s: &Summary) -> Recount {
    let nz = |v: Vec<(String, i64)>| {
        v.into_iter()
            .filter(|(_, n)| *n != 0)
            .collect::<BTreeMap<_, _>>()
    };
    Recount {
        registrations: s.registrations,
        new: s.new,
        follow_up: s.follow_up,
        cancelled: s.cancelled,
        fees: s.fees_collected,
        abha: s.abha_linked,
        dept: nz(s
            .by_department
            .iter()
            .map(|d| (d.code.clone(), d.registrations))
            .collect()),
        gender: nz(vec![
            ("M".into(), s.by_gender.M),
            ("F".into(), s.by_gender.F),
            ("O".into(), s.by_gender.O),
        ]),
        band: nz(s
            .by_age_band
            .iter()
            .map(|b| (b.band.clone(), b.registrations))
            .collect()),
        waiver: nz(s
            .waivers
            .iter()
            .map(|w| (w.code.clone(), w.count))
            .collect()),
        hour: s
            .by_hour
            .iter()
            .filter(|h| h.registrations != 0)
            .map(|h| (h.hour, h.registrations))
            .collect(),
    }
}

/// Demo data, then today's counter: waivers, follow-ups, a transgender patient, a child; some
/// cancelled; one patient's sex and age corrected; two records merged.
fn busy_kiosk(seed: u64, patients: u32, cancel_every: usize) -> Kiosk {
    let (k, admin) = kiosk();
    crate::demo::seed(&k, patients, seed).unwrap();
    let mut ids = Vec::new();
    for i in 0..12u32 {
        let dept = ["GEN", "PED", "GYN", "DEN"][i as usize % 4];
        let waiver = [None, Some("BPL"), None, Some("JSSK")][i as usize % 4];
        let gender = ["M", "F", "T", "F"][i as usize % 4];
        ids.push(register(
            &k,
            &admin,
            dept,
            json!({"name": format!("Ram Kumar {i}"), "gender": gender, "age_years": 1 + i * 7}),
            waiver,
        ));
    }
    // Follow-ups: the same person again (found by name + year), and an ABHA patient.
    let first = k.visit(&ids[0]).unwrap();
    k.register(
        &admin,
        &RegisterRequest {
            department: "GEN".into(),
            patient: None,
            patient_id: Some(first.patient_id.clone()),
            waiver: None,
            waiver_reason: None,
        },
    )
    .unwrap();
    register(
        &k,
        &admin,
        "EYE",
        json!({"name": "Sita Devi", "gender": "F", "age_years": 61, "abha_number": "91-1234-5678-9012"}),
        None,
    );
    for (i, id) in ids.iter().enumerate() {
        if cancel_every > 0 && i % cancel_every == 1 {
            k.cancel_visit(&admin, id, "wrong department").unwrap();
        }
    }
    // A corrected record moves its visits between gender and age rows.
    let v = k.visit(&ids[2]).unwrap();
    k.edit_patient(
        &admin,
        &v.patient_id,
        &serde_json::from_value(json!({"gender": "M", "dob": "1950-01-01"})).unwrap(),
    )
    .unwrap();
    // A merge moves visits to another patient.
    let a = k.visit(&ids[4]).unwrap();
    let b = k.visit(&ids[5]).unwrap();
    k.merge_patients(&Actor::Cli, &a.patient_id, &b.patient_id)
        .unwrap();
    k
}

fn dates(k: &Kiosk) -> Vec<String> {
    k.store()
        .read(|c| {
            let mut st = c.prepare("SELECT DISTINCT visit_date FROM visits ORDER BY 1")?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn summary_equals_a_recount_of_the_visits(
        seed in 1u64..10_000,
        cancel_every in 0usize..4,
        picks in proptest::collection::vec((0usize..1000, 0usize..30), 4),
    ) {
        let k = busy_kiosk(seed, 60, cancel_every);
        let days = dates(&k);
        prop_assert!(!days.is_empty());
        for (start, len) in picks {
            let from = &days[start % days.len()];
            let to = &days[(start % days.len() + len).min(days.len() - 1)];
            let s = k.report_summary(from, to).unwrap();
            prop_assert_eq!(from_summary(&s), recount(&k, from, to), "{}..{}", from, to);
            prop_assert_eq!(s.new + s.follow_up, s.registrations);
            prop_assert_eq!(s.by_age_band.iter().map(|b| b.registrations).sum::<i64>(), s.registrations);
        }
        // The whole range at once, and the day register agrees with the day summary.
        let (first, last) = (days[0].clone(), days[days.len() - 1].clone());
        let s = k.report_summary(&first, &last).unwrap();
        prop_assert_eq!(from_summary(&s), recount(&k, &first, &last));
        let reg = k.report_register(&last).unwrap();
        let day = k.report_summary(&last, &last).unwrap();
        prop_assert_eq!(reg.rows.iter().filter(|r| !r.cancelled).count() as i64, day.registrations);
        prop_assert_eq!(reg.rows.iter().filter(|r| r.cancelled).count() as i64, day.cancelled);
        let cash = k.report_cash(&last).unwrap();
        prop_assert_eq!(cash.totals.visits, day.registrations);
        prop_assert_eq!(cash.totals.fees_collected, day.fees_collected);
        prop_assert_eq!(cash.totals.refunds, day.cancelled);
    }
}

#[test]
fn cancelled_visits_are_listed_not_counted() {
    let (k, admin) = kiosk();
    let a = register(
        &k,
        &admin,
        "GEN",
        json!({"name": "Ram", "gender": "M", "age_years": 40}),
        None,
    );
    let _b = register(
        &k,
        &admin,
        "GEN",
        json!({"name": "Shyam", "gender": "M", "age_years": 3}),
        Some("BPL"),
    );
    k.cancel_visit(&admin, &a, "duplicate").unwrap();
    let today = k.home_summary().unwrap().date;
    let s = k.report_summary(&today, &today).unwrap();
    assert_eq!((s.registrations, s.cancelled, s.fees_collected), (1, 1, 0));
    assert_eq!(
        s.by_age_band
            .iter()
            .find(|b| b.band == "0-4")
            .unwrap()
            .registrations,
        1
    );
    assert_eq!(
        s.by_age_band
            .iter()
            .find(|b| b.band == "30-44")
            .unwrap()
            .registrations,
        0
    );
    assert_eq!(s.waivers.iter().find(|w| w.code == "BPL").unwrap().count, 1);
    let reg = k.report_register(&today).unwrap();
    assert_eq!(reg.rows.len(), 2);
    assert!(reg.rows[0].cancelled && !reg.rows[1].cancelled);
    let total = reg.totals.last().unwrap();
    assert_eq!(
        (total.registrations, total.cancelled, total.waived),
        (1, 1, 1)
    );
    let cash = k.report_cash(&today).unwrap();
    assert_eq!(cash.staff.len(), 1);
    assert_eq!(cash.staff[0].staff, "Admin");
    assert_eq!(
        (
            cash.staff[0].visits,
            cash.staff[0].refunds,
            cash.staff[0].refunded
        ),
        (1, 1, 10)
    );
    assert_eq!(cash.refunds.len(), 1);
}

#[test]
fn every_visit_belongs_to_one_staff_entry_and_the_cli_has_its_own() {
    let (k, admin) = kiosk();
    let nurse = k
        .add_staff(
            &admin,
            &crate::NewStaff {
                name: "Sunita".into(),
                role: crate::Role::Reception,
                secret: "246802".into(),
            },
        )
        .unwrap();
    let sunita = Actor::Staff(nurse.id);
    register(
        &k,
        &admin,
        "GEN",
        json!({"name": "A", "gender": "M", "age_years": 40}),
        None,
    );
    register(
        &k,
        &sunita,
        "GEN",
        json!({"name": "B", "gender": "F", "age_years": 30}),
        None,
    );
    register(
        &k,
        &sunita,
        "PED",
        json!({"name": "C", "gender": "F", "age_years": 3}),
        Some("JSSK"),
    );
    register(
        &k,
        &Actor::Cli,
        "GEN",
        json!({"name": "D", "gender": "M", "age_years": 50}),
        None,
    );
    let today = k.home_summary().unwrap().date;
    let cash = k.report_cash(&today).unwrap();
    let names: Vec<&str> = cash.staff.iter().map(|s| s.staff.as_str()).collect();
    assert_eq!(names, ["Admin", "cli", "Sunita"]);
    let sun = &cash.staff[2];
    assert_eq!((sun.visits, sun.fees_collected, sun.waived), (2, 10, 1));
    assert_eq!(cash.staff.iter().map(|s| s.visits).sum::<i64>(), 4);
    assert_eq!(cash.staff[1].actor, "cli");
}

#[test]
fn csv_starts_with_the_bom_and_quotes_what_it_must() {
    let (k, admin) = kiosk();
    register(
        &k,
        &admin,
        "GEN",
        json!({"name": "Ram, \"Bablu\" Kumar", "name_hi": "राम कुमार", "gender": "M", "age_years": 40}),
        None,
    );
    let today = k.home_summary().unwrap().date;
    let csv = k
        .report_export(
            &admin,
            ReportKind::Register,
            ExportFormat::Csv,
            &today,
            &today,
        )
        .unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.starts_with("serial,date,time,token,uhid,name,name_hi"));
    assert!(
        text.contains("\"Ram, \"\"Bablu\"\" Kumar\",राम कुमार"),
        "{text}"
    );
    let audit = k.audit_log(5).unwrap();
    let e = audit.iter().find(|e| e.action == "report.export").unwrap();
    assert_eq!(e.details["report"], "register");
    assert_eq!(e.details["format"], "csv");
    assert!(
        !e.details.to_string().contains("Ram"),
        "no personal data in the audit"
    );
}

#[test]
fn an_export_to_a_file_replaces_it_whole_or_leaves_it_alone() {
    let (k, admin) = kiosk();
    register(
        &k,
        &admin,
        "GEN",
        json!({"name": "Sita Devi", "gender": "F", "age_years": 30}),
        None,
    );
    let today = k.home_summary().unwrap().date;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.csv");
    std::fs::write(&path, b"an older export").unwrap();
    let out = k
        .report_export_to(
            &admin,
            ReportKind::Register,
            ExportFormat::Csv,
            &today,
            &today,
            &path,
        )
        .unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(out.bytes, written.len());
    assert_eq!(out.path, path.display().to_string());
    assert!(String::from_utf8_lossy(&written).contains("Sita Devi"));

    // A folder that is not there: a clear error, nothing left behind, the audit unchanged.
    let exports = |k: &Kiosk| {
        let log = k.audit_log(50).unwrap();
        log.iter().filter(|e| e.action == "report.export").count()
    };
    let before = exports(&k);
    let missing = dir.path().join("no-such-folder").join("register.csv");
    let err = k
        .report_export_to(
            &admin,
            ReportKind::Register,
            ExportFormat::Csv,
            &today,
            &today,
            &missing,
        )
        .unwrap_err();
    assert!(!crate::ErrorReport::from(&err).en.is_empty());
    assert!(!missing.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("register.csv")],
        "no .part file left"
    );
    assert_eq!(
        exports(&k),
        before + 1,
        "the attempt is audited once, as the export was made"
    );
}

#[test]
fn a_spreadsheet_formula_is_not_a_formula() {
    let mut c = Csv::new();
    c.record(&["=HYPERLINK(1)", "-5", "-", "ok"]);
    assert_eq!(&c.finish()[3..], b"'=HYPERLINK(1),'-5,-,ok\r\n");
}

#[test]
fn bad_dates_and_ranges_are_refused_in_both_languages() {
    let (k, _) = kiosk();
    let e = k.report_register("2026-13-01").unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Invalid);
    assert!(e.message(crate::Lang::Hi).contains("तारीख"));
    assert!(k.report_summary("2026-05-02", "2026-05-01").is_err());
    assert!(
        k.report_summary("2020-01-01", "2026-01-01").is_err(),
        "too long"
    );
    assert!(
        k.report_summary("2026-01-01", "2026-12-31").is_ok(),
        "a year"
    );
    assert!(k.report_monthly("2026-02").is_ok());
    assert!(k.report_monthly("2026-2x").is_err());
}

#[test]
fn monthly_items_follow_the_visits() {
    let (k, admin) = kiosk();
    register(
        &k,
        &admin,
        "DEN",
        json!({"name": "A", "gender": "F", "age_years": 40}),
        None,
    );
    register(
        &k,
        &admin,
        "GEN",
        json!({"name": "B", "gender": "M", "age_years": 2}),
        None,
    );
    let today = k.home_summary().unwrap().date;
    let m = k.report_monthly(&today[..7]).unwrap();
    let v = |key: &str| m.items.iter().find(|i| i.key == key).unwrap().value;
    assert_eq!(v("opd.total"), 2);
    assert_eq!((v("opd.male"), v("opd.female")), (1, 1));
    assert_eq!(v("opd.dental"), 1);
    assert_eq!(v("opd.children_under_5"), 1);
    assert_eq!(v("opd.new.female"), 1);
    // The items the current HMIS format numbers carry their item codes, in the format's order.
    let code = |key: &str| {
        m.items
            .iter()
            .find(|i| i.key == key)
            .unwrap()
            .hmis_code
            .clone()
    };
    assert_eq!(code("opd.allopathic").as_deref(), Some("14.2.1"));
    assert_eq!(code("opd.ayush").as_deref(), Some("14.2.2"));
    assert_eq!(code("opd.elderly_60_plus").as_deref(), Some("14.1.1.b"));
    assert_eq!(code("opd.dental"), None);
    assert_eq!((v("opd.allopathic"), v("opd.ayush")), (2, 0));
}

#[test]
fn a_role_that_may_not_see_reports_is_refused_by_the_core() {
    let (k, admin) = kiosk();
    let nurse = k
        .add_staff(
            &admin,
            &crate::NewStaff {
                name: "Nurse".into(),
                role: crate::Role::DialysisNurse,
                secret: "864200".into(),
            },
        )
        .unwrap();
    let today = k.home_summary().unwrap().date;
    let e = k
        .report_export(
            &Actor::Staff(nurse.id),
            ReportKind::Register,
            ExportFormat::Csv,
            &today,
            &today,
        )
        .unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Auth);
    assert!(k
        .audit_log(5)
        .unwrap()
        .iter()
        .all(|e| e.action != "report.export"));
}
