//! The confirmation, notification and reply templates: built in (French
//! and English, text and HTML), overridable from a folder, checked when
//! loaded.

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

/// The built-in templates, overridden by files of the same name in a
/// templates folder.
const BUILTIN: &[(&str, &str)] = &[
    (
        "confirmation.en.txt",
        include_str!("../../../config/templates/confirmation.en.txt"),
    ),
    (
        "confirmation.fr.txt",
        include_str!("../../../config/templates/confirmation.fr.txt"),
    ),
    (
        "confirmation.en.html",
        include_str!("../../../config/templates/confirmation.en.html"),
    ),
    (
        "confirmation.fr.html",
        include_str!("../../../config/templates/confirmation.fr.html"),
    ),
    (
        "notification.en.txt",
        include_str!("../../../config/templates/notification.en.txt"),
    ),
    (
        "notification.fr.txt",
        include_str!("../../../config/templates/notification.fr.txt"),
    ),
    (
        "registration.en.txt",
        include_str!("../../../config/templates/registration.en.txt"),
    ),
    (
        "registration.fr.txt",
        include_str!("../../../config/templates/registration.fr.txt"),
    ),
    (
        "too-large.en.txt",
        include_str!("../../../config/templates/too-large.en.txt"),
    ),
    (
        "too-large.fr.txt",
        include_str!("../../../config/templates/too-large.fr.txt"),
    ),
    (
        "reply.en.txt",
        include_str!("../../../config/templates/reply.en.txt"),
    ),
    (
        "reply.fr.txt",
        include_str!("../../../config/templates/reply.fr.txt"),
    ),
    (
        "status.en.txt",
        include_str!("../../../config/templates/status.en.txt"),
    ),
    (
        "status.fr.txt",
        include_str!("../../../config/templates/status.fr.txt"),
    ),
    (
        "comment.en.txt",
        include_str!("../../../config/templates/comment.en.txt"),
    ),
    (
        "comment.fr.txt",
        include_str!("../../../config/templates/comment.fr.txt"),
    ),
    (
        "follow-up.en.txt",
        include_str!("../../../config/templates/follow-up.en.txt"),
    ),
    (
        "follow-up.fr.txt",
        include_str!("../../../config/templates/follow-up.fr.txt"),
    ),
    (
        "assigned.en.txt",
        include_str!("../../../config/templates/assigned.en.txt"),
    ),
    (
        "assigned.fr.txt",
        include_str!("../../../config/templates/assigned.fr.txt"),
    ),
    (
        "reminder.en.txt",
        include_str!("../../../config/templates/reminder.en.txt"),
    ),
    (
        "reminder.fr.txt",
        include_str!("../../../config/templates/reminder.fr.txt"),
    ),
    (
        "auto-resolved.en.txt",
        include_str!("../../../config/templates/auto-resolved.en.txt"),
    ),
    (
        "auto-resolved.fr.txt",
        include_str!("../../../config/templates/auto-resolved.fr.txt"),
    ),
    (
        "auto-closed.en.txt",
        include_str!("../../../config/templates/auto-closed.en.txt"),
    ),
    (
        "auto-closed.fr.txt",
        include_str!("../../../config/templates/auto-closed.fr.txt"),
    ),
    (
        "merged.en.txt",
        include_str!("../../../config/templates/merged.en.txt"),
    ),
    (
        "merged.fr.txt",
        include_str!("../../../config/templates/merged.fr.txt"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("address {0:?}: {1}")]
    Address(String, String),
    #[error("cannot build the message: {0}")]
    Message(String),
}

/// The compiled templates. `.html` templates escape what they insert.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn builtin() -> Self {
        let mut env = Environment::new();
        for (name, source) in BUILTIN {
            env.add_template(name, source)
                .expect("built-in templates are valid");
        }
        Templates { env }
    }

    /// The built-in templates, each replaced by the file of the same name in
    /// `dir` when there is one. Every template is checked now, so a broken
    /// override is refused at start-up or reload, not at the first ticket.
    pub fn load(dir: &Path) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        for (name, builtin) in BUILTIN {
            let path = dir.join(name);
            let source = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (*builtin).to_owned(),
                Err(e) => {
                    return Err(RenderError::Template(
                        path.display().to_string(),
                        e.to_string(),
                    ));
                }
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| RenderError::Template(path.display().to_string(), e.to_string()))?;
        }
        Ok(Templates { env })
    }

    pub(super) fn render(
        &self,
        name: &str,
        ticket: &impl Serialize,
    ) -> Result<String, RenderError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ticket))
            .map_err(|e| RenderError::Template(name.to_owned(), e.to_string()))
    }
}
