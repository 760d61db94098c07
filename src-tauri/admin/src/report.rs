//! `swagat-admin report register | summary | cash | monthly | print`: the counter's books from
//! the command line, over the same core functions as the app's Reports screen. Exports and prints
//! are audited by the core under the CLI's own actor.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{json, Value};
use swagat_core::reports::{ExportFormat, ReportKind};
use swagat_core::{Actor, Kiosk};

use crate::output::CliError;

/// The `report` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// The day's OPD register: every visit in token order, cancelled ones marked. `json` prints
    /// to stdout when --out is omitted; csv (UTF-8 with BOM) and pdf (A4 landscape) need --out.
    Register {
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// csv, pdf or json.
        #[arg(long, value_parser = ["csv", "pdf", "json"])]
        format: String,
        /// Where to write the file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The summary of a range: registrations (cancelled excluded), new/follow-up, cancelled, by
    /// department, sex and age band, fees, waivers, ABHA-linked, dialysis sessions.
    Summary {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
    },
    /// Cash by staff for a day (cancelled visits listed as refunds).
    Cash {
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Also write the sheet: a4 (PDF), 80mm (roll PDF) or csv.
        #[arg(long, value_parser = ["a4", "80mm", "csv"], requires = "out")]
        format: Option<String>,
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The month's figures arranged like the HMIS outpatient items.
    Monthly {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
    },
    /// Print a day's register or cash sheet (A4 through CUPS) or the end-of-day sheet (slip
    /// printer).
    Print {
        /// register, cash or day-sheet.
        #[arg(long, value_parser = ["register", "cash", "day-sheet"])]
        report: String,
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The CUPS queue for A4 (default: the CUPS default printer).
        #[arg(long)]
        printer: Option<String>,
    },
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, CliError> {
    serde_json::to_value(v).map_err(|e| CliError::Other(e.to_string()))
}

/// Runs one `report` subcommand.
pub fn run(cmd: ReportCmd, kiosk: &Kiosk) -> Result<Value, CliError> {
    let actor = Actor::Cli;
    match cmd {
        ReportCmd::Register { date, format, out } => {
            if format == "json" {
                let reg = kiosk.report_register(&date)?;
                let rows: Vec<Value> = reg
                    .rows
                    .iter()
                    .map(|r| {
                        json!({
                            "token": r.token, "uhid": r.uhid, "name": r.name,
                            "department": r.department, "visit_type": r.visit_type,
                            "fee": r.fee, "waiver": r.waiver, "cancelled": r.cancelled,
                        })
                    })
                    .collect();
                let doc = json!({ "date": reg.from, "rows": rows });
                return match out {
                    None => Ok(doc),
                    Some(path) => {
                        // Written to a file: the same JSON, and the export audited.
                        kiosk.report_export(
                            &actor,
                            ReportKind::Register,
                            ExportFormat::Json,
                            &date,
                            &date,
                        )?;
                        write(&path, doc.to_string().as_bytes())?;
                        Ok(
                            json!({ "date": reg.from, "format": "json", "out": path, "rows": reg.rows.len() }),
                        )
                    }
                };
            }
            let path =
                out.ok_or_else(|| CliError::Input(format!("--format {format} needs --out FILE")))?;
            let fmt = if format == "csv" {
                ExportFormat::Csv
            } else {
                ExportFormat::Pdf
            };
            let written =
                kiosk.report_export_to(&actor, ReportKind::Register, fmt, &date, &date, &path)?;
            let rows = kiosk.report_register(&date)?.rows.len();
            Ok(
                json!({ "date": date, "format": format, "out": path, "bytes": written.bytes, "rows": rows }),
            )
        }
        ReportCmd::Summary { from, to } => to_json(&kiosk.report_summary(&from, &to)?),
        ReportCmd::Cash { date, format, out } => {
            let sheet = kiosk.report_cash(&date)?;
            let mut v = to_json(&sheet)?;
            if let (Some(format), Some(path)) = (format, out) {
                let fmt = match format.as_str() {
                    "csv" => ExportFormat::Csv,
                    "80mm" => ExportFormat::Pdf80mm,
                    _ => ExportFormat::Pdf,
                };
                let written =
                    kiosk.report_export_to(&actor, ReportKind::Cash, fmt, &date, &date, &path)?;
                v["out"] = json!(path);
                v["bytes"] = json!(written.bytes);
            }
            Ok(v)
        }
        ReportCmd::Monthly { month } => to_json(&kiosk.report_monthly(&month)?),
        ReportCmd::Print {
            report,
            date,
            printer,
        } => {
            let kind = match report.as_str() {
                "register" => ReportKind::Register,
                "cash" => ReportKind::Cash,
                _ => ReportKind::DaySheet,
            };
            let job = kiosk.report_print(&actor, kind, &date, printer.as_deref())?;
            Ok(json!({ "report": report, "date": date, "job": job }))
        }
    }
}
