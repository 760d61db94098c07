//! Printing through a real CUPS with the cups-pdf virtual printer (set up by
//! `scripts/setup-cups-pdf.sh`), plus raw printing to a real TCP socket and a device file.
//!
//! The CUPS tests read the queue name from `SWAGAT_TEST_PRINTER`. Unset: they fail when `CI` is
//! set, and are skipped with a notice otherwise.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use swagat_slip::printing::{list_printers, print_pdf, print_raw, RawTarget};
use swagat_slip::{render_pdf, render_raster, PrintError, SlipData, SlipSize};

fn test_printer() -> Option<String> {
    match std::env::var("SWAGAT_TEST_PRINTER") {
        Ok(p) if !p.trim().is_empty() => Some(p.trim().to_owned()),
        _ if std::env::var_os("CI").is_some() => panic!(
            "SWAGAT_TEST_PRINTER is not set but CI is: run \
             `src-tauri/slip/scripts/setup-cups-pdf.sh` (as root) and export \
             SWAGAT_TEST_PRINTER=SwagatPDF before the tests"
        ),
        _ => {
            eprintln!(
                "NOTICE: CUPS printing test skipped: set SWAGAT_TEST_PRINTER (see \
                 src-tauri/slip/scripts/setup-cups-pdf.sh)"
            );
            None
        }
    }
}

/// Directories where cups-pdf may write: the override, the configured spool, the default ~/PDF.
fn output_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("SWAGAT_TEST_PDF_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from("/var/spool/cups-pdf"));
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join("PDF"));
    }
    dirs
}

fn find_pdfs(dir: &Path, since: SystemTime, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_pdfs(&path, since, out);
        } else if path.extension().is_some_and(|e| e == "pdf")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        {
            out.push(path);
        }
    }
}

/// Waits for cups-pdf's output of CUPS job `job_id` ("Queue-12").
fn wait_for_output(job_id: &str, since: SystemTime) -> PathBuf {
    let number = job_id.rsplit('-').next().unwrap();
    let suffix = format!("job_{number}.pdf");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut found = Vec::new();
        for dir in output_dirs() {
            find_pdfs(&dir, since, &mut found);
        }
        let mine: Vec<_> = found
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(&suffix))
            .collect();
        if let Some(path) = mine.first() {
            // cups-pdf writes then closes; wait until the file parses.
            let ok = std::process::Command::new("pdfinfo").arg(path).output();
            if ok.is_ok_and(|o| o.status.success()) {
                return (*path).clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no cups-pdf output for job {job_id} in {:?} (new PDFs: {found:?})",
            output_dirs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn cups_lists_the_test_printer() {
    let Some(printer) = test_printer() else {
        return;
    };
    let printers = list_printers().unwrap();
    assert!(
        printers.iter().any(|p| p.name == printer),
        "{printer} not in {printers:?}"
    );
}

#[test]
fn cups_prints_pdf_slips_through_cups_pdf() {
    let Some(printer) = test_printer() else {
        return;
    };
    let data = SlipData::example();
    for size in [SlipSize::A6, SlipSize::Roll80] {
        let since = SystemTime::now() - Duration::from_secs(2);
        let pdf = render_pdf(&data, size).unwrap();
        let job = print_pdf(&printer, &pdf).unwrap();
        assert!(job.starts_with(&format!("{printer}-")), "job id {job:?}");
        let out = wait_for_output(&job, since);
        // cups-pdf re-distils through Ghostscript, so check what a reader sees: the QR on the
        // printed page decodes to the slip's URL.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("printed.pdf");
        std::fs::copy(&out, &copy).unwrap();
        let png = common::pdf_to_png(&copy, 300);
        assert_eq!(
            common::qr_codes(&png),
            vec![data.qr_url.clone()],
            "{size:?} via CUPS"
        );
    }
}

#[test]
fn cups_reports_a_missing_printer() {
    if test_printer().is_none() {
        return;
    }
    let pdf = render_pdf(&SlipData::example(), SlipSize::A6).unwrap();
    let err = print_pdf("SwagatNoSuchQueue", &pdf).unwrap_err();
    assert!(
        matches!(err, PrintError::PrinterNotFound(ref n) if n == "SwagatNoSuchQueue"),
        "{err:?}"
    );
    assert!(err.hindi().contains("प्रिंटर"));
    let err = print_raw(&RawTarget::Cups("SwagatNoSuchQueue".into()), b"\x1b@").unwrap_err();
    assert!(matches!(err, PrintError::PrinterNotFound(_)), "{err:?}");
}

#[test]
fn a_stopped_queue_is_refused_before_the_job_is_queued() {
    let Some(printer) = test_printer() else {
        return;
    };
    // setup-cups-pdf.sh makes a second, stopped queue beside the test printer.
    let stopped = format!("{printer}Stopped");
    let pdf = render_pdf(&SlipData::example(), SlipSize::A6).unwrap();
    let err = print_pdf(&stopped, &pdf).unwrap_err();
    assert!(
        matches!(err, PrintError::Stopped(ref n) if *n == stopped),
        "{err:?}"
    );
    assert!(err.hindi().contains("रुका हुआ"));
    let err = print_raw(&RawTarget::Cups(stopped.clone()), b"\x1b@").unwrap_err();
    assert_eq!(err.problem(), swagat_slip::PrintProblem::Stopped);
}

#[test]
fn raw_escpos_over_tcp_reaches_the_socket() {
    let job = render_raster(&SlipData::example()).unwrap().to_escpos();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got
    });
    let target: RawTarget = format!("tcp://{addr}").parse().unwrap();
    print_raw(&target, &job).unwrap();
    assert_eq!(server.join().unwrap(), job);
}

#[test]
fn raw_escpos_to_a_device_file() {
    let job = render_raster(&SlipData::example()).unwrap().to_escpos();
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("lp0");
    std::fs::write(&dev, b"").unwrap();
    print_raw(&RawTarget::Device(dev.clone()), &job).unwrap();
    assert_eq!(std::fs::read(&dev).unwrap(), job);

    let missing = RawTarget::Device(dir.path().join("no-such-dir/lp0"));
    let err = print_raw(&missing, &job).unwrap_err();
    assert!(matches!(err, PrintError::Device { .. }), "{err:?}");
    assert!(err.hindi().contains("केबल"));
}

#[test]
fn unreachable_network_printer_is_a_clear_error() {
    // Port 9 on localhost with nothing listening: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let err = print_raw(&RawTarget::Tcp(addr), b"\x1b@").unwrap_err();
    assert!(matches!(err, PrintError::Network { .. }), "{err:?}");
}
