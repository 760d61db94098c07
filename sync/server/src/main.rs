//! `swagat-server`: the state server's command line (serve, facility, device, user, stats).
//!
//! The subcommands and their JSON outputs are a contract used by the acceptance checks and
//! operators' scripts; keep names and keys stable. All output on stdout is JSON; logs go to
//! stderr as structured JSON lines.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;
use swagat_server::abdm::store::ShareStore;
use swagat_server::store::{NewFacility, PortalScope};
use swagat_server::{secrets, DbStore, Store, StoreError};
use tracing::{error, info};
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "swagat-server", version, about = "Swagat state server (sync)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the sync API.
    Serve {
        /// sqlite:PATH or postgres://user:pass@host/db
        #[arg(long)]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Serve https with this PEM certificate chain (needs --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// ABDM HIECM base for scan and share, e.g. https://dev.abdm.gov.in/api/hiecm (the
        /// sandbox). Without it the share callback answers 503.
        #[arg(long, env = "SWAGAT_ABDM_GATEWAY", requires_all = ["abdm_client_id", "abdm_client_secret"])]
        abdm_gateway: Option<String>,
        /// Client id issued by ABDM.
        #[arg(long, env = "SWAGAT_ABDM_CLIENT_ID")]
        abdm_client_id: Option<String>,
        /// Client secret issued by ABDM.
        #[arg(long, env = "SWAGAT_ABDM_CLIENT_SECRET", hide_env_values = true)]
        abdm_client_secret: Option<String>,
        /// X-CM-ID: sbx (sandbox) or abdm (production).
        #[arg(long, env = "SWAGAT_ABDM_CM_ID", default_value = swagat_server::abdm::DEFAULT_CM_ID)]
        abdm_cm_id: String,
        /// Validity window of a scan-and-share token, in seconds (repeats within it get the
        /// same token).
        #[arg(long, env = "SWAGAT_ABDM_TOKEN_WINDOW", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(60..=86400))]
        abdm_token_window: u64,
        /// Connection, request, body, rate and quota limits (see ARCHITECTURE.md, "Server
        /// limits").
        #[command(flatten)]
        limits: swagat_server::Limits,
    },
    /// ABHA scan-and-share: shares received from ABDM's gateway.
    Shares {
        #[command(subcommand)]
        cmd: SharesCmd,
    },
    /// Manage booking portals (online dialysis requests).
    Portal {
        #[command(subcommand)]
        cmd: PortalCmd,
    },
    /// Manage facilities.
    Facility {
        #[command(subcommand)]
        cmd: FacilityCmd,
    },
    /// Manage devices.
    Device {
        #[command(subcommand)]
        cmd: DeviceCmd,
    },
    /// Manage officials' dashboard accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Escrow of kiosks' recovery keys, sealed to the state's key (the server cannot open them).
    Escrow {
        #[command(subcommand)]
        cmd: EscrowCmd,
    },
    /// Publish a server-authored record (configuration, master) to a facility's kiosks;
    /// prints {"record_id"}.
    Publish {
        #[arg(long)]
        db: String,
        /// Facility code.
        #[arg(long)]
        facility: String,
        /// Entity kind, e.g. facility_config, master_department.
        #[arg(long)]
        kind: String,
        /// Record id to replace (a new record when omitted).
        #[arg(long)]
        id: Option<Uuid>,
        /// File holding the JSON payload ("-" for standard input).
        #[arg(long)]
        payload_file: String,
    },
    /// Count distinct records per entity kind.
    Stats {
        #[arg(long)]
        db: String,
        /// Only this facility (its code).
        #[arg(long)]
        facility: Option<String>,
    },
}

#[derive(Subcommand)]
enum FacilityCmd {
    /// Create a facility; prints {"facility_id", "enrollment_code"}.
    Add {
        #[arg(long)]
        db: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        hfr_id: Option<String>,
        #[arg(long)]
        state_lgd: Option<u32>,
        #[arg(long)]
        district_lgd: Option<u32>,
        /// Days the first enrollment code stays valid (1 to 365).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
        valid_days: u32,
    },
    /// Change a facility's HFR id (its ABDM hipId) or name; prints {"facility_id","code","hfr_id"}.
    Set {
        #[arg(long)]
        db: String,
        /// Facility code.
        #[arg(long)]
        code: String,
        /// HFR id: IN and 10 digits.
        #[arg(long)]
        hfr_id: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Issue another one-time enrollment code for a facility (one per kiosk).
    Code {
        #[arg(long)]
        db: String,
        /// Facility code.
        #[arg(long)]
        code: String,
        /// Days the code stays valid (1 to 365).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
        valid_days: u32,
    },
}

#[derive(Subcommand)]
enum EscrowCmd {
    /// Make the state's escrow key pair: the public key is stored here, the private key is
    /// written to --private-key-out (mode 0600) and nowhere else — keep it offline. Prints
    /// {"public_key","key_id","private_key_file"}. Refused when a key exists.
    Keygen {
        #[arg(long)]
        db: String,
        /// New file for the private key (must not exist).
        #[arg(long)]
        private_key_out: std::path::PathBuf,
    },
    /// Devices whose recovery key is escrowed; prints {"escrows":[{"device_id","facility",
    /// "device_name","key_check","escrowed_at_ms"}]}.
    List {
        #[arg(long)]
        db: String,
        /// Only this facility (its code).
        #[arg(long)]
        facility: Option<String>,
    },
    /// Open one device's escrowed recovery key with the private key file; prints
    /// {"device_id","recovery_key","key_check"}. The `RK-…` unlocks that kiosk's database
    /// (`SWAGAT_UNLOCK` / `--unlock-file`, or the app's recovery-key login).
    Recover {
        #[arg(long)]
        db: String,
        #[arg(long)]
        device: Uuid,
        /// The file `escrow keygen` wrote.
        #[arg(long)]
        private_key_file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum SharesCmd {
    /// A facility's shares of one day; prints {"shares":[{"id","request_id","abha_address",
    /// "abha_number","name","context","token","status","visit_id"}]}.
    List {
        #[arg(long)]
        db: String,
        /// Facility code.
        #[arg(long)]
        facility: String,
        /// YYYY-MM-DD (default: the facility's today, IST).
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
enum PortalCmd {
    /// Register a booking portal; prints {"portal_id", "token"}. The token is shown once; the
    /// server keeps only a hash. The portal sends it as `Authorization: Bearer <token>`.
    Add {
        #[arg(long)]
        db: String,
        /// Name of the portal (e.g. PMNDP Bihar).
        #[arg(long)]
        name: String,
        /// A facility (its code) the portal may post for; repeat for several. Without
        /// --facility and --district the portal may post for every facility of the state.
        #[arg(long = "facility")]
        facilities: Vec<String>,
        /// An LGD district whose facilities the portal may post for; repeat for several.
        #[arg(long = "district")]
        districts: Vec<u32>,
    },
    /// Revoke a portal: its token is refused (401) from then on; prints {"portal_id", "revoked"}.
    Revoke {
        #[arg(long)]
        db: String,
        #[arg(long)]
        portal: Uuid,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an official's account; prints {"id", "name", "role"}. The password is read as one
    /// line from standard input (the newline is not part of it).
    Add {
        #[arg(long)]
        db: String,
        /// Login name.
        #[arg(long)]
        name: String,
        /// state, district or facility.
        #[arg(long)]
        role: String,
        /// LGD district code (role district).
        #[arg(long)]
        district: Option<i64>,
        /// Facility code (role facility).
        #[arg(long)]
        facility: Option<String>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts; prints a JSON array (no password hashes).
    List {
        #[arg(long)]
        db: String,
    },
    /// Disable an account and end its sessions; prints {"name", "disabled"}.
    Disable {
        #[arg(long)]
        db: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Revoke a device: all its further requests are refused.
    Revoke {
        #[arg(long)]
        db: String,
        #[arg(long)]
        device: Uuid,
    },
    /// List devices; prints {"devices": [{"device_id", "facility_code", "name", "acked_seq",
    /// "revoked", "created_at_ms", "previous_device_id"}]} (`previous_device_id`: the device a
    /// re-enrolled kiosk replaced, i.e. the audited change of device id).
    List {
        #[arg(long)]
        db: String,
        /// Only this facility (its code).
        #[arg(long)]
        facility: Option<String>,
    },
}

/// Unix ms when a code made now for `days` days expires.
fn expiry(days: u32) -> i64 {
    swagat_server::store::now_ms() + i64::from(days) * 24 * 60 * 60 * 1000
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("unknown device")]
    UnknownDevice,
    #[error("unknown portal")]
    UnknownPortal,
    #[error("invalid payload: {0}")]
    Payload(String),
    #[error("{0}")]
    User(#[from] swagat_server::users::UserError),
    #[error("unknown user")]
    UnknownUser,
    #[error("{0}")]
    Escrow(#[from] swagat_server::escrow::EscrowCmdError),
}

/// The HFR id, upper-cased, checked by the rule the kiosk uses too.
fn check_hfr_id(hfr_id: Option<&str>) -> Result<Option<String>, CliError> {
    hfr_id
        .map(|h| {
            swagat_validate::parse_hfr_id(h).map_err(|_| {
                CliError::Payload(
                    "--hfr-id must be IN followed by 10 digits (e.g. IN2810014366)".into(),
                )
            })
        })
        .transpose()
}

/// The facility code, upper-cased, checked by the rule every kiosk enforces: a code a kiosk
/// would refuse must not consume an enrollment code first.
fn check_facility_code(code: &str) -> Result<String, CliError> {
    swagat_validate::FacilityCode::parse(code)
        .map(swagat_validate::FacilityCode::into_string)
        .map_err(|e| CliError::Payload(format!("--code {code:?}: {e}")))
}

/// A facility code given to look a facility up: its canonical (upper-case) form when it is one,
/// else as typed (a facility added before codes were checked keeps its old code).
fn facility_ref(code: &str) -> String {
    swagat_validate::FacilityCode::parse(code)
        .map(swagat_validate::FacilityCode::into_string)
        .unwrap_or_else(|_| code.trim().to_owned())
}

/// Creates the private key file, mode 0600, refusing an existing one.
fn private_key_file_create(path: &std::path::Path) -> Result<std::fs::File, CliError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| {
        CliError::Payload(format!(
            "--private-key-out {}: {e} (an existing file is never overwritten)",
            path.display()
        ))
    })
}

fn print(v: serde_json::Value) {
    println!("{v}");
}

/// The answer of `facility add` and `facility code`: the one-time code, shown once.
fn print_enrollment_code(facility_id: Uuid, code: &str, expires_at_ms: i64) {
    print(serde_json::json!({
        "facility_id": facility_id,
        "enrollment_code": code,
        "expires_at_ms": expires_at_ms,
    }));
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutdown requested; finishing in-flight requests");
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.cmd {
        Cmd::Serve {
            db,
            listen,
            tls_cert,
            tls_key,
            abdm_gateway,
            abdm_client_id,
            abdm_client_secret,
            abdm_cm_id,
            abdm_token_window,
            limits,
        } => {
            let abdm = abdm_gateway.map(|gateway| {
                let mut c = swagat_server::abdm::AbdmConfig::new(
                    &gateway,
                    abdm_client_id.as_deref().unwrap_or_default(),
                    abdm_client_secret.as_deref().unwrap_or_default(),
                );
                c.cm_id = abdm_cm_id;
                c.window = std::time::Duration::from_secs(abdm_token_window);
                c
            });
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(swagat_server::tls_config(&cert, &key)?),
                _ => None,
            };
            let store = Arc::new(DbStore::open(&db).await?);
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            info!(addr = %listener.local_addr()?, backend = store.backend(), tls = tls.is_some(), abdm = abdm.is_some(), limits = ?limits, "listening");
            match tls {
                Some(config) => {
                    swagat_server::tls::serve_tls_with(
                        store,
                        listener,
                        config,
                        limits,
                        shutdown_signal(),
                        abdm,
                    )
                    .await?
                }
                None => {
                    swagat_server::serve_with(store, listener, limits, shutdown_signal(), abdm)
                        .await?
                }
            }
            info!("stopped");
        }
        Cmd::Portal {
            cmd:
                PortalCmd::Add {
                    db,
                    name,
                    facilities,
                    districts,
                },
        } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(CliError::Payload(
                    "the portal name must be 1 to 100 characters".into(),
                ));
            }
            let store = DbStore::open(&db).await?;
            let mut facilities: Vec<String> = facilities.iter().map(|f| facility_ref(f)).collect();
            facilities.sort();
            facilities.dedup();
            for f in &facilities {
                if store.facility_district(f.clone()).await?.is_none() {
                    return Err(CliError::Payload(format!("no facility with code {f}")));
                }
            }
            let mut districts = districts;
            districts.sort_unstable();
            districts.dedup();
            let scope = PortalScope {
                facilities,
                districts,
            };
            let secret = secrets::new_device_secret();
            let id = store
                .add_portal(name, secrets::hash_secret(&secret), scope.clone())
                .await?;
            print(serde_json::json!({
                "portal_id": id,
                "token": format!("{id}.{secret}"),
                "facilities": scope.facilities,
                "districts": scope.districts,
            }));
        }
        Cmd::Portal {
            cmd: PortalCmd::Revoke { db, portal },
        } => {
            let store = DbStore::open(&db).await?;
            if !store.revoke_portal(portal).await? {
                return Err(CliError::UnknownPortal);
            }
            print(serde_json::json!({ "portal_id": portal, "revoked": true }));
        }
        Cmd::Facility {
            cmd:
                FacilityCmd::Add {
                    db,
                    code,
                    name,
                    hfr_id,
                    state_lgd,
                    district_lgd,
                    valid_days,
                },
        } => {
            let hfr_id = check_hfr_id(hfr_id.as_deref())?;
            let code = check_facility_code(&code)?;
            let store = DbStore::open(&db).await?;
            let enrollment_code = secrets::new_enrollment_code();
            let expires_at_ms = expiry(valid_days);
            let f = store
                .add_facility_until(
                    NewFacility {
                        code,
                        name,
                        hfr_id,
                        state_lgd,
                        district_lgd,
                    },
                    secrets::hash_enrollment_code(&enrollment_code),
                    expires_at_ms,
                )
                .await?;
            print_enrollment_code(f.id, &enrollment_code, expires_at_ms);
        }
        Cmd::Facility {
            cmd:
                FacilityCmd::Set {
                    db,
                    code,
                    hfr_id,
                    name,
                },
        } => {
            let hfr_id = check_hfr_id(hfr_id.as_deref())?;
            let name = name.map(|n| n.trim().to_string());
            if name
                .as_ref()
                .is_some_and(|n| n.is_empty() || n.chars().count() > 200)
            {
                return Err(CliError::Payload(
                    "the name must be 1 to 200 characters".into(),
                ));
            }
            if hfr_id.is_none() && name.is_none() {
                return Err(CliError::Payload(
                    "nothing to set (give --hfr-id or --name)".into(),
                ));
            }
            let store = DbStore::open(&db).await?;
            let f = store
                .set_facility(facility_ref(&code), hfr_id.clone(), name)
                .await?;
            print(
                serde_json::json!({ "facility_id": f.id, "code": f.code, "name": f.name, "hfr_id": hfr_id }),
            );
        }
        Cmd::Shares {
            cmd: SharesCmd::List { db, facility, date },
        } => {
            let day = match date {
                Some(d) => {
                    let fmt = time::macros::format_description!("[year]-[month]-[day]");
                    time::Date::parse(&d, &fmt)
                        .map_err(|_| CliError::Payload("--date must be YYYY-MM-DD".into()))?;
                    d
                }
                None => swagat_server::abdm::store::today(),
            };
            let store = DbStore::open(&db).await?;
            let shares = store.shares(facility_ref(&facility), day).await?;
            print(serde_json::json!({ "shares": shares }));
        }
        Cmd::Facility {
            cmd:
                FacilityCmd::Code {
                    db,
                    code,
                    valid_days,
                },
        } => {
            let store = DbStore::open(&db).await?;
            let enrollment_code = secrets::new_enrollment_code();
            let expires_at_ms = expiry(valid_days);
            let f = store
                .add_enrollment_code_until(
                    facility_ref(&code),
                    secrets::hash_enrollment_code(&enrollment_code),
                    expires_at_ms,
                )
                .await?;
            print_enrollment_code(f.id, &enrollment_code, expires_at_ms);
        }
        Cmd::Device {
            cmd: DeviceCmd::List { db, facility },
        } => {
            let store = DbStore::open(&db).await?;
            let devices = store.devices(facility.as_deref().map(facility_ref)).await?;
            print(serde_json::json!({ "devices": devices }));
        }
        Cmd::Device {
            cmd: DeviceCmd::Revoke { db, device },
        } => {
            let store = DbStore::open(&db).await?;
            if !store.revoke_device(device).await? {
                return Err(CliError::UnknownDevice);
            }
            print(serde_json::json!({ "device_id": device, "revoked": true }));
        }
        Cmd::Publish {
            db,
            facility,
            kind,
            id,
            payload_file,
        } => {
            let text = if payload_file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&payload_file)?
            };
            let payload: Box<serde_json::value::RawValue> =
                serde_json::from_str(&text).map_err(|e| CliError::Payload(e.to_string()))?;
            if !swagat_sync_protocol::envelope::is_valid_kind(&kind) {
                return Err(CliError::Payload("invalid entity kind".into()));
            }
            let store = DbStore::open(&db).await?;
            let record_id = store
                .publish(facility_ref(&facility), kind, id, payload.get().to_string())
                .await?;
            print(serde_json::json!({ "record_id": record_id }));
        }
        Cmd::User {
            cmd:
                UserCmd::Add {
                    db,
                    name,
                    role,
                    district,
                    facility,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                return Err(CliError::Payload(
                    "give the password on standard input with --password-stdin".into(),
                ));
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.strip_suffix('\n').unwrap_or(&line);
            let password = password.strip_suffix('\r').unwrap_or(password);
            let store = DbStore::open(&db).await?;
            let u = swagat_server::users::add(
                &store,
                &name,
                &role,
                district,
                facility.as_deref().map(facility_ref),
                password,
            )
            .await?;
            print(serde_json::json!({ "id": u.id, "name": u.name, "role": u.scope.role() }));
        }
        Cmd::User {
            cmd: UserCmd::List { db },
        } => {
            let store = DbStore::open(&db).await?;
            print(serde_json::json!(swagat_server::users::list(&store).await?));
        }
        Cmd::User {
            cmd: UserCmd::Disable { db, name },
        } => {
            let store = DbStore::open(&db).await?;
            if !swagat_server::users::disable(&store, &name).await? {
                return Err(CliError::UnknownUser);
            }
            print(serde_json::json!({ "name": name, "disabled": true }));
        }
        Cmd::Escrow {
            cmd:
                EscrowCmd::Keygen {
                    db,
                    private_key_out,
                },
        } => {
            let store = DbStore::open(&db).await?;
            // The file first (refusing to overwrite), so a key pair never exists whose private
            // half was not written.
            let mut file = private_key_file_create(&private_key_out)?;
            let (private, public) = match swagat_server::escrow::keygen(&store).await {
                Ok(pair) => pair,
                Err(e) => {
                    drop(file);
                    let _ = std::fs::remove_file(&private_key_out);
                    return Err(e.into());
                }
            };
            use std::io::Write as _;
            file.write_all(format!("{}\n", private.as_str()).as_bytes())?;
            file.sync_all()?;
            print(serde_json::json!({
                "public_key": public,
                "key_id": swagat_server::store::key_id(&public),
                "private_key_file": private_key_out.display().to_string(),
            }));
        }
        Cmd::Escrow {
            cmd: EscrowCmd::List { db, facility },
        } => {
            let store = DbStore::open(&db).await?;
            let escrows =
                swagat_server::escrow::list(&store, facility.as_deref().map(facility_ref)).await?;
            print(serde_json::json!({ "escrows": escrows }));
        }
        Cmd::Escrow {
            cmd:
                EscrowCmd::Recover {
                    db,
                    device,
                    private_key_file,
                },
        } => {
            let private = zeroize::Zeroizing::new(std::fs::read_to_string(&private_key_file)?);
            let store = DbStore::open(&db).await?;
            let (text, key_check) =
                swagat_server::escrow::recover(&store, device, private.trim()).await?;
            // Who opened which kiosk's key is worth a log line; the key itself never is.
            tracing::warn!(%device, "escrowed recovery key opened");
            print(serde_json::json!({
                "device_id": device,
                "recovery_key": text.as_str(),
                "key_check": key_check,
            }));
        }
        Cmd::Stats { db, facility } => {
            let store = DbStore::open(&db).await?;
            let stats = store.stats(facility.as_deref().map(facility_ref)).await?;
            print(serde_json::json!(stats));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "failed");
            eprintln!("swagat-server: {e}");
            ExitCode::FAILURE
        }
    }
}
