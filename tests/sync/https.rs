//! Cross-crate: `swagat-server serve --tls-cert --tls-key` over https on loopback, with a CA and
//! a server certificate made in the test (rcgen). A kiosk enrolled with `--ca-cert` syncs;
//! without it, or with another CA, enrollment is refused with a clear certificate error and
//! nothing is stored.
#![allow(clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::path::Path;

use common::{admin, output, run, unique_code, Server};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// A CA (certificate PEM, and what signs with it).
struct Ca {
    pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let cert = p.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        cert,
        key,
    }
}

/// A server certificate for localhost and 127.0.0.1 signed by `ca`: (cert PEM, key PEM).
fn server_cert(ca: &Ca) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    p.distinguished_name
        .push(DnType::CommonName, "swagat-state");
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn enroll_and_sync_over_https_with_a_private_ca_and_refuse_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("state.db").display());
    let code_name = unique_code("T");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &db,
            "--code",
            &code_name,
            "--name",
            "PHC Bihta",
        ],
    );
    let code = fac["enrollment_code"].as_str().unwrap().to_owned();
    let good_ca = ca("Swagat test CA");
    let other_ca = ca("Some other CA");
    let (cert, key) = server_cert(&good_ca);
    let cert_file = write(dir.path(), "server.pem", &cert);
    let key_file = write(dir.path(), "server.key", &key);
    let ca_file = write(dir.path(), "ca.pem", &good_ca.pem);
    let other_ca_file = write(dir.path(), "other-ca.pem", &other_ca.pem);
    let server = Server::start(&db, &["--tls-cert", &cert_file, "--tls-key", &key_file]);
    let https = format!("https://127.0.0.1:{}", server.port);

    let kiosk = dir.path().join("kiosk.db");
    let k = kiosk.to_str().unwrap();
    let reg = write(
        dir.path(),
        "p.json",
        r#"{"name":"Sunita Devi","gender":"F","age_years":30}"#,
    );
    admin(&kiosk, &["register", "--department", "GEN", "--json", &reg]);

    // No CA given, or another CA: refused with a clear error; the code is not consumed.
    for extra in [vec![], vec!["--ca-cert", other_ca_file.as_str()]] {
        let mut args = vec!["--db", k, "enroll", "--server", &https, "--code", &code];
        args.extend(extra.iter().copied());
        let o = output("swagat-admin", &args);
        assert_eq!(o.status.code(), Some(3), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("certificate is not trusted") && err.contains("--ca-cert"),
            "{err}"
        );
        assert!(admin(&kiosk, &["status"])["enrolled"].is_null());
    }

    // With the right CA: enrolled (the CA remembered), and sync works with no flag.
    let e = admin(
        &kiosk,
        &[
            "enroll",
            "--server",
            &https,
            "--code",
            &code,
            "--ca-cert",
            &ca_file,
        ],
    );
    assert_eq!(e["facility_code"], code_name.as_str());
    let s = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(
        (s["pushed"].as_u64(), s["pending"].as_u64()),
        (Some(2), Some(0)),
        "{s}"
    );
    let stats = run(
        "swagat-server",
        &["stats", "--db", &db, "--facility", &code_name],
    );
    assert_eq!(
        (stats["patients"].as_u64(), stats["visits"].as_u64()),
        (Some(1), Some(1))
    );
    // The pulled facility configuration was folded into the kiosk's settings.
    let cfg = admin(&kiosk, &["config", "show"]);
    assert_eq!(cfg["name_en"], "PHC Bihta", "{cfg}");
    assert_eq!(cfg["facility_code"], code_name.as_str());
}

/// A non-loopback address of this machine (the route to a public address), if it has one.
fn lan_ip() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn plain_http_to_another_machine_is_refused_unless_insecure_http_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = dir.path().join("kiosk.db");
    let k = kiosk.to_str().unwrap();
    // Refused before connecting (nothing listens there), in English and Hindi, exit 2, nothing
    // stored.
    let o = output(
        "swagat-admin",
        &[
            "--db",
            k,
            "enroll",
            "--server",
            "http://192.0.2.7:8080",
            "--code",
            "ABCD-EFGH-JKLM",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("https://") && err.contains("--insecure-http"),
        "{err}"
    );
    assert!(err.contains("सर्वर का पता"), "{err}");
    assert!(admin(&kiosk, &["status"])["enrolled"].is_null());

    // On purpose, to a real server on this machine's LAN address: enrolled, remembered, shown.
    let Some(ip) = lan_ip() else {
        eprintln!("NOTICE: no non-loopback address; skipping the --insecure-http half");
        return;
    };
    let db = format!("sqlite:{}", dir.path().join("state.db").display());
    let code_name = unique_code("H");
    let fac = run(
        "swagat-server",
        &[
            "facility",
            "add",
            "--db",
            &db,
            "--code",
            &code_name,
            "--name",
            "PHC Danapur",
        ],
    );
    let code = fac["enrollment_code"].as_str().unwrap().to_owned();
    let port = swagat_tests::free_port();
    let _server = swagat_tests::Guard(
        std::process::Command::new(swagat_tests::profile_dir().join("swagat-server"))
            .args(["serve", "--db", &db, "--listen", &format!("0.0.0.0:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(swagat_tests::wait_for_port(
        port,
        std::time::Duration::from_secs(20)
    ));
    let url = format!("http://{ip}:{port}");
    let o = output(
        "swagat-admin",
        &["--db", k, "enroll", "--server", &url, "--code", &code],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let e = admin(
        &kiosk,
        &[
            "enroll",
            "--server",
            &url,
            "--code",
            &code,
            "--insecure-http",
        ],
    );
    assert_eq!(e["insecure_http"], true);
    let status = admin(&kiosk, &["status"]);
    assert_eq!(status["enrolled"]["insecure_http"], true, "{status}");
    // Later syncs allow it without the flag (remembered in the credential).
    let s = admin(&kiosk, &["sync", "--until-idle"]);
    assert_eq!(s["pending"].as_u64(), Some(0), "{s}");
}
