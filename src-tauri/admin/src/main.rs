//! `swagat-admin`: the kiosk's headless admin CLI.
//!
//! Everything the app's screens can do, an administrator (or a test) can do here over the same
//! [`swagat_core::Kiosk`] calls. Contract: one JSON object on stdout per command; human-readable
//! errors on stderr; exit codes 0 ok, 1 usage, 2 invalid input, 3 other failure; never a panic on
//! user input. Links no GTK.

mod backup;
mod cli;
mod dialysis;
mod opd;
mod output;
mod report;
mod sync;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind as K;
            let code = match e.kind() {
                K::DisplayHelp
                | K::DisplayVersion
                | K::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                        output::EXIT_USAGE
                    } else {
                        output::EXIT_OK
                    }
                }
                _ => {
                    let _ = e.print();
                    output::EXIT_USAGE
                }
            };
            return ExitCode::from(code);
        }
    };
    let db = swagat_core::paths::db_path(args.db.as_deref());
    let _log_guard = swagat_core::logging::init(Some(&swagat_core::paths::log_dir(&db)), "warn");
    match cli::run(args, &db) {
        Ok(value) => output::print_json(&value),
        Err(e) => output::fail(&e),
    }
}
