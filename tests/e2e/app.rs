//! E2E placeholder
