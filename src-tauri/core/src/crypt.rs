//! Encryption at rest: the kiosk database's data key, its wrappings, and SQLCipher keying.
//!
//! A stolen kiosk disk or a copied database file must give nothing away (see ARCHITECTURE.md,
//! "Encryption at rest"). The database is one SQLCipher file (AES-256 pages with an HMAC each)
//! keyed with a random 256-bit **data key** given to SQLCipher raw (`PRAGMA key = "x'…'"`: no
//! second key derivation at every open). The data key never touches the disk in clear. It is kept
//! in a small sidecar, `<db>.keys` (JSON, mode 0600), **wrapped** once per staff member who can log
//! in: ChaCha20-Poly1305 under a key derived from that member's PIN or passphrase with argon2id
//! ([`KDF_M_KIB`] KiB, [`KDF_T`] passes; the parameters are stored with each wrapping), the staff
//! id as associated data. The sidecar also carries what the login screen needs before anything is
//! unlocked — the names and roles of the staff who have a wrapping, and the facility's name — and
//! a short check value of the data key (a hash prefix: the key is 256 random bits).
//!
//! The **recovery key** is the data key itself written as `RK-` + 64 hex digits in groups; it is
//! shown once by `swagat-admin init` (and `swagat-admin key recovery`), meant to be written down
//! and kept by the district, and it opens the database (and its backups) without any sidecar.
//!
//! While the app or a CLI process runs, unlocked keys are remembered per database file in this
//! process ([`register`]), so every connection the process opens to that file — the store, the
//! sync engine's, the backup thread's — is keyed without passing the key around. Nothing is ever
//! written anywhere else.
//!
//! A file whose first 16 bytes are SQLite's plain header is plaintext (a database before `init`,
//! or one from an older Swagat): it opens without a key. [`encrypt_in_place`] turns it into an
//! encrypted one with `sqlcipher_export`, checks the copy (integrity and every table's row count),
//! writes the sidecar first, swaps the files atomically and overwrites the plaintext before
//! unlinking it.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CoreError, Msg, Result};
use crate::staff::Role;

/// argon2id memory per wrapping derivation, KiB (64 MiB).
pub const KDF_M_KIB: u32 = 64 * 1024;
/// argon2id passes.
pub const KDF_T: u32 = 3;
/// argon2id lanes.
pub const KDF_P: u32 = 1;

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// The environment variable the CLI reads an unlock secret from (an administrator's PIN or
/// passphrase, or the recovery key).
pub const UNLOCK_ENV: &str = "SWAGAT_UNLOCK";

/// A 256-bit data key (zeroised on drop; Debug shows nothing).
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl PartialEq for DataKey {
    fn eq(&self, other: &Self) -> bool {
        // Every byte compared (no early exit).
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| CoreError::Corrupt("the system random generator failed".into()))?;
    Ok(b)
}

impl DataKey {
    /// A fresh random key.
    pub fn random() -> Result<Self> {
        Ok(Self(Zeroizing::new(random_bytes::<32>()?)))
    }

    /// What `PRAGMA key` takes for a raw key: `x'<64 hex>'`.
    fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex(&self.0[..])))
    }

    /// The recovery text: `RK-` and 64 hex digits in groups of eight.
    pub fn recovery_text(&self) -> Zeroizing<String> {
        let h = Zeroizing::new(hex(&self.0[..]));
        let groups: Vec<&str> = (0..8).filter_map(|i| h.get(i * 8..i * 8 + 8)).collect();
        Zeroizing::new(format!("RK-{}", groups.join("-")))
    }

    /// Reads a recovery text (case, spaces and dashes do not matter); None if it is not one.
    pub fn from_recovery(text: &str) -> Option<Self> {
        let t = text.trim();
        // "RK-…", "rk-…" or "RK …" (typed from the printed key with spaces).
        let t = match (t.get(..2), t.as_bytes().get(2)) {
            (Some(p), Some(b'-' | b' ')) if p.eq_ignore_ascii_case("rk") => {
                t.get(3..).unwrap_or("")
            }
            _ => t,
        };
        let digits: Zeroizing<String> = Zeroizing::new(
            t.chars()
                .filter(|c| !matches!(c, '-' | ' '))
                .collect::<String>(),
        );
        if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(digits.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        let key = Self(Zeroizing::new(out));
        out.zeroize();
        Some(key)
    }

    /// A short public check value: tells a wrong recovery key from the right one.
    pub fn check_value(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"swagat data key check v1");
        h.update(&self.0[..]);
        hex(&h.finalize()[..8])
    }
}

/// One staff member's wrapping of the data key.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wrapping {
    /// The staff account's id (also the associated data of the seal).
    pub staff_id: String,
    /// The login name (shown on the login screen before unlock).
    pub name: String,
    /// The role (shown with the name).
    pub role: Role,
    /// argon2id memory, KiB.
    pub m_kib: u32,
    /// argon2id passes.
    pub t: u32,
    /// argon2id lanes.
    pub p: u32,
    /// Salt (base64).
    pub salt: String,
    /// Nonce (base64).
    pub nonce: String,
    /// The sealed data key with its tag (base64).
    pub sealed: String,
}

/// The sidecar `<db>.keys`: useless without a credential.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version (1).
    pub format: u32,
    /// [`DataKey::check_value`] of the data key.
    pub key_check: String,
    /// Facility name (English), for the login screen before unlock.
    #[serde(default)]
    pub facility_name_en: String,
    /// Facility name (Hindi).
    #[serde(default)]
    pub facility_name_hi: String,
    /// One wrapping per staff member who can log in.
    pub staff: Vec<Wrapping>,
}

fn kek(secret: &str, salt: &[u8], m_kib: u32, t: u32, p: u32) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(m_kib, t, p, Some(32))
        .map_err(|e| CoreError::Corrupt(format!("bad key-derivation parameters: {e}")))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(secret.as_bytes(), salt, &mut out[..])
        .map_err(|e| CoreError::Corrupt(format!("key derivation failed: {e}")))?;
    Ok(out)
}

fn aead_key(k: &[u8; 32]) -> Result<LessSafeKey> {
    UnboundKey::new(&aead::CHACHA20_POLY1305, k)
        .map(LessSafeKey::new)
        .map_err(|_| CoreError::Corrupt("bad wrapping key".into()))
}

/// Wraps `key` under `secret` for the staff member.
pub fn wrap(
    key: &DataKey,
    staff_id: &str,
    name: &str,
    role: Role,
    secret: &str,
) -> Result<Wrapping> {
    let salt = random_bytes::<16>()?;
    let nonce = random_bytes::<12>()?;
    let k = kek(secret, &salt, KDF_M_KIB, KDF_T, KDF_P)?;
    let mut buf = key.0.to_vec();
    aead_key(&k)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(staff_id.as_bytes()),
            &mut buf,
        )
        .map_err(|_| CoreError::Corrupt("sealing the data key failed".into()))?;
    let sealed = B64.encode(&buf);
    buf.zeroize();
    Ok(Wrapping {
        staff_id: staff_id.to_owned(),
        name: name.to_owned(),
        role,
        m_kib: KDF_M_KIB,
        t: KDF_T,
        p: KDF_P,
        salt: B64.encode(salt),
        nonce: B64.encode(nonce),
        sealed,
    })
}

/// Opens a wrapping with `secret`: the data key, or None for a wrong secret.
pub fn unwrap(w: &Wrapping, secret: &str) -> Result<Option<DataKey>> {
    let decode = |s: &str| {
        B64.decode(s)
            .map_err(|_| CoreError::Corrupt("the key file is damaged".into()))
    };
    let salt = decode(&w.salt)?;
    let nonce: [u8; 12] = decode(&w.nonce)?
        .try_into()
        .map_err(|_| CoreError::Corrupt("the key file is damaged".into()))?;
    let mut sealed = Zeroizing::new(decode(&w.sealed)?);
    let k = kek(secret, &salt, w.m_kib, w.t, w.p)?;
    let opened = aead_key(&k)?.open_in_place(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(w.staff_id.as_bytes()),
        &mut sealed[..],
    );
    match opened {
        Ok(plain) if plain.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(plain);
            let key = DataKey(Zeroizing::new(out));
            out.zeroize();
            Ok(Some(key))
        }
        _ => Ok(None),
    }
}

/// Costs what one wrong unwrap costs (an unknown name at the login screen must not be faster).
pub fn dummy_unwrap(secret: &str) {
    let _ = kek(secret, &[0u8; 16], KDF_M_KIB, KDF_T, KDF_P);
}

// ---------------------------------------------------------------------------------------------
// Files

/// The sidecar beside the database: `<db>.keys`.
pub fn keyfile_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".keys");
    db.with_file_name(name)
}

/// Whether `path` is an SQLCipher (encrypted) database: it exists, is not empty, and does not
/// start with SQLite's plain header.
pub fn is_encrypted(path: &Path) -> bool {
    use std::os::unix::fs::{FileExt, MetadataExt};
    // POSIX record locks belong to the process and vanish when ANY descriptor of the file is
    // closed: reading the header through a short-lived `File` would silently drop the SQLite
    // locks of every open connection to this database in this process (another process could
    // then think itself the last connection and delete the WAL holding our commits). So the
    // descriptor used here stays open while the file at `path` is the same inode; when the file
    // was replaced (encrypted in place, restored) the old inode's descriptor is closed, so a
    // deleted file is not kept alive (it would also keep its filesystem from going read-only).
    static OPEN: std::sync::Mutex<Vec<(std::path::PathBuf, std::fs::File)>> =
        std::sync::Mutex::new(Vec::new());
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let mut open = match OPEN.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let same = |f: &std::fs::File| {
        f.metadata()
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev())
    };
    let idx = match open.iter().position(|(p, _)| p == path) {
        Some(i) if same(&open[i].1) => i,
        found => {
            let Ok(f) = std::fs::File::open(path) else {
                return false;
            };
            match found {
                Some(i) => {
                    open[i].1 = f;
                    i
                }
                None => {
                    open.push((path.to_path_buf(), f));
                    open.len() - 1
                }
            }
        }
    };
    let mut head = [0u8; 16];
    match open[idx].1.read_exact_at(&mut head, 0) {
        Ok(()) => &head != SQLITE_HEADER,
        Err(_) => false,
    }
}

/// Reads the sidecar of `db`, if there is one.
pub fn load_keyfile(db: &Path) -> Result<Option<KeyFile>> {
    let p = keyfile_path(db);
    match std::fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CoreError::Corrupt(format!("the key file {} is damaged: {e}", p.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// Writes the sidecar atomically (temporary file, fsync, rename), mode 0600.
pub fn save_keyfile(db: &Path, kf: &KeyFile) -> Result<()> {
    let p = keyfile_path(db);
    let tmp = p.with_extension("keys.tmp");
    let json = serde_json::to_vec_pretty(kf)
        .map_err(|e| CoreError::Corrupt(format!("cannot write the key file: {e}")))?;
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        set_mode(&tmp, 0o600);
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &p)?;
    sync_parent(&p);
    Ok(())
}

fn sync_parent(p: &Path) {
    if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(f) = std::fs::File::open(d) {
            let _ = f.sync_all();
        }
    }
}

/// Overwrites a file with zeros, flushes, then unlinks it. On an SSD or a copy-on-write file
/// system the old blocks may survive elsewhere (wear levelling); see ARCHITECTURE.md.
pub fn secure_remove(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    overwrite(path)?;
    std::fs::remove_file(path)?;
    sync_parent(path);
    Ok(())
}

fn overwrite(path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)?.len();
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    let zeros = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        f.write_all(zeros.get(..n).unwrap_or(&zeros))?;
        left -= n as u64;
    }
    f.sync_all()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The process's unlocked keys

fn registry() -> &'static Mutex<HashMap<PathBuf, DataKey>> {
    static KEYS: std::sync::OnceLock<Mutex<HashMap<PathBuf, DataKey>>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn canonical(path: &Path) -> PathBuf {
    if let Ok(c) = path.canonicalize() {
        return c;
    }
    // Not there yet: canonicalise the folder.
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => {
            let d = if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            };
            d.canonicalize()
                .map_or_else(|_| path.to_path_buf(), |d| d.join(n))
        }
        _ => path.to_path_buf(),
    }
}

/// Remembers `key` for the database at `db` in this process.
pub fn register(db: &Path, key: &DataKey) {
    let mut m = registry().lock().unwrap_or_else(|p| p.into_inner());
    m.insert(canonical(db), key.clone());
}

/// The key this process unlocked for `db`, if any.
pub fn registered(db: &Path) -> Option<DataKey> {
    let m = registry().lock().unwrap_or_else(|p| p.into_inner());
    m.get(&canonical(db)).cloned()
}

/// Forgets the key of `db` (tests).
pub fn forget(db: &Path) {
    let mut m = registry().lock().unwrap_or_else(|p| p.into_inner());
    m.remove(&canonical(db));
}

/// The error for a locked database.
pub fn locked_error() -> CoreError {
    CoreError::Locked {
        msg: Msg::new(
            "the kiosk database is encrypted and locked: log in, or give an administrator's PIN/passphrase or the recovery key in SWAGAT_UNLOCK (or --unlock-file FILE)",
            "कियोस्क डेटाबेस एन्क्रिप्टेड और लॉक है: लॉग इन करें, या SWAGAT_UNLOCK (या --unlock-file FILE) में व्यवस्थापक का पिन/पासफ़्रेज़ या रिकवरी कुंजी दें",
        ),
    }
}

fn wrong_secret() -> CoreError {
    CoreError::Locked {
        msg: Msg::new(
            "the unlock secret is wrong: it is neither an administrator's PIN/passphrase nor the recovery key of this database",
            "अनलॉक रहस्य गलत है: यह न किसी व्यवस्थापक का पिन/पासफ़्रेज़ है, न इस डेटाबेस की रिकवरी कुंजी",
        ),
    }
}

/// Keys a fresh connection (must be the first statement on it).
pub fn apply_key(conn: &Connection, key: &DataKey) -> Result<()> {
    let v = key.pragma_value();
    conn.pragma_update(None, "key", v.as_str())?;
    Ok(())
}

/// Whether `key` opens the encrypted file at `path` (reads its schema).
pub fn key_opens(path: &Path, key: &DataKey) -> bool {
    let Ok(c) = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return false;
    };
    apply_key(&c, key).is_ok()
        && c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok()
}

/// The key to open `file` with: None for a plaintext file; else one of the keys this process
/// has unlocked that opens it (a backup of the unlocked database).
pub fn key_for_file(file: &Path) -> Option<DataKey> {
    if !is_encrypted(file) {
        return None;
    }
    if let Some(k) = registered(file) {
        return Some(k);
    }
    let keys: Vec<DataKey> = {
        let m = registry().lock().unwrap_or_else(|p| p.into_inner());
        m.values().cloned().collect()
    };
    keys.into_iter().find(|k| key_opens(file, k))
}

/// Who unlocked.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum UnlockedBy {
    /// The database is not encrypted: nothing to unlock.
    Plaintext,
    /// The recovery key.
    RecoveryKey,
    /// An administrator's secret (their login name).
    Admin {
        /// Whose.
        name: String,
    },
}

/// Unlocks the database at `db` for this process with an administrator's PIN or passphrase or
/// the recovery key (the CLI's `SWAGAT_UNLOCK` / `--unlock-file`). Only administrators' wrappings
/// are tried. A plaintext database needs nothing.
pub fn unlock_admin(db: &Path, secret: &str) -> Result<UnlockedBy> {
    if let Some(key) = DataKey::from_recovery(secret) {
        // The recovery key is taken even before the file exists (a backup restored onto a new
        // PC); a key file or the file itself tells a wrong one.
        let good = match load_keyfile(db)? {
            Some(kf) => kf.key_check == key.check_value(),
            None => !is_encrypted(db) || key_opens(db, &key),
        };
        if good {
            register(db, &key);
            return Ok(UnlockedBy::RecoveryKey);
        }
        return Err(wrong_secret());
    }
    if !is_encrypted(db) {
        return Ok(UnlockedBy::Plaintext);
    }
    let kf = load_keyfile(db)?;
    let secret = secret.trim_end_matches(['\n', '\r']);
    for w in kf
        .iter()
        .flat_map(|k| k.staff.iter())
        .filter(|w| w.role == Role::Admin)
    {
        if let Some(key) = unwrap(w, secret)? {
            register(db, &key);
            return Ok(UnlockedBy::Admin {
                name: w.name.clone(),
            });
        }
    }
    Err(wrong_secret())
}

/// Unlocks with a staff member's login: their wrapping opened with their secret. None for an
/// unknown name or a wrong secret (both cost one derivation).
pub fn unlock_staff(db: &Path, name: &str, secret: &str) -> Result<Option<(DataKey, String)>> {
    let kf = load_keyfile(db)?.unwrap_or_default();
    let wanted = name.trim().to_lowercase();
    match kf.staff.iter().find(|w| w.name.to_lowercase() == wanted) {
        Some(w) => Ok(unwrap(w, secret)?.map(|k| {
            register(db, &k);
            (k, w.staff_id.clone())
        })),
        None => {
            dummy_unwrap(secret);
            Ok(None)
        }
    }
}

fn throttle() -> &'static Mutex<HashMap<String, (u32, std::time::Instant)>> {
    static T: std::sync::OnceLock<Mutex<HashMap<String, (u32, std::time::Instant)>>> =
        std::sync::OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Refuses an unlock attempt for `name` while it is throttled: after 5 wrong secrets in this
/// process, each further one waits 5 minutes, then 15, 60, … (the staff lockout steps).
pub fn throttle_check(name: &str) -> Result<()> {
    let m = throttle().lock().unwrap_or_else(|p| p.into_inner());
    if let Some((fails, at)) = m.get(&name.trim().to_lowercase()) {
        if let Some(wait) = crate::staff::lockout_for(i64::from(*fails)) {
            let wait =
                std::time::Duration::from_secs(u64::try_from(wait.whole_seconds()).unwrap_or(300));
            let elapsed = at.elapsed();
            if elapsed < wait {
                let mins = (wait - elapsed).as_secs().div_ceil(60);
                return Err(CoreError::auth(
                    format!("too many wrong attempts; try again in {mins} min"),
                    format!("बहुत बार गलत पिन; {mins} मिनट बाद प्रयास करें"),
                ));
            }
        }
    }
    Ok(())
}

/// Counts a wrong unlock secret for `name`.
pub fn throttle_fail(name: &str) {
    let mut m = throttle().lock().unwrap_or_else(|p| p.into_inner());
    let e = m
        .entry(name.trim().to_lowercase())
        .or_insert((0, std::time::Instant::now()));
    e.0 = e.0.saturating_add(1);
    e.1 = std::time::Instant::now();
}

/// Forgets the wrong secrets of `name` (a good unlock).
pub fn throttle_clear(name: &str) {
    let mut m = throttle().lock().unwrap_or_else(|p| p.into_inner());
    m.remove(&name.trim().to_lowercase());
}

/// Puts (or replaces) `staff`'s wrapping in the sidecar of `db`.
pub fn set_wrapping(db: &Path, key: &DataKey, w: Wrapping) -> Result<()> {
    let mut kf = load_keyfile(db)?.unwrap_or_else(|| KeyFile {
        format: 1,
        key_check: key.check_value(),
        ..KeyFile::default()
    });
    kf.staff.retain(|x| x.staff_id != w.staff_id);
    kf.staff.push(w);
    save_keyfile(db, &kf)
}

/// Removes a staff member's wrapping (a disabled account must not unlock the disk).
pub fn remove_wrapping(db: &Path, staff_id: &str) -> Result<()> {
    if let Some(mut kf) = load_keyfile(db)? {
        let before = kf.staff.len();
        kf.staff.retain(|x| x.staff_id != staff_id);
        if kf.staff.len() != before {
            save_keyfile(db, &kf)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Plaintext → encrypted

/// Row counts of the tables that hold rows (virtual tables' rows live in their shadow tables;
/// `sqlcipher_export` writes virtual tables straight into the schema, which this connection
/// sees only once reopened).
fn tables(conn: &Connection, schema: &str) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND rootpage > 0 \
             AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for n in names {
        let count: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM {schema}.\"{}\"",
                n.replace('"', "\"\"")
            ),
            [],
            |r| r.get(0),
        )?;
        out.push((n, count));
    }
    Ok(out)
}

/// Encrypts the plaintext database at `db` under `key`, in place: exports it with
/// `sqlcipher_export` through `conn` (a plaintext connection to it, consumed and closed), checks
/// the copy (integrity, schema version and every table's row count), writes the sidecar `kf`
/// first, renames the copy over the database and overwrites the plaintext before unlinking it.
/// The caller reopens the database with the key.
pub fn encrypt_in_place(conn: Connection, db: &Path, key: &DataKey, kf: &KeyFile) -> Result<()> {
    let tmp = db.with_file_name(format!(
        ".{}.encrypting",
        db.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&tmp);
    let before = tables(&conn, "main")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let run = || -> Result<()> {
        let v = key.pragma_value();
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            rusqlite::params![tmp.to_string_lossy().into_owned(), v.as_str()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        let after = tables(&conn, "encrypted")?;
        conn.execute_batch("DETACH DATABASE encrypted")?;
        if after != before {
            return Err(CoreError::Corrupt(
                "the encrypted copy does not hold every row; the database was left as it was"
                    .into(),
            ));
        }
        Ok(())
    };
    if let Err(e) = run() {
        let _ = conn.execute_batch("DETACH DATABASE encrypted");
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Close the plaintext connection (checkpoints and removes its -wal).
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    drop(conn);
    let check = (|| -> Result<()> {
        set_mode(&tmp, 0o600);
        let c = Connection::open(&tmp)?;
        apply_key(&c, key)?;
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if ok != "ok" || v != version || tables(&c, "main")? != before {
            return Err(CoreError::Corrupt(format!(
                "the encrypted copy failed its check ({ok}); the database was left as it was"
            )));
        }
        drop(c);
        std::fs::File::open(&tmp)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = check {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The sidecar before the swap: a crash between them leaves a plaintext database that still
    // opens (its header says so) and is encrypted again at the next chance.
    save_keyfile(db, kf)?;
    // Hold the plaintext open so it can be overwritten after the atomic swap.
    let old = std::fs::OpenOptions::new().write(true).open(db)?;
    for ext in ["-wal", "-shm"] {
        let side = db.with_file_name(format!(
            "{}{ext}",
            db.file_name().unwrap_or_default().to_string_lossy()
        ));
        secure_remove(&side)?;
    }
    std::fs::rename(&tmp, db)?;
    sync_parent(db);
    let len = old.metadata()?.len();
    let mut old = old;
    let zeros = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        old.write_all(zeros.get(..n).unwrap_or(&zeros))?;
        left -= n as u64;
    }
    old.sync_all()?;
    drop(old);
    register(db, key);
    tracing::info!("the kiosk database is now encrypted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_text_round_trips_and_wrong_secrets_open_nothing() {
        let k = DataKey::random().unwrap();
        let text = k.recovery_text();
        assert!(
            text.starts_with("RK-") && text.len() == 3 + 64 + 7,
            "{}",
            *text
        );
        assert_eq!(DataKey::from_recovery(&text).unwrap(), k);
        assert_eq!(
            DataKey::from_recovery(&text.to_uppercase().replace('-', " ")).unwrap(),
            k
        );
        assert!(DataKey::from_recovery("135790").is_none());
        let w = wrap(&k, "s1", "Asha", Role::Reception, "135790").unwrap();
        assert_eq!(unwrap(&w, "135790").unwrap().unwrap(), k);
        assert!(unwrap(&w, "135791").unwrap().is_none());
        let mut moved = w.clone();
        moved.staff_id = "s2".into();
        assert!(
            unwrap(&moved, "135790").unwrap().is_none(),
            "bound to its staff id"
        );
        assert!(!format!("{k:?}").contains(&hex(&k.0[..])));
    }
}
