//! How `swagat-admin` reports: JSON on stdout, a one-line reason on stderr, and its exit codes.

use std::io::Write;
use std::process::ExitCode;

use swagat_core::{CoreError, ErrorKind, Lang};

/// Success.
pub const EXIT_OK: u8 = 0;
/// Bad command line.
pub const EXIT_USAGE: u8 = 1;
/// Invalid input (a value, a file's content).
pub const EXIT_INVALID: u8 = 2;
/// Anything else (database, disk, not found, permission).
pub const EXIT_OTHER: u8 = 3;

/// A command's failure: the core's error, or a problem with the CLI's own input.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the core.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Input the CLI itself could not read (a file, JSON).
    #[error("{0}")]
    Input(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Core(e) if e.kind() == ErrorKind::Invalid => EXIT_INVALID,
            Self::Core(_) | Self::Other(_) => EXIT_OTHER,
            Self::Input(_) => EXIT_INVALID,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Core(e) => e.message(Lang::En),
            other => other.to_string(),
        }
    }
}

/// Prints `value` as one line of JSON and exits 0 (3 if stdout is gone).
pub fn print_json(value: &serde_json::Value) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{value}").and_then(|_| out.flush()) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(_) => ExitCode::from(EXIT_OTHER),
    }
}

/// Prints the reason on stderr and returns the exit code for `e`.
pub fn fail(e: &CliError) -> ExitCode {
    let msg = e.message().replace('\n', " ");
    let _ = writeln!(std::io::stderr(), "swagat-admin: {msg}");
    ExitCode::from(e.exit_code())
}
