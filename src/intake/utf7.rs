//! UTF-7 (RFC 2152), the charset some old mailers and gateways still label
//! bodies with. encoding_rs leaves it out (WHATWG dropped it), and
//! mail-parser's own decoder loses the character that ends a shifted run
//! when it is not `-` (`+AOk jour` read `éjour`, line breaks included) and
//! reads `+-` as itself instead of `+`; this one follows the RFC.

/// The value of a modified-base64 character (RFC 2152 "Set B"), or `None`.
fn sextet(byte: u8) -> Option<u32> {
    let value = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// A byte outside a shifted run. UTF-7 is 7-bit: an 8-bit byte is an
/// error of the sender, read as Windows-1252 like other undeclared bytes
/// rather than replaced.
fn push_direct(out: &mut String, byte: u8) {
    if byte.is_ascii() {
        out.push(char::from(byte));
    } else {
        out.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&[byte])
                .0,
        );
    }
}

/// Decodes UTF-7 text. Never fails: a `+` not followed by base64 is kept as
/// written, and a lone UTF-16 surrogate (a broken run) becomes U+FFFD.
pub fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        i += 1;
        if byte != b'+' {
            push_direct(&mut out, byte);
            continue;
        }
        // RFC 2152: "+-" is the plus sign itself.
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let (mut bits, mut count, mut units) = (0u32, 0u32, Vec::new());
        let start = i;
        while let Some(value) = bytes.get(i).copied().and_then(sextet) {
            bits = (bits << 6) | value;
            count += 6;
            if count >= 16 {
                count -= 16;
                // Exactly 16 bits are left above `count`.
                units.push(u16::try_from(bits >> count).unwrap_or(u16::MAX));
                bits &= (1 << count) - 1;
            }
            i += 1;
        }
        if i == start {
            // Not a shifted run at all: a plus sign written as it is.
            out.push('+');
            continue;
        }
        out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
        // The `-` that ends a run is absorbed; any other character that ends
        // it is text (RFC 2152, rule 2).
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn rfc_2152_examples_and_edges() {
        for (utf7, text) in [
            // The RFC's own examples.
            ("A+ImIDkQ.", "A\u{2262}\u{391}."),
            ("Hi Mom -+Jjo--!", "Hi Mom -\u{263a}-!"),
            ("+ZeVnLIqe-", "日本語"),
            ("Item 3 is +AKM-1.", "Item 3 is £1."),
            // `+-` is a plus sign; a run ended by something else keeps it.
            ("1+-1=2", "1+1=2"),
            ("la mise +AOA jour", "la mise à jour"),
            ("sant+AOk, donc", "santé, donc"),
            ("t+AOk\nligne", "té\nligne"),
            ("t+AOk\r\nligne", "té\r\nligne"),
            // A surrogate pair (U+1F600) in one run.
            ("+2D3eAA-!", "\u{1f600}!"),
            // A plus sign that starts no run, at the end or before a space.
            ("a + b", "a + b"),
            ("end+", "end+"),
            ("", ""),
            // Broken: a lone high surrogate.
            ("+2D0-x", "\u{fffd}x"),
        ] {
            assert_eq!(decode(utf7.as_bytes()), text, "{utf7:?}");
        }
    }

    #[test]
    fn eight_bit_bytes_are_read_as_windows_1252() {
        assert_eq!(decode(b"caf\xe9 \x80"), "café €");
    }

    #[test]
    fn any_bytes_decode_without_panic() {
        let all: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let _ = decode(&all);
        let _ = decode(b"++++++++////////--------");
    }
}
