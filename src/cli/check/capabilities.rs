//! `mailgate check`, what an IMAP server can do after login: IDLE, MOVE
//! and UIDPLUS, each a `✓`, or a `!` saying what mailgate does without it.

use super::Item;
use crate::config::{MailboxSettings, PostAction};

/// What the server advertises after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

/// IDLE, MOVE and UIDPLUS, each `✓` or `!` with what mailgate does without
/// it (see `source::imap`: polling, COPY + EXPUNGE, plain EXPUNGE). Missing
/// capabilities are warnings: mailgate works without them.
pub fn capability_items(m: &MailboxSettings, caps: Capabilities) -> Vec<Item> {
    let subject = format!("mailbox {}", m.name);
    let poll = humantime::format_duration(m.poll_interval);
    let idle = match (caps.idle, m.idle) {
        (true, true) => Item::pass(&subject, "IDLE: new mail is fetched as soon as it arrives"),
        (true, false) => Item::pass(
            &subject,
            format!("IDLE offered, not used (idle = false): polls every {poll}"),
        ),
        (false, true) => Item::warn(
            &subject,
            "no IDLE",
            format!("mailgate polls every {poll} (poll_interval)"),
        ),
        (false, false) => Item::pass(
            &subject,
            format!("no IDLE, not used (idle = false): polls every {poll}"),
        ),
    };
    let moving = m.post_action == PostAction::Move;
    let mv = match (caps.mv, moving) {
        (true, _) => Item::pass(&subject, "MOVE"),
        (false, true) => Item::warn(
            &subject,
            "no MOVE",
            format!(
                "processed mail goes to {} by UID COPY, then \\Deleted and EXPUNGE",
                m.processed_folder
            ),
        ),
        (false, false) => Item::pass(&subject, "no MOVE, not needed with this post_action"),
    };
    let expunges = m.post_action == PostAction::Delete || (moving && !caps.mv);
    let uidplus = match (caps.uidplus, expunges) {
        (true, _) => Item::pass(&subject, "UIDPLUS"),
        (false, true) => Item::warn(
            &subject,
            "no UIDPLUS",
            "a plain EXPUNGE also removes messages another client flagged \\Deleted in the folder",
        ),
        (false, false) => Item::pass(&subject, "no UIDPLUS, not needed (nothing is expunged)"),
    };
    vec![idle, mv, uidplus]
}

#[cfg(test)]
mod tests {
    use super::super::{Status, test_mailbox as mailbox};
    use super::*;

    #[test]
    fn missing_capabilities_are_warnings_saying_what_happens_instead() {
        let m = mailbox();
        let all = Capabilities {
            idle: true,
            mv: true,
            uidplus: true,
        };
        assert!(
            capability_items(&m, all)
                .iter()
                .all(|i| i.status == Status::Pass)
        );

        let none = Capabilities {
            idle: false,
            mv: false,
            uidplus: false,
        };
        let items = capability_items(&m, none);
        assert!(items.iter().all(|i| i.status == Status::Warn));
        assert_eq!(
            items[0].hint.as_deref(),
            Some("mailgate polls every 1m (poll_interval)")
        );
        assert!(items[1].hint.as_deref().unwrap().contains("UID COPY"));

        // Flagging as seen needs neither MOVE nor UIDPLUS.
        let seen = MailboxSettings {
            post_action: PostAction::Seen,
            idle: false,
            ..mailbox()
        };
        assert!(
            capability_items(&seen, none)
                .iter()
                .all(|i| i.status == Status::Pass)
        );
        // Deleting expunges: UIDPLUS matters, MOVE does not.
        let delete = MailboxSettings {
            post_action: PostAction::Delete,
            ..mailbox()
        };
        let statuses: Vec<Status> = capability_items(&delete, none)
            .iter()
            .map(|i| i.status)
            .collect();
        assert_eq!(statuses, [Status::Warn, Status::Pass, Status::Warn]);
    }
}
