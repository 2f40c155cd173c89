//! What `mailgate-gen` writes: the messages' file names, mbox entries and
//! the manifest beside them.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;

use crate::expect::Expect;
use crate::generator::Generated;
use crate::mix::Mix;

/// The file name `mailgate-gen` gives a message: `000001.eml` for index 0.
pub fn file_name(index: usize) -> String {
    format!("{:06}.eml", index + 1)
}

/// A message as an mbox entry (mboxrd): a `From ` separator line, the
/// message with LF line endings and `>From ` escaping, an empty line.
pub fn mbox_entry(message: &Generated) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.raw.len() + 128);
    let when = message.date.with_timezone(&Utc);
    out.extend_from_slice(
        format!(
            "From {} {}\n",
            message.sender,
            when.format("%a %b %e %H:%M:%S %Y")
        )
        .as_bytes(),
    );
    let text = &message.raw;
    let mut start = 0;
    while start < text.len() {
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| start + p + 1);
        let mut line = &text[start..end];
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        out.push(b'\n');
        start = end;
    }
    out.push(b'\n');
    out
}

/// The manifest `mailgate-gen` writes beside the messages.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub count: usize,
    pub mix: Mix,
    /// Messages by expected outcome: `ticket`, `comment`, `ignored`,
    /// `rejected`.
    pub totals: BTreeMap<&'static str, usize>,
    /// Ignored and rejected messages by reason.
    pub reasons: BTreeMap<&'static str, usize>,
    pub with_attachments: usize,
    pub attachments: usize,
    pub html_only: usize,
    pub total_bytes: u64,
    pub messages: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub file: String,
    pub index: usize,
    pub size: usize,
    pub message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<usize>,
    pub attachments: usize,
    pub mime: String,
    pub expect: Expect,
}

impl Manifest {
    pub fn new(seed: u64, mix: &Mix) -> Self {
        Manifest {
            seed,
            count: 0,
            mix: mix.clone(),
            totals: ["ticket", "comment", "ignored", "rejected"]
                .into_iter()
                .map(|k| (k, 0))
                .collect(),
            reasons: BTreeMap::new(),
            with_attachments: 0,
            attachments: 0,
            html_only: 0,
            total_bytes: 0,
            messages: Vec::new(),
        }
    }

    /// Records a message stored as `file`.
    pub fn push(&mut self, file: String, message: &Generated) {
        self.count += 1;
        *self.totals.entry(message.expect.class()).or_default() += 1;
        if let Expect::Ignored { reason } | Expect::Rejected { reason } = message.expect {
            *self.reasons.entry(reason).or_default() += 1;
        }
        self.with_attachments += usize::from(message.attachments > 0);
        self.attachments += message.attachments;
        self.html_only += usize::from(message.html_only);
        self.total_bytes += message.raw.len() as u64;
        self.messages.push(ManifestEntry {
            file,
            index: message.index,
            size: message.raw.len(),
            message_id: message.message_id.clone(),
            in_reply_to: message.in_reply_to,
            attachments: message.attachments,
            mime: message.mime.clone(),
            expect: message.expect.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::generate;
    use crate::generator::tests::small_files;

    #[test]
    fn an_mbox_reads_back_as_the_same_messages() {
        let set = generate(11, 120, &small_files(Mix::standard()));
        let mut mbox = Vec::new();
        for g in &set {
            mbox.extend(mbox_entry(g));
        }
        // The English detail sentence starting with "From " is escaped.
        assert!(
            mbox.windows(6).any(|w| w == b"\n>From"),
            "no escaped From line"
        );
        let read: Vec<Vec<u8>> = mailgate::source::mbox::Mbox::new(std::io::Cursor::new(mbox))
            .map(|m| m.expect("readable"))
            .collect();
        assert_eq!(read.len(), set.len());
        for (g, back) in set.iter().zip(&read) {
            let lf: Vec<u8> = String::from_utf8_lossy(&g.raw)
                .replace("\r\n", "\n")
                .into_bytes();
            if !g.raw.is_ascii() && std::str::from_utf8(&g.raw).is_err() {
                // 8-bit Latin-1: compare bytes without CR.
                let lf: Vec<u8> = g.raw.iter().copied().filter(|&b| b != b'\r').collect();
                assert_eq!(&lf, back, "#{}", g.index);
            } else {
                assert_eq!(&lf, back, "#{}", g.index);
            }
        }
    }
}
