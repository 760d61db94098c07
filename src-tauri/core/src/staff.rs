//! Staff accounts and login: names, roles, and PINs or passphrases hashed with argon2id.
//!
//! A PIN is 4–8 digits, a passphrase 8+ characters. Five wrong attempts lock the account for five
//! minutes (recorded in the store, so restarting the app does not reset it). Secrets are never
//! logged or returned; only the argon2id PHC string is stored.

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
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(5);

/// What a staff member may do.
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
    /// PIN (4–8 digits) or passphrase (8+ characters).
    pub secret: String,
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
        (4..=8).contains(&secret.len())
    } else {
        secret.chars().count() >= 8
    };
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "secret",
            "use a PIN of 4 to 8 digits or a passphrase of at least 8 characters",
            "4 से 8 अंकों का पिन या कम से कम 8 अक्षरों का पासफ़्रेज़ रखें",
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
        "staff.create",
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

fn bad_login() -> CoreError {
    CoreError::auth("wrong name or PIN", "नाम या पिन गलत है")
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
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((id, name, role, active, hash, failed, locked_until)) = row else {
        return Ok(Err(bad_login()));
    };
    let now = clock::now_utc();
    if let Some(until) = locked_until.as_deref().and_then(clock::from_db) {
        if until > now {
            let mins = ((until - now).whole_seconds() + 59) / 60;
            return Ok(Err(CoreError::auth(
                format!("too many wrong attempts; try again in {mins} min"),
                format!("बहुत बार गलत पिन; {mins} मिनट बाद प्रयास करें"),
            )));
        }
    }
    if !active {
        return Ok(Err(CoreError::auth(
            "this account is disabled",
            "यह खाता बंद है",
        )));
    }
    let parsed =
        PasswordHash::new(&hash).map_err(|e| CoreError::Corrupt(format!("secret hash: {e}")))?;
    if Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_err()
    {
        let failed = failed + 1;
        let lock = (failed >= MAX_FAILED_ATTEMPTS).then(|| clock::to_db(now + LOCKOUT));
        conn.execute(
            "UPDATE staff SET failed_attempts = ?2, locked_until = ?3 WHERE id = ?1",
            params![id, if lock.is_some() { 0 } else { failed }, lock],
        )?;
        audit::record(
            conn,
            &Actor::Staff(id.clone()),
            "staff.login_failed",
            "staff",
            Some(&id),
            serde_json::json!({ "locked": lock.is_some() }),
        )?;
        return Ok(Err(bad_login()));
    }
    conn.execute(
        "UPDATE staff SET failed_attempts = 0, locked_until = NULL, last_login_at = ?2 WHERE id = ?1",
        params![id, clock::to_db(now)],
    )?;
    let actor = Actor::Staff(id.clone());
    audit::record(
        conn,
        &actor,
        "staff.login",
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
        for ok in ["1234", "12345678", "correct horse"] {
            assert!(validate_secret(ok).is_ok(), "{ok}");
        }
        for bad in ["", "123", "123456789", "short"] {
            assert!(validate_secret(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn login_checks_the_hash_and_names_are_unique() {
        let store = Store::open_in_memory().unwrap();
        let m = add(&store, "Asha", "4321").unwrap();
        assert!(
            add(&store, "asha", "9999").is_err(),
            "names are case-insensitive"
        );
        assert_eq!(login(&store, "asha", "4321").unwrap().id, m.id);
        assert_eq!(
            login(&store, "Asha", "1111").unwrap_err().kind(),
            crate::ErrorKind::Auth
        );
        assert!(login(&store, "Nobody", "4321").is_err());
        let stored: String = store
            .read(|c| Ok(c.query_row("SELECT secret_hash FROM staff", [], |r| r.get(0))?))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains("4321"));
    }

    #[test]
    fn five_wrong_pins_lock_the_account() {
        let store = Store::open_in_memory().unwrap();
        add(&store, "Ravi", "2468").unwrap();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            assert!(login(&store, "Ravi", "0000").is_err());
        }
        let err = login(&store, "Ravi", "2468").unwrap_err();
        assert!(err.message(crate::Lang::En).contains("try again"), "{err}");
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
}
