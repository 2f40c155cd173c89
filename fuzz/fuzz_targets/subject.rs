//! Bytes as text (lossy UTF-8) through the subject and field extraction:
//! `subject::analyze`, keyword lines, field resolution, plus-addressing,
//! and the small parsers of values found in headers (file names,
//! Message-IDs, ticket keys, languages).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mailgate::intake::{
    IntakeRules, Language, MessageId, TicketKey, attachments, body, fields, language, subject, text,
};

static RULES: LazyLock<IntakeRules> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/intake/mailgate.toml"
    );
    mailgate::config::load(Some(path.as_ref()), Some(Default::default()))
        .expect("fixtures/intake/mailgate.toml is valid")
        .intake
});

fuzz_target!(|data: &[u8]| {
    let rules = &*RULES;
    let v = &rules.vocabulary;
    let input = String::from_utf8_lossy(data);
    let s = input.as_ref();

    // The subject line.
    let analysis = subject::analyze(s, v, &rules.key_prefix);
    let summary = &analysis.summary;
    assert!(summary.chars().count() <= subject::MAX_SUMMARY_CHARS);
    assert!(!summary.contains(['\r', '\n']), "{summary:?}");
    assert_eq!(summary.trim(), summary);
    for key in &analysis.ticket_refs {
        assert_eq!(key.prefix(), rules.key_prefix);
    }
    let _ = subject::is_forward(s);

    // Keyword lines of a body, then every statement resolved.
    let (mut statements, kept) = body::take_keyword_lines(s, v);
    assert!(kept.len() <= s.len() + s.lines().count() + 1);
    statements.extend(analysis.statements);
    let recipients: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
    let addresses = fields::address_statements(&recipients, v, |a| rules.is_own_address(a));
    statements.extend(addresses.plus_tags);
    statements.extend(addresses.own_names);
    let stated = fields::stated(&statements, v);
    let resolved = fields::resolve(&statements, v);
    assert!(v.severities.names().any(|n| n == resolved.severity));
    assert!(v.request_types.names().any(|n| n == resolved.request_type));
    for p in &resolved.products {
        assert!(v.products.names().any(|n| n == p), "{p:?}");
    }
    assert_eq!(stated.products.unwrap_or_default(), resolved.products);
    let _ = fields::split_products(s);
    let _ = fields::field_for_label(s);

    // A file name as a sender wrote it.
    if let Some(name) = attachments::safe_filename(s) {
        assert!(!name.is_empty());
        assert!(name.len() <= attachments::MAX_NAME_BYTES, "{name:?}");
        assert!(!name.starts_with(['.', ' ']), "{name:?}");
        assert!(!name.ends_with(['.', ' ']), "{name:?}");
        assert!(
            !name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\')),
            "{name:?}"
        );
    }
    let _ = attachments::content_type_for(s);

    // Identifiers.
    if let Some(id) = MessageId::parse(s) {
        assert!(!id.as_str().contains(['<', '>']) && !id.as_str().contains(char::is_whitespace));
        assert_eq!(MessageId::parse(id.as_str()).as_ref(), Some(&id));
    }
    if let Some(key) = TicketKey::parse(s) {
        assert_eq!(TicketKey::parse(&key.to_string()), Some(key));
    }
    let _ = Language::parse(s);
    let _ = language::detect(s);
    let _ = text::fold(s);
});
