//! What the running app holds: the kiosk core (or why it could not open) and the login session.

use std::path::Path;
use std::time::Duration;

use swagat_core::session::SessionSlot;
use swagat_core::{CoreError, ErrorReport, Kiosk, Role, StaffMember};

/// The app's managed state.
pub struct AppState {
    kiosk: Result<Kiosk, ErrorReport>,
    session: SessionSlot,
}

impl AppState {
    /// Opens the kiosk database at `db`. A failure (say, a database from a newer Swagat) is kept
    /// and shown by the UI instead of crashing the window.
    pub fn open(db: &Path) -> Self {
        let kiosk = Kiosk::open(db).map_err(|e| {
            tracing::error!("cannot open the kiosk database: {e}");
            ErrorReport::from(&e)
        });
        Self::from_kiosk(kiosk)
    }

    /// Wraps an already opened kiosk (tests).
    pub fn from_kiosk(kiosk: Result<Kiosk, ErrorReport>) -> Self {
        Self {
            kiosk,
            session: SessionSlot::new(),
        }
    }

    /// The kiosk, or the error it failed to open with.
    pub fn kiosk(&self) -> Result<&Kiosk, ErrorReport> {
        self.kiosk.as_ref().map_err(Clone::clone)
    }

    /// The session slot.
    pub fn session(&self) -> &SessionSlot {
        &self.session
    }

    fn idle(&self) -> Duration {
        let minutes = self
            .kiosk
            .as_ref()
            .ok()
            .and_then(|k| k.status().ok())
            .map_or(5, |s| s.idle_lock_minutes);
        Duration::from_secs(u64::from(minutes) * 60)
    }

    /// The logged-in member, if their role is among `roles` (empty: any role).
    pub fn require(&self, roles: &[Role]) -> Result<StaffMember, ErrorReport> {
        self.session
            .require(self.idle(), roles)
            .map_err(|e: CoreError| ErrorReport::from(&e))
    }
}
