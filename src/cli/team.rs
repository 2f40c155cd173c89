//! `mailgate tickets reply|note|status|assign|watchers|merge`: the team's actions
//! on a ticket, their text (`--message` or `--file`), attachments and
//! author.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::intake;
use crate::store::{ActionDone, FieldUpdate, Merged, StoreError, WatcherChange};

// Flattened into `tickets reply` and `tickets note`.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub(super) struct ActionText {
    /// The text.
    #[arg(long, short)]
    message: Option<String>,
    /// Read the text from a file ("-" for standard input).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

impl ActionText {
    /// The text of the action: `--message`, or `--file` (`-` for standard
    /// input), tidied; an empty one is refused.
    pub(super) fn read(&self) -> Result<String, String> {
        action_text(self.message.as_deref(), self.file.as_deref())
    }
}

// Flattened into every team action.
#[derive(clap::Args)]
pub(super) struct Author {
    /// Who acts, recorded in the history [default: $MAILGATE_AGENT, else
    /// cli:$USER].
    #[arg(long = "as", value_name = "EMAIL", env = "MAILGATE_AGENT")]
    author: Option<String>,
}

impl Author {
    pub(super) fn name(&self) -> String {
        self.author.clone().unwrap_or_else(|| {
            format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            )
        })
    }
}

/// Reads the text of a team action: `--message`, or `--file` (`-` for
/// standard input).
fn action_text(message: Option<&str>, file: Option<&Path>) -> Result<String, String> {
    match (message, file) {
        (Some(text), None) => Ok(text.to_owned()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("standard input: {e}"))?;
            Ok(text)
        }
        (None, Some(path)) => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
        }
        _ => Err("give the text with --message or --file".into()),
    }
    .and_then(|text| {
        let text = intake::body::tidy(&text);
        if text.is_empty() {
            Err("the text is empty".into())
        } else {
            Ok(text)
        }
    })
}

/// A file to send with a reply, read whole.
fn attachment_from_file(path: &Path) -> Result<intake::Attachment, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let filename = intake::attachments::safe_filename(&name).unwrap_or_else(|| "attachment".into());
    let content_type = intake::attachments::content_type_for(&filename).to_owned();
    Ok(intake::Attachment::new(filename, content_type, data))
}

/// A team action from the command line.
pub(super) enum TeamAction<'a> {
    Reply {
        text: String,
        attachments: &'a [PathBuf],
    },
    Note {
        text: String,
    },
    Status {
        status: &'a str,
        message: Option<String>,
    },
    /// `None`: to nobody.
    Assign {
        assignee: Option<&'a str>,
    },
    Watch {
        change: WatchChange,
        email: &'a str,
    },
    /// Into this ticket.
    Merge {
        into: &'a str,
    },
}

/// What `tickets watchers KEY add|remove EMAIL` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum WatchChange {
    /// The address gets the ticket's public mail from now on.
    Add,
    /// The address gets no more of it.
    Remove,
}

/// The exit status of a change of watchers, with what it did (or that it
/// changed nothing, which is no failure).
fn watch_status(result: Result<WatcherChange, StoreError>, change: WatchChange) -> u8 {
    match result {
        Ok(done) => {
            let what = match (change, done.changed) {
                (WatchChange::Add, true) => "is now a watcher",
                (WatchChange::Add, false) => "already gets its mail, nothing changed",
                (WatchChange::Remove, true) => "is no longer a watcher",
                (WatchChange::Remove, false) => "was not a watcher, nothing changed",
            };
            println!("{}: {} {what}", done.key, done.email);
            exit::OK
        }
        Err(e) => failure(&e),
    }
}

/// The exit status of a team action, with its message.
fn action_status(result: Result<ActionDone, StoreError>, what: &str) -> u8 {
    match result {
        Ok(done) => {
            println!("{}: {what}, {} mail(s) queued", done.key, done.mails);
            exit::OK
        }
        Err(e) => failure(&e),
    }
}

/// A team action that failed: 65 for an unknown ticket or a refused value,
/// else what the store's failure calls for.
fn failure(e: &StoreError) -> u8 {
    match e {
        StoreError::NotFound(why) | StoreError::Invalid(why) => {
            eprintln!("mailgate: {why}");
            exit::DATAERR
        }
        e => {
            eprintln!("mailgate: {e}");
            store_failure(e)
        }
    }
}

/// The exit status of a merge, with what moved.
fn merge_status(result: Result<Merged, StoreError>) -> u8 {
    match result {
        Ok(m) => {
            println!(
                "{} merged into {}: {} comment(s), {} attachment(s), {} message(s) moved, \
                 {} watcher(s) added, {} mail(s) queued",
                m.source,
                m.target,
                m.comments,
                m.attachments,
                m.messages,
                m.watchers_added,
                m.mails
            );
            exit::OK
        }
        Err(e) => failure(&e),
    }
}

/// `mailgate tickets reply|note|status|assign|watchers|merge`.
pub(super) async fn execute(
    settings: &Settings,
    key: &str,
    author: &str,
    action: TeamAction<'_>,
) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match action {
        TeamAction::Reply { text, attachments } => {
            let files: Result<Vec<_>, _> = attachments
                .iter()
                .map(|p| attachment_from_file(p))
                .collect();
            match files {
                Ok(files) => action_status(
                    store.team_reply(key, author, &text, &files).await,
                    "reply posted",
                ),
                Err(why) => {
                    eprintln!("mailgate: {why}");
                    exit::NOINPUT
                }
            }
        }
        TeamAction::Note { text } => {
            action_status(store.add_note(key, author, &text).await, "note added")
        }
        TeamAction::Status { status, message } => {
            let update = FieldUpdate {
                status: Some(status.to_owned()),
                ..Default::default()
            };
            action_status(
                store
                    .update_ticket(key, author, &update, message.as_deref())
                    .await,
                &format!("status {status}"),
            )
        }
        TeamAction::Assign { assignee } => action_status(
            store.assign_ticket(key, author, assignee).await,
            &match assignee {
                Some(a) => format!("assigned to {a}"),
                None => "assigned to nobody".to_owned(),
            },
        ),
        TeamAction::Watch { change, email } => {
            let result = match change {
                WatchChange::Add => store.add_watcher(key, author, email).await,
                WatchChange::Remove => store.remove_watcher(key, author, email).await,
            };
            watch_status(result, change)
        }
        TeamAction::Merge { into } => merge_status(store.merge_tickets(key, into, author).await),
    };
    store.close().await;
    status
}
