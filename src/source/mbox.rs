//! mbox files (mboxo and mboxrd, LF or CRLF), read one message at a time:
//! what `mailgate import mbox` files.

use std::io::BufRead;

/// The messages of an mbox file, read one at a time (mboxo and mboxrd):
/// a message starts at a `From ` line at the start of the file or after an
/// empty line (or anywhere when it reads like a real `From sender date`
/// line); `>From `, `>>From `… lose one `>`; the empty line that ends each
/// message belongs to the file, not the message. LF and CRLF files; the
/// last message may lack its final line break.
pub struct Mbox<R> {
    reader: R,
    line: Vec<u8>,
    /// A separator was read: a message is open.
    open: bool,
    finished: bool,
    /// Bytes read so far, for progress.
    pub position: u64,
}

impl<R: BufRead> Mbox<R> {
    pub fn new(reader: R) -> Self {
        Mbox {
            reader,
            line: Vec::new(),
            open: false,
            finished: false,
            position: 0,
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// `From sender Mon Jan  1 10:00:00 2024` (asctime, as mbox writers put it).
fn reads_like_separator(line: &[u8]) -> bool {
    static SEPARATOR: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d{2}",
        )
        .expect("valid regex")
    });
    SEPARATOR.is_match(line)
}

/// `>From ` with any number of `>`.
fn is_escaped_from(line: &[u8]) -> bool {
    let quoted = line.iter().take_while(|&&b| b == b'>').count();
    quoted > 0 && line[quoted..].starts_with(b"From ")
}

/// A message without the empty line the mbox puts after it.
fn without_separator_line(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\r\n\r\n") {
        message.truncate(message.len() - 2);
    } else if message.ends_with(b"\n\n") {
        message.truncate(message.len() - 1);
    }
    message
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let mut message = Vec::new();
        // After a separator line, or at the start of the file.
        let mut after_blank = true;
        loop {
            self.line.clear();
            let read = match self.reader.read_until(b'\n', &mut self.line) {
                Ok(read) => read,
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            };
            self.position += read as u64;
            if read == 0 {
                self.finished = true;
                return self.open.then(|| Ok(without_separator_line(message)));
            }
            let line = &self.line[..];
            let separator = line.starts_with(b"From ")
                && (after_blank || !self.open || reads_like_separator(line));
            if separator {
                if self.open {
                    return Some(Ok(without_separator_line(message)));
                }
                self.open = true;
                after_blank = false;
                continue;
            }
            if !self.open {
                if is_blank(line) {
                    continue;
                }
                self.finished = true;
                return Some(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not an mbox file: it does not start with a \"From \" line",
                )));
            }
            after_blank = is_blank(line);
            if is_escaped_from(line) {
                message.extend_from_slice(&line[1..]);
            } else {
                message.extend_from_slice(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(mbox: &[u8]) -> Vec<Vec<u8>> {
        Mbox::new(mbox)
            .collect::<Result<Vec<_>, _>>()
            .expect("readable")
    }

    #[test]
    fn splits_on_from_lines_and_unescapes() {
        let mbox = b"From a@b.fr Mon Jan  1 10:00:00 2024\nFrom: a@b.fr\nSubject: one\n\nHello\n>From the start\n>>From deeper\n\nFrom c@d.fr Tue Jan  2 10:00:00 2024\nFrom: c@d.fr\n\nTwo\n\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"From: a@b.fr\nSubject: one\n\nHello\nFrom the start\n>From deeper\n"
        );
        assert_eq!(messages[1], b"From: c@d.fr\n\nTwo\n");
    }

    #[test]
    fn crlf_and_a_last_message_without_line_break() {
        let mbox = b"From a@b.fr Mon Jan  1 10:00:00 2024\r\nFrom: a@b.fr\r\n\r\n>From here\r\n\r\nFrom x Mon Jan  1 10:00:00 2024\r\nFrom: c@d.fr\r\n\r\nlast";
        let messages = split(mbox);
        assert_eq!(
            messages,
            [
                b"From: a@b.fr\r\n\r\nFrom here\r\n".to_vec(),
                b"From: c@d.fr\r\n\r\nlast".to_vec()
            ]
        );
    }

    #[test]
    fn a_from_line_inside_a_paragraph_is_text_unless_it_is_a_real_separator() {
        let mbox = b"From a Mon Jan  1 10:00:00 2024\nFrom: a@b.fr\n\nline\nFrom me to you\nFrom b Tue Jan  2 10:00:00 2024\nFrom: b@b.fr\n\nx\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], b"From: a@b.fr\n\nline\nFrom me to you\n");
    }

    #[test]
    fn empty_files_and_files_that_are_not_mboxes() {
        assert!(split(b"").is_empty());
        assert!(split(b"\n\n").is_empty());
        let err = Mbox::new(&b"From: a@b.fr\n\nhi\n"[..])
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
