//! The command line: clap definitions and the dispatch to core calls.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use swagat_core::config::ConfigPatch;
use swagat_core::{Actor, Kiosk, NewStaff, Role};

use crate::output::CliError;

/// Swagat kiosk administration. Prints one JSON object per command.
#[derive(Debug, Parser)]
#[command(name = "swagat-admin", version, about, long_about = None)]
pub struct Cli {
    /// The kiosk database (default: $SWAGAT_DB, else the platform data directory's swagat.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// A file holding the secret that unlocks an encrypted database: an administrator's PIN or
    /// passphrase, or the recovery key (`RK-…`). Without it, the SWAGAT_UNLOCK environment
    /// variable is read. A locked database answers exit 3.
    #[arg(long, global = true, value_name = "FILE")]
    pub unlock_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Facility configuration.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        action: StaffCmd,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// First-run setup without the app: facility settings (JSON) and the first administrator.
    Init {
        /// Facility settings as JSON (a file path, or - for stdin), as for `config set --file`.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The administrator's login name.
        #[arg(long)]
        admin_name: String,
        /// The administrator's PIN or passphrase (or set SWAGAT_ADMIN_SECRET).
        #[arg(long, env = "SWAGAT_ADMIN_SECRET", hide_env_values = true)]
        admin_secret: String,
    },
    /// The kiosk's state: first run, configured, and sync (pending, dead letters, last sync).
    Status,
    /// Register this kiosk with the state server, using a one-time enrollment code.
    Enroll {
        /// The state server's URL, e.g. https://swagat.bihar.gov.in
        #[arg(long)]
        server: String,
        /// The one-time enrollment code from `swagat-server facility add`.
        #[arg(long)]
        code: String,
        /// A CA certificate (PEM) to trust for this server besides the public web roots (a
        /// state server with a private CA); remembered with the credential.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<std::path::PathBuf>,
        /// Allow an http:// server on another machine (unencrypted: the device secret and
        /// patient data cross the network in clear). Only for a trusted network; remembered
        /// with the credential and shown in the status as insecure.
        #[arg(long)]
        insecure_http: bool,
    },
    /// Push waiting records to the state server and pull this facility's records.
    Sync {
        /// Keep going (with backoff) until nothing is waiting.
        #[arg(long)]
        until_idle: bool,
    },
    /// Register a new or returning patient and create an OPD visit with a token.
    Register {
        /// Department code (GEN, GYN, PED...).
        #[arg(long)]
        department: String,
        /// A scanned QR payload (Aadhaar Secure QR, Aadhaar XML QR or ABHA QR); - for stdin.
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
        /// Patient fields as JSON (name, gender, dob or age_years, mobile, aadhaar, abha_number,
        /// abha_address, guardian, category, address {...}); these override the QR's.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Fee-waiver code (BPL, RATION, AYUSHMAN, SENIOR, JSSK).
        #[arg(long)]
        waiver: Option<String>,
    },
    /// Decode a scanned QR (Aadhaar Secure QR, Aadhaar XML QR, ABHA QR) and print its fields.
    DecodeQr {
        /// The scanner's text (stdin when absent).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// A folder of extra trusted UIDAI certificates or public keys (PEM or DER).
        #[arg(long, value_name = "DIR")]
        uidai_certs: Option<PathBuf>,
    },
    /// Write a visit's bilingual OPD slip as PDF (and/or a thermal-printer PNG).
    Slip {
        /// The visit id.
        #[arg(long)]
        visit: String,
        /// Paper: a6 or 80mm.
        #[arg(long, default_value = "a6", value_parser = ["a6", "80mm"])]
        size: String,
        /// Where to write the PDF.
        #[arg(long, value_name = "FILE.pdf")]
        out: Option<PathBuf>,
        /// Where to write the 576-dot thermal raster as PNG.
        #[arg(long, value_name = "FILE.png")]
        png: Option<PathBuf>,
    },
    /// The dialysis unit: machines, shifts, serology, bookings, waitlist.
    Dialysis {
        #[command(subcommand)]
        action: crate::dialysis::DialysisCmd,
    },
    /// Patients.
    Patients {
        #[command(subcommand)]
        action: PatientsCmd,
    },
    /// Cancel an OPD visit.
    CancelVisit {
        /// The visit id.
        #[arg(long)]
        visit: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Backups of the kiosk database: create, list, verify, restore.
    Backup {
        #[command(subcommand)]
        action: crate::backup::BackupCmd,
    },
    /// The counter's books: the day's register, summaries, cash by staff, monthly figures.
    Report {
        #[command(subcommand)]
        action: crate::report::ReportCmd,
    },
    /// ABHA scan-and-share: profiles patients shared by scanning the counter's QR.
    Shares {
        #[command(subcommand)]
        action: SharesCmd,
    },
    /// Seed realistic synthetic patients and visits (demos, benchmarks).
    DemoData {
        /// How many patients.
        #[arg(long)]
        patients: u32,
        /// Random seed (same seed, same data).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum SharesCmd {
    /// Today's shared profiles of every counter of the facility, this counter's first; prints
    /// {"shares":[{"id","abha_address","abha_number","name","gender","year_of_birth","context",
    /// "token","shared_at","status",...}]}.
    List,
    /// Register a shared profile (prints the same JSON as `register`; registering it again gives
    /// the same patient and visit).
    Register {
        /// The share id (from `shares list`).
        #[arg(long)]
        share: String,
        /// Department code (GEN, GYN, PED...).
        #[arg(long)]
        department: String,
    },
    /// The counter's scan-and-share QR poster (A6 PDF, Hindi and English): write it and/or
    /// print it on the configured printer; prints {"url", "out"?, "job"?}.
    Poster {
        /// Where to write the PDF.
        #[arg(long, value_name = "FILE.pdf")]
        out: Option<PathBuf>,
        /// Print it on the configured printer.
        #[arg(long)]
        print: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PatientsCmd {
    /// Search by UHID, mobile, ABHA number or address, Aadhaar number, or name.
    Search {
        /// What to look for.
        query: String,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one patient with their visits.
    Show {
        /// Patient id.
        id: String,
    },
    /// Correct a patient's details (audited; the previous state is kept). Prints the patient.
    Edit {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// The fields to change as JSON (the keys of `register --json`; null clears a field);
        /// - for stdin.
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
    },
    /// Merge a duplicate record into the one to keep (visits move; audited).
    Merge {
        /// The patient id to keep.
        #[arg(long)]
        keep: String,
        /// The duplicate patient id (marked merged into the kept one).
        #[arg(long)]
        duplicate: String,
    },
    /// A patient record's earlier states (edits and merges), oldest first.
    History {
        /// Patient id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print the facility configuration.
    Show,
    /// Change settings: a JSON patch from --file (or - for stdin) and/or KEY=VALUE pairs.
    ///
    /// Keys: name_en, name_hi, hfr_id, state_lgd, district_lgd, address, kiosk_letter,
    /// public_base_url, utc_offset_minutes, idle_lock_minutes; departments and fee_waivers take
    /// JSON arrays (upserted by code).
    Set {
        /// JSON object with the keys to change.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// KEY=VALUE pairs (numbers and JSON arrays are parsed; anything else is text).
        #[arg(value_name = "KEY=VALUE")]
        pairs: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCmd {
    /// Add an account.
    Add {
        /// Login name.
        #[arg(long)]
        name: String,
        /// reception, dialysis_nurse or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// PIN (6-12 digits) or passphrase (8+ characters); or set SWAGAT_STAFF_SECRET.
        #[arg(long, env = "SWAGAT_STAFF_SECRET", hide_env_values = true)]
        secret: String,
    },
    /// List accounts (with failed attempts and lockout).
    List,
    /// Disable an account: it can no longer log in (audited as staff.disable).
    Disable {
        #[command(flatten)]
        who: StaffWho,
    },
    /// Enable a disabled account again (audited as staff.enable).
    Enable {
        #[command(flatten)]
        who: StaffWho,
    },
    /// Set a new PIN (6-12 digits) or passphrase and lift any lockout (audited as staff.reset_pin).
    ResetPin {
        #[command(flatten)]
        who: StaffWho,
        /// The new PIN or passphrase; or set SWAGAT_STAFF_SECRET.
        #[arg(
            long,
            alias = "pin",
            env = "SWAGAT_STAFF_SECRET",
            hide_env_values = true
        )]
        secret: String,
    },
    /// Lift a lockout after wrong PINs (audited as staff.unlock).
    Unlock {
        #[command(flatten)]
        who: StaffWho,
    },
}

/// Which account: by login name or by id.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct StaffWho {
    /// The login name.
    #[arg(long)]
    name: Option<String>,
    /// The account id.
    #[arg(long)]
    id: Option<String>,
}

impl StaffWho {
    fn resolve(&self, kiosk: &Kiosk) -> Result<String, CliError> {
        let key = self
            .id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or_default();
        Ok(kiosk.staff_id(key)?)
    }
}

#[derive(Debug, Subcommand)]
enum AuditCmd {
    /// Newest entries first.
    List {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(Value::String(s.to_owned()))
        .map_err(|_| "role must be reception, dialysis_nurse or admin".to_owned())
}

/// The unlock secret: `--unlock-file`'s content, else `$SWAGAT_UNLOCK` (None when neither).
fn unlock_secret(file: Option<&Path>) -> Result<Option<zeroize::Zeroizing<String>>, CliError> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            CliError::Input(format!("cannot read the unlock file {}: {e}", f.display()))
        })?;
        return Ok(Some(zeroize::Zeroizing::new(text.trim().to_owned())));
    }
    Ok(std::env::var(swagat_core::crypt::UNLOCK_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .map(zeroize::Zeroizing::new))
}

/// Runs the parsed command against the database at `db`.
pub fn run(cli: Cli, db: &Path) -> Result<Value, CliError> {
    if let Command::DecodeQr { file, uidai_certs } = &cli.command {
        // Decoding needs no database: nothing is stored.
        return crate::opd::decode_qr(file.as_deref(), uidai_certs.as_deref());
    }
    let secret = unlock_secret(cli.unlock_file.as_deref())?;
    if let Command::Backup { action } = cli.command {
        // Before opening the kiosk: a damaged database can still be listed, checked and restored
        // (the key comes from the key file or the recovery key alone).
        if let Some(s) = &secret {
            swagat_core::crypt::unlock_admin(db, s)?;
        }
        return crate::backup::run(action, db);
    }
    // An encrypted database (or any database, given the recovery key) is unlocked before it is
    // opened; a plaintext one that has staff is encrypted in place by an administrator's secret.
    if let Some(s) = &secret {
        if swagat_core::crypt::is_encrypted(db)
            || swagat_core::crypt::DataKey::from_recovery(s).is_some()
        {
            swagat_core::crypt::unlock_admin(db, s)?;
        }
    }
    let kiosk = Kiosk::open(db)?;
    if let Some(s) = &secret {
        if !kiosk.is_encrypted() {
            kiosk.unlock(s)?;
        }
    }
    match cli.command {
        Command::Status => crate::sync::status(&kiosk),
        Command::Enroll {
            server,
            code,
            ca_cert,
            insecure_http,
        } => crate::sync::enroll(&kiosk, &server, &code, ca_cert.as_deref(), insecure_http),
        Command::Sync { until_idle } => crate::sync::sync(&kiosk, until_idle),
        Command::Config {
            action: ConfigCmd::Show,
        } => to_json(&kiosk.config()?),
        Command::Config {
            action: ConfigCmd::Set { file, pairs },
        } => {
            let patch = build_patch(file.as_deref(), &pairs)?;
            to_json(&kiosk.update_config(&Actor::Cli, &patch)?)
        }
        Command::Init {
            file,
            admin_name,
            admin_secret,
        } => {
            let facility = build_patch(Some(&file), &[])?;
            let admin = kiosk.first_run_setup(&swagat_core::FirstRunSetup {
                facility,
                admin_name,
                admin_secret,
            })?;
            // The recovery key is shown once, here: write it down and keep it apart from the kiosk
            // (it is escrowed with the state server at enrollment too).
            Ok(json!({
                "admin": admin,
                "config": kiosk.config()?,
                "encrypted": kiosk.is_encrypted(),
                "recovery_key": kiosk.recovery_key(),
            }))
        }
        Command::Staff {
            action: StaffCmd::Add { name, role, secret },
        } => to_json(&kiosk.add_staff(&Actor::Cli, &NewStaff { name, role, secret })?),
        Command::Staff {
            action: StaffCmd::List,
        } => Ok(json!({ "staff": kiosk.staff_accounts()? })),
        Command::Staff {
            action: StaffCmd::Disable { who },
        } => to_json(&kiosk.set_staff_active(&Actor::Cli, &who.resolve(&kiosk)?, false)?),
        Command::Staff {
            action: StaffCmd::Enable { who },
        } => to_json(&kiosk.set_staff_active(&Actor::Cli, &who.resolve(&kiosk)?, true)?),
        Command::Staff {
            action: StaffCmd::ResetPin { who, secret },
        } => to_json(&kiosk.reset_staff_secret(&Actor::Cli, &who.resolve(&kiosk)?, &secret)?),
        Command::Staff {
            action: StaffCmd::Unlock { who },
        } => to_json(&kiosk.unlock_staff(&Actor::Cli, &who.resolve(&kiosk)?)?),
        Command::Audit {
            action: AuditCmd::List { limit },
        } => Ok(json!({ "entries": kiosk.audit_log(limit)? })),
        Command::Register {
            department,
            qr,
            json: fields,
            waiver,
        } => crate::opd::register(&kiosk, department, qr.as_deref(), fields.as_deref(), waiver),
        Command::DecodeQr { .. } | Command::Backup { .. } => {
            Err(CliError::Other("unreachable".into()))
        }
        Command::Shares {
            action: SharesCmd::List,
        } => Ok(json!({ "shares": kiosk.shared_profiles()? })),
        Command::Shares {
            action: SharesCmd::Register { share, department },
        } => to_json(&kiosk.register_share(&Actor::Cli, &share, &department)?),
        Command::Shares {
            action: SharesCmd::Poster { out, print },
        } => {
            let url = kiosk.counter_qr_url()?;
            let mut v = json!({ "url": url });
            if let Some(path) = &out {
                std::fs::write(path, kiosk.counter_poster_pdf()?).map_err(|e| {
                    CliError::Other(format!("cannot write {}: {e}", path.display()))
                })?;
                v["out"] = json!(path);
            }
            if print {
                v["job"] = json!(kiosk.print_counter_poster(&Actor::Cli)?);
            }
            Ok(v)
        }
        Command::Patients {
            action: PatientsCmd::Search { query, limit },
        } => {
            let (kind, patients) = kiosk.search_patients(&query, limit)?;
            Ok(json!({ "query_kind": kind, "count": patients.len(), "patients": patients }))
        }
        Command::Patients {
            action: PatientsCmd::Show { id },
        } => {
            let patient = kiosk.patient(&id)?;
            let visits = kiosk.patient_visits(&patient.id, 50)?;
            Ok(json!({ "patient": patient, "visits": visits }))
        }
        Command::Patients {
            action:
                PatientsCmd::Edit {
                    patient,
                    json: file,
                },
        } => {
            let patch: swagat_core::opd::PatientPatch =
                match serde_json::from_str::<Value>(&read_input(&file)?) {
                    Ok(v @ Value::Object(_)) => serde_json::from_value(v)
                        .map_err(|e| CliError::Input(format!("invalid JSON: {e}")))?,
                    Ok(_) => return Err(CliError::Input("the JSON must be an object".into())),
                    Err(e) => return Err(CliError::Input(format!("invalid JSON: {e}"))),
                };
            to_json(&kiosk.edit_patient(&Actor::Cli, &patient, &patch)?)
        }
        Command::Patients {
            action: PatientsCmd::Merge { keep, duplicate },
        } => to_json(&kiosk.merge_patients(&Actor::Cli, &keep, &duplicate)?),
        Command::Patients {
            action: PatientsCmd::History { id },
        } => Ok(json!({ "patient_id": id, "versions": kiosk.patient_history(&id)? })),
        Command::Slip {
            visit,
            size,
            out,
            png,
        } => crate::opd::slip(&kiosk, &visit, &size, out.as_deref(), png.as_deref()),
        Command::Dialysis { action } => crate::dialysis::run(action, &kiosk),
        Command::CancelVisit { visit, reason } => {
            kiosk.cancel_visit(&Actor::Cli, &visit, &reason)?;
            Ok(json!({ "visit_id": visit, "status": "cancelled" }))
        }
        Command::Report { action } => crate::report::run(action, &kiosk),
        Command::DemoData { patients, seed } => {
            let (p, v) = swagat_core::demo::seed(&kiosk, patients, seed)?;
            Ok(json!({ "patients": p, "visits": v }))
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, CliError> {
    serde_json::to_value(v).map_err(|e| CliError::Other(e.to_string()))
}

/// Reads `path` (or stdin for `-`) as text.
pub fn read_input(path: &Path) -> Result<String, CliError> {
    let mut s = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Input(format!("cannot read stdin: {e}")))?;
    } else {
        s = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    }
    Ok(s)
}

fn build_patch(file: Option<&Path>, pairs: &[String]) -> Result<ConfigPatch, CliError> {
    let mut obj = match file {
        Some(p) => match serde_json::from_str::<Value>(&read_input(p)?) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(CliError::Input("the JSON must be an object".into())),
            Err(e) => return Err(CliError::Input(format!("invalid JSON: {e}"))),
        },
        None => serde_json::Map::new(),
    };
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Input(format!("expected KEY=VALUE, got {pair:?}")))?;
        let value = match serde_json::from_str::<Value>(v) {
            Ok(n @ (Value::Number(_) | Value::Array(_))) => n,
            _ => Value::String(v.to_owned()),
        };
        obj.insert(k.trim().to_owned(), value);
    }
    if obj.is_empty() {
        return Err(CliError::Input(
            "nothing to set: give --file or KEY=VALUE pairs".into(),
        ));
    }
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| CliError::Input(format!("invalid setting: {e}")))
}
