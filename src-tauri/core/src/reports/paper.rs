//! What the printed reports say: the register, the cash sheet and the 80 mm day sheet as the slip
//! crate's documents of ready-made bilingual strings (the slip crate lays them out and renders).

use rusqlite::Connection;
use swagat_slip::report::{Column, RollSection, RollSheet, Row, Table, TableDoc};
use time::Date;

use super::{dmy, facility_heading, CashSheet, Register, Summary};
use crate::clock;
use crate::config;
use crate::error::Result;

fn col(title: &str, width: f32, right: bool) -> Column {
    Column {
        title: title.to_owned(),
        width,
        right,
    }
}

fn printed_at(conn: &Connection) -> Result<String> {
    let s = config::load_settings(conn)?;
    let offset = time::UtcOffset::from_whole_seconds(s.utc_offset_minutes.saturating_mul(60))
        .unwrap_or(time::UtcOffset::UTC);
    let now = clock::now_utc().to_offset(offset);
    Ok(format!(
        "मुद्रित / Printed {} {:02}:{:02} · Swagat",
        dmy(now.date()),
        now.hour(),
        now.minute()
    ))
}

fn range_text(from: Date, to: Date) -> String {
    if from == to {
        format!("दिनांक / Date: {}", dmy(from))
    } else {
        format!("{} – {}", dmy(from), dmy(to))
    }
}

fn visit_type(t: &str) -> &'static str {
    if t == "follow_up" {
        "पुराना / F-up"
    } else {
        "नया / New"
    }
}

fn fee_text(fee: u32, waiver: Option<&str>, cancelled: bool) -> String {
    match (cancelled, waiver) {
        (true, _) => format!("रद्द / Cancelled (₹{fee})"),
        (false, Some(w)) => format!("छूट / Waived\n{w}"),
        (false, None) => format!("₹{fee}"),
    }
}

/// The register as an A4 landscape document: the visits, then totals by department.
pub(crate) fn register_doc(
    conn: &Connection,
    reg: &Register,
    from: Date,
    to: Date,
) -> Result<TableDoc> {
    let mut heading = facility_heading(conn)?;
    heading.push(range_text(from, to));
    let several_days = from != to;
    let columns = vec![
        col("क्र.\nS.No.", 24.0, true),
        col(
            if several_days {
                "दिनांक समय\nDate time"
            } else {
                "समय\nTime"
            },
            if several_days { 50.0 } else { 30.0 },
            false,
        ),
        col("टोकन\nToken", 36.0, false),
        col("यूएचआईडी\nUHID", 82.0, false),
        col("नाम\nName", 150.0, false),
        col("आयु / लिंग\nAge / Sex", 46.0, false),
        col("अभिभावक\nGuardian", 100.0, false),
        col("गाँव / मोहल्ला\nLocality / Village", 92.0, false),
        col("विभाग\nDept.", 36.0, false),
        col("प्रकार\nType", 50.0, false),
        col("शुल्क / छूट\nFee / Waiver", 60.0, false),
        col("कर्मचारी\nStaff", 56.0, false),
    ];
    let rows = reg
        .rows
        .iter()
        .map(|r| {
            let name = match r
                .name_hi
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                Some(hi) => format!("{hi}\n{}", r.name),
                None => r.name.clone(),
            };
            let when = if several_days {
                match super::parse_date("date", &r.date) {
                    Ok(d) => format!("{} {}", dmy(d), r.time),
                    Err(_) => r.time.clone(),
                }
            } else {
                r.time.clone()
            };
            Row {
                cells: vec![
                    r.serial.to_string(),
                    when,
                    r.token.clone(),
                    r.uhid.clone(),
                    name,
                    r.age_sex.clone(),
                    r.guardian.clone(),
                    r.locality.clone(),
                    r.department.clone(),
                    visit_type(&r.visit_type).to_owned(),
                    fee_text(r.fee, r.waiver.as_deref(), r.cancelled),
                    r.staff.clone(),
                ],
                struck: r.cancelled,
                bold: false,
            }
        })
        .collect();
    let totals = Table {
        caption: Some(
            "विभागवार योग / Totals by department (रद्द को छोड़कर / cancelled excluded)".into(),
        ),
        columns: vec![
            col("विभाग / Department", 160.0, false),
            col("पंजीकरण\nRegistrations", 60.0, true),
            col("नए\nNew", 45.0, true),
            col("पुराने\nFollow-up", 50.0, true),
            col("छूट\nWaived", 45.0, true),
            col("रद्द\nCancelled", 50.0, true),
            col("शुल्क\nFees (₹)", 55.0, true),
        ],
        rows: reg
            .totals
            .iter()
            .map(|t| {
                let name = match (t.name_hi.as_str(), t.name_en.as_str()) {
                    ("", "") => t.code.clone(),
                    (hi, en) if t.code.is_empty() => format!("{hi} / {en}"),
                    (hi, en) => format!("{} — {hi} / {en}", t.code),
                };
                Row {
                    cells: vec![
                        name,
                        t.registrations.to_string(),
                        t.new.to_string(),
                        t.follow_up.to_string(),
                        t.waived.to_string(),
                        t.cancelled.to_string(),
                        t.fees_collected.to_string(),
                    ],
                    struck: false,
                    bold: t.code.is_empty(),
                }
            })
            .collect(),
    };
    Ok(TableDoc {
        heading,
        title: "दैनिक ओपीडी रजिस्टर / Daily OPD Register".into(),
        pdf_title: "OPD register".into(),
        tables: vec![
            Table {
                caption: None,
                columns,
                rows,
            },
            totals,
        ],
        closing: vec![
            "रद्द पंजीकरण काटे गए हैं और गिने नहीं गए। / Cancelled visits are struck through and not counted."
                .into(),
            "हस्ताक्षर प्रभारी चिकित्सा अधिकारी / Signature of Medical Officer in-charge: ______________________"
                .into(),
        ],
        footer: printed_at(conn)?,
    })
}

fn shift_name(s: &str) -> &'static str {
    if s == "evening" {
        "शाम / Evening"
    } else {
        "सुबह / Morning"
    }
}

/// Cash by staff as an A4 portrait document, with the refunds and signature lines.
pub(crate) fn cash_doc(conn: &Connection, cash: &CashSheet) -> Result<TableDoc> {
    let mut heading = facility_heading(conn)?;
    let date = super::parse_date("date", &cash.date)?;
    heading.push(range_text(date, date));
    let mut rows = Vec::new();
    for s in &cash.staff {
        for sh in &s.shifts {
            rows.push(Row {
                cells: vec![
                    s.staff.clone(),
                    shift_name(&sh.shift).to_owned(),
                    sh.visits.to_string(),
                    sh.waived.to_string(),
                    sh.fees_collected.to_string(),
                    String::new(),
                    String::new(),
                ],
                ..Row::default()
            });
        }
        rows.push(Row {
            cells: vec![
                s.staff.clone(),
                "दिन / Day".into(),
                s.visits.to_string(),
                s.waived.to_string(),
                s.fees_collected.to_string(),
                s.refunds.to_string(),
                s.refunded.to_string(),
            ],
            bold: true,
            ..Row::default()
        });
    }
    let t = &cash.totals;
    rows.push(Row {
        cells: vec![
            "कुल / Total".into(),
            String::new(),
            t.visits.to_string(),
            t.waived.to_string(),
            t.fees_collected.to_string(),
            t.refunds.to_string(),
            t.refunded.to_string(),
        ],
        bold: true,
        ..Row::default()
    });
    let mut tables = vec![Table {
        caption: None,
        columns: vec![
            col("कर्मचारी\nStaff", 90.0, false),
            col("पाली\nShift", 60.0, false),
            col("पंजीकरण\nVisits", 50.0, true),
            col("छूट\nWaived", 45.0, true),
            col("शुल्क प्राप्त\nFees (₹)", 55.0, true),
            col("रद्द\nRefunds", 45.0, true),
            col("वापसी\nRefunded (₹)", 55.0, true),
        ],
        rows,
    }];
    if !cash.refunds.is_empty() {
        tables.push(Table {
            caption: Some("रद्द पंजीकरण (वापसी) / Cancelled visits (refunds)".into()),
            columns: vec![
                col("समय\nTime", 40.0, false),
                col("टोकन\nToken", 50.0, false),
                col("विभाग\nDept.", 45.0, false),
                col("कर्मचारी\nStaff", 90.0, false),
                col("शुल्क\nFee (₹)", 50.0, true),
            ],
            rows: cash
                .refunds
                .iter()
                .map(|r| Row {
                    cells: vec![
                        r.time.clone(),
                        r.token.clone(),
                        r.department.clone(),
                        r.staff.clone(),
                        r.fee.to_string(),
                    ],
                    ..Row::default()
                })
                .collect(),
        });
    }
    let mut closing: Vec<String> = cash
        .staff
        .iter()
        .map(|s| format!("{} — हस्ताक्षर / Signature: ______________________", s.staff))
        .collect();
    closing.push("हस्ताक्षर प्रभारी / Signature of in-charge: ______________________".into());
    Ok(TableDoc {
        heading,
        title: "कर्मचारीवार नकद / Cash by staff".into(),
        pdf_title: "OPD cash sheet".into(),
        tables,
        closing,
        footer: printed_at(conn)?,
    })
}

/// The end-of-day sheet for the 80 mm slip printer: the day's summary and cash by staff.
pub(crate) fn day_sheet(conn: &Connection, sum: &Summary, cash: &CashSheet) -> Result<RollSheet> {
    let mut heading = facility_heading(conn)?;
    heading.truncate(1);
    let date = super::parse_date("date", &cash.date)?;
    heading.push("दिन का सारांश / End-of-day summary".into());
    heading.push(dmy(date));
    let kv = |l: &str, v: String| (l.to_owned(), v);
    let mut sections = vec![RollSection {
        title: "ओपीडी / OPD".into(),
        lines: vec![
            kv("पंजीकरण / Registrations", sum.registrations.to_string()),
            kv("नए / New", sum.new.to_string()),
            kv("पुराने / Follow-up", sum.follow_up.to_string()),
            kv("रद्द / Cancelled", sum.cancelled.to_string()),
            kv(
                "पुरुष / महिला / अन्य — M / F / O",
                format!(
                    "{} / {} / {}",
                    sum.by_gender.M, sum.by_gender.F, sum.by_gender.O
                ),
            ),
            kv(
                "आभा से जुड़े / ABHA-linked",
                format!("{} ({}%)", sum.abha_linked, sum.abha_linked_pct),
            ),
            kv(
                "आभा स्कैन और शेयर से / By ABHA scan and share",
                sum.scan_share.to_string(),
            ),
            kv("शुल्क / Fees", format!("₹{}", sum.fees_collected)),
        ],
    }];
    sections.push(RollSection {
        title: "विभागवार / By department".into(),
        lines: sum
            .by_department
            .iter()
            .filter(|d| d.registrations > 0 || d.cancelled > 0)
            .map(|d| {
                let name = if d.name_hi.is_empty() {
                    d.code.clone()
                } else {
                    format!("{} {}", d.code, d.name_hi)
                };
                (name, d.registrations.to_string())
            })
            .collect(),
    });
    let waived: Vec<(String, String)> = sum
        .waivers
        .iter()
        .filter(|w| w.count > 0)
        .map(|w| (w.code.clone(), w.count.to_string()))
        .collect();
    if !waived.is_empty() {
        sections.push(RollSection {
            title: "शुल्क छूट / Fee waivers".into(),
            lines: waived,
        });
    }
    let mut lines = Vec::new();
    for s in &cash.staff {
        for sh in &s.shifts {
            lines.push((
                format!("{} · {}", s.staff, shift_name(&sh.shift)),
                format!("{} · ₹{} · छूट {}", sh.visits, sh.fees_collected, sh.waived),
            ));
        }
        if s.refunds > 0 {
            lines.push((
                format!("{} · रद्द / refunds {}", s.staff, s.refunds),
                format!("−₹{}", s.refunded),
            ));
        }
    }
    lines.push((
        "कुल / Total".into(),
        format!("{} · ₹{}", cash.totals.visits, cash.totals.fees_collected),
    ));
    sections.push(RollSection {
        title: "कर्मचारीवार नकद / Cash by staff".into(),
        lines,
    });
    let d = &sum.dialysis;
    if d.completed + d.no_show + d.cancelled > 0 {
        sections.push(RollSection {
            title: "डायलिसिस / Dialysis".into(),
            lines: vec![
                kv("पूर्ण / Completed", d.completed.to_string()),
                kv("अनुपस्थित / No-show", d.no_show.to_string()),
                kv("रद्द / Cancelled", d.cancelled.to_string()),
            ],
        });
    }
    Ok(RollSheet {
        heading,
        sections,
        closing: vec![
            "हस्ताक्षर / Signature: ________________".into(),
            printed_at(conn)?,
        ],
    })
}
