//! Bytes as a text or HTML body (lossy UTF-8) through what makes a comment
//! and a description of it: `quote::reply_text`, HTML to text, signatures,
//! tidying, the summary from the first line, our markers and bounce fields.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailgate::intake::{body, quote, thread};

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let s = input.as_ref();

    let _ = quote::reply_text(s);
    let description = body::tidy(body::strip_signature(s));
    if let Some(line) = body::first_meaningful_line(&description, 80) {
        assert!(line.chars().count() <= 80);
        assert!(!line.contains(['\r', '\n']), "{line:?}");
    }
    let _ = thread::find_markers(s);
    let _ = thread::bounce_facts(s, &[], &[]);

    // HTML parts are turned into text first; the rest applies to that text.
    if s.contains('<') {
        let text = body::html_to_text(s);
        let _ = quote::reply_text(&text);
    }
});
