//! `mailgate check`, the folders of an IMAP mailbox: the watched one, and
//! the processed and quarantine folders, created with `--create-folders`.

use std::time::Duration;

use futures::TryStreamExt;

use super::imap::server_says;
use super::{Item, Options, Report};
use crate::config::{MailboxSettings, PostAction};
use crate::source::imap::{Session, quoted};

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

pub(super) async fn check_folders(
    m: &MailboxSettings,
    options: Options,
    session: &mut Session,
    report: &mut Report,
) {
    let subject = format!("mailbox {}", m.name);
    let t = m.timeout;
    match tokio::time::timeout(t, session.examine(&m.folder)).await {
        Ok(Ok(mailbox)) => report.push(Item::pass(
            &subject,
            format!("folder {}: {} message(s) waiting", m.folder, mailbox.exists),
        )),
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
}
