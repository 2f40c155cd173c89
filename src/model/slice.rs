//! A content kept as a piece of another: an attachment stored as its place
//! in the raw message that carries it, decoded when it is read, so that its
//! bytes are stored once (the raw message is kept anyway).
//!
//! A slice is only ever made when decoding it here gives back exactly the
//! bytes the parser found (see `intake::parse`), so reading one can never
//! give something other than what was filed.

use crate::closed_set;

closed_set! {
    /// How the bytes of a slice are written in the message that holds them
    /// (RFC 2045 section 6): as they are (`7bit`, `8bit`, `binary`), or in
    /// base64. Quoted-printable parts are stored whole: their decoding has
    /// too many readings of broken input to be sure of giving the same
    /// bytes twice.
    pub enum TransferEncoding ("transfer encoding") {
        Identity = "identity",
        Base64 = "base64",
    }
}

/// Where a content lies, encoded, in the message that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Byte offset of the encoded text in the message.
    pub offset: u64,
    /// Length of the encoded text, in bytes.
    pub length: u64,
    pub encoding: TransferEncoding,
}

/// Contents smaller than this are stored whole: a slice saves less than
/// the bookkeeping costs.
pub const SMALLEST_SLICE: usize = 512;

/// The place of `data` in `message`, if the bytes at `offset..end`,
/// decoded as `encoding` says, are exactly `data`.
pub fn place_of(
    message: &[u8],
    offset: usize,
    end: usize,
    encoding: TransferEncoding,
    data: &[u8],
) -> Option<Place> {
    if data.len() < SMALLEST_SLICE {
        return None;
    }
    let encoded = message.get(offset..end)?;
    // A part's text may end with the line break before the next boundary,
    // which belongs to the boundary (RFC 2046 section 5.1.1): a content
    // sent as it is may stop before it.
    let ends = [
        Some(end),
        encoded.ends_with(b"\n").then(|| end - 1),
        encoded.ends_with(b"\r\n").then(|| end - 2),
    ];
    ends.into_iter()
        .flatten()
        .find(|&end| reproduces(encoding, &message[offset..end], data))
        .map(|end| Place {
            offset: offset as u64,
            length: (end - offset) as u64,
            encoding,
        })
}

/// The content a slice's encoded text stands for.
pub fn decode(encoding: TransferEncoding, encoded: &[u8]) -> Vec<u8> {
    match encoding {
        TransferEncoding::Identity => encoded.to_vec(),
        TransferEncoding::Base64 => decode_base64(encoded),
    }
}

/// Base64 as RFC 2045 section 6.8 reads it: characters outside the
/// alphabet (line breaks, spaces) are ignored, and the first `=` ends the
/// data; bits left over that make no whole byte are dropped. The alphabet's
/// characters are gathered first, then decoded by the `base64` crate (a
/// byte-at-a-time decoder here was most of the time of parsing a message).
fn decode_base64(encoded: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let end = (encoded.iter())
        .position(|&c| c == b'=')
        .unwrap_or(encoded.len());
    let mut out = Vec::with_capacity(end / 4 * 3 + 3);
    // In blocks, so that a 25 MB attachment is not copied whole first.
    let mut letters: Vec<u8> = Vec::with_capacity(LETTERS_PER_BLOCK.min(end));
    for &c in &encoded[..end] {
        if IN_ALPHABET[usize::from(c)] {
            letters.push(c);
            if letters.len() == LETTERS_PER_BLOCK {
                // A whole number of 4-letter groups: always decodes.
                let _ = LENIENT.decode_vec(&letters, &mut out);
                letters.clear();
            }
        }
    }
    // One letter alone holds 6 bits: no whole byte.
    if letters.len() % 4 == 1 {
        letters.pop();
    }
    let _ = LENIENT.decode_vec(&letters, &mut out);
    out
}

/// Letters decoded at a time (a multiple of 4).
const LETTERS_PER_BLOCK: usize = 64 << 10;

/// The characters of the base64 alphabet (RFC 2045 table 1).
const IN_ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = matches!(c as u8, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/');
        c += 1;
    }
    table
};

/// Whether `encoded`, decoded so, is exactly `expected`: the test a slice
/// must pass before it replaces a stored copy.
pub fn reproduces(encoding: TransferEncoding, encoded: &[u8], expected: &[u8]) -> bool {
    match encoding {
        TransferEncoding::Identity => encoded == expected,
        TransferEncoding::Base64 => {
            // Cheap first: a base64 text cannot stand for more than 3/4 of
            // its length.
            expected.len() <= encoded.len() / 4 * 3 + 3 && decode_base64(encoded) == expected
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn base64_is_read_across_lines_and_padding() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        let folded: Vec<u8> = text
            .as_bytes()
            .chunks(76)
            .flat_map(|line| line.iter().copied().chain(*b"\r\n"))
            .collect();
        assert_eq!(decode(TransferEncoding::Base64, &folded), data);
        for n in 0..5 {
            let short = &data[..n];
            let text = base64::engine::general_purpose::STANDARD.encode(short);
            assert_eq!(
                decode(TransferEncoding::Base64, text.as_bytes()),
                short,
                "{n}"
            );
            assert!(reproduces(TransferEncoding::Base64, text.as_bytes(), short));
        }
    }

    /// RFC 2045's reading, one character at a time: what `decode_base64`
    /// must give.
    fn by_the_rule(encoded: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut bits, mut held) = (0u32, 0u32);
        for &c in encoded {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => break,
                _ => continue,
            };
            bits = (bits << 6) | u32::from(value);
            held += 6;
            if held >= 8 {
                held -= 8;
                out.push((bits >> held) as u8);
                bits &= (1 << held) - 1;
            }
        }
        out
    }

    #[test]
    fn base64_gives_what_the_rule_gives_on_any_text() {
        // A small generator of its own: texts of alphabet letters, line
        // breaks, stray bytes and padding in any order and length.
        let mut state = 0x2545_f491_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let pieces: &[&[u8]] = &[
            b"QUJD",
            b"ZGVm",
            b"\r\n",
            b"=",
            b" ",
            b"*",
            b"x",
            b"+/",
            b"\xc3\xa9",
        ];
        for _ in 0..2000 {
            let len = (next() % 40) as usize;
            let text: Vec<u8> = (0..len)
                .flat_map(|_| {
                    pieces[(next() % pieces.len() as u64) as usize]
                        .iter()
                        .copied()
                })
                .collect();
            assert_eq!(
                decode_base64(&text),
                by_the_rule(&text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
        // Longer than a block of letters, cut anywhere in a group.
        let long: Vec<u8> = (0..60_000)
            .flat_map(|_| pieces[(next() % 3) as usize].iter().copied())
            .chain(*b"QUI")
            .collect();
        assert!(long.len() > 2 * LETTERS_PER_BLOCK);
        assert_eq!(decode_base64(&long), by_the_rule(&long));
    }

    #[test]
    fn base64_ignores_stray_characters_and_stops_at_padding() {
        assert_eq!(decode(TransferEncoding::Base64, b"aGVs\n bG8*"), b"hello");
        assert_eq!(
            decode(TransferEncoding::Base64, b"aGk=\r\nIGdhcmJhZ2U="),
            b"hi"
        );
    }

    #[test]
    fn a_place_is_given_only_for_bytes_that_decode_back() {
        let data = vec![7u8; 600];
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        let message = format!("Header: x\r\n\r\n{text}\r\n--b--\r\n").into_bytes();
        let at = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let end = at + text.len() + 2;
        let place = place_of(&message, at, end, TransferEncoding::Base64, &data).unwrap();
        assert_eq!((place.offset, place.length), (at as u64, (end - at) as u64));
        let encoded = &message[at..end];
        assert_eq!(decode(place.encoding, encoded), data);
        // Other bytes, a range outside the message, a content too small.
        assert_eq!(
            place_of(&message, at, end, TransferEncoding::Base64, &[7u8; 601]),
            None
        );
        assert_eq!(
            place_of(
                &message,
                at,
                message.len() + 1,
                TransferEncoding::Base64,
                &data
            ),
            None
        );
        assert_eq!(
            place_of(&message, at, end, TransferEncoding::Identity, &data),
            None
        );
        let small = base64::engine::general_purpose::STANDARD.encode([1u8; 10]);
        assert_eq!(
            place_of(
                small.as_bytes(),
                0,
                small.len(),
                TransferEncoding::Base64,
                &[1u8; 10]
            ),
            None
        );
    }

    #[test]
    fn a_slice_that_decodes_to_other_bytes_is_refused() {
        assert!(!reproduces(TransferEncoding::Base64, b"aGVsbG8=", b"hellO"));
        assert!(!reproduces(
            TransferEncoding::Base64,
            b"aGVsbG8=",
            b"hello!"
        ));
        assert!(reproduces(TransferEncoding::Identity, b"abc", b"abc"));
        assert!(!reproduces(TransferEncoding::Identity, b"abc\r\n", b"abc"));
    }
}
