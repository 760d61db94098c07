//! The map in ARCHITECTURE.md cannot drift: its structural claims about who depends on whom are
//! checked here against `cargo metadata`'s resolved graph (normal and build dependencies, the
//! ones that end up in a binary).
//!
//! Claims kept: only the desktop shell (`swagat`) links Tauri; nothing under `sync/` depends on
//! a kiosk crate (`src-tauri/*`); the domain crates (`swagat-identity`, `swagat-slip`,
//! `swagat-dialysis`) depend on no kiosk core, no sync crate and no server; the server depends on
//! no kiosk crate; the shell and the admin CLI depend on no domain crate directly (they use the
//! core's re-exports), and the admin CLI not on the sync client either. When a claim changes on
//! purpose, change ARCHITECTURE.md and this test together.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Package name → the names of the packages it depends on (normal/build), from the resolve graph.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut g = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let from = name_of[node["id"].as_str().unwrap()].clone();
        let deps: BTreeSet<String> = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].as_str() != Some("dev"))
            })
            .map(|d| name_of[d["pkg"].as_str().unwrap()].clone())
            .collect();
        g.entry(from).or_insert_with(BTreeSet::new).extend(deps);
    }
    g
}

/// Everything `pkg` pulls in, transitively.
fn closure(g: &BTreeMap<String, BTreeSet<String>>, pkg: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![pkg.to_owned()];
    while let Some(p) = todo.pop() {
        for d in g.get(&p).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

const KIOSK_CRATES: &[&str] = &[
    "swagat",
    "swagat-core",
    "swagat-admin",
    "swagat-identity",
    "swagat-slip",
    "swagat-dialysis",
];
const SYNC_CRATES: &[&str] = &[
    "swagat-sync-protocol",
    "swagat-sync-client",
    "swagat-server",
];
const DOMAIN_CRATES: &[&str] = &["swagat-identity", "swagat-slip", "swagat-dialysis"];

#[test]
fn only_the_desktop_shell_links_tauri() {
    let g = graph();
    for member in KIOSK_CRATES
        .iter()
        .chain(SYNC_CRATES)
        .filter(|m| **m != "swagat")
    {
        let c = closure(&g, member);
        assert!(
            !c.contains("tauri"),
            "{member} must not depend on tauri (directly or not)"
        );
        assert!(
            !c.contains("wry") && !c.contains("webkit2gtk"),
            "{member} must link no GTK web view"
        );
    }
    assert!(
        closure(&g, "swagat").contains("tauri"),
        "the check sees the shell's Tauri"
    );
}

#[test]
fn nothing_in_sync_depends_on_a_kiosk_crate() {
    let g = graph();
    for member in SYNC_CRATES {
        let c = closure(&g, member);
        for kiosk in KIOSK_CRATES {
            assert!(!c.contains(*kiosk), "{member} must not depend on {kiosk}");
        }
    }
    assert!(
        closure(&g, "swagat-core").contains("swagat-sync-client"),
        "the check sees the core's use of the sync client"
    );
}

#[test]
fn domain_crates_stay_below_the_core() {
    let g = graph();
    for member in DOMAIN_CRATES {
        let c = closure(&g, member);
        for above in [
            "swagat-core",
            "swagat-admin",
            "swagat",
            "swagat-sync-client",
            "swagat-server",
        ] {
            assert!(!c.contains(above), "{member} must not depend on {above}");
        }
    }
}

/// Commands a mock-runtime test cannot drive, each with the reason and where it is covered.
const COMMANDS_WITHOUT_MOCK_TESTS: &[(&str, &str)] = &[(
    "restart_app",
    "restarts the process (the recovery screen's last step); E2E only",
)];

/// Every command the shell registers (`generate_handler!` in `src-tauri/src/lib.rs`) is invoked
/// by name in a mock-runtime test (`src-tauri/tests/*.rs`): a new command cannot land untested.
#[test]
fn every_registered_tauri_command_has_a_mock_runtime_test() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let lib = std::fs::read_to_string(root.join("src-tauri/src/lib.rs")).unwrap();
    let start = lib
        .find("generate_handler![")
        .expect("lib.rs registers its commands with generate_handler!");
    let list = &lib[start + "generate_handler![".len()..];
    let list = &list[..list.find(']').unwrap()];
    let commands: Vec<&str> = list
        .split(',')
        .map(|c| c.trim().rsplit("::").next().unwrap_or_default())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(commands.len() > 40, "parsed the handler list: {commands:?}");
    let mut tests = String::new();
    for entry in std::fs::read_dir(root.join("src-tauri/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            tests.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    // A command counts as driven where its name is the command of a call: the second argument
    // of `invoke(win, "name", …)` or of a test's `ok(win, "name", …)`, or the name of a
    // `("name", json!(…))` pair in a list of calls. A stray string literal does not count.
    let collapsed: String = tests.chars().filter(|c| !c.is_whitespace()).collect();
    let invoked = |c: &str| {
        let needle = format!("\"{c}\"");
        collapsed.match_indices(&needle).any(|(i, _)| {
            let mut from = i.saturating_sub(40);
            while !collapsed.is_char_boundary(from) {
                from -= 1;
            }
            let before = &collapsed[from..i];
            let call = before.rfind('(').map(|p| &before[..p]).unwrap_or_default();
            (before.ends_with(',') && (call.ends_with("invoke") || call.ends_with("ok")))
                || collapsed[i + needle.len()..].starts_with(",json!(")
        })
    };
    let missing: Vec<&str> = commands
        .iter()
        .copied()
        .filter(|c| !invoked(c))
        .filter(|c| !COMMANDS_WITHOUT_MOCK_TESTS.iter().any(|(n, _)| n == c))
        .collect();
    assert!(
        missing.is_empty(),
        "registered commands no mock-runtime test invokes: {missing:?}"
    );
    for (name, _) in COMMANDS_WITHOUT_MOCK_TESTS {
        assert!(commands.contains(name), "{name} is no longer registered");
    }
}

/// The admin CLI and the shell depend on no domain crate directly.
#[test]
fn the_admin_cli_and_the_shell_depend_on_no_domain_crate_directly() {
    let g = graph();
    // The shell reaches every domain crate through the core's re-exports only.
    for domain in DOMAIN_CRATES {
        assert!(
            !g["swagat"].contains(*domain),
            "the shell must not depend on {domain} directly: use swagat-core's re-exports"
        );
    }
    // The admin CLI likewise, and it reaches the sync engine through the core too.
    for dep in DOMAIN_CRATES.iter().chain(&["swagat-sync-client"]) {
        assert!(
            !g["swagat-admin"].contains(*dep),
            "swagat-admin must not depend on {dep} directly: use swagat-core's re-exports"
        );
    }
    assert!(
        g["swagat-admin"].contains("swagat-core") && g["swagat"].contains("swagat-core"),
        "the check sees their dependency on the core"
    );
}

/// The shell and the admin CLI never reach the kiosk's store: every use case is a `Kiosk` method
/// with its role check, transaction and audit (`Kiosk::store()` is public only to tests, through
/// the core's `test-support` feature, which the workspace's feature unification would otherwise
/// hide from the compiler).
#[test]
fn the_shell_and_the_admin_cli_never_reach_the_store() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut offenders = Vec::new();
    for dir in ["src-tauri/src", "src-tauri/admin/src"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(".store()") || text.contains("swagat_dialysis::") {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "these reach the store or a domain crate directly: {offenders:?}"
    );
}
