//! Sending slips to printers, from Rust (the webview never prints).
//!
//! * PDF slips (A6 or 80 mm) go to a CUPS queue with `lp`, which handles drivers, spooling and
//!   retries for any office or label printer CUPS supports.
//! * ESC/POS jobs (from [`crate::Raster::to_escpos`]) go to a thermal printer as raw bytes: a
//!   raw CUPS queue (`lp -o raw`), a device file such as `/dev/usb/lp0`, or a network printer's
//!   raw port (`host:9100`).
//!
//! CUPS is driven through its command-line clients with `LC_ALL=C` so their messages can be
//! recognised; failures become [`PrintError`]s with English and Hindi messages for the counter.
//! Job titles never contain patient data.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::str::FromStr;
use std::time::Duration;

use crate::error::PrintError;

/// Title given to every print job (shown in queues; deliberately free of personal data).
pub const JOB_TITLE: &str = "Swagat OPD slip";

/// How long to wait for a network printer to accept a connection or data.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(5);

/// A CUPS print queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    /// Queue name, as passed to [`print_pdf`] or [`RawTarget::Cups`].
    pub name: String,
    /// Whether this is the system's default destination.
    pub is_default: bool,
}

/// Where raw (ESC/POS) bytes are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawTarget {
    /// A raw CUPS queue (`lp -d NAME -o raw`).
    Cups(String),
    /// A device file, e.g. `/dev/usb/lp0`.
    Device(PathBuf),
    /// A network printer's raw port, `host:port` (usually port 9100).
    Tcp(String),
}

impl FromStr for RawTarget {
    type Err = PrintError;

    /// Parses a printer setting: `/dev/usb/lp0` (device), `tcp://host[:port]` or `host:port`
    /// (network, default port 9100), `cups:NAME` or a bare queue name (CUPS).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let invalid = || PrintError::InvalidTarget(s.to_owned());
        if s.starts_with('/') {
            return Ok(RawTarget::Device(PathBuf::from(s)));
        }
        if let Some(rest) = s.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() {
                return Err(invalid());
            }
            let addr = if has_port(rest) {
                rest.to_owned()
            } else {
                format!("{rest}:9100")
            };
            return Ok(RawTarget::Tcp(addr));
        }
        if let Some(name) = s.strip_prefix("cups:") {
            return valid_queue_name(name)
                .then(|| RawTarget::Cups(name.to_owned()))
                .ok_or_else(invalid);
        }
        if has_port(s) {
            return Ok(RawTarget::Tcp(s.to_owned()));
        }
        valid_queue_name(s)
            .then(|| RawTarget::Cups(s.to_owned()))
            .ok_or_else(invalid)
    }
}

fn has_port(s: &str) -> bool {
    s.rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// CUPS queue names: printable, no spaces, `/`, `#` or quotes, not starting with `-`.
fn valid_queue_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '#' | '\'' | '"' | '\\'))
}

/// Lists the CUPS queues (`lpstat -e`) and marks the default one (`lpstat -d`).
pub fn list_printers() -> Result<Vec<Printer>, PrintError> {
    let out = run_cups("lpstat", &["-e"], None)?;
    if !out.status.success() {
        return Err(classify(&out, None));
    }
    let default = run_cups("lpstat", &["-d"], None).ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .find_map(|l| l.split_once("system default destination:"))
            .map(|(_, name)| name.trim().to_owned())
    });
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|name| Printer {
            name: name.to_owned(),
            is_default: default.as_deref() == Some(name),
        })
        .collect())
}

/// Prints a PDF on the CUPS queue `printer_name`; returns the CUPS job id (e.g. "SwagatPDF-12").
pub fn print_pdf(printer_name: &str, pdf_bytes: &[u8]) -> Result<String, PrintError> {
    if !valid_queue_name(printer_name) {
        return Err(PrintError::InvalidTarget(printer_name.to_owned()));
    }
    refuse_if_stopped(printer_name)?;
    let out = run_cups(
        "lp",
        &[
            "-d",
            printer_name,
            "-t",
            JOB_TITLE,
            "-o",
            "document-format=application/pdf",
            "--",
            "-",
        ],
        Some(pdf_bytes),
    )?;
    if !out.status.success() {
        return Err(classify(&out, Some(printer_name)));
    }
    Ok(job_id(&String::from_utf8_lossy(&out.stdout)).unwrap_or_default())
}

/// Sends raw printer bytes (an ESC/POS job) to `target`, unchanged.
pub fn print_raw(target: &RawTarget, escpos_bytes: &[u8]) -> Result<(), PrintError> {
    match target {
        RawTarget::Cups(name) => {
            if !valid_queue_name(name) {
                return Err(PrintError::InvalidTarget(name.clone()));
            }
            refuse_if_stopped(name)?;
            let out = run_cups(
                "lp",
                &["-d", name, "-t", JOB_TITLE, "-o", "raw", "--", "-"],
                Some(escpos_bytes),
            )?;
            if out.status.success() {
                Ok(())
            } else {
                Err(classify(&out, Some(name)))
            }
        }
        RawTarget::Device(path) => {
            let device_err = |source| PrintError::Device {
                path: path.display().to_string(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(device_err)?;
            file.write_all(escpos_bytes).map_err(device_err)?;
            file.flush().map_err(device_err)
        }
        RawTarget::Tcp(addr) => {
            let net_err = |source| PrintError::Network {
                addr: addr.clone(),
                source,
            };
            let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
            for sock in addr.to_socket_addrs().map_err(net_err)? {
                match TcpStream::connect_timeout(&sock, NETWORK_TIMEOUT) {
                    Ok(mut stream) => {
                        stream
                            .set_write_timeout(Some(NETWORK_TIMEOUT))
                            .map_err(net_err)?;
                        stream.write_all(escpos_bytes).map_err(net_err)?;
                        stream.flush().map_err(net_err)?;
                        return stream.shutdown(std::net::Shutdown::Write).map_err(net_err);
                    }
                    Err(e) => last = e,
                }
            }
            Err(net_err(last))
        }
    }
}

/// A stopped queue (`lpstat -p`: "printer X disabled since …") accepts jobs and holds them; the
/// counter needs the slip now, so such a queue is refused with what to do. A queue CUPS does not
/// know is left for `lp` to report (as not found).
fn refuse_if_stopped(name: &str) -> Result<(), PrintError> {
    let out = run_cups("lpstat", &["-p", name], None)?;
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && text.lines().any(|l| l.contains(" disabled")) {
        return Err(PrintError::Stopped(name.to_owned()));
    }
    Ok(())
}

/// Runs a CUPS client with the C locale, feeding `stdin` if given.
fn run_cups(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Result<Output, PrintError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PrintError::CupsNotInstalled,
        _ => PrintError::Command(format!("{program}: {e}")),
    })?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A write error (e.g. lp exited early) is reported through lp's own exit status.
        let _ = pipe.write_all(data);
    }
    child
        .wait_with_output()
        .map_err(|e| PrintError::Command(format!("{program}: {e}")))
}

/// Turns a failed `lp`/`lpstat` run into the error the counter staff should see.
fn classify(out: &Output, printer: Option<&str>) -> PrintError {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let msg = stderr.trim();
    let lower = msg.to_ascii_lowercase();
    if [
        "scheduler is not running",
        "not responding",
        "unable to connect",
        "connection refused",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || (lower.contains("no such file or directory") && !lower.contains("printer"))
    {
        return PrintError::CupsNotRunning;
    }
    match printer {
        Some(name)
            if lower.contains("does not exist")
                || lower.contains("unknown destination")
                || lower.contains("not found") =>
        {
            PrintError::PrinterNotFound(name.to_owned())
        }
        Some(name) => PrintError::Rejected {
            printer: name.to_owned(),
            detail: first_line(msg, out.status.code()),
        },
        None => PrintError::Command(first_line(msg, out.status.code())),
    }
}

fn first_line(msg: &str, code: Option<i32>) -> String {
    match msg.lines().next() {
        Some(l) if !l.trim().is_empty() => l.trim().to_owned(),
        _ => format!("exit status {code:?}"),
    }
}

/// Extracts "Q-12" from lp's "request id is Q-12 (1 file(s))".
fn job_id(stdout: &str) -> Option<String> {
    let rest = stdout.split("request id is ").nth(1)?;
    rest.split_whitespace().next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        assert_eq!(
            "/dev/usb/lp0".parse::<RawTarget>().unwrap(),
            RawTarget::Device("/dev/usb/lp0".into())
        );
        assert_eq!(
            "tcp://10.0.0.9".parse::<RawTarget>().unwrap(),
            RawTarget::Tcp("10.0.0.9:9100".into())
        );
        assert_eq!(
            "printer.local:9100".parse::<RawTarget>().unwrap(),
            RawTarget::Tcp("printer.local:9100".into())
        );
        assert_eq!(
            "cups:Thermal".parse::<RawTarget>().unwrap(),
            RawTarget::Cups("Thermal".into())
        );
        assert_eq!(
            "TVS_RP3160".parse::<RawTarget>().unwrap(),
            RawTarget::Cups("TVS_RP3160".into())
        );
        assert!("bad name".parse::<RawTarget>().is_err());
        assert!("-d".parse::<RawTarget>().is_err());
        assert!("tcp://".parse::<RawTarget>().is_err());
    }

    #[test]
    fn reads_job_ids() {
        assert_eq!(
            job_id("request id is SwagatPDF-7 (1 file(s))\n").as_deref(),
            Some("SwagatPDF-7")
        );
        assert_eq!(job_id("nothing"), None);
    }

    fn output(code: i32, stderr: &str) -> Output {
        use std::os::unix::process::ExitStatusExt;
        Output {
            status: std::process::ExitStatus::from_raw(code << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn classifies_cups_failures() {
        let e = classify(&output(1, "lpstat: Scheduler is not running.\n"), None);
        assert!(matches!(e, PrintError::CupsNotRunning));
        let e = classify(
            &output(1, "lp: Error - Scheduler not responding.\n"),
            Some("Q"),
        );
        assert!(matches!(e, PrintError::CupsNotRunning));
        let e = classify(
            &output(1, "lp: The printer or class does not exist.\n"),
            Some("Q"),
        );
        assert!(matches!(e, PrintError::PrinterNotFound(ref n) if n == "Q"));
        let e = classify(
            &output(1, "lp: Destination \"Q\" is not accepting jobs.\n"),
            Some("Q"),
        );
        assert!(
            matches!(e, PrintError::Rejected { ref detail, .. } if detail.contains("not accepting"))
        );
    }

    #[test]
    fn messages_are_bilingual() {
        let e = PrintError::PrinterNotFound("X".into());
        assert!(e.to_string().contains("not found") && e.hindi().contains("नहीं मिला"));
        assert!(!e.to_string().contains(" / "), "one language per text");
    }
}
