//! Outgoing mail. `render` builds complete messages (pure: no I/O, no clock,
//! no randomness; the Message-ID and date are given), from templates that a
//! sysadmin can override.

pub mod render;
