//! `mailgate check`, the folders of an IMAP mailbox: the watched one, and
//! the processed and quarantine folders, created with `--create-folders`.

use std::time::Duration;

use futures::TryStreamExt;

use super::imap::server_says;
use super::{Item, Options, Report};
use crate::config::{Initial, MailboxSettings, PostAction};
use crate::source::imap::{Session, quoted};
use crate::source::initial;

async fn folder_exists(session: &mut Session, folder: &str, t: Duration) -> Result<bool, String> {
    let listed = tokio::time::timeout(t, async {
        let names: Vec<_> = session
            .list(Some(""), Some(&quoted(folder)))
            .await?
            .try_collect()
            .await?;
        Ok::<_, async_imap::error::Error>(!names.is_empty())
    })
    .await;
    match listed {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("no answer to LIST".to_owned()),
    }
}

/// The server's folders, for the hint when the watched one is missing.
async fn folder_names(session: &mut Session, t: Duration) -> Vec<String> {
    let listed = tokio::time::timeout(t, async {
        let names: Vec<_> = session
            .list(Some(""), Some("*"))
            .await?
            .try_collect()
            .await?;
        Ok::<_, async_imap::error::Error>(names.iter().map(|n| n.name().to_owned()).collect())
    })
    .await;
    match listed {
        Ok(Ok(names)) => names,
        _ => Vec::new(),
    }
}

/// The messages `mailgate run` would take from the folder (read-only,
/// after EXAMINE): those its UID SEARCH finds.
async fn waiting_uids(
    m: &MailboxSettings,
    session: &mut Session,
    t: Duration,
) -> Result<Vec<u32>, String> {
    let query = match m.post_action {
        PostAction::Seen => "UNSEEN UNDELETED",
        PostAction::Move | PostAction::Delete => "UNDELETED",
    };
    match tokio::time::timeout(t, session.uid_search(query)).await {
        Ok(Ok(uids)) => Ok(uids.into_iter().collect()),
        Ok(Err(e)) => Err(server_says(&e.to_string())),
        Err(_) => Err("no answer to UID SEARCH".to_owned()),
    }
}

/// What the database says of a mailbox's first watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// The database could not be read.
    Unknown,
    /// Never watched: `initial` applies at the first run.
    Never,
    /// Watched before: the messages under this UID were there then.
    Since(u32),
}

/// The line on the watched folder: how many messages wait, and what
/// `initial` does with them.
pub fn waiting_line(m: &MailboxSettings, waiting: &[u32], watched: Watched) -> String {
    let head = format!("folder {}: {} message(s) waiting", m.folder, waiting.len());
    match watched {
        Watched::Never => format!(
            "{head}; first watch: {}",
            initial::forecast(m.initial, u32::try_from(waiting.len()).unwrap_or(u32::MAX))
        ),
        Watched::Since(first_uid) if m.initial == Initial::New => {
            let older = waiting.iter().filter(|&&uid| uid < first_uid).count();
            if older == 0 {
                head
            } else {
                format!(
                    "folder {}: {} message(s) waiting, and {older} from before the first watch left there (initial = \"new\")",
                    m.folder,
                    waiting.len() - older
                )
            }
        }
        _ => head,
    }
}

pub(super) async fn check_folders(
    m: &MailboxSettings,
    options: Options,
    watched: Watched,
    session: &mut Session,
    report: &mut Report,
) {
    let subject = format!("mailbox {}", m.name);
    let t = m.timeout;
    match tokio::time::timeout(t, session.examine(&m.folder)).await {
        Ok(Ok(_)) => match waiting_uids(m, session, t).await {
            Ok(waiting) => report.push(Item::pass(&subject, waiting_line(m, &waiting, watched))),
            Err(e) => report.push(Item::fail(
                &subject,
                format!("folder {}: UID SEARCH failed: {e}", m.folder),
                None,
            )),
        },
        Ok(Err(e)) => {
            let names = folder_names(session, t).await;
            report.push(Item::fail(
                &subject,
                format!(
                    "folder {} cannot be opened: {}",
                    m.folder,
                    server_says(&e.to_string())
                ),
                Some(missing_folder_hint(&names)),
            ));
        }
        Err(_) => report.push(Item::fail(
            &subject,
            format!("no answer to EXAMINE {}", m.folder),
            Some("raise timeout".into()),
        )),
    }
    let mut needed = Vec::new();
    if m.post_action == PostAction::Move {
        needed.push(("processed_folder", &m.processed_folder));
    }
    needed.push(("quarantine_folder", &m.quarantine_folder));
    for (key, folder) in needed {
        match folder_exists(session, folder, t).await {
            Ok(true) => report.push(Item::pass(&subject, format!("folder {folder} exists ({key})"))),
            Ok(false) if options.create_folders => {
                match tokio::time::timeout(t, session.create(folder)).await {
                    Ok(Ok(())) => report.push(Item::pass(&subject, format!("folder {folder} created ({key})"))),
                    Ok(Err(e)) => report.push(Item::fail(
                        &subject,
                        format!(
                            "folder {folder} cannot be created: {}",
                            server_says(&e.to_string())
                        ),
                        Some(format!("some servers want folders under INBOX (\"INBOX.{folder}\" or \"INBOX/{folder}\"): set {key}")),
                    )),
                    Err(_) => report.push(Item::fail(&subject, format!("no answer to CREATE {folder}"), None)),
                }
            }
            Ok(false) => report.push(Item::warn(
                &subject,
                format!("folder {folder} missing ({key})"),
                "`mailgate run` creates it at start; `mailgate check --create-folders` creates it now",
            )),
            Err(e) => report.push(Item::fail(&subject, format!("LIST {folder} failed: {e}"), None)),
        }
    }
}

/// `folder missing: …`, with the server's folders when they are few.
pub fn missing_folder_hint(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut hint = "folder missing: check folder (names are case-sensitive)".to_owned();
    if !names.is_empty() {
        let mut shown: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
        if names.len() > SHOWN {
            shown.push("…");
        }
        hint.push_str("; the server has: ");
        hint.push_str(&shown.join(", "));
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_folder_hints_list_the_servers_folders() {
        assert_eq!(
            missing_folder_hint(&["INBOX".into(), "Sent".into()]),
            "folder missing: check folder (names are case-sensitive); the server has: INBOX, Sent"
        );
        let many: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        assert!(missing_folder_hint(&many).ends_with("f11, …"));
    }

    #[test]
    fn the_waiting_line_tells_what_the_first_watch_will_do() {
        let mut m = super::super::test_mailbox();
        m.initial = Initial::New;
        let waiting = [4, 5, 9];
        assert_eq!(
            waiting_line(&m, &waiting, Watched::Never),
            "folder INBOX: 3 message(s) waiting; first watch: 3 will be left in the folder; \
             only mail arriving later is taken (initial = \"new\")"
        );
        assert_eq!(
            waiting_line(&m, &waiting, Watched::Since(6)),
            "folder INBOX: 1 message(s) waiting, and 2 from before the first watch left there \
             (initial = \"new\")"
        );
        assert_eq!(
            waiting_line(&m, &waiting, Watched::Since(0)),
            "folder INBOX: 3 message(s) waiting"
        );
        m.initial = Initial::All;
        assert_eq!(
            waiting_line(&m, &waiting, Watched::Unknown),
            "folder INBOX: 3 message(s) waiting"
        );
        assert!(
            waiting_line(&m, &[], Watched::Never)
                .ends_with("0 will be filed and answered (initial = \"all\")")
        );
    }
}
