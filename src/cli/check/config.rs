//! The first items of `mailgate check`: where the configuration came from,
//! or a `✗` per problem in it.

use std::path::Path;

use super::Item;
use crate::config::{self, ConfigError};

/// Where the configuration came from, for the first line.
pub(super) fn config_source(path: Option<&Path>) -> String {
    match path {
        Some(path) => format!("{} is valid", path.display()),
        None if Path::new(config::DEFAULT_PATH).is_file() => {
            format!("{} is valid", config::DEFAULT_PATH)
        }
        None => "no file: built-in defaults and MAILGATE__… variables".to_owned(),
    }
}

/// A `✗` per configuration problem, each naming its key.
pub fn config_items(error: &ConfigError, path: Option<&Path>) -> Vec<Item> {
    match error {
        ConfigError::Invalid(problems) => problems
            .iter()
            .map(|p| Item::fail(&format!("config {}", p.key), p.message.clone(), None))
            .collect(),
        ConfigError::Read(e) => {
            let subject = match path {
                Some(path) => format!("config {}", path.display()),
                None => "config".to_owned(),
            };
            vec![Item::fail(
                &subject,
                format!("cannot read it: {e}"),
                Some("fix the file (TOML syntax, known keys, value types)".to_owned()),
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::check::format_item;

    #[test]
    fn every_configuration_problem_is_an_item_with_its_key() {
        let error = ConfigError::Invalid(vec![
            config::Problem {
                key: "mailboxes[0].tls".into(),
                message: "\"ssl\" is not one of implicit, starttls, none".into(),
            },
            config::Problem {
                key: "database.url".into(),
                message: "bad".into(),
            },
        ]);
        let lines: Vec<String> = config_items(&error, None)
            .iter()
            .map(|i| format_item(i, false))
            .collect();
        assert_eq!(
            lines,
            [
                "✗ config mailboxes[0].tls: \"ssl\" is not one of implicit, starttls, none",
                "✗ config database.url: bad"
            ]
        );
    }
}
