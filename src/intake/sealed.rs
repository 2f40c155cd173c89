//! Mail whose text intake cannot read: encrypted (S/MIME enveloped data,
//! PGP/MIME, inline PGP) or signed in S/MIME's opaque form, where the text
//! sits inside the CMS structure. Such a message still becomes a ticket; its
//! description says why the text is missing, in the sender's language, and
//! the sealed parts are kept as attachments for the team to open.
//!
//! A `multipart/signed` message (S/MIME or PGP detached signature) is not
//! sealed: its text is an ordinary part, read as usual, and the signature is
//! kept as an attachment.

use serde::Serialize;

use crate::model::Language;

/// What hides a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sealing {
    /// S/MIME `application/pkcs7-mime` enveloped data (RFC 8551 3.3).
    SmimeEncrypted,
    /// PGP/MIME `multipart/encrypted` (RFC 3156 4).
    PgpMime,
    /// A text body that is one ASCII-armoured `PGP MESSAGE` (RFC 4880 6.2).
    PgpInline,
    /// S/MIME `application/pkcs7-mime` signed data: the text is inside the
    /// signature (RFC 8551 3.5.2), readable only by parsing CMS.
    SmimeOpaqueSigned,
}

/// The name given to an inline PGP message kept as a file.
pub const INLINE_PGP_NAME: &str = "encrypted.asc";
/// Its content type, as `mime.types` gives for `.asc`.
pub const INLINE_PGP_TYPE: &str = "application/pgp-encrypted";

/// The facts of one MIME part that tell whether it seals the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartFacts<'a> {
    /// `type/subtype`, lower case.
    pub content_type: &'a str,
    /// The `smime-type` parameter.
    pub smime_type: Option<&'a str>,
    /// The `protocol` parameter of a multipart.
    pub protocol: Option<&'a str>,
    /// The part's file name.
    pub name: Option<&'a str>,
}

impl Sealing {
    /// Whether a part seals the message, and how.
    pub fn of_part(part: &PartFacts<'_>) -> Option<Sealing> {
        let eq = |value: Option<&str>, wanted: &str| {
            value.is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
        };
        match part.content_type {
            "multipart/encrypted" if eq(part.protocol, "application/pgp-encrypted") => {
                Some(Sealing::PgpMime)
            }
            "application/pkcs7-mime" | "application/x-pkcs7-mime" => {
                if eq(part.smime_type, "enveloped-data")
                    || eq(part.smime_type, "authenveloped-data")
                {
                    Some(Sealing::SmimeEncrypted)
                } else if eq(part.smime_type, "signed-data") {
                    Some(Sealing::SmimeOpaqueSigned)
                } else if part.smime_type.is_none()
                    && part.name.is_some_and(|n| {
                        n.trim()
                            .rsplit_once('.')
                            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("p7m"))
                    })
                {
                    // Older clients leave smime-type out; `.p7m` is then
                    // enveloped data (RFC 8551 3.2.1).
                    Some(Sealing::SmimeEncrypted)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Whether the message is encrypted (not merely signed).
    pub fn is_encrypted(self) -> bool {
        !matches!(self, Sealing::SmimeOpaqueSigned)
    }

    fn scheme(self) -> &'static str {
        match self {
            Sealing::SmimeEncrypted | Sealing::SmimeOpaqueSigned => "S/MIME",
            Sealing::PgpMime | Sealing::PgpInline => "OpenPGP",
        }
    }
}

/// Whether a text body is nothing but an ASCII-armoured encrypted PGP
/// message (a signed-only `PGP SIGNED MESSAGE` is readable and not one).
pub fn is_inline_pgp(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("-----BEGIN PGP MESSAGE-----") && text.ends_with("-----END PGP MESSAGE-----")
}

/// The description of a sealed message: what happened and where the sealed
/// parts are, in the message's language, or in French then English when it
/// is not known. `files` are the names the sealed parts are kept under.
pub fn notice(sealing: Sealing, files: &[&str], language: Option<Language>) -> String {
    match language {
        Some(language) => notice_in(sealing, files, language),
        None => format!(
            "{}\n\n{}",
            notice_in(sealing, files, Language::Fr),
            notice_in(sealing, files, Language::En)
        ),
    }
}

fn notice_in(sealing: Sealing, files: &[&str], language: Language) -> String {
    let scheme = sealing.scheme();
    let list = files.join(", ");
    let several = files.len() > 1;
    match (language, sealing.is_encrypted()) {
        (Language::Fr, true) => {
            let kept = match files.len() {
                0 => "Le message d'origine est conservé tel qu'il a été reçu.".to_owned(),
                1 => format!(
                    "La partie chiffrée est jointe au ticket ({list}) pour que l'équipe puisse la déchiffrer."
                ),
                _ => format!(
                    "Les parties chiffrées sont jointes au ticket ({list}) pour que l'équipe puisse les déchiffrer."
                ),
            };
            format!("Ce message est chiffré ({scheme}) et n'a pas pu être lu. {kept}")
        }
        (Language::En, true) => {
            let kept = match files.len() {
                0 => "The original message is kept as it was received.".to_owned(),
                _ => format!(
                    "The encrypted part{} attached to the ticket ({list}) so that the team can decrypt {}.",
                    if several { "s are" } else { " is" },
                    if several { "them" } else { "it" }
                ),
            };
            format!("This message is encrypted ({scheme}) and could not be read. {kept}")
        }
        (Language::Fr, false) => {
            let kept = match files.len() {
                0 => "Le message d'origine est conservé tel qu'il a été reçu.".to_owned(),
                _ => format!(
                    "La partie signée est jointe au ticket ({list}) : un logiciel de messagerie compatible {scheme} l'ouvre."
                ),
            };
            format!(
                "Ce message est signé ({scheme}) sous une forme opaque : son texte est enfermé dans la signature et n'a pas pu être lu. {kept}"
            )
        }
        (Language::En, false) => {
            let kept = match files.len() {
                0 => "The original message is kept as it was received.".to_owned(),
                _ => format!(
                    "The signed part is attached to the ticket ({list}): a mail client that supports {scheme} opens it."
                ),
            };
            format!(
                "This message is signed ({scheme}) in opaque form: its text is wrapped inside the signature and could not be read. {kept}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part<'a>(
        content_type: &'a str,
        smime_type: Option<&'a str>,
        name: Option<&'a str>,
    ) -> PartFacts<'a> {
        PartFacts {
            content_type,
            smime_type,
            protocol: None,
            name,
        }
    }

    #[test]
    fn sealed_parts_are_told_apart() {
        for (facts, expected) in [
            (
                part("application/pkcs7-mime", Some("enveloped-data"), None),
                Some(Sealing::SmimeEncrypted),
            ),
            (
                part("application/x-pkcs7-mime", Some(" Enveloped-Data "), None),
                Some(Sealing::SmimeEncrypted),
            ),
            (
                part("application/pkcs7-mime", Some("authEnveloped-data"), None),
                Some(Sealing::SmimeEncrypted),
            ),
            (
                part("application/x-pkcs7-mime", None, Some("smime.P7M")),
                Some(Sealing::SmimeEncrypted),
            ),
            (
                part(
                    "application/pkcs7-mime",
                    Some("signed-data"),
                    Some("smime.p7m"),
                ),
                Some(Sealing::SmimeOpaqueSigned),
            ),
            // A certificate bundle, a detached signature, an ordinary file.
            (
                part(
                    "application/pkcs7-mime",
                    Some("certs-only"),
                    Some("smime.p7c"),
                ),
                None,
            ),
            (part("application/pkcs7-mime", None, None), None),
            (
                part("application/pkcs7-signature", None, Some("smime.p7s")),
                None,
            ),
            (part("application/pdf", None, Some("x.p7m")), None),
            (
                PartFacts {
                    content_type: "multipart/encrypted",
                    protocol: Some("application/pgp-encrypted"),
                    ..PartFacts::default()
                },
                Some(Sealing::PgpMime),
            ),
            (
                PartFacts {
                    content_type: "multipart/encrypted",
                    protocol: Some("application/x-other"),
                    ..PartFacts::default()
                },
                None,
            ),
            (
                PartFacts {
                    content_type: "multipart/signed",
                    protocol: Some("application/pgp-signature"),
                    ..PartFacts::default()
                },
                None,
            ),
        ] {
            assert_eq!(Sealing::of_part(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn inline_pgp_is_the_whole_body() {
        let armoured = "-----BEGIN PGP MESSAGE-----\n\nhQEMA1x\n=abcd\n-----END PGP MESSAGE-----";
        assert!(is_inline_pgp(armoured));
        assert!(is_inline_pgp(&format!("\n\n{armoured}\n\n")));
        assert!(!is_inline_pgp(&format!("Hello, here it is:\n{armoured}")));
        assert!(!is_inline_pgp(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----"
        ));
    }

    #[test]
    fn notices_speak_the_language_of_the_message() {
        assert_eq!(
            notice(Sealing::SmimeEncrypted, &["smime.p7m"], Some(Language::Fr)),
            "Ce message est chiffré (S/MIME) et n'a pas pu être lu. La partie chiffrée est jointe au ticket (smime.p7m) pour que l'équipe puisse la déchiffrer."
        );
        assert_eq!(
            notice(Sealing::PgpMime, &["encrypted.asc"], Some(Language::En)),
            "This message is encrypted (OpenPGP) and could not be read. The encrypted part is attached to the ticket (encrypted.asc) so that the team can decrypt it."
        );
        assert_eq!(
            notice(Sealing::PgpMime, &["a.asc", "b.asc"], Some(Language::En)),
            "This message is encrypted (OpenPGP) and could not be read. The encrypted parts are attached to the ticket (a.asc, b.asc) so that the team can decrypt them."
        );
        let signed = notice(
            Sealing::SmimeOpaqueSigned,
            &["smime.p7m"],
            Some(Language::Fr),
        );
        assert!(signed.starts_with("Ce message est signé (S/MIME) sous une forme opaque"));
        assert!(!signed.contains("chiffr"), "{signed}");
        // Unknown language: both, French first.
        let both = notice(Sealing::PgpInline, &[], None);
        let (fr, en) = both.split_once("\n\n").unwrap();
        assert!(fr.starts_with("Ce message est chiffré (OpenPGP)"), "{fr}");
        assert!(
            en.starts_with("This message is encrypted (OpenPGP)"),
            "{en}"
        );
        assert!(en.ends_with("kept as it was received."), "{en}");
    }
}
