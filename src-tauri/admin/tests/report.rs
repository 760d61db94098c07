//! `swagat-admin report register | summary | cash` as processes: the three JSON contracts, the
//! CSV's BOM, the PDF, cancelled visits excluded, the CLI's own actor on the cash sheet, bad input.
#![allow(clippy::unwrap_used)]

mod common;

use common::{admin, ok};
use serde_json::Value;

/// A facility with three CLI registrations today (one waived, one cancelled); returns the db,
/// today and the tokens.
fn set_up(dir: &std::path::Path) -> (std::path::PathBuf, String, Vec<String>) {
    let db = dir.join("k.db");
    let facility = dir.join("f.json");
    std::fs::write(
        &facility,
        r#"{"name_en":"PHC Bihta","name_hi":"पीएचसी बिहटा","kiosk_letter":"A"}"#,
    )
    .unwrap();
    ok(admin(
        &db,
        &[
            "init",
            "--file",
            facility.to_str().unwrap(),
            "--admin-name",
            "Admin",
            "--admin-secret",
            "135790",
        ],
    ));
    let mut tokens = Vec::new();
    let mut visits = Vec::new();
    for (i, (name, hi, gender, age)) in [
        ("Sunita Devi", "सुनीता देवी", "F", 34),
        ("Ramesh Kumar", "रमेश कुमार", "M", 3),
        ("Kavita Kumari", "कविता कुमारी", "F", 65),
    ]
    .into_iter()
    .enumerate()
    {
        let p = dir.join(format!("p{i}.json"));
        std::fs::write(
            &p,
            format!(
                r#"{{"name":"{name}","name_hi":"{hi}","gender":"{gender}","age_years":{age}}}"#
            ),
        )
        .unwrap();
        let mut args = vec![
            "register",
            "--department",
            "GEN",
            "--json",
            p.to_str().unwrap(),
        ];
        if i == 1 {
            args.extend(["--waiver", "BPL"]);
        }
        let r = ok(admin(&db, &args));
        tokens.push(r["token"].as_str().unwrap().to_owned());
        visits.push(r["visit_id"].as_str().unwrap().to_owned());
    }
    ok(admin(
        &db,
        &[
            "cancel-visit",
            "--visit",
            &visits[2],
            "--reason",
            "duplicate",
        ],
    ));
    let status = ok(admin(&db, &["report", "cash", "--date", "2000-01-01"]));
    assert_eq!(status["staff"], Value::Array(vec![]));
    let today = time_today(&db);
    (db, today, tokens)
}

fn time_today(db: &std::path::Path) -> String {
    common::unlock(db);
    let k = swagat_core::Kiosk::open(db).unwrap();
    k.home_summary().unwrap().date
}

#[test]
fn register_json_contract_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let (db, today, tokens) = set_up(dir.path());
    let r = ok(admin(
        &db,
        &["report", "register", "--date", &today, "--format", "json"],
    ));
    assert_eq!(r["date"], today);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "cancelled visits are listed");
    for (row, tok) in rows.iter().zip(&tokens) {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "token",
            "uhid",
            "name",
            "department",
            "visit_type",
            "fee",
            "waiver",
            "cancelled",
        ] {
            assert!(keys.contains(&k), "{k} in {row}");
        }
        assert_eq!(&row["token"], tok);
    }
    assert_eq!(rows[0]["fee"], 10);
    assert_eq!(rows[0]["waiver"], Value::Null);
    assert_eq!(rows[1]["waiver"], "BPL");
    assert_eq!(rows[1]["fee"], 0);
    assert_eq!(rows[2]["cancelled"], true);
    assert_eq!(rows[0]["visit_type"], "new");
    assert_eq!(rows[0]["department"], "GEN");
    assert_eq!(rows[0]["name"], "Sunita Devi");

    let csv = dir.path().join("r.csv");
    let out = ok(admin(
        &db,
        &[
            "report",
            "register",
            "--date",
            &today,
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    ));
    assert_eq!(out["rows"], 3);
    let bytes = std::fs::read(&csv).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV starts with the BOM"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("सुनीता देवी") && text.contains(&tokens[2]));

    let pdf = dir.path().join("r.pdf");
    ok(admin(
        &db,
        &[
            "report",
            "register",
            "--date",
            &today,
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    ));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    // Exports are audited under the CLI.
    let audit = ok(admin(&db, &["audit", "list", "--limit", "10"]));
    let exports = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "report.export" && e["actor"] == "cli")
        .count();
    assert_eq!(exports, 2);

    // csv/pdf without --out, a bad date, a bad format: refused with a reason.
    let o = admin(
        &db,
        &["report", "register", "--date", &today, "--format", "pdf"],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = admin(
        &db,
        &[
            "report",
            "register",
            "--date",
            "14-05-2026",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("date"));
    let o = admin(
        &db,
        &["report", "register", "--date", &today, "--format", "xls"],
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn summary_json_contract_excludes_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (db, today, _) = set_up(dir.path());
    let s = ok(admin(
        &db,
        &["report", "summary", "--from", &today, "--to", &today],
    ));
    for k in [
        "from",
        "to",
        "registrations",
        "new",
        "follow_up",
        "cancelled",
        "by_department",
        "by_gender",
        "by_age_band",
        "fees_collected",
        "waivers",
        "abha_linked",
        "abha_linked_pct",
        "dialysis",
    ] {
        assert!(s.get(k).is_some(), "{k} in {s}");
    }
    assert_eq!(s["from"], today);
    assert_eq!(s["registrations"], 2);
    assert_eq!(s["new"], 2);
    assert_eq!(s["follow_up"], 0);
    assert_eq!(s["cancelled"], 1);
    assert_eq!(
        s["fees_collected"], 10,
        "the waived visit paid nothing, the cancelled one is out"
    );
    let gen = s["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "GEN")
        .unwrap();
    assert_eq!(gen["registrations"], 2);
    assert_eq!(s["by_gender"]["M"], 1);
    assert_eq!(s["by_gender"]["F"], 1);
    assert_eq!(s["by_gender"]["O"], 0);
    let bands: Vec<&str> = s["by_age_band"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["band"].as_str().unwrap())
        .collect();
    assert_eq!(bands, ["0-4", "5-14", "15-29", "30-44", "45-59", "60+"]);
    assert_eq!(s["by_age_band"][0]["registrations"], 1);
    assert_eq!(s["by_age_band"][3]["registrations"], 1);
    assert_eq!(
        s["by_age_band"][5]["registrations"], 0,
        "the 65-year-old was cancelled"
    );
    let bpl = s["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "BPL")
        .unwrap();
    assert_eq!(bpl["count"], 1);
    assert_eq!(s["abha_linked"], 0);
    assert_eq!(s["abha_linked_pct"], 0.0);
    for k in ["completed", "no_show", "cancelled"] {
        assert_eq!(s["dialysis"][k], 0);
    }
    let o = admin(
        &db,
        &["report", "summary", "--from", &today, "--to", "2000-01-01"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cash_json_contract_under_the_cli_actor_with_refunds() {
    let dir = tempfile::tempdir().unwrap();
    let (db, today, tokens) = set_up(dir.path());
    let c = ok(admin(&db, &["report", "cash", "--date", &today]));
    assert_eq!(c["date"], today);
    let staff = c["staff"].as_array().unwrap();
    assert_eq!(
        staff.len(),
        1,
        "every visit belongs to one staff entry: {c}"
    );
    let cli = &staff[0];
    assert_eq!(cli["staff"], "cli");
    assert_eq!(cli["visits"], 2);
    assert_eq!(cli["fees_collected"], 10);
    assert_eq!(cli["waived"], 1);
    assert_eq!(c["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(c["refunds"][0]["token"], tokens[2].as_str());
    assert_eq!(c["refunds"][0]["fee"], 10);
    let roll = dir.path().join("cash.pdf");
    let c = ok(admin(
        &db,
        &[
            "report",
            "cash",
            "--date",
            &today,
            "--format",
            "80mm",
            "--out",
            roll.to_str().unwrap(),
        ],
    ));
    assert!(c["bytes"].as_u64().unwrap() > 1000);
    assert!(std::fs::read(&roll).unwrap().starts_with(b"%PDF-"));
    let m = ok(admin(&db, &["report", "monthly", "--month", &today[..7]]));
    assert_eq!(m["items"][0]["key"], "opd.total");
    assert_eq!(m["items"][0]["value"], 2);
}
