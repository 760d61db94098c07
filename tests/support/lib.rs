//! Shared helpers for the end-to-end tests: a private X display, `tauri-driver`, and the paths of
//! the binaries under test.
//!
//! The E2E tests drive the real desktop app: Xvfb gives it a screen, `tauri-driver` (WebDriver for
//! Tauri) starts it and forwards to WebKitWebDriver. Nothing here is mocked.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, started in its own process group, whose whole group is killed when dropped
/// (tauri-driver starts WebKitWebDriver and the app; none of them may outlive the test and hold
/// the test runner's output open).
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(200));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn own_group(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
}

/// The cargo target profile folder the tests were built in (e.g. `target/debug`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/debug/deps/e2e_app-xxxx -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The desktop app binary: `$SWAGAT_APP`, else `swagat` beside the test's profile folder.
pub fn app_binary() -> Result<PathBuf, String> {
    let p = std::env::var_os("SWAGAT_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("swagat"));
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "the app binary {} is missing: build the UI and the app first (npm --prefix ui run build && cargo build -p swagat)",
            p.display()
        ))
    }
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(4444)
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Starts a private Xvfb display and returns its name (`:N`) with the process guard.
pub fn start_xvfb() -> Result<(String, Guard), String> {
    start_xvfb_sized(1280, 800)
}

/// Like [`start_xvfb`], with a `width`×`height` screen (the counter's 1366×768 touchscreen).
pub fn start_xvfb_sized(width: u32, height: u32) -> Result<(String, Guard), String> {
    let screen = format!("{width}x{height}x24");
    for n in 90..130 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = own_group(&mut Command::new("Xvfb"))
            .args([&display, "-screen", "0", &screen, "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (apt-get install xvfb): {e}"))?;
        let guard = Guard(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Ok((display, guard));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err("no free X display for Xvfb".into())
}

/// `tauri-driver` from PATH or cargo's bin folder.
pub fn tauri_driver() -> Result<PathBuf, String> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin")))
        .map(|d| d.join("tauri-driver"));
    for c in candidates {
        if c.exists() {
            return Ok(c);
        }
    }
    Err("tauri-driver is not installed: cargo install tauri-driver --locked --version 2.1.0".into())
}

/// Starts `tauri-driver` on a free port, with `env` passed to the app it launches.
pub fn start_tauri_driver(display: &str, env: &[(&str, &Path)]) -> Result<(u16, Guard), String> {
    let port = free_port();
    let native = free_port();
    let log = std::fs::File::create(artifacts_dir().join(format!("tauri-driver-{port}.log")))
        .map_err(|e| format!("cannot create the driver log: {e}"))?;
    let mut cmd = Command::new(tauri_driver()?);
    own_group(&mut cmd)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let guard = Guard(
        cmd.spawn()
            .map_err(|e| format!("cannot start tauri-driver: {e}"))?,
    );
    if !wait_for_port(port, Duration::from_secs(20)) {
        return Err("tauri-driver did not start listening".into());
    }
    Ok((port, guard))
}

/// Where tests leave screenshots for people to look at (`tests/artifacts/`, git-ignored).
pub fn artifacts_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let _ = std::fs::create_dir_all(&d);
    d
}

fn unlock_keys() -> &'static std::sync::Mutex<std::collections::HashMap<PathBuf, String>> {
    static K: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<PathBuf, String>>> =
        std::sync::OnceLock::new();
    K.get_or_init(Default::default)
}

/// Remembers the secret that unlocks the encrypted kiosk database `db` (its recovery key, after a
/// seed through the core's first-run setup), for the `swagat-admin` processes a test starts.
pub fn remember_unlock(db: &Path, secret: &str) {
    if let Ok(mut m) = unlock_keys().lock() {
        m.insert(db.to_path_buf(), secret.to_owned());
    }
}

/// Sets `SWAGAT_UNLOCK` on `cmd` when `args` name (`--db X`) a database remembered by
/// [`remember_unlock`] — the headless unlock contract.
pub fn apply_unlock(cmd: &mut Command, args: &[&str]) {
    let db = args
        .iter()
        .position(|a| *a == "--db")
        .and_then(|i| args.get(i + 1));
    let secret = db.and_then(|d| unlock_keys().lock().ok()?.get(Path::new(d)).cloned());
    if let Some(s) = secret {
        cmd.env("SWAGAT_UNLOCK", s);
    }
}
