//! Logging with `tracing`: to stderr and to a daily-rotated file beside the database.
//!
//! Invariant: nothing logs personal data. Log record ids, counts and codes, never names, numbers
//! or addresses; the domain types that hold identity numbers cannot print them anyway.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Log files kept before the oldest is deleted.
pub const KEEP_FILES: usize = 14;

/// Starts logging to stderr (at `warn` unless `RUST_LOG` says otherwise, so CLI output stays clean)
/// and, when `log_dir` is given, to `swagat.log.YYYY-MM-DD` files there at `info`. Keep the guard
/// alive for the program's life: dropping it flushes the file. Calling twice is harmless.
pub fn init(log_dir: Option<&Path>, stderr_level: &str) -> Option<WorkerGuard> {
    let stderr_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(stderr_level));
    let stderr_layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(stderr_filter);
    let (file_layer, guard) = match log_dir.and_then(|d| {
        std::fs::create_dir_all(d).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("swagat.log")
            .max_log_files(KEEP_FILES)
            .build(d)
            .ok()
    }) {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(EnvFilter::new("info"));
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
    guard
}

use tracing_subscriber::Layer as _;
