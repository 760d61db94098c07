//! Staff accounts and login: names, roles, and PINs or passphrases hashed with argon2id.
//!
//! A new PIN is 6–12 digits, a passphrase 8+ characters (accounts made with a 4-digit PIN before
//! that rule still log in with it; setting or resetting a PIN needs the new length). Five wrong
//! attempts lock the account for five minutes; the failures are not forgotten when the lock ends, so
//! every further wrong attempt locks it again for longer (15 min, 1 h, 4 h, 16 h, then a day) until a
//! correct PIN or an administrator's unlock clears them. All of it is recorded in the store, so
//! restarting the app resets nothing. An unknown name costs the same argon2 work as a wrong PIN
//! (checked against a dummy hash), so names do not leak by timing. Administrators disable and enable
//! accounts, reset PINs and lift lockouts, each audited (`staff.disable`, `staff.enable`,
//! `staff.reset_pin`, `staff.unlock`). Secrets are never logged or returned; only the argon2id PHC
//! string is stored.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::audit::{self, Actor};
use crate::clock;
use crate::error::{CoreError, Result};

/// Wrong attempts before an account is locked.
pub const MAX_FAILED_ATTEMPTS: i64 = 5;
/// How long a locked account stays locked the first time.
pub const LOCKOUT: Duration = Duration::minutes(5);
/// The lock after the first, second, … lockout: each wrong attempt after a lockout locks again,
/// for the next step (the last step repeats).
pub const LOCKOUT_STEPS_MINUTES: &[i64] = &[5, 15, 60, 240, 960, 1440];
/// Digits a new PIN needs at least.
pub const MIN_PIN_DIGITS: usize = 6;
/// Digits a PIN may have at most.
pub const MAX_PIN_DIGITS: usize = 12;

/// How long the account is locked after its `failed`-th consecutive wrong attempt (none below
/// [`MAX_FAILED_ATTEMPTS`]).
pub fn lockout_for(failed: i64) -> Option<Duration> {
    if failed < MAX_FAILED_ATTEMPTS {
        return None;
    }
    let step = usize::try_from(failed - MAX_FAILED_ATTEMPTS).unwrap_or(usize::MAX);
    let minutes = LOCKOUT_STEPS_MINUTES
        .get(step)
        .or(LOCKOUT_STEPS_MINUTES.last())
        .copied()
        .unwrap_or(5);
    Some(Duration::minutes(minutes))
}

/// What a staff member may do.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers OPD patients and prints slips.
    Reception,
    /// Runs the dialysis unit's bookings and check-ins.
    DialysisNurse,
    /// Everything, including settings, staff and merges.
    Admin,
}

impl Role {
    fn as_db(self) -> &'static str {
        match self {
            Self::Reception => "reception",
            Self::DialysisNurse => "dialysis_nurse",
            Self::Admin => "admin",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        match s {
            "reception" => Some(Self::Reception),
            "dialysis_nurse" => Some(Self::DialysisNurse),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A staff member as shown to the UI (never the secret).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// UUIDv7.
    pub id: String,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Whether the account can log in.
    pub active: bool,
}

/// A new account to create.
#[derive(Debug, Clone, Deserialize)]
pub struct NewStaff {
    /// Login name (unique, case-insensitive).
    pub name: String,
    /// Role.
    pub role: Role,
    /// PIN (6–12 digits) or passphrase (8+ characters).
    pub secret: String,
}

/// An account as the administrator's staff list shows it: the member plus its lockout state.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAccount {
    /// The member.
    #[serde(flatten)]
    pub member: StaffMember,
    /// Wrong attempts since the last good login or unlock.
    pub failed_attempts: i64,
    /// Locked until (RFC 3339, UTC), if locked now.
    pub locked_until: Option<String>,
    /// Last good login (RFC 3339, UTC).
    pub last_login_at: Option<String>,
}

fn validate_name(name: &str) -> Result<String> {
    let t = name.trim();
    let n = t.chars().count();
    if !(2..=60).contains(&n) || t.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "name",
            "name must be 2 to 60 characters",
            "नाम 2 से 60 अक्षरों का होना चाहिए",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a PIN or passphrase against the policy.
pub fn validate_secret(secret: &str) -> Result<()> {
    let all_digits = !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_digit());
    let ok = if all_digits {
        (MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&secret.len())
    } else {
        secret.chars().count() >= 8
    };
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "secret",
            "use a PIN of 6 to 12 digits or a passphrase of at least 8 characters",
            "6 से 12 अंकों का पिन या कम से कम 8 अक्षरों का पासफ़्रेज़ रखें",
        ))
    }
}

fn hash_secret(secret: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Corrupt(format!("could not hash the secret: {e}")))
}

/// Creates an account; fails if the name is taken.
pub fn create(conn: &Connection, actor: &Actor, new: &NewStaff) -> Result<StaffMember> {
    let name = validate_name(&new.name)?;
    validate_secret(&new.secret)?;
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff WHERE name = ?1)",
        [&name],
        |r| r.get(0),
    )?;
    if taken {
        return Err(CoreError::invalid(
            "name",
            "a staff member with this name exists",
            "इस नाम का कर्मचारी पहले से है",
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    conn.execute(
        "INSERT INTO staff (id, name, role, secret_hash, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            name,
            new.role.as_db(),
            hash_secret(&new.secret)?,
            clock::to_db(clock::now_utc()),
            actor.as_db()
        ],
    )?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::STAFF_CREATE,
        "staff",
        Some(&id),
        serde_json::json!({ "role": new.role }),
    )?;
    Ok(StaffMember {
        id,
        name,
        role: new.role,
        active: true,
    })
}

/// How many accounts exist (zero means first run).
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))?)
}

/// Every account, by name.
pub fn list(conn: &Connection) -> Result<Vec<StaffMember>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, role, active FROM staff ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, role, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, role, active): (String, String, String, bool) = row?;
        let role =
            Role::from_db(&role).ok_or_else(|| CoreError::Corrupt(format!("role {role}")))?;
        out.push(StaffMember {
            id,
            name,
            role,
            active,
        });
    }
    Ok(out)
}

pub(crate) fn bad_login() -> CoreError {
    CoreError::auth("wrong name or PIN", "नाम या पिन गलत है")
}

/// An argon2id hash (default parameters, like every stored one) that no PIN matches: an unknown
/// name is checked against it so it costs the same time as a wrong PIN.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 24];
        // A failed read leaves zeros: still a hash nobody knows the input of.
        let _ = getrandom::fill(&mut random);
        hash_secret(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            random,
        ))
        .unwrap_or_default()
    })
}

/// Runs argon2id on `secret` against `hash` (the same work whether or not it matches).
fn verify(secret: &str, hash: &str) -> Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| CoreError::Corrupt(format!("secret hash: {e}")))?;
    Ok(Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok())
}

/// The active administrator whose secret this is, if any (the CLI's unlock of a plaintext
/// database that predates encryption; no failure is counted, nothing is audited).
pub(crate) fn admin_with_secret(conn: &Connection, secret: &str) -> Result<Option<StaffMember>> {
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT id, name, secret_hash FROM staff WHERE role = 'admin' AND active = 1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name, hash) in rows {
        if verify(secret, &hash)? {
            return Ok(Some(StaffMember {
                id,
                name,
                role: Role::Admin,
                active: true,
            }));
        }
    }
    Ok(None)
}

/// Warms the dummy hash (the app calls it at start so the first unknown name is not slower).
pub fn warm_up() {
    let _ = dummy_hash();
}

fn locked_error(until: time::OffsetDateTime, now: time::OffsetDateTime) -> CoreError {
    let mins = ((until - now).whole_seconds() + 59) / 60;
    CoreError::auth(
        format!(
            "too many wrong attempts; try again in {mins} min or ask an administrator to unlock"
        ),
        format!("बहुत बार गलत पिन; {mins} मिनट बाद प्रयास करें या व्यवस्थापक से खुलवाएँ"),
    )
}

/// Checks `secret` for the account `name`, counting failures and honouring lockout.
///
/// Returns the member on success. The transaction must be committed even on failure so the failed
/// attempt is counted: callers use [`crate::Kiosk::login`], which does that.
pub fn authenticate(
    conn: &Connection,
    name: &str,
    secret: &str,
) -> Result<std::result::Result<StaffMember, CoreError>> {
    let row = conn
        .query_row(
            "SELECT id, name, role, active, secret_hash, failed_attempts, locked_until \
             FROM staff WHERE name = ?1",
            [name.trim()],
            |r| <(String, String, String, bool, String, i64, Option<String>)>::try_from(r),
        )
        .optional()?;
    let Some((id, name, role, active, hash, failed, locked_until)) = row else {
        // The same argon2 work as a wrong PIN: the answer's timing says nothing about the name.
        let _ = verify(secret, dummy_hash());
        return Ok(Err(bad_login()));
    };
    let now = clock::now_utc();
    if let Some(until) = locked_until.as_deref().and_then(clock::from_db) {
        if until > now {
            let _ = verify(secret, dummy_hash());
            return Ok(Err(locked_error(until, now)));
        }
    }
    if !verify(secret, &hash)? {
        // Failures since the last good login are never forgotten: past the fifth, every wrong
        // attempt locks the account again, for longer.
        let failed = failed.saturating_add(1);
        let lock = lockout_for(failed).map(|d| now + d);
        conn.execute(
            "UPDATE staff SET failed_attempts = ?2, locked_until = coalesce(?3, locked_until) \
             WHERE id = ?1",
            params![id, failed, lock.map(clock::to_db)],
        )?;
        audit::record(
            conn,
            &Actor::Staff(id.clone()),
            crate::audit::actions::STAFF_LOGIN_FAILED,
            "staff",
            Some(&id),
            serde_json::json!({ "locked": lock.is_some(), "failed_attempts": failed }),
        )?;
        return Ok(Err(match lock {
            Some(until) => locked_error(until, now),
            None => bad_login(),
        }));
    }
    if !active {
        return Ok(Err(CoreError::auth(
            "this account is disabled; ask an administrator",
            "यह खाता बंद है; व्यवस्थापक से संपर्क करें",
        )));
    }
    conn.execute(
        "UPDATE staff SET failed_attempts = 0, locked_until = NULL, last_login_at = ?2 WHERE id = ?1",
        params![id, clock::to_db(now)],
    )?;
    let actor = Actor::Staff(id.clone());
    audit::record(
        conn,
        &actor,
        crate::audit::actions::STAFF_LOGIN,
        "staff",
        Some(&id),
        serde_json::json!({}),
    )?;
    let role = Role::from_db(&role).ok_or_else(|| CoreError::Corrupt(format!("role {role}")))?;
    Ok(Ok(StaffMember {
        id,
        name,
        role,
        active,
    }))
}

/// Every account with its lockout state, by name (the administrator's staff list).
pub fn accounts(conn: &Connection) -> Result<Vec<StaffAccount>> {
    let members = list(conn)?;
    let now = clock::now_utc();
    let mut stmt = conn.prepare_cached(
        "SELECT failed_attempts, locked_until, last_login_at FROM staff WHERE id = ?1",
    )?;
    let mut out = Vec::with_capacity(members.len());
    for member in members {
        let (failed_attempts, locked_until, last_login_at): (i64, Option<String>, Option<String>) =
            stmt.query_row([&member.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let locked_until =
            locked_until.filter(|u| clock::from_db(u).is_some_and(|until| until > now));
        out.push(StaffAccount {
            member,
            failed_attempts,
            locked_until,
            last_login_at,
        });
    }
    Ok(out)
}

/// The id of the account named `name_or_id` (its id, or its login name, case-insensitive).
pub fn find_id(conn: &Connection, name_or_id: &str) -> Result<String> {
    conn.prepare_cached("SELECT id FROM staff WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC")?
        .query_row([name_or_id.trim()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| CoreError::NotFound {
            what: "staff member".into(),
        })
}

/// Who may do a kiosk use case: an active account of one of `roles`, or `swagat-admin` at the
/// machine; anyone else (another role, a disabled account, the app acting on its own) is told
/// `refused`. Each use case checks one of these in its own transaction, so the app's session
/// check is not the only guard: a command, the CLI and a test meet the same rule.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    /// The roles allowed.
    pub roles: &'static [Role],
    /// What a refused caller is told (English, Hindi).
    pub refused: (&'static str, &'static str),
}

impl Allowed {
    /// Refuses `actor` unless allowed.
    pub fn check(&self, conn: &Connection, actor: &Actor) -> Result<()> {
        require_role(conn, actor, self.roles, self.refused)
    }
}

/// The counter's work: registering, editing, printing and reading the books.
pub const COUNTER: Allowed = Allowed {
    roles: &[Role::Reception, Role::Admin],
    refused: (
        "only reception staff or an administrator may do this",
        "यह केवल रिसेप्शन कर्मचारी या व्यवस्थापक कर सकते हैं",
    ),
};

/// Settings, backups, enrollment, printers and the counter's poster.
pub const ADMIN: Allowed = Allowed {
    roles: &[Role::Admin],
    refused: (
        "only an administrator may do this",
        "यह केवल व्यवस्थापक कर सकते हैं",
    ),
};

/// Checks that `actor` may do something only `roles` may: the CLI always may (whoever runs
/// `swagat-admin` on the kiosk has the machine), the system never may, a staff member when their
/// account is active and holds one of `roles`. `refused` is what the operator is told otherwise
/// (English, Hindi). The one role check of the core's use cases.
pub fn require_role(
    conn: &Connection,
    actor: &Actor,
    roles: &[Role],
    refused: (&str, &str),
) -> Result<()> {
    let no = || CoreError::auth(refused.0, refused.1);
    match actor {
        Actor::Cli => Ok(()),
        Actor::System => Err(no()),
        Actor::Staff(id) => {
            let role: Option<String> = conn
                .prepare_cached("SELECT role FROM staff WHERE id = ?1 AND active = 1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            match role.as_deref().and_then(Role::from_db) {
                Some(r) if roles.contains(&r) => Ok(()),
                _ => Err(no()),
            }
        }
    }
}

/// Refuses anyone but an administrator (or the admin CLI at the machine).
fn require_admin(conn: &Connection, actor: &Actor) -> Result<()> {
    require_role(
        conn,
        actor,
        &[Role::Admin],
        (
            "only an administrator may manage staff accounts",
            "केवल व्यवस्थापक कर्मचारी खाते सँभाल सकते हैं",
        ),
    )
}

fn account(conn: &Connection, id: &str) -> Result<StaffAccount> {
    accounts(conn)?
        .into_iter()
        .find(|a| a.member.id == id)
        .ok_or_else(|| CoreError::NotFound {
            what: "staff member".into(),
        })
}

/// Disables or enables the account `id` (administrators only; audited as `staff.disable` /
/// `staff.enable`). The last active administrator cannot be disabled, nor can one disable oneself.
pub fn set_active(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    active: bool,
) -> Result<StaffAccount> {
    require_admin(conn, actor)?;
    let current = account(conn, id)?;
    if !active {
        if *actor == Actor::Staff(id.to_owned()) {
            return Err(CoreError::invalid(
                "staff",
                "you cannot disable your own account",
                "आप अपना ही खाता बंद नहीं कर सकते",
            ));
        }
        let other_admins: i64 = conn.query_row(
            "SELECT count(*) FROM staff WHERE role = 'admin' AND active = 1 AND id <> ?1",
            [id],
            |r| r.get(0),
        )?;
        if current.member.role == Role::Admin && other_admins == 0 {
            return Err(CoreError::invalid(
                "staff",
                "the last active administrator cannot be disabled",
                "अंतिम सक्रिय व्यवस्थापक को बंद नहीं किया जा सकता",
            ));
        }
    }
    conn.execute(
        "UPDATE staff SET active = ?2 WHERE id = ?1",
        params![id, active],
    )?;
    audit::record(
        conn,
        actor,
        if active {
            crate::audit::actions::STAFF_ENABLE
        } else {
            crate::audit::actions::STAFF_DISABLE
        },
        "staff",
        Some(id),
        serde_json::json!({}),
    )?;
    account(conn, id)
}

/// Sets a new PIN or passphrase for `id` (administrators only; the new-PIN rule applies) and lifts
/// any lockout; audited as `staff.reset_pin` (never the secret).
pub fn reset_secret(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    secret: &str,
) -> Result<StaffAccount> {
    require_admin(conn, actor)?;
    account(conn, id)?;
    validate_secret(secret)?;
    conn.execute(
        "UPDATE staff SET secret_hash = ?2, failed_attempts = 0, locked_until = NULL WHERE id = ?1",
        params![id, hash_secret(secret)?],
    )?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::STAFF_RESET_PIN,
        "staff",
        Some(id),
        serde_json::json!({}),
    )?;
    account(conn, id)
}

/// Lifts a lockout and forgets the failures (administrators only; audited as `staff.unlock`).
pub fn unlock(conn: &Connection, actor: &Actor, id: &str) -> Result<StaffAccount> {
    require_admin(conn, actor)?;
    let before = account(conn, id)?;
    conn.execute(
        "UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE id = ?1",
        [id],
    )?;
    audit::record(
        conn,
        actor,
        crate::audit::actions::STAFF_UNLOCK,
        "staff",
        Some(id),
        serde_json::json!({ "was_locked": before.locked_until.is_some(), "failed_attempts": before.failed_attempts }),
    )?;
    account(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn add(store: &Store, name: &str, secret: &str) -> Result<StaffMember> {
        store.write(|tx| {
            create(
                tx,
                &Actor::Cli,
                &NewStaff {
                    name: name.into(),
                    role: Role::Reception,
                    secret: secret.into(),
                },
            )
        })
    }

    fn login(store: &Store, name: &str, secret: &str) -> Result<StaffMember> {
        store.write(|tx| authenticate(tx, name, secret))?
    }

    #[test]
    fn secret_policy() {
        for ok in ["123456", "123456789012", "correct horse"] {
            assert!(validate_secret(ok).is_ok(), "{ok}");
        }
        for bad in ["", "123", "1234", "12345", "1234567890123", "short"] {
            assert!(validate_secret(bad).is_err(), "{bad}");
        }
        let e = validate_secret("1234").unwrap_err();
        assert!(e.message(crate::Lang::Hi).contains("6 से 12"), "{e}");
    }

    #[test]
    fn login_checks_the_hash_and_names_are_unique() {
        let store = Store::open_in_memory().unwrap();
        let m = add(&store, "Asha", "432101").unwrap();
        assert!(
            add(&store, "asha", "999999").is_err(),
            "names are case-insensitive"
        );
        assert_eq!(login(&store, "asha", "432101").unwrap().id, m.id);
        assert_eq!(
            login(&store, "Asha", "111111").unwrap_err().kind(),
            crate::ErrorKind::Auth
        );
        assert!(login(&store, "Nobody", "432101").is_err());
        let stored: String = store
            .read(|c| Ok(c.query_row("SELECT secret_hash FROM staff", [], |r| r.get(0))?))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("432101"));
    }

    #[test]
    fn an_old_four_digit_pin_still_logs_in_but_cannot_be_set_again() {
        let store = Store::open_in_memory().unwrap();
        let m = add(&store, "Old", "123456").unwrap();
        // An account from before the 6-digit rule: its stored hash is of a 4-digit PIN.
        let old = hash_secret("4321").unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE staff SET secret_hash = ?2 WHERE id = ?1",
                    params![m.id, old],
                )?;
                Ok(())
            })
            .unwrap();
        assert_eq!(login(&store, "Old", "4321").unwrap().id, m.id);
        let e = store
            .write(|tx| reset_secret(tx, &Actor::Cli, &m.id, "4321"))
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Invalid);
        store
            .write(|tx| reset_secret(tx, &Actor::Cli, &m.id, "864209"))
            .unwrap();
        assert!(login(&store, "Old", "4321").is_err());
        assert_eq!(login(&store, "Old", "864209").unwrap().id, m.id);
    }

    fn failed_attempts(store: &Store, name: &str) -> (i64, Option<String>) {
        store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT failed_attempts, locked_until FROM staff WHERE name = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap()
    }

    /// Moves the account's lock into the past, as if its time had run out.
    fn expire_lock(store: &Store, name: &str) {
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE staff SET locked_until = ?2 WHERE name = ?1",
                    params![name, clock::to_db(clock::now_utc() - Duration::seconds(1))],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn lock_minutes(store: &Store, name: &str) -> i64 {
        let until = failed_attempts(store, name).1.unwrap();
        let until = clock::from_db(&until).unwrap();
        ((until - clock::now_utc()).whole_seconds() + 59) / 60
    }

    #[test]
    fn five_wrong_pins_lock_the_account() {
        let store = Store::open_in_memory().unwrap();
        add(&store, "Ravi", "246801").unwrap();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(login(&store, "Ravi", "000000").is_err());
        }
        let err = login(&store, "Ravi", "246801").unwrap_err();
        assert!(err.message(crate::Lang::En).contains("try again"), "{err}");
        assert!(err.message(crate::Lang::Hi).contains("मिनट"), "{err}");
        let failures: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM audit_log WHERE action = 'staff.login_failed'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(failures, MAX_FAILED_ATTEMPTS);
    }

    #[test]
    fn lockouts_grow_and_earlier_failures_are_not_forgotten() {
        let store = Store::open_in_memory().unwrap();
        add(&store, "Ravi", "246801").unwrap();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(login(&store, "Ravi", "000000").is_err());
        }
        assert_eq!(
            failed_attempts(&store, "Ravi").0,
            5,
            "the lock keeps the count"
        );
        assert_eq!(lock_minutes(&store, "Ravi"), 5);
        // While locked even the right PIN is refused and nothing is counted.
        assert!(login(&store, "Ravi", "246801").is_err());
        assert_eq!(failed_attempts(&store, "Ravi").0, 5);
        // After the lock: one more wrong PIN locks again, for longer, each time.
        for expected in [15, 60, 240, 960, 1440, 1440] {
            expire_lock(&store, "Ravi");
            let e = login(&store, "Ravi", "000000").unwrap_err();
            assert!(e.message(crate::Lang::En).contains("try again"), "{e}");
            assert_eq!(lock_minutes(&store, "Ravi"), expected);
        }
        // A right PIN after the lock clears everything.
        expire_lock(&store, "Ravi");
        login(&store, "Ravi", "246801").unwrap();
        assert_eq!(failed_attempts(&store, "Ravi"), (0, None));
        assert!(login(&store, "Ravi", "000000").is_err());
        assert_eq!(
            failed_attempts(&store, "Ravi").0,
            1,
            "a fresh count after a good login"
        );
    }

    #[test]
    fn lockout_ladder() {
        assert_eq!(lockout_for(4), None);
        assert_eq!(lockout_for(5), Some(Duration::minutes(5)));
        assert_eq!(lockout_for(6), Some(Duration::minutes(15)));
        assert_eq!(lockout_for(7), Some(Duration::hours(1)));
        assert_eq!(lockout_for(8), Some(Duration::hours(4)));
        assert_eq!(lockout_for(1000), Some(Duration::hours(24)));
    }

    #[test]
    fn an_unknown_name_runs_argon2_like_a_wrong_pin() {
        // The dummy hash is a real argon2id hash with the stored hashes' parameters, so checking an
        // unknown name does the same work as checking a wrong PIN.
        let real = hash_secret("246801").unwrap();
        let dummy = dummy_hash();
        assert!(dummy.starts_with("$argon2id$"), "{dummy}");
        let params = |h: &str| h.split('$').nth(3).unwrap().to_owned();
        assert_eq!(params(dummy), params(&real));
        assert!(!verify("246801", dummy).unwrap());
        let store = Store::open_in_memory().unwrap();
        let e = login(&store, "Nobody", "246801").unwrap_err();
        assert_eq!(e.message(crate::Lang::En), "wrong name or PIN");
    }

    #[test]
    fn admins_disable_enable_reset_and_unlock_audited() {
        let store = Store::open_in_memory().unwrap();
        let admin = store
            .write(|tx| {
                create(
                    tx,
                    &Actor::Cli,
                    &NewStaff {
                        name: "Admin".into(),
                        role: Role::Admin,
                        secret: "135790".into(),
                    },
                )
            })
            .unwrap();
        let asha = add(&store, "Asha", "246810").unwrap();
        let by_admin = Actor::Staff(admin.id.clone());
        let by_asha = Actor::Staff(asha.id.clone());

        // Only an administrator.
        for f in [
            |tx: &rusqlite::Transaction<'_>, a: &Actor, id: &str| set_active(tx, a, id, false),
            |tx: &rusqlite::Transaction<'_>, a: &Actor, id: &str| unlock(tx, a, id),
            |tx: &rusqlite::Transaction<'_>, a: &Actor, id: &str| reset_secret(tx, a, id, "111222"),
        ] {
            let e = store.write(|tx| f(tx, &by_asha, &admin.id)).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Auth);
        }
        // Nobody disables the last admin or themselves.
        assert!(store
            .write(|tx| set_active(tx, &by_admin, &admin.id, false))
            .is_err());

        let a = store
            .write(|tx| set_active(tx, &by_admin, &asha.id, false))
            .unwrap();
        assert!(!a.member.active);
        let e = login(&store, "Asha", "246810").unwrap_err();
        assert!(e.message(crate::Lang::En).contains("disabled"), "{e}");
        assert!(
            login(&store, "Asha", "000000")
                .unwrap_err()
                .message(crate::Lang::En)
                == "wrong name or PIN",
            "a wrong PIN does not reveal that the account exists"
        );
        store
            .write(|tx| set_active(tx, &by_admin, &asha.id, true))
            .unwrap();
        assert_eq!(login(&store, "Asha", "246810").unwrap().id, asha.id);

        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(login(&store, "Asha", "000000").is_err());
        }
        let locked = store.read(accounts).unwrap();
        let row = locked.iter().find(|a| a.member.id == asha.id).unwrap();
        assert!(row.locked_until.is_some());
        assert_eq!(row.failed_attempts, 5);
        let a = store.write(|tx| unlock(tx, &by_admin, &asha.id)).unwrap();
        assert_eq!((a.failed_attempts, a.locked_until.as_deref()), (0, None));
        assert_eq!(login(&store, "Asha", "246810").unwrap().id, asha.id);

        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(login(&store, "Asha", "000000").is_err());
        }
        assert!(
            store
                .write(|tx| reset_secret(tx, &by_admin, &asha.id, "1234"))
                .is_err(),
            "a reset needs 6 digits"
        );
        store
            .write(|tx| reset_secret(tx, &by_admin, &asha.id, "975310"))
            .unwrap();
        assert_eq!(
            login(&store, "Asha", "975310").unwrap().id,
            asha.id,
            "reset lifts the lock"
        );
        assert_eq!(store.read(|c| find_id(c, "asha")).unwrap(), asha.id);

        let actions: Vec<(String, String)> = store
            .read(|c| {
                let mut st = c.prepare(
                    "SELECT action, actor FROM audit_log WHERE action IN \
                     ('staff.disable','staff.enable','staff.reset_pin','staff.unlock') ORDER BY id",
                )?;
                let rows = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .unwrap();
        let who = by_admin.as_db();
        assert_eq!(
            actions,
            vec![
                ("staff.disable".to_owned(), who.clone()),
                ("staff.enable".to_owned(), who.clone()),
                ("staff.unlock".to_owned(), who.clone()),
                ("staff.reset_pin".to_owned(), who),
            ]
        );
        let details: String = store
            .read(|c| {
                Ok(
                    c.query_row("SELECT group_concat(details) FROM audit_log", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert!(!details.contains("975310"), "no secret in the audit log");
    }
}
