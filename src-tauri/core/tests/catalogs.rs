//! The UI translates enum codes it receives from the core through its catalogs
//! (`ui/src/i18n/{en,hi}.json`, keys like `sync.problem.offline`). These tests are generated from
//! the enums themselves: every variant of each must have a non-empty text in both languages, so a
//! new variant cannot reach the screen as a raw key. Each list sits beside an exhaustive `match`,
//! so adding a variant without adding it here does not compile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Serialize;
use swagat_core::opd::register::MatchReason;
use swagat_core::sync_service::SyncProblem;
use swagat_core::Role;
use swagat_identity::{QrKind, SignatureStatus};

/// A unit variant's serde name (`snake_case` / `lowercase`, as the UI receives it).
fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .unwrap()
        .as_str()
        .expect("a unit variant serialises as a string")
        .to_owned()
}

fn catalogs() -> Vec<(&'static str, serde_json::Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/i18n");
    ["en", "hi"]
        .into_iter()
        .map(|lang| {
            let text = std::fs::read_to_string(dir.join(format!("{lang}.json"))).unwrap();
            (lang, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn assert_translated<T: Serialize>(prefix: &str, variants: &[T]) {
    for (lang, catalog) in catalogs() {
        for v in variants {
            let key = format!("{prefix}.{}", code(v));
            let text = catalog.get(&key).and_then(|t| t.as_str()).unwrap_or("");
            assert!(!text.trim().is_empty(), "{lang}.json has no text for {key}");
        }
    }
}

#[test]
fn every_sync_problem_is_translated() {
    use SyncProblem as P;
    let all = [
        P::NotEnrolled,
        P::Offline,
        P::Transport,
        P::Revoked,
        P::Unauthorized,
        P::Certificate,
        P::Cloned,
        P::Server,
        P::Store,
        P::Other,
    ];
    for p in all {
        match p {
            P::NotEnrolled
            | P::Offline
            | P::Transport
            | P::Revoked
            | P::Unauthorized
            | P::Certificate
            | P::Cloned
            | P::Server
            | P::Store
            | P::Other => {}
        }
    }
    assert_translated("sync.problem", &all);
}

#[test]
fn every_escrow_state_shown_is_translated() {
    use swagat_core::sync_service::EscrowState as E;
    // `None` is never shown (nothing to escrow); the others are, in Settings.
    let shown = [E::NotOffered, E::Pending, E::Escrowed];
    for e in shown {
        match e {
            E::None | E::NotOffered | E::Pending | E::Escrowed => {}
        }
    }
    assert_translated("sync.escrow", &shown);
}

#[test]
fn every_role_is_translated() {
    let all = [Role::Reception, Role::DialysisNurse, Role::Admin];
    for r in all {
        match r {
            Role::Reception | Role::DialysisNurse | Role::Admin => {}
        }
    }
    assert_translated("role", &all);
}

#[test]
fn every_duplicate_reason_is_translated() {
    use MatchReason as M;
    let all = [M::Abha, M::Aadhaar, M::Mobile, M::NameYearPlace];
    for m in all {
        match m {
            M::Abha | M::Aadhaar | M::Mobile | M::NameYearPlace => {}
        }
    }
    assert_translated("reg.match", &all);
}

#[test]
fn every_document_kind_and_signature_result_is_translated() {
    let kinds = [
        QrKind::AadhaarSecureQr,
        QrKind::AadhaarXmlQr,
        QrKind::AbhaQr,
    ];
    for k in kinds {
        match k {
            QrKind::AadhaarSecureQr | QrKind::AadhaarXmlQr | QrKind::AbhaQr => {}
        }
    }
    assert_translated("reg.kind", &kinds);
    let sigs = [
        SignatureStatus::Valid,
        SignatureStatus::Invalid,
        SignatureStatus::Unverified,
    ];
    for s in sigs {
        match s {
            SignatureStatus::Valid | SignatureStatus::Invalid | SignatureStatus::Unverified => {}
        }
    }
    assert_translated("reg.sig", &sigs);
}

/// A disk problem reaches the operator as the core's own two texts (no catalog key): each
/// variant has both, and the Hindi one is Hindi.
#[test]
fn every_storage_problem_says_what_happened_in_both_languages() {
    use swagat_core::StorageProblem as S;
    let all = [S::DiskFull, S::ReadOnly, S::Io, S::Corrupt];
    for p in all {
        match p {
            S::DiskFull | S::ReadOnly | S::Io | S::Corrupt => {}
        }
        let m = p.msg();
        assert!(!m.en.trim().is_empty(), "{p:?} has no English text");
        assert!(
            m.hi.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)),
            "{p:?}'s Hindi text is not Hindi: {}",
            m.hi
        );
        assert_ne!(m.en, m.hi, "{p:?}");
    }
}
