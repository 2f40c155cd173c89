//! The MIME messages of the portal, built with lettre: the sign-in mail
//! (queued in the outbox), and what a customer writes (a new request, a
//! reply), filed as a received message would be.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::session::random_token;
use crate::config::Settings;
use crate::model::Language;
use crate::store::OutgoingMail;

/// A file the customer attached.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, String> {
    let address = address.parse().map_err(|e| format!("{address}: {e}"))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

/// `<portal-RANDOM@DOMAIN>`'s inside, DOMAIN that of our address.
fn message_id(settings: &Settings, what: &str) -> String {
    let from = settings.from_address();
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    format!("portal-{what}-{}@{domain}", &random_token()[..32])
}

/// The sign-in mail with its link.
pub(super) fn login_mail(
    settings: &Settings,
    email: &str,
    link: &str,
    language: Language,
) -> Result<OutgoingMail, String> {
    let t = super::strings::strings(language);
    let id = message_id(settings, "login");
    let from = settings.from_address();
    let message = lettre::Message::builder()
        .from(mailbox(settings.from_name.as_deref(), &from)?)
        .to(mailbox(None, email)?)
        .subject(t.mail_subject)
        .message_id(Some(format!("<{id}>")))
        .header(ContentType::TEXT_PLAIN)
        .body(t.mail_text.replace("{link}", link))
        .map_err(|e| e.to_string())?;
    Ok(OutgoingMail {
        kind: "portal-login".into(),
        message_id: id,
        sender: from,
        recipients: vec![email.to_owned()],
        raw: message.formatted(),
        automatic: false,
        suppressed: None,
    })
}

/// What the customer wrote, as a mail from them to the support address.
pub(super) fn customer_message(
    settings: &Settings,
    email: &str,
    subject: &str,
    text: &str,
    files: &[Upload],
) -> Result<Vec<u8>, String> {
    let to =
        (settings.intake.own_addresses.first().cloned()).unwrap_or_else(|| settings.from_address());
    let builder = lettre::Message::builder()
        .from(mailbox(None, email)?)
        .to(mailbox(None, &to)?)
        .subject(subject)
        .message_id(Some(format!("<{}>", message_id(settings, "message"))));
    let text_part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text.replace("\r\n", "\n"));
    let message = if files.is_empty() {
        builder.singlepart(text_part)
    } else {
        let mut mixed = MultiPart::mixed().singlepart(text_part);
        for file in files {
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or(ContentType::parse("application/octet-stream").expect("valid type"));
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(file.filename.clone())
                    .body(file.data.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    }
    .map_err(|e| e.to_string())?;
    Ok(message.formatted())
}

/// Files what the customer wrote as a received message (source `portal`):
/// intake decides it and the store files it as any mail, so that
/// `messages show --raw` shows it and the same mails are queued.
pub(super) async fn file(
    state: &crate::web::AppState,
    raw: &[u8],
) -> Result<crate::store::Filed, crate::store::StoreError> {
    let decision = crate::intake::decide(
        raw,
        &state.settings.intake,
        &crate::intake::MailboxDefaults::default(),
    );
    let inbound = crate::store::Inbound {
        source: crate::store::SourceKind::Portal,
        mailbox: None,
        uidvalidity: None,
        uid: None,
        raw,
        digest: None,
    };
    state.store.file_message(&inbound, &decision).await
}
