//! `[[mailboxes]] initial`: which of a folder's messages were there before
//! mailgate first watched it, and what becomes of them. Pure: the first UID
//! that is not initial comes from the database (`Store::mailbox_start`).

use crate::config::Initial;

/// Why the mail planned for an initial message under `initial = "silent"`
/// is kept and not sent.
pub const SILENT_REASON: &str =
    "initial = \"silent\": in the mailbox before mailgate first watched it";

/// The messages to file, from sorted UIDs: those to file silently, then
/// those to file as usual. Initial messages (UID under `first_uid`) are
/// left out under `new`, filed silently under `silent`, like any other
/// under `all`.
pub fn split(uids: &[u32], initial: Initial, first_uid: u32) -> (Vec<u32>, Vec<u32>) {
    let at = uids.partition_point(|&uid| uid < first_uid);
    let (old, later) = uids.split_at(at);
    match initial {
        Initial::All => (Vec::new(), uids.to_vec()),
        Initial::Silent => (old.to_vec(), later.to_vec()),
        Initial::New => (Vec::new(), later.to_vec()),
    }
}

/// What `mailgate check` says `initial` will do with the messages waiting
/// in a mailbox not watched yet.
pub fn forecast(initial: Initial, waiting: u32) -> String {
    match initial {
        Initial::All => format!("{waiting} will be filed and answered (initial = \"all\")"),
        Initial::Silent => {
            format!("{waiting} will be filed without their mail being sent (initial = \"silent\")")
        }
        Initial::New => format!(
            "{waiting} will be left in the folder; only mail arriving later is taken (initial = \"new\")"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_messages_are_those_under_the_first_uid() {
        let uids = [3, 7, 9, 12];
        assert_eq!(split(&uids, Initial::All, 9), (vec![], uids.to_vec()));
        assert_eq!(split(&uids, Initial::Silent, 9), (vec![3, 7], vec![9, 12]));
        assert_eq!(split(&uids, Initial::New, 9), (vec![], vec![9, 12]));
        // Started with nothing initial (filed before, or renumbered).
        assert_eq!(split(&uids, Initial::New, 0), (vec![], uids.to_vec()));
        assert_eq!(split(&uids, Initial::Silent, 100), (uids.to_vec(), vec![]));
        assert_eq!(split(&[], Initial::Silent, 5), (vec![], vec![]));
    }

    #[test]
    fn the_forecast_names_the_setting() {
        assert!(forecast(Initial::New, 5000).starts_with("5000 will be left"));
        assert!(forecast(Initial::Silent, 2).contains("initial = \"silent\""));
    }
}
