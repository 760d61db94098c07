//! Officials' accounts for the dashboard: roles, what each role may see, argon2id passwords.
//!
//! A `state` official sees every facility, a `district` official the facilities of one LGD
//! district, a `facility` user one facility — on every page, CSV and API route ([`Scope`]).
//! Accounts are made by the operator with `swagat-server user add … --password-stdin`; the
//! server stores only the argon2id hash (PHC string). A disabled account's sessions end at once.

use crate::store::{Sql, Store, StoreError};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use uuid::Uuid;

/// What an official may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every facility of the state.
    State,
    /// Facilities whose `district_lgd` is this.
    District(i64),
    /// One facility (its code).
    Facility(String),
}

impl Scope {
    /// `state`, `district` or `facility`.
    pub fn role(&self) -> &'static str {
        match self {
            Scope::State => "state",
            Scope::District(_) => "district",
            Scope::Facility(_) => "facility",
        }
    }

    /// Whether a facility (code, district) is visible.
    pub fn allows(&self, code: &str, district: Option<i64>) -> bool {
        match self {
            Scope::State => true,
            Scope::District(d) => district == Some(*d),
            Scope::Facility(c) => c == code,
        }
    }
}

/// A stored account.
#[derive(Debug, Clone)]
pub struct User {
    /// Server-issued id.
    pub id: Uuid,
    /// Login name.
    pub name: String,
    /// Role and reach.
    pub scope: Scope,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
}

/// An account as `user list` shows it (no hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub district_lgd: Option<i64>,
    pub facility: Option<String>,
    pub disabled: bool,
}

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("name must be 1-64 characters without spaces at either end")]
    BadName,
    #[error("role must be state, district or facility")]
    BadRole,
    #[error("--district LGD is required for a district official (and only for one)")]
    DistrictNeeded,
    #[error("--facility CODE is required for a facility user (and only for one)")]
    FacilityNeeded,
    #[error("no facility with this code")]
    UnknownFacility,
    #[error("password must be 8-256 characters")]
    BadPassword,
    #[error("a user with this name already exists")]
    Exists,
    #[error("password hashing failed")]
    Hash,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| UserError::Hash)
}

/// Whether `password` matches the stored PHC string (constant-time inside argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the name is unknown, so both cases take the same time.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a real password, never matches").unwrap_or_default())
}

/// Creates an account; returns it.
pub async fn add<S: Store>(
    store: &S,
    name: &str,
    role: &str,
    district: Option<i64>,
    facility: Option<String>,
    password: &str,
) -> Result<User, UserError> {
    if name.is_empty() || name.chars().count() > 64 || name.trim() != name {
        return Err(UserError::BadName);
    }
    let scope = match role {
        "state" => {
            if district.is_some() {
                return Err(UserError::DistrictNeeded);
            }
            if facility.is_some() {
                return Err(UserError::FacilityNeeded);
            }
            Scope::State
        }
        "district" => {
            if facility.is_some() {
                return Err(UserError::FacilityNeeded);
            }
            Scope::District(district.ok_or(UserError::DistrictNeeded)?)
        }
        "facility" => {
            if district.is_some() {
                return Err(UserError::DistrictNeeded);
            }
            let code = facility.ok_or(UserError::FacilityNeeded)?;
            let known = store
                .sql_query(
                    "SELECT 1 FROM facilities WHERE code = ?1".into(),
                    vec![Sql::Text(code.clone())],
                )
                .await?;
            if known.is_empty() {
                return Err(UserError::UnknownFacility);
            }
            Scope::Facility(code)
        }
        _ => return Err(UserError::BadRole),
    };
    let n = password.chars().count();
    if !(8..=256).contains(&n) {
        return Err(UserError::BadPassword);
    }
    if find(store, name).await?.is_some() {
        return Err(UserError::Exists);
    }
    let hash = hash_password(password)?;
    let id = Uuid::now_v7();
    let (d, f) = match &scope {
        Scope::District(d) => (Sql::Int(*d), Sql::Null),
        Scope::Facility(c) => (Sql::Null, Sql::Text(c.clone())),
        Scope::State => (Sql::Null, Sql::Null),
    };
    store
        .sql_exec(
            "INSERT INTO dashboard_users (id, name, role, district_lgd, facility_code, password_hash, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                .into(),
            vec![
                Sql::Uuid(id),
                Sql::Text(name.into()),
                Sql::Text(scope.role().into()),
                d,
                f,
                Sql::Text(hash.clone()),
                Sql::Int(now_ms()),
            ],
        )
        .await?;
    Ok(User {
        id,
        name: name.into(),
        scope,
        password_hash: hash,
        disabled: false,
    })
}

fn now_ms() -> i64 {
    crate::store::sqlite::now_ms()
}

const USER_COLUMNS: &str =
    "id, name, role, district_lgd, facility_code, password_hash, disabled_at_ms IS NOT NULL";

fn user_of(r: &[Sql]) -> Result<User, StoreError> {
    let bad = || StoreError::Corrupt("bad user row".into());
    let id = Uuid::parse_str(&r.first().ok_or_else(bad)?.str()).map_err(|_| bad())?;
    let scope = match r[2].str().as_str() {
        "state" => Scope::State,
        "district" => Scope::District(r[3].opt_int().ok_or_else(bad)?),
        "facility" => Scope::Facility(r[4].text().ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    Ok(User {
        id,
        name: r[1].str(),
        scope,
        password_hash: r[5].str(),
        disabled: r[6].int() != 0,
    })
}

/// The account named `name`, if any.
pub async fn find<S: Store>(store: &S, name: &str) -> Result<Option<User>, StoreError> {
    let rows = store
        .sql_query(
            format!("SELECT {USER_COLUMNS} FROM dashboard_users WHERE name = ?1"),
            vec![Sql::Text(name.into())],
        )
        .await?;
    rows.first().map(|r| user_of(r)).transpose()
}

/// The account with id `id`, if any.
pub async fn by_id<S: Store>(store: &S, id: Uuid) -> Result<Option<User>, StoreError> {
    let rows = store
        .sql_query(
            format!("SELECT {USER_COLUMNS} FROM dashboard_users WHERE id = ?1"),
            vec![Sql::Uuid(id)],
        )
        .await?;
    rows.first().map(|r| user_of(r)).transpose()
}

/// Every account, by name.
pub async fn list<S: Store>(store: &S) -> Result<Vec<UserInfo>, StoreError> {
    let rows = store
        .sql_query(
            format!("SELECT {USER_COLUMNS} FROM dashboard_users ORDER BY name"),
            vec![],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let u = user_of(r)?;
            Ok(UserInfo {
                id: u.id.to_string(),
                name: u.name,
                role: u.scope.role().into(),
                district_lgd: match u.scope {
                    Scope::District(d) => Some(d),
                    _ => None,
                },
                facility: match u.scope {
                    Scope::Facility(c) => Some(c),
                    _ => None,
                },
                disabled: u.disabled,
            })
        })
        .collect()
}

/// Disables an account and ends its sessions; `false` if unknown.
pub async fn disable<S: Store>(store: &S, name: &str) -> Result<bool, StoreError> {
    let Some(u) = find(store, name).await? else {
        return Ok(false);
    };
    store
        .sql_exec(
            "UPDATE dashboard_users SET disabled_at_ms = ?1 WHERE id = ?2 AND disabled_at_ms IS NULL"
                .into(),
            vec![Sql::Int(now_ms()), Sql::Uuid(u.id)],
        )
        .await?;
    store
        .sql_exec(
            "DELETE FROM dashboard_sessions WHERE user_id = ?1".into(),
            vec![Sql::Uuid(u.id)],
        )
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horsE"));
        assert!(!verify_password("garbage", "x"));
    }

    #[test]
    fn scopes() {
        assert!(Scope::State.allows("X", None));
        assert!(Scope::District(5).allows("X", Some(5)));
        assert!(!Scope::District(5).allows("X", Some(6)));
        assert!(!Scope::District(5).allows("X", None));
        assert!(Scope::Facility("A".into()).allows("A", Some(1)));
        assert!(!Scope::Facility("A".into()).allows("B", Some(1)));
    }
}
