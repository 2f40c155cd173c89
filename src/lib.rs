//! mailgate: turns email sent to a support address into tickets.
//!
//! See `ARCHITECTURE.md` for the code map and the invariants each module
//! keeps.

pub mod check;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod generate;
pub mod intake;
pub mod lease;
pub mod memory;
pub mod outbox;
pub mod replay;
pub mod service;
pub mod source;
pub mod store;
pub mod tls;
pub mod web;
