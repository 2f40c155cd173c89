//! mailgate: turns email sent to a support address into tickets.
//!
//! See `ARCHITECTURE.md` for the code map and the invariants each module
//! keeps.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod exit;
pub mod intake;
pub mod lease;
pub mod memory;
pub mod model;
pub mod outbox;
pub mod service;
pub mod source;
pub mod store;
pub mod tls;
pub mod view;
pub mod web;
pub mod wiring;

#[cfg(test)]
mod layers;
