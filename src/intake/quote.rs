//! What a person wrote in a reply, without the earlier messages their mail
//! client quoted below (or above) it, their signature, or their phone's
//! footer. Works on plain text; HTML is turned into text first, with
//! `<blockquote>` rendered as `> ` lines.

/// The new text of a reply.
pub fn reply_text(text: &str) -> String {
    super::body::tidy(text)
}

#[cfg(test)]
mod scratch {
    #[test]
    fn quote_scratch_render() {
        let mut files: Vec<_> = std::fs::read_dir("/tmp/scratch")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let h = std::fs::read_to_string(&f).unwrap();
            println!(
                "===== {}\n{}=====",
                f.display(),
                crate::intake::body::html_to_text(&h)
            );
        }
    }
}
