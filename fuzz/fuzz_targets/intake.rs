//! Raw bytes as a received message: `intake::decide` must give a decision
//! for anything, never panic (ARCHITECTURE.md, "Intake does no I/O and
//! cannot fail"), and keep the promises the rest of mailgate relies on.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mailgate::intake::{self, IntakeRules, MailboxDefaults, Outcome, attachments};

/// The rules of the golden fixtures (`fixtures/intake/mailgate.toml`).
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
    let decision = intake::decide(data, rules, &MailboxDefaults::default());
    assert_eq!(decision.message.size, data.len());
    // What the store and `--dry-run` do with it.
    serde_json::to_string(&decision).expect("a decision serialises");

    if let Outcome::Ticket { ticket } = &decision.outcome {
        // The summary becomes a mail subject and a page title: one line.
        let summary = &ticket.summary;
        assert!(!summary.is_empty());
        assert!(summary.chars().count() <= intake::subject::MAX_SUMMARY_CHARS);
        assert!(!summary.contains(['\r', '\n']), "{summary:?}");
        // Field values are always names of the vocabulary.
        let v = &rules.vocabulary;
        assert!(v.severities.names().any(|n| n == ticket.severity));
        assert!(v.request_types.names().any(|n| n == ticket.request_type));
        for p in &ticket.products {
            assert!(v.products.names().any(|n| n == p), "{p:?}");
        }
        // Attachment names are stored and offered for download as they are.
        for a in &ticket.attachments {
            let name = &a.filename;
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
            assert_eq!(a.size, a.data.len());
        }
    }
});
