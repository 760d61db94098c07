//! The logged-in staff member of a running app, and the idle lock.
//!
//! The app holds one [`SessionSlot`]. Every command that needs a login asks it for the current
//! member, which also counts as activity; after the facility's idle time without activity the slot
//! empties and the UI shows the login screen again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{CoreError, Result};
use crate::staff::{Role, StaffMember};

#[derive(Debug)]
struct Session {
    member: StaffMember,
    last_activity: Instant,
}

/// Holds at most one logged-in member.
#[derive(Debug, Default)]
pub struct SessionSlot {
    inner: Mutex<Option<Session>>,
}

impl SessionSlot {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session for `member`.
    pub fn start(&self, member: StaffMember) {
        *self.lock() = Some(Session {
            member,
            last_activity: Instant::now(),
        });
    }

    /// Ends the session.
    pub fn end(&self) {
        *self.lock() = None;
    }

    /// The current member if the session has not idled out for `idle`; refreshes activity.
    pub fn current(&self, idle: Duration) -> Option<StaffMember> {
        self.current_at(Instant::now(), idle)
    }

    fn current_at(&self, now: Instant, idle: Duration) -> Option<StaffMember> {
        let mut guard = self.lock();
        let expired = guard
            .as_ref()
            .is_some_and(|s| now.saturating_duration_since(s.last_activity) > idle);
        if expired {
            *guard = None;
            return None;
        }
        let s = guard.as_mut()?;
        s.last_activity = now;
        Some(s.member.clone())
    }

    /// Like [`Self::current`], but an error ready for the UI when nobody is logged in or the role
    /// is not among `roles` (an empty list allows any role).
    pub fn require(&self, idle: Duration, roles: &[Role]) -> Result<StaffMember> {
        let m = self
            .current(idle)
            .ok_or_else(|| CoreError::auth("please log in", "कृपया लॉग इन करें"))?;
        if roles.is_empty() || roles.contains(&m.role) || m.role == Role::Admin {
            Ok(m)
        } else {
            Err(CoreError::auth(
                "your role does not allow this",
                "आपकी भूमिका में यह अनुमति नहीं है",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> StaffMember {
        StaffMember {
            id: "s1".into(),
            name: "Asha".into(),
            role,
            active: true,
        }
    }

    #[test]
    fn session_idles_out() {
        let slot = SessionSlot::new();
        let idle = Duration::from_secs(60);
        assert!(slot.current(idle).is_none());
        slot.start(member(Role::Reception));
        let t0 = Instant::now();
        assert!(slot
            .current_at(t0 + Duration::from_secs(30), idle)
            .is_some());
        // Activity at +30 s moved the deadline.
        assert!(slot
            .current_at(t0 + Duration::from_secs(80), idle)
            .is_some());
        assert!(slot
            .current_at(t0 + Duration::from_secs(200), idle)
            .is_none());
        assert!(slot.current(idle).is_none(), "stays locked");
    }

    #[test]
    fn roles_are_enforced_and_admin_may_do_all() {
        let slot = SessionSlot::new();
        let idle = Duration::from_secs(60);
        slot.start(member(Role::Reception));
        assert!(slot.require(idle, &[Role::Admin]).is_err());
        assert!(slot.require(idle, &[]).is_ok());
        slot.start(member(Role::Admin));
        assert!(slot.require(idle, &[Role::DialysisNurse]).is_ok());
        slot.end();
        assert!(slot.require(idle, &[]).is_err());
    }
}
