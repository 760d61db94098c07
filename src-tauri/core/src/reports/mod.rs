//! The counter's own books: the daily OPD register, the day/range summary, monthly figures
//! arranged like the HMIS outpatient items, and cash by staff — as data (screen, JSON), CSV, A4
//! PDF and the 80 mm slip printer.
//!
//! Why here: the app's Reports screen, `swagat-admin report …` and the tests must give the same
//! figures, so every report is one core function over the store; the Tauri commands and the CLI
//! only pass dates and write files. Reports cover the whole facility as present in this database
//! (the kiosk's own visits and those sync brought in), read straight from `visits`.
//!
//! Where the figures come from:
//! - the register and the cash sheet read one day's visits (index `visits_by_date_created`,
//!   migration 0010) joined with their patients;
//! - the summary and the monthly figures add up `report_counts`, per-day counts per dimension
//!   kept by triggers on `visits` and `patients` (migration 0010, which explains the dimensions),
//!   so a year is ~365 × ~70 small rows, not millions of visits; dialysis sessions are counted
//!   from `dialysis_bookings` by the machine's pool.
//!
//! Rules: a cancelled visit is listed (struck through on paper) but never counted in
//! registrations, fees or the breakdowns; it counts as `cancelled`, and on the cash sheet as a
//! refund of its fee under the staff member who registered it. Every visit belongs to exactly one
//! staff entry: the actor who created it (`staff:<id>` shown by name, `cli` for `swagat-admin`,
//! `system` for demo data, or the creating kiosk's actor for visits sync brought in). Exports and
//! prints are audited (`report.export`, `report.print`) with the report, format and dates — never
//! the content.

mod cash;
mod hmis;
mod paper;
mod register;
mod summary;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::audit::{self, Actor};
use crate::config;
use crate::error::{CoreError, Result};
use crate::kiosk::Kiosk;

/// What [`Kiosk::report_export_to`] wrote.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    /// The file.
    pub path: String,
    /// Its size in bytes.
    pub bytes: usize,
}

/// Writes `bytes` to `path` whole: a temporary file beside it, synced, renamed over it.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let tmp = path.with_file_name(name);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

pub use cash::{CashSheet, CashShift, CashStaff, CashTotals, Refund};
pub use hmis::{HmisItem, Monthly};
pub use register::{DeptTotal, Register, RegisterRow};
pub use summary::{
    BandCount, DeptCount, Dialysis, GenderCounts, HourCount, PoolCount, Summary, WaiverCount,
};

/// The age bands of the summary, youngest first (labels are part of the CLI contract).
pub const AGE_BANDS: [&str; 6] = ["0-4", "5-14", "15-29", "30-44", "45-59", "60+"];

/// The longest range a summary may cover (days): two years and a bit, so a mistyped year cannot
/// make the kiosk add up decades.
pub const MAX_SUMMARY_DAYS: i64 = 800;

/// The longest range a register export may cover (days): a month.
pub const MAX_REGISTER_DAYS: i64 = 31;

/// Registrations before this facility-local hour are the morning shift, the rest the evening
/// shift (PHC OPDs run mornings, some with an evening session).
pub const EVENING_FROM_HOUR: u8 = 14;

/// A report to export or print.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The OPD register (one row per visit).
    Register,
    /// Cash by staff.
    Cash,
    /// The end-of-day summary (with cash by staff) on the 80 mm slip printer.
    DaySheet,
    /// The summary of a range.
    Summary,
}

/// The format of an export.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// CSV, UTF-8 with a byte-order mark (Excel then reads Hindi correctly).
    Csv,
    /// A4 PDF (the register in landscape).
    Pdf,
    /// JSON, as the CLI prints it.
    Json,
    /// 80 mm roll PDF (the day sheet).
    Pdf80mm,
}

/// Parses a `YYYY-MM-DD` date given as `field`, with a bilingual error.
pub fn parse_date(field: &str, s: &str) -> Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).map_err(|_| {
        CoreError::invalid(
            field,
            format!("{field} must be a date like 2026-05-14"),
            format!("{field} 2026-05-14 जैसी तारीख होनी चाहिए"),
        )
    })
}

/// Parses a range, checking `from <= to` and at most `max_days` days.
pub fn parse_range(from: &str, to: &str, max_days: i64) -> Result<(Date, Date)> {
    let (f, t) = (parse_date("from", from)?, parse_date("to", to)?);
    if f > t {
        return Err(CoreError::invalid(
            "to",
            "the end date is before the start date",
            "अंतिम तारीख आरंभ की तारीख से पहले है",
        ));
    }
    if (t - f).whole_days() + 1 > max_days {
        return Err(CoreError::invalid(
            "to",
            format!("choose at most {max_days} days"),
            format!("अधिकतम {max_days} दिन चुनें"),
        ));
    }
    Ok((f, t))
}

/// Parses a month `YYYY-MM` into its first and last day.
pub fn parse_month(s: &str) -> Result<(Date, Date)> {
    let bad = || {
        CoreError::invalid(
            "month",
            "month must look like 2026-05",
            "महीना 2026-05 जैसा होना चाहिए",
        )
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    let first = Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
    let last = Date::from_calendar_date(year, month, month.length(year)).map_err(|_| bad())?;
    Ok((first, last))
}

/// `YYYY-MM-DD` → `DD-MM-YYYY`, as Indian registers write dates.
pub(crate) fn dmy(d: Date) -> String {
    format!("{:02}-{:02}-{}", d.day(), u8::from(d.month()), d.year())
}

/// Display names of the actors who created visits: `staff:<id>` → the member's name.
pub(crate) struct StaffNames(HashMap<String, String>);

impl StaffNames {
    pub(crate) fn load(conn: &Connection) -> Result<Self> {
        let mut stmt = conn.prepare_cached("SELECT id, name FROM staff")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                format!("staff:{}", r.get::<_, String>(0)?),
                r.get::<_, String>(1)?,
            ))
        })?;
        Ok(Self(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?))
    }

    /// The name to show for `actor`: a known member's name, else the actor as stored (`cli`,
    /// `system`, or another kiosk's `staff:<id>`).
    pub(crate) fn name(&self, actor: &str) -> String {
        self.0
            .get(actor)
            .cloned()
            .unwrap_or_else(|| actor.to_owned())
    }
}

/// The facility-local time (`HH:MM`) and hour of a stored UTC timestamp.
pub(crate) fn local_time(created_at: &str, offset_minutes: i32) -> (String, u8) {
    let offset = time::UtcOffset::from_whole_seconds(offset_minutes.saturating_mul(60))
        .unwrap_or(time::UtcOffset::UTC);
    match crate::clock::from_db(created_at) {
        Some(t) => {
            let l = t.to_offset(offset);
            (format!("{:02}:{:02}", l.hour(), l.minute()), l.hour())
        }
        None => (String::from("--:--"), 0),
    }
}

/// The facility's bilingual heading lines for paper.
pub(crate) fn facility_heading(conn: &Connection) -> Result<Vec<String>> {
    let s = config::load_settings(conn)?;
    let name = match (s.name_hi.trim(), s.name_en.trim()) {
        ("", en) => en.to_owned(),
        (hi, "") => hi.to_owned(),
        (hi, en) => format!("{hi} / {en}"),
    };
    let mut out = vec![name];
    if !s.address.trim().is_empty() {
        out.push(s.address.trim().to_owned());
    }
    Ok(out)
}

fn render_err(e: swagat_slip::SlipError) -> CoreError {
    CoreError::Corrupt(format!("report rendering failed: {e}"))
}

fn audit_report(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    kind: ReportKind,
    format: ExportFormat,
    from: Date,
    to: Date,
) -> Result<()> {
    audit::record(
        conn,
        actor,
        action,
        "report",
        None,
        serde_json::json!({
            "report": kind, "format": format,
            "from": from.to_string(), "to": to.to_string(),
        }),
    )
}

impl Kiosk {
    /// The OPD register of one day (every visit, cancelled ones marked), with department totals.
    pub fn report_register(&self, date: &str) -> Result<Register> {
        let d = parse_date("date", date)?;
        self.store().read(|c| register::load(c, d, d))
    }

    /// The summary of `from`..=`to` (at most [`MAX_SUMMARY_DAYS`]).
    pub fn report_summary(&self, from: &str, to: &str) -> Result<Summary> {
        let (f, t) = parse_range(from, to, MAX_SUMMARY_DAYS)?;
        self.store().read(|c| summary::load(c, f, t))
    }

    /// Cash by staff for one day.
    pub fn report_cash(&self, date: &str) -> Result<CashSheet> {
        let d = parse_date("date", date)?;
        self.store().read(|c| cash::load(c, d))
    }

    /// The monthly figures (`YYYY-MM`), arranged like the HMIS outpatient items.
    pub fn report_monthly(&self, month: &str) -> Result<Monthly> {
        let (f, t) = parse_month(month)?;
        self.store().read(|c| hmis::load(c, f, t))
    }

    /// A report as file bytes, audited as `report.export`. The register takes a range of at most
    /// [`MAX_REGISTER_DAYS`] (CSV, PDF or JSON); cash is one day (`from`; PDF A4 or 80 mm, CSV,
    /// JSON); the summary a range (CSV or JSON); the day sheet one day (80 mm PDF).
    pub fn report_export(
        &self,
        actor: &Actor,
        kind: ReportKind,
        format: ExportFormat,
        from: &str,
        to: &str,
    ) -> Result<Vec<u8>> {
        let max = match kind {
            ReportKind::Register => MAX_REGISTER_DAYS,
            ReportKind::Summary => MAX_SUMMARY_DAYS,
            ReportKind::Cash | ReportKind::DaySheet => 1,
        };
        let (f, t) = parse_range(from, to, max)?;
        let unsupported = || {
            CoreError::invalid(
                "format",
                "this report cannot be exported in that format",
                "यह रिपोर्ट इस प्रारूप में निर्यात नहीं हो सकती",
            )
        };
        use swagat_slip::report::Orientation;
        // Audited and read in one transaction; PDFs are rendered after the store is released, so
        // the counter is never kept waiting by an export.
        let payload = self.store().write(|tx| {
            crate::staff::COUNTER.check(tx, actor)?;
            audit_report(
                tx,
                actor,
                crate::audit::actions::REPORT_EXPORT,
                kind,
                format,
                f,
                t,
            )?;
            Ok(match (kind, format) {
                (ReportKind::Register, ExportFormat::Csv) => {
                    Payload::Bytes(register::load(tx, f, t)?.to_csv())
                }
                (ReportKind::Register, ExportFormat::Json) => {
                    Payload::Bytes(to_json(&register::load(tx, f, t)?)?)
                }
                (ReportKind::Register, ExportFormat::Pdf) => Payload::Table(
                    paper::register_doc(tx, &register::load(tx, f, t)?, f, t)?,
                    Orientation::A4Landscape,
                ),
                (ReportKind::Cash, ExportFormat::Csv) => {
                    Payload::Bytes(cash::load(tx, f)?.to_csv())
                }
                (ReportKind::Cash, ExportFormat::Json) => {
                    Payload::Bytes(to_json(&cash::load(tx, f)?)?)
                }
                (ReportKind::Cash, ExportFormat::Pdf) => Payload::Table(
                    paper::cash_doc(tx, &cash::load(tx, f)?)?,
                    Orientation::A4Portrait,
                ),
                (ReportKind::Cash | ReportKind::DaySheet, ExportFormat::Pdf80mm) => Payload::Roll(
                    paper::day_sheet(tx, &summary::load(tx, f, f)?, &cash::load(tx, f)?)?,
                ),
                (ReportKind::Summary, ExportFormat::Json) => {
                    Payload::Bytes(to_json(&summary::load(tx, f, t)?)?)
                }
                (ReportKind::Summary, ExportFormat::Csv) => {
                    Payload::Bytes(summary::load(tx, f, t)?.to_csv())
                }
                _ => return Err(unsupported()),
            })
        })?;
        match payload {
            Payload::Bytes(b) => Ok(b),
            Payload::Table(doc, o) => {
                swagat_slip::report::render_table_pdf(&doc, o).map_err(render_err)
            }
            Payload::Roll(sheet) => {
                swagat_slip::report::render_roll_pdf(&sheet).map_err(render_err)
            }
        }
    }

    /// Writes a report to `path` (the file the operator chose), as [`Kiosk::report_export`]
    /// makes it and audits it. The bytes go to a temporary file beside `path`, synced, then
    /// renamed over it: a power cut or a full disk leaves the old file or the whole new one,
    /// never half a report. The export is audited when it is made, so a file that could not be
    /// written still shows as an attempt in the audit log.
    pub fn report_export_to(
        &self,
        actor: &Actor,
        kind: ReportKind,
        format: ExportFormat,
        from: &str,
        to: &str,
        path: &std::path::Path,
    ) -> Result<Exported> {
        let bytes = self.report_export(actor, kind, format, from, to)?;
        write_whole(path, &bytes).map_err(|e| CoreError::from(e).classify())?;
        Ok(Exported {
            path: path.display().to_string(),
            bytes: bytes.len(),
        })
    }

    /// Prints a report on paper, audited as `report.print`: the register or the cash sheet as A4
    /// PDF through CUPS on `printer` (else the CUPS default queue), or the end-of-day sheet
    /// (summary and cash by staff) on the configured slip printer (ESC/POS raster or 80 mm PDF).
    /// Returns the CUPS job id when there is one.
    pub fn report_print(
        &self,
        actor: &Actor,
        kind: ReportKind,
        date: &str,
        printer: Option<&str>,
    ) -> Result<Option<String>> {
        let d = parse_date("date", date)?;
        let settings = self.store().read(config::load_settings)?;
        let (format, job) = self.store().read(|tx| {
            crate::staff::COUNTER.check(tx, actor)?;
            Ok(match kind {
                ReportKind::Register => (
                    ExportFormat::Pdf,
                    Job::A4(
                        paper::register_doc(tx, &register::load(tx, d, d)?, d, d)?,
                        swagat_slip::report::Orientation::A4Landscape,
                    ),
                ),
                ReportKind::Cash => (
                    ExportFormat::Pdf,
                    Job::A4(
                        paper::cash_doc(tx, &cash::load(tx, d)?)?,
                        swagat_slip::report::Orientation::A4Portrait,
                    ),
                ),
                ReportKind::DaySheet | ReportKind::Summary => {
                    let sheet =
                        paper::day_sheet(tx, &summary::load(tx, d, d)?, &cash::load(tx, d)?)?;
                    (ExportFormat::Pdf80mm, Job::Roll(sheet))
                }
            })
        })?;
        // Printed first, audited once the printer took it (the store is not held while printing).
        let job_id = self.print_job(job, &settings, printer)?;
        self.store().write(|tx| {
            audit_report(
                tx,
                actor,
                crate::audit::actions::REPORT_PRINT,
                kind,
                format,
                d,
                d,
            )
        })?;
        Ok(job_id)
    }

    fn print_job(
        &self,
        job: Job,
        settings: &config::FacilitySettings,
        printer: Option<&str>,
    ) -> Result<Option<String>> {
        match job {
            Job::A4(doc, orientation) => {
                let pdf =
                    swagat_slip::report::render_table_pdf(&doc, orientation).map_err(render_err)?;
                let queue = match printer.map(str::trim).filter(|p| !p.is_empty()) {
                    Some(p) => p.to_owned(),
                    None => swagat_slip::printing::list_printers()
                        .map_err(CoreError::from)?
                        .into_iter()
                        .find(|p| p.is_default)
                        .map(|p| p.name)
                        .ok_or_else(|| {
                            CoreError::invalid(
                                "printer",
                                "no A4 printer: set a default CUPS printer",
                                "कोई A4 प्रिंटर नहीं: CUPS में डिफ़ॉल्ट प्रिंटर सेट करें",
                            )
                        })?,
                };
                swagat_slip::printing::print_pdf(&queue, &pdf)
                    .map(Some)
                    .map_err(CoreError::from)
            }
            Job::Roll(sheet) => {
                let Some(target) = settings.printer.clone() else {
                    return Err(CoreError::invalid(
                        "printer",
                        "no slip printer is set up: choose one in Settings",
                        "पर्ची प्रिंटर सेट नहीं है: सेटिंग्स में चुनें",
                    ));
                };
                if settings.printer_format.as_deref() == Some("escpos") {
                    let raster =
                        swagat_slip::report::render_roll_raster(&sheet).map_err(render_err)?;
                    let target: swagat_slip::printing::RawTarget =
                        target.parse().map_err(CoreError::from)?;
                    swagat_slip::printing::print_raw(&target, &raster.to_escpos())
                        .map_err(CoreError::from)?;
                    Ok(None)
                } else {
                    let pdf = swagat_slip::report::render_roll_pdf(&sheet).map_err(render_err)?;
                    swagat_slip::printing::print_pdf(&target, &pdf)
                        .map(Some)
                        .map_err(CoreError::from)
                }
            }
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(|e| CoreError::Corrupt(e.to_string()))
}

/// An export: ready bytes, or a document still to render.
enum Payload {
    Bytes(Vec<u8>),
    Table(
        swagat_slip::report::TableDoc,
        swagat_slip::report::Orientation,
    ),
    Roll(swagat_slip::report::RollSheet),
}

/// What goes to a printer.
enum Job {
    A4(
        swagat_slip::report::TableDoc,
        swagat_slip::report::Orientation,
    ),
    Roll(swagat_slip::report::RollSheet),
}

/// Writes CSV records: every field quoted when it needs to be (RFC 4180), CRLF line ends, and a
/// UTF-8 byte-order mark first so Excel opens Devanagari correctly. Hand-written because it is
/// these few lines; no crate in the tree does it.
pub(crate) struct Csv(Vec<u8>);

impl Csv {
    pub(crate) fn new() -> Self {
        Self(b"\xEF\xBB\xBF".to_vec())
    }

    pub(crate) fn record<S: AsRef<str>>(&mut self, fields: &[S]) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            let f = f.as_ref();
            // A leading =, +, - or @ would be a formula in a spreadsheet: prefix a quote.
            let f = if f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.len() > 1) {
                format!("'{f}")
            } else {
                f.to_owned()
            };
            if f.contains([',', '"', '\n', '\r']) {
                self.0.push(b'"');
                self.0.extend(f.replace('"', "\"\"").as_bytes());
                self.0.push(b'"');
            } else {
                self.0.extend(f.as_bytes());
            }
        }
        self.0.extend(b"\r\n");
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}
