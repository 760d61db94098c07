//! Shared parts of the cross-crate sync tests: the real `swagat-server` and `swagat-admin`
//! binaries as child processes, the database of either backend, and unique facility codes.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use swagat_tests::{free_port, profile_dir, wait_for_port, Guard};

/// Runs a binary of the workspace; panics with its stderr unless it succeeds; its JSON output.
pub fn run(bin: &str, args: &[&str]) -> Value {
    let o = output(bin, args);
    assert!(
        o.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Runs a binary of the workspace and returns what it did.
pub fn output(bin: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(profile_dir().join(bin));
    cmd.args(args).env_remove("SWAGAT_DB");
    // A database seeded (and so encrypted) through the core is unlocked for the CLI.
    swagat_tests::apply_unlock(&mut cmd, args);
    cmd.output().unwrap()
}

/// `swagat-admin --db DB args…`.
pub fn admin(db: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    run("swagat-admin", &all)
}

/// Which state-server backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database URL for `backend`: a fresh SQLite file under `dir`, or `SWAGAT_TEST_PG_URL`
/// (shared: tests use unique facility codes). None skips the test outside CI; in CI a missing
/// PostgreSQL is a failure.
pub fn db_url(backend: Backend, dir: &Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite:{}", dir.join("state.db").display())),
        Backend::Postgres => match std::env::var("SWAGAT_TEST_PG_URL") {
            Ok(u) if !u.is_empty() => Some(u),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "SWAGAT_TEST_PG_URL is not set: in CI the PostgreSQL tests must run (sync/scripts/start-test-postgres.sh)"
                );
                eprintln!("NOTICE: SWAGAT_TEST_PG_URL not set; skipping PostgreSQL test");
                None
            }
        },
    }
}

/// A facility code no other test run has used (the PostgreSQL database is shared).
pub fn unique_code(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tail = format!("{:X}", (n ^ u128::from(std::process::id())) % 0xFFFFF);
    format!("{prefix}{tail}")
}

/// A running `swagat-server serve` (killed when dropped).
pub struct Server {
    pub url: String,
    pub port: u16,
    _guard: Guard,
}

impl Server {
    /// Starts `swagat-server serve` on a free loopback port, plus `extra` arguments.
    pub fn start(db: &str, extra: &[&str]) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let guard = Guard(
            Command::new(profile_dir().join("swagat-server"))
                .args(["serve", "--db", db, "--listen", &listen])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        assert!(wait_for_port(port, Duration::from_secs(20)));
        Server {
            url: format!("http://{listen}"),
            port,
            _guard: guard,
        }
    }
}
