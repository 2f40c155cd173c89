//! `mailgate check`, the local folders: each watched folder with where its
//! messages go (writable, on one file system), and the outbox folder when
//! no SMTP server is configured.

use std::path::{Path, PathBuf};

use super::{Item, Status};
use crate::config::MaildirSettings;

/// Whether `dir` takes new files: a probe file is written and removed.
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".mailgate-check.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// The nearest folder that exists, `path` itself included.
fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    absolute
        .ancestors()
        .find(|p| p.is_dir())
        .map(Path::to_owned)
}

#[cfg(unix)]
fn device(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(existing_ancestor(path)?)
        .ok()
        .map(|m| m.dev())
}

#[cfg(not(unix))]
fn device(_: &Path) -> Option<u64> {
    None
}

/// A folder mailgate writes into, created when missing (by `run` at start
/// for the watched folder, at first use for the others).
fn local_folder_item(subject: &str, what: &str, path: &Path, when_missing: &str) -> Item {
    let shown = path.display();
    if path.is_dir() {
        return match writable(path) {
            Ok(()) => Item::pass(subject, format!("{what} {shown} is writable")),
            Err(e) => Item::fail(
                subject,
                format!("{what} {shown} is not writable: {e}"),
                Some("give the user running mailgate write access".into()),
            ),
        };
    }
    if path.exists() {
        return Item::fail(subject, format!("{what} {shown} is not a folder"), None);
    }
    match existing_ancestor(path) {
        Some(parent) => match writable(&parent) {
            Ok(()) => Item::pass(subject, format!("{what} {shown} missing: {when_missing}")),
            Err(e) => Item::fail(
                subject,
                format!(
                    "{what} {shown} missing and {} is not writable: {e}",
                    parent.display()
                ),
                Some("create it, or give the user running mailgate write access".into()),
            ),
        },
        None => Item::fail(subject, format!("{what} {shown} cannot be created"), None),
    }
}

/// The watched folder, then where its messages go: each must be writable
/// (or creatable), and on the same file system, since messages are moved
/// with a rename.
pub fn maildir_items(d: &MaildirSettings) -> Vec<Item> {
    let subject = format!("maildir {}", d.name);
    let mut items = Vec::new();
    let watched = local_folder_item(
        &subject,
        "folder",
        &d.path,
        "`mailgate run` creates it at start",
    );
    let watched_ok = watched.status == Status::Pass;
    if watched_ok && d.path.is_dir() {
        let maildir = d.path.join("new").is_dir() || d.path.join("cur").is_dir();
        let kind = if maildir {
            "Maildir"
        } else {
            "folder of .eml files"
        };
        items.push(Item::pass(
            &subject,
            format!("{} is a {kind}, writable", d.path.display()),
        ));
    } else {
        items.push(watched);
    }
    for (what, path) in [
        ("processed_path", &d.processed_path),
        ("quarantine_path", &d.quarantine_path),
    ] {
        let item = local_folder_item(&subject, what, path, "created at first use");
        if item.status == Status::Pass
            && let (Some(a), Some(b)) = (device(&d.path), device(path))
            && a != b
        {
            items.push(Item::fail(
                &subject,
                format!("{what} {} is on another file system than {}", path.display(), d.path.display()),
                Some("messages are moved with a rename, which fails across file systems: keep both on one".into()),
            ));
            continue;
        }
        items.push(item);
    }
    items
}

/// Without `[smtp]`: where mail is written instead.
pub fn outbox_item(dir: &Path) -> Item {
    let mut item = local_folder_item("outbox", "folder", dir, "created at the first mail");
    if item.status == Status::Pass {
        item.subject = "smtp".to_owned();
        item.text = format!(
            "no SMTP server: mail is written to {} as .eml files",
            dir.display()
        );
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::MailboxDefaults;
    use std::time::Duration;

    #[test]
    fn local_folders_writable_creatable_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = MaildirSettings {
            name: "drop".into(),
            path: dir.path().join("in"),
            processed_path: dir.path().join("in/processed"),
            quarantine_path: dir.path().join("in/quarantine"),
            poll_interval: Duration::from_secs(1),
            defaults: MailboxDefaults::default(),
        };
        let items = maildir_items(&d);
        assert!(items.iter().all(|i| i.status == Status::Pass), "{items:?}");
        assert!(
            items[0]
                .text
                .contains("missing: `mailgate run` creates it at start")
        );

        std::fs::create_dir_all(d.path.join("new")).unwrap();
        let items = maildir_items(&d);
        assert!(
            items[0].text.ends_with("is a Maildir, writable"),
            "{items:?}"
        );
        assert!(items[1].text.contains("created at first use"));
        // No probe file is left behind.
        assert_eq!(std::fs::read_dir(&d.path).unwrap().count(), 1);

        std::fs::write(dir.path().join("file"), "x").unwrap();
        let item = outbox_item(&dir.path().join("file"));
        assert_eq!(item.status, Status::Fail);
        assert!(item.text.ends_with("is not a folder"));
        let item = outbox_item(&dir.path().join("outbox"));
        assert_eq!(item.status, Status::Pass);
        assert!(item.text.starts_with("no SMTP server: mail is written to "));
    }
}
