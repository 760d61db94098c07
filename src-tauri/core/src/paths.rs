//! Where the kiosk keeps its files: the platform data directory, overridable.
//!
//! Default database: `<data dir>/swagat.db` (on Linux `~/.local/share/swagat/`). `SWAGAT_DB`
//! overrides it for both binaries; `swagat-admin --db PATH` overrides both. Logs go to
//! `<dir of the database>/logs/`, so a test that points `SWAGAT_DB` at a temp dir keeps its logs there.

use std::path::{Path, PathBuf};

/// Environment variable naming the database file.
pub const DB_ENV: &str = "SWAGAT_DB";

/// The platform data directory for Swagat.
pub fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("in", "Swagat", "swagat")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".swagat"))
}

/// The database path: `explicit`, else `$SWAGAT_DB`, else the data directory's `swagat.db`.
pub fn db_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os(DB_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => data_dir().join("swagat.db"),
    }
}

/// The folder beside the database where an admin drops extra UIDAI certificates or keys.
pub fn certs_dir(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("uidai-certs")
}

/// The folder for log files beside the database.
pub fn log_dir(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("logs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_wins_and_logs_sit_beside_the_db() {
        let p = db_path(Some(Path::new("/tmp/x/k.db")));
        assert_eq!(p, PathBuf::from("/tmp/x/k.db"));
        assert_eq!(log_dir(&p), PathBuf::from("/tmp/x/logs"));
        assert_eq!(log_dir(Path::new("k.db")), PathBuf::from("./logs"));
    }
}
