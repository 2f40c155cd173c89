//! The configuration end to end: defaults, the example file, every problem
//! reported with its key, environment overrides, secrets.

use std::collections::HashMap;

use super::*;

fn from_toml(text: &str) -> Result<Settings, Vec<Problem>> {
    let raw: RawSettings = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap();
    validate(raw, None)
}

#[test]
fn no_configuration_at_all_works() {
    let s = validate(RawSettings::default(), None).unwrap();
    assert_eq!(s.database.url, "sqlite://data/mailgate.db");
    assert_eq!(s.intake.max_message_size, 25 * 1024 * 1024);
    assert_eq!(s.intake.key_prefix, "SUP");
    assert_eq!(s.intake.vocabulary.severities.exact("haute"), Some("high"));
    assert_eq!(s.tracking_url("abc"), "http://127.0.0.1:8080/t/abc");
}

#[test]
fn the_example_file_is_valid() {
    let s = from_toml(EXAMPLE).unwrap();
    assert!(!s.intake.vocabulary.products.terms().is_empty());
}

#[test]
fn labels_per_language_and_the_team_language() {
    use crate::model::Language;
    let s = from_toml(
        r#"
        [tickets]
        team_language = "fr"
        [[severities]]
        name = "blocking"
        labels = { fr = "Bloquante", en = "Blocking" }
        [[severities]]
        name = "medium"
        labels = { fr = "Normale" }
        [[products]]
        name = "atlas"
        labels = { en = "Atlas ERP" }
        "#,
    )
    .unwrap();
    let v = &s.intake.vocabulary;
    assert_eq!(v.severities.label("blocking", Language::Fr), "Bloquante");
    assert_eq!(v.severities.label("medium", Language::En), "Normale");
    assert_eq!(v.products.label("atlas", Language::Fr), "Atlas ERP");
    // A label is also a word customers may write.
    assert_eq!(v.severities.exact("bloquante"), Some("blocking"));
    assert_eq!(s.tickets.team_language, Some(Language::Fr));

    // A label naming another term, an unknown language: refused with the key.
    let problems = from_toml(
        r#"
        [tickets]
        team_language = "de"
        [[products]]
        name = "atlas"
        [[products]]
        name = "nova"
        labels = { fr = "Atlas" }
        "#,
    )
    .unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"tickets.team_language"), "{problems:?}");
    assert!(keys.contains(&"products[1]"), "{problems:?}");
    let unknown = config::Config::builder()
        .add_source(config::File::from_str(
            "[[products]]\nname = \"a\"\nlabels = { de = \"A\" }\n",
            config::FileFormat::Toml,
        ))
        .build()
        .unwrap()
        .try_deserialize::<RawSettings>();
    assert!(unknown.is_err(), "a language we do not write is refused");
}

#[test]
fn quiet_ticket_steps() {
    let s = from_toml(
        "[tickets]\npending_reminder_after = \"3days\"\nauto_resolve_pending_after = \"7days\"\n",
    )
    .unwrap();
    let quiet = s.tickets.conversations.quiet;
    assert_eq!(
        quiet.pending_reminder_after,
        Some(chrono::Duration::days(3))
    );
    assert_eq!(
        quiet.auto_resolve_pending_after,
        Some(chrono::Duration::days(7))
    );
    assert_eq!(quiet.auto_close_resolved_after, None);
    let defaults = validate(RawSettings::default(), None).unwrap();
    assert!(!defaults.tickets.conversations.quiet.any());
    let problems = from_toml(
        "[tickets]\npending_reminder_after = \"9days\"\nauto_resolve_pending_after = \"7days\"\n\
         auto_close_resolved_after = \"0s\"\n",
    )
    .unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "tickets.auto_close_resolved_after",
            "tickets.pending_reminder_after"
        ],
        "{problems:?}"
    );
}

#[test]
fn spam_rules() {
    let s = from_toml("[intake]\nspam = \"hold\"\nspam_scl_level = 7\n").unwrap();
    assert_eq!(s.intake.spam.policy, crate::model::SpamPolicy::Hold);
    assert_eq!(s.intake.spam.scl_level, 7);
    let defaults = validate(RawSettings::default(), None).unwrap();
    assert_eq!(
        defaults.intake.spam.policy,
        crate::model::SpamPolicy::Ignore
    );
    assert_eq!(defaults.intake.spam.scl_level, 5);
    let problems = from_toml("[intake]\nspam = \"delete\"\nspam_scl_level = 12\n").unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["intake.spam", "intake.spam_scl_level"],
        "{problems:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let problems = from_toml(
        r#"
        [database]
        url = "mysql://x"
        [tickets]
        key_prefix = "sup"
        tracking_url = "ftp://x"
        default_severity = "apocalyptic"
        [intake]
        max_message_size = "huge"
        [senders]
        policy = "everyone"
        [[mailboxes]]
        name = "support"
        host = "imap.example.com"
        tls = "none"
        username = "u"
        poll_interval = "often"
        initial = "everything"
        [[products]]
        name = "Atlas"
        aliases = ["nova"]
        [[products]]
        name = "Nova"
        "#,
    )
    .unwrap_err();
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    let initial = problems.iter().find(|p| p.key == "mailboxes[0].initial");
    assert!(
        format!("{initial:?}").contains("all, silent, new"),
        "{initial:?}"
    );
    for key in [
        "database.url",
        "tickets.key_prefix",
        "tickets.tracking_url",
        "tickets.default_severity",
        "intake.max_message_size",
        "senders.policy",
        "mailboxes[0].tls",
        "mailboxes[0].poll_interval",
        "mailboxes[0].initial",
        "mailboxes[0].password",
        "products[1]",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(
        &path,
        "[tickets]\nkey_prefix = \"HELP\"\n[database]\nurl = \"sqlite://a.db\"\n",
    )
    .unwrap();
    let env = HashMap::from([
        (
            "MAILGATE__DATABASE__URL".to_owned(),
            "sqlite://b.db".to_owned(),
        ),
        (
            "MAILGATE__INTAKE__OWN_ADDRESSES".to_owned(),
            "a@x.fr,B@x.fr".to_owned(),
        ),
        (
            "MAILGATE__INTAKE__MAX_MESSAGE_SIZE".to_owned(),
            "2048".to_owned(),
        ),
    ]);
    let s = load(Some(&path), Some(env)).unwrap();
    assert_eq!(s.database.url, "sqlite://b.db");
    assert_eq!(s.intake.key_prefix, "HELP");
    assert_eq!(s.intake.own_addresses, ["a@x.fr", "b@x.fr"]);
    assert_eq!(s.intake.max_message_size, 2048);
}

#[test]
fn secrets_come_from_files_and_never_show_in_debug() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "hunter2\n").unwrap();
    let raw: RawSettings = config::Config::builder()
        .add_source(config::File::from_str(
            "[[mailboxes]]\nname = \"s\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"pw\"\n",
            config::FileFormat::Toml,
        ))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap();
    let s = validate(raw, Some(dir.path())).unwrap();
    let password = s.mailboxes[0].password.as_ref().unwrap();
    assert_eq!(password.expose(), "hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn byte_sizes() {
    for (text, expected) in [
        ("25MiB", Some(25 << 20)),
        ("10 MB", Some(10_000_000)),
        ("512k", Some(512_000)),
        ("1000", Some(1000)),
        ("lots", None),
        ("5 parsecs", None),
    ] {
        assert_eq!(parse_byte_size(text), expected, "{text}");
    }
}
