//! Recovery-key escrow (issue 16): the server keeps each kiosk's recovery key **sealed** to the
//! state's escrow public key, and cannot open it.
//!
//! - `swagat-server escrow keygen` makes the key pair: the public key goes into `server_keys`
//!   (`escrow_public`), the private key only into the file the operator names (mode 0600), to be
//!   kept offline by the state's IT cell.
//! - Every heartbeat answer names the public key and the key check held for that device
//!   ([`for_ack`]); a kiosk whose key is not held sends its sealed box with its next heartbeat
//!   ([`store_box`], in [`crate::kiosk_health::heartbeat`]).
//! - `swagat-server escrow list` shows which devices are escrowed; `escrow recover` opens one
//!   device's box with the private key file and prints the `RK-…` that unlocks its database.
//!
//! The shape of the box is in [`swagat_sync_protocol::escrow`].

use crate::store::{now_ms, Sql, Store, StoreError};
use swagat_sync_protocol::RecoveryEscrow;
use uuid::Uuid;

/// Name of the escrow public key in `server_keys`.
pub const PUBLIC_KEY_NAME: &str = "escrow_public";

/// Why an escrow command failed.
#[derive(Debug, thiserror::Error)]
pub enum EscrowCmdError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `keygen` when the state already has a key.
    #[error("this server already has an escrow key (key id {0}); kiosks have sealed to it, so it is not replaced")]
    Exists(String),
    /// No key pair made yet.
    #[error("no escrow key yet: run `swagat-server escrow keygen` first")]
    NoKey,
    /// The device has no escrowed key.
    #[error("no recovery key is escrowed for device {0}")]
    NotEscrowed(Uuid),
    /// The private key file is not this server's.
    #[error("the private key file does not match this server's escrow public key")]
    WrongPrivateKey,
    /// The box did not open.
    #[error(transparent)]
    Escrow(#[from] swagat_sync_protocol::escrow::EscrowError),
}

/// The state's escrow public key (base64), if one was made.
pub async fn public_key<S: Store>(store: &S) -> Result<Option<String>, StoreError> {
    let rows = store
        .sql_query(
            "SELECT key FROM server_keys WHERE name = ?1".into(),
            vec![Sql::Text(PUBLIC_KEY_NAME.into())],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.first()).and_then(Sql::text))
}

/// Makes the key pair; stores the public key and returns (private, public). Refuses when a key
/// exists: boxes sealed to it would become unopenable with a new private key.
pub async fn keygen<S: Store>(
    store: &S,
) -> Result<(zeroize::Zeroizing<String>, String), EscrowCmdError> {
    if let Some(existing) = public_key(store).await? {
        return Err(EscrowCmdError::Exists(crate::store::key_id(&existing)));
    }
    let (private, public) = swagat_sync_protocol::escrow::generate_keypair();
    let stored = store
        .sql_exec(
            "INSERT INTO server_keys (name, key, key_id, created_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING"
                .into(),
            vec![
                Sql::Text(PUBLIC_KEY_NAME.into()),
                Sql::Text(public.clone()),
                Sql::Text(crate::store::key_id(&public)),
                Sql::Int(now_ms()),
            ],
        )
        .await?;
    if stored == 0 {
        let existing = public_key(store).await?.unwrap_or_default();
        return Err(EscrowCmdError::Exists(crate::store::key_id(&existing)));
    }
    Ok((private, public))
}

/// Stores (or replaces) `device`'s sealed recovery key.
pub async fn store_box<S: Store>(
    store: &S,
    device: Uuid,
    facility: Uuid,
    e: &RecoveryEscrow,
) -> Result<(), StoreError> {
    store
        .sql_exec(
            "INSERT INTO recovery_escrows (device_id, facility_id, sealed, key_check, escrowed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET facility_id = excluded.facility_id,
                sealed = excluded.sealed, key_check = excluded.key_check,
                escrowed_at_ms = excluded.escrowed_at_ms"
                .into(),
            vec![
                Sql::Uuid(device),
                Sql::Uuid(facility),
                Sql::Text(e.sealed.clone()),
                Sql::Text(e.key_check.clone()),
                Sql::Int(now_ms()),
            ],
        )
        .await?;
    Ok(())
}

/// What a heartbeat answer says about escrow: (the public key, the key check held for `device`).
pub async fn for_ack<S: Store>(
    store: &S,
    device: Uuid,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let Some(public) = public_key(store).await? else {
        return Ok((None, None));
    };
    let rows = store
        .sql_query(
            "SELECT key_check FROM recovery_escrows WHERE device_id = ?1".into(),
            vec![Sql::Uuid(device)],
        )
        .await?;
    Ok((
        Some(public),
        rows.first().and_then(|r| r.first()).and_then(Sql::text),
    ))
}

/// One escrowed device, as `escrow list` prints it (never the box).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Escrowed {
    /// The device.
    pub device_id: String,
    /// Its facility's code.
    pub facility: String,
    /// The device's name.
    pub device_name: String,
    /// The key check of the escrowed key.
    pub key_check: String,
    /// When it was escrowed (unix ms).
    pub escrowed_at_ms: i64,
}

/// The escrowed devices, of one facility (its code) or all.
pub async fn list<S: Store>(
    store: &S,
    facility_code: Option<String>,
) -> Result<Vec<Escrowed>, StoreError> {
    const SELECT: &str = "SELECT e.device_id, f.code, d.name, e.key_check, e.escrowed_at_ms
             FROM recovery_escrows e JOIN facilities f ON f.id = e.facility_id
             JOIN devices d ON d.id = e.device_id";
    let (sql, params) = match facility_code {
        Some(code) => (
            format!("{SELECT} WHERE f.code = ?1 ORDER BY f.code, e.escrowed_at_ms"),
            vec![Sql::Text(code)],
        ),
        None => (
            format!("{SELECT} ORDER BY f.code, e.escrowed_at_ms"),
            vec![],
        ),
    };
    let rows = store.sql_query(sql, params).await?;
    Ok(rows
        .iter()
        .map(|r| Escrowed {
            device_id: r[0].str(),
            facility: r[1].str(),
            device_name: r[2].str(),
            key_check: r[3].str(),
            escrowed_at_ms: r[4].int(),
        })
        .collect())
}

/// Opens `device`'s box with the private key (base64): (the recovery text, its key check).
pub async fn recover<S: Store>(
    store: &S,
    device: Uuid,
    private_b64: &str,
) -> Result<(zeroize::Zeroizing<String>, String), EscrowCmdError> {
    let public = public_key(store).await?.ok_or(EscrowCmdError::NoKey)?;
    if swagat_sync_protocol::escrow::public_of(private_b64)? != public {
        return Err(EscrowCmdError::WrongPrivateKey);
    }
    let rows = store
        .sql_query(
            "SELECT sealed, key_check FROM recovery_escrows WHERE device_id = ?1".into(),
            vec![Sql::Uuid(device)],
        )
        .await?;
    let row = rows.first().ok_or(EscrowCmdError::NotEscrowed(device))?;
    let text = swagat_sync_protocol::escrow::open(private_b64, &row[0].str())?;
    Ok((text, row[1].str()))
}
