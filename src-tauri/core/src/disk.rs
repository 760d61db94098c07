//! The data directory's disk: free space for the status strip, and the app's hold on the database.
//!
//! A reception PC's disk fills up (logs, backups on the same disk, a downloaded film); SQLite then
//! refuses writes with `SQLITE_FULL`, which the store reports as a bilingual
//! [`crate::CoreError::Storage`]. This module lets the strip warn *before* that happens
//! ([`DiskSpace::low`] below [`LOW_SPACE_BYTES`]) and lets `swagat-admin backup restore` refuse
//! while the app holds the database ([`AppLock`], an advisory `flock` on a file beside it).

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{CoreError, Result};

/// Below this much free space the status strip warns (500 MB).
pub const LOW_SPACE_BYTES: u64 = 500 * 1000 * 1000;

/// Free space where the database lives.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskSpace {
    /// Bytes an unprivileged writer may still use.
    pub free_bytes: u64,
    /// Size of the filesystem.
    pub total_bytes: u64,
    /// `free_bytes` is below [`LOW_SPACE_BYTES`].
    pub low: bool,
}

/// The nearest existing folder of `path` (the database may not exist yet).
fn existing_dir(path: &Path) -> PathBuf {
    let mut p = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    while !p.is_dir() {
        match p.parent() {
            Some(up) if !up.as_os_str().is_empty() => p = up.to_path_buf(),
            _ => return PathBuf::from("."),
        }
    }
    p
}

/// Free space on the filesystem holding `path` (a file or a folder).
pub fn space(path: &Path) -> Result<DiskSpace> {
    let dir = existing_dir(path);
    let st = rustix::fs::statvfs(&dir).map_err(|e| CoreError::Io(e.into()))?;
    let block = st.f_frsize.max(1);
    let free_bytes = st.f_bavail.saturating_mul(block);
    Ok(DiskSpace {
        free_bytes,
        total_bytes: st.f_blocks.saturating_mul(block),
        low: free_bytes < LOW_SPACE_BYTES,
    })
}

/// Whether the filesystem holding `path` is mounted read-only (SQLite then answers "unable to
/// open database file", which alone does not say why).
pub fn read_only(path: &Path) -> bool {
    rustix::fs::statvfs(existing_dir(path))
        .is_ok_and(|st| st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
}

/// The app's hold on its database: an exclusive advisory lock on `<db>.app-lock`, kept while the
/// value lives. `swagat-admin backup restore` refuses while someone holds it.
#[derive(Debug)]
pub struct AppLock {
    _file: File,
}

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".app-lock");
    db.with_file_name(name)
}

impl AppLock {
    /// Takes the lock for the database at `db`; `None` if another process holds it.
    pub fn acquire(db: &Path) -> Result<Option<Self>> {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(db))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(CoreError::Io(e.into())),
        }
    }

    /// Whether some process (the app) holds the lock for `db` now.
    pub fn held_by_other(db: &Path) -> Result<bool> {
        if !lock_path(db).exists() {
            return Ok(false);
        }
        Ok(Self::acquire(db)?.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_of_a_missing_file_is_its_folders() {
        let dir = tempfile::tempdir().unwrap();
        let s = space(&dir.path().join("not/yet/k.db")).unwrap();
        assert!(s.total_bytes > 0 && s.free_bytes <= s.total_bytes);
        assert_eq!(s.low, s.free_bytes < LOW_SPACE_BYTES);
    }

    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        assert!(!AppLock::held_by_other(&db).unwrap());
        let held = AppLock::acquire(&db).unwrap().unwrap();
        // flock is per open file: a second open in this process is refused like another process.
        assert!(AppLock::acquire(&db).unwrap().is_none());
        assert!(AppLock::held_by_other(&db).unwrap());
        drop(held);
        assert!(!AppLock::held_by_other(&db).unwrap());
    }
}
