//! `swagat-admin backup create|list|verify|restore`: the kiosk's backups from the command line,
//! each a few lines over `swagat_core::backup`. Restore refuses while the app holds the database.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::Value;
use swagat_core::{backup, Actor, Kiosk};

use crate::output::CliError;

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Make a verified backup now (into --dir, else the configured backup folder) and rotate.
    Create {
        /// Write it here instead of the configured folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// List the backups (newest first) and the last good one.
    List {
        /// List this folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Open a backup file and run `PRAGMA integrity_check` (exit 3 if it fails).
    Verify {
        /// The backup file.
        file: PathBuf,
    },
    /// Replace the database with a backup (checked first; the replaced file is kept aside).
    /// Refused while the Swagat app has the database open.
    Restore {
        /// The backup file (default with --latest: the newest verified backup).
        file: Option<PathBuf>,
        /// Restore the newest backup that passes its check.
        #[arg(long, conflicts_with = "file")]
        latest: bool,
    },
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, CliError> {
    serde_json::to_value(v).map_err(|e| CliError::Other(e.to_string()))
}

/// Runs a backup command on the database at `db` (the kiosk is opened only where needed, so a
/// damaged database can still be listed, verified and restored).
pub fn run(action: BackupCmd, db: &Path) -> Result<Value, CliError> {
    match action {
        BackupCmd::Create { dir } => {
            let kiosk = Kiosk::open(db)?;
            to_json(&kiosk.backup_now(&Actor::Cli, dir.as_deref())?)
        }
        BackupCmd::List { dir } => {
            // The configured folder and the last good backup when the database can be read.
            let status = match (&dir, Kiosk::open(db)) {
                (None, Ok(k)) if !k.is_locked() => Some(k.backup_status()?),
                _ => None,
            };
            to_json(&backup::listing(db, dir.as_deref(), status)?)
        }
        BackupCmd::Verify { file } => {
            let v = backup::verify(&file)?;
            if v.ok {
                to_json(&v)
            } else {
                Err(CliError::Other(format!(
                    "{} failed its check: {}",
                    file.display(),
                    v.integrity
                )))
            }
        }
        BackupCmd::Restore { file, latest } => {
            if swagat_core::disk::AppLock::held_by_other(db)? {
                return Err(CliError::Other(
                    "the Swagat app has this database open: close it first, then restore".into(),
                ));
            }
            match (file, latest) {
                (Some(f), _) => to_json(&backup::restore(db, &f, &Actor::Cli)?),
                (None, true) => to_json(&backup::restore_latest(db, &Actor::Cli)?),
                (None, false) => Err(CliError::Input("give the backup FILE or --latest".into())),
            }
        }
    }
}
