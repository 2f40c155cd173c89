//! Encrypted and opaquely signed mail, and winmail.dat: a ticket that says
//! why its text is missing, in the sender's language, with the sealed parts
//! kept as files; then the same messages filed into real databases.

use mailgate::intake::{self, MailboxDefaults, NewTicket, Outcome};
use mailgate::store::{Filed, Inbound, SourceKind, Store};

use super::database::TestDb;
use super::{decide, fixtures_dir, settings};

fn raw(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap()
}

fn ticket(name: &str) -> NewTicket {
    match decide(&raw(name), &settings()).outcome {
        Outcome::Ticket { ticket } => *ticket,
        other => panic!("{name}: {other:?}"),
    }
}

/// Name, type and size of each file kept.
fn files(ticket: &NewTicket) -> Vec<(&str, &str, usize)> {
    ticket
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.content_type.as_str(), a.size))
        .collect()
}

#[test]
fn smime_encrypted_mail_says_so_in_french_and_keeps_smime_p7m() {
    let t = ticket("074-smime-enveloped.eml");
    assert_eq!(t.summary, "Relevé des écarts de paiement de mars");
    assert_eq!(
        t.description,
        "Ce message est chiffré (S/MIME) et n'a pas pu être lu. La partie chiffrée est jointe au ticket (smime.p7m) pour que l'équipe puisse la déchiffrer."
    );
    assert_eq!(t.reply, t.description);
    assert_eq!(files(&t), [("smime.p7m", "application/pkcs7-mime", 668)]);
    // The file is the CMS structure itself (DER: a SEQUENCE, then the
    // enveloped-data OID 1.2.840.113549.1.7.3).
    assert_eq!(&t.attachments[0].data[..2], b"\x30\x82");
    assert_eq!(
        &t.attachments[0].data[4..15],
        b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03"
    );
}

#[test]
fn pgp_mime_mail_says_so_in_english_and_keeps_encrypted_asc_only() {
    let t = ticket("075-pgp-mime-encrypted.eml");
    assert_eq!(t.summary, "Orbit API credentials rotation");
    assert_eq!(
        t.description,
        "This message is encrypted (OpenPGP) and could not be read. The encrypted part is attached to the ticket (encrypted.asc) so that the team can decrypt it."
    );
    // The `Version: 1` control part is not a file worth keeping.
    assert_eq!(
        files(&t),
        [("encrypted.asc", "application/octet-stream", 630)]
    );
    let armoured = String::from_utf8(t.attachments[0].data.clone()).unwrap();
    assert!(armoured.starts_with("-----BEGIN PGP MESSAGE-----"));
    assert!(armoured.trim_end().ends_with("-----END PGP MESSAGE-----"));
}

#[test]
fn inline_pgp_is_kept_as_a_file() {
    let t = ticket("079-pgp-inline-encrypted.eml");
    assert!(
        t.description
            .starts_with("This message is encrypted (OpenPGP)")
    );
    assert!(!t.description.contains("BEGIN PGP"));
    assert_eq!(
        files(&t),
        [("encrypted.asc", "application/pgp-encrypted", 486)]
    );
}

#[test]
fn smime_signatures_do_not_hide_the_text() {
    // multipart/signed: read as usual, the signature kept.
    let t = ticket("076-smime-signed-multipart.eml");
    assert!(
        t.description
            .starts_with("Hello,\n\nPurchase order PO-2025-0871 has been waiting for approval")
    );
    assert_eq!(
        (t.severity.as_str(), &t.products[..]),
        ("high", &["Atlas".to_owned()][..])
    );
    assert_eq!(
        files(&t),
        [("smime.p7s", "application/x-pkcs7-signature", 504)]
    );
    // Opaque signed data: the text is inside; said so, not called encrypted.
    let t = ticket("078-smime-opaque-signed.eml");
    assert!(
        t.description
            .starts_with("Ce message est signé (S/MIME) sous une forme opaque"),
        "{}",
        t.description
    );
    assert!(!t.description.contains("chiffré"));
    assert_eq!(files(&t), [("smime.p7m", "application/x-pkcs7-mime", 786)]);
}

#[test]
fn winmail_dat_is_kept_as_it_is_and_named_so() {
    let t = ticket("060-tnef-winmail-dat.eml");
    assert_eq!(files(&t), [("winmail.dat", "application/ms-tnef", 80)]);
    let t = ticket("077-tnef-without-name.eml");
    assert_eq!(files(&t), [("winmail.dat", "application/vnd.ms-tnef", 96)]);
    assert_eq!(&t.attachments[0].data[..4], b"\x78\x9f\x3e\x22");
    assert!(t.description.contains("stops at line 1"));
}

/// Files an encrypted request, then an encrypted follow-up to it: the ticket
/// and the comment carry the notice, and the sealed parts are stored byte
/// for byte.
async fn encrypted_mail_is_filed(url: &str) {
    let settings = settings();
    let store = Store::open(url, "SUP").await.unwrap();
    let file = |raw: Vec<u8>| {
        let store = &store;
        let settings = &settings;
        async move {
            let decision = intake::decide(&raw, &settings.intake, &MailboxDefaults::default());
            let inbound = Inbound {
                source: SourceKind::File,
                mailbox: None,
                uidvalidity: None,
                uid: None,
                raw: &raw,
                digest: None,
            };
            store.file_message(&inbound, &decision).await.unwrap()
        }
    };
    let request = raw("074-smime-enveloped.eml");
    assert_eq!(
        file(request.clone()).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    let t = store.ticket("SUP-1").await.unwrap();
    assert!(t.description.starts_with("Ce message est chiffré (S/MIME)"));
    assert_eq!(t.language.as_deref(), Some("fr"));
    assert_eq!(t.attachments.len(), 1);
    let a = &t.attachments[0];
    assert_eq!(
        (a.filename.as_str(), a.content_type.as_str(), a.size),
        ("smime.p7m", "application/pkcs7-mime", 668)
    );
    let expected = match decide(&request, &settings).outcome {
        Outcome::Ticket { ticket } => ticket.attachments[0].data.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(store.blob(&a.sha256).await.unwrap(), expected);

    // The customer answers, encrypted again, on the ticket's tag.
    let text = String::from_utf8(request).unwrap();
    let reply = text
        .replace(
            "Subject: =?iso-8859-1?Q?Relev=E9_des",
            "Subject: =?iso-8859-1?Q?RE:_[SUP-1]_Relev=E9_des",
        )
        .replace(
            "Message-ID: <PAXPR09MB7011B3A1",
            "Message-ID: <re-PAXPR09MB7011B3A1",
        );
    assert_ne!(reply, text);
    assert_eq!(
        file(reply.into_bytes()).await,
        Filed::Comment {
            key: "SUP-1".into()
        }
    );
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.comments.len(), 1);
    assert!(
        t.comments[0]
            .body
            .starts_with("Ce message est chiffré (S/MIME) et n'a pas pu être lu."),
        "{}",
        t.comments[0].body
    );
    // The follow-up's sealed part is kept too, beside the first one.
    assert_eq!(t.attachments.len(), 2);
    assert!(t.attachments.iter().all(|a| a.filename == "smime.p7m"));
    store.close().await;
}

#[tokio::test]
async fn encrypted_mail_is_filed_on_sqlite() {
    let db = TestDb::sqlite();
    encrypted_mail_is_filed(&db.url).await;
}

#[tokio::test]
async fn encrypted_mail_is_filed_on_postgres() {
    let Some(db) = TestDb::postgres("sealed_filing").await else {
        return;
    };
    encrypted_mail_is_filed(&db.url).await;
    db.drop_pg().await;
}
