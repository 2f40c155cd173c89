//! Exit statuses: those of sysexits.h, which MTAs understand, and the one a
//! storage failure comes to.

use crate::store::StoreError;

pub const OK: u8 = 0;
/// The command was used wrongly (EX_USAGE).
pub const USAGE: u8 = 64;
/// The input cannot be used (rejected message).
pub const DATAERR: u8 = 65;
/// An input file cannot be read.
pub const NOINPUT: u8 = 66;
/// An output file cannot be created (EX_CANTCREAT).
pub const CANTCREAT: u8 = 73;
/// Something else went wrong in mailgate itself.
pub const SOFTWARE: u8 = 70;
/// Try again later (database unavailable): nothing was lost.
pub const TEMPFAIL: u8 = 75;
/// The configuration is invalid.
pub const CONFIG: u8 = 78;

/// Exit status for a storage failure: retry later or give up.
pub fn store_failure(error: &StoreError) -> u8 {
    match error {
        StoreError::Config(_) => CONFIG,
        e if e.is_transient() => TEMPFAIL,
        // An unexpected database error may be a passing one too; an MTA that
        // retries loses nothing, one that bounces loses the message.
        _ => TEMPFAIL,
    }
}
