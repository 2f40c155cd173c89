//! The customer portal over real HTTP on SQLite: signing in with the link
//! read from the outbox, the terms, a customer's own tickets only, CSRF,
//! the upload limit, the new-request form and its filing as a mail.

use std::path::Path;
use std::sync::Arc;

use mailgate::config::{self, Settings};
use mailgate::store::Store;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sqlx::Connection;
use tokio::sync::watch;

use super::{OTHER, TestDb, request};

/// A one-pixel PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

fn settings(dir: &Path, url: &str) -> Settings {
    let text = format!(
        r#"
[database]
url = "{url}"
[outbox]
directory = "{dir}/outbox"
[intake]
own_addresses = ["support@example.com"]
max_message_size = "64KB"
[tickets]
team_addresses = ["@vendor.example"]
team_address = "team@vendor.example"
[senders]
policy = "registered"
allowed_domains = ["acme.fr"]
[http]
listen = "127.0.0.1:0"
[[products]]
name = "Atlas"
[[products]]
name = "Nova"
[[products]]
name = "Helios"
"#,
        dir = dir.display()
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    config::load(Some(&path), Some(Default::default())).unwrap()
}

struct Portal {
    base: String,
    url: String,
    store: Store,
    settings: Arc<Settings>,
    http: reqwest::Client,
    _stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

/// A signed-in customer: the cookie header and the session's CSRF token.
struct Customer {
    cookie: String,
    csrf: String,
}

/// A link of the tracking base (`tickets.tracking_url`), served here.
fn path_of(link: &str) -> &str {
    &link[link.find("/portal/").unwrap()..]
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 64].to_owned()
}

/// A multipart body: (name, filename and type for files, content).
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "portal-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file {
            Some((filename, content_type)) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Portal {
    async fn start() -> Portal {
        Portal::on(None).await
    }

    /// On a PostgreSQL database, or a SQLite file of its own.
    async fn on(db: Option<&TestDb>) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let url = db.map_or_else(
            || format!("sqlite://{}/mailgate.db", dir.path().display()),
            |db| db.url.clone(),
        );
        let settings = Arc::new(settings(dir.path(), &url));
        let store = mailgate::wiring::open_store(&settings).await.unwrap();
        let listener = mailgate::web::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, shutdown) = watch::channel(false);
        let app = mailgate::web::router(settings.clone(), store.clone());
        tokio::spawn(mailgate::web::serve(
            listener,
            app,
            settings.http_limits,
            shutdown,
        ));
        Portal {
            base,
            url,
            store,
            settings,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _stop: stop,
            _dir: dir,
        }
    }

    async fn ask_link(&self, email: &str) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/portal/login", self.base))
            .form(&[("email", email)])
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The sign-in links mailed to an address, newest first.
    async fn links(&self, email: &str) -> Vec<String> {
        let mut links = Vec::new();
        for row in self.store.list_outbox().await.unwrap() {
            if row.kind != "portal-login" || row.recipients != email {
                continue;
            }
            let raw = self.store.blob(&row.raw_sha256).await.unwrap();
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let text = message.body_text(0).unwrap().into_owned();
            let at = text.find("/portal/login/").expect("a link");
            let start = text[..at].rfind("http").unwrap();
            links.push(text[start..at + 14 + 64].to_owned());
        }
        links
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        parts: &[Part<'_>],
    ) -> reqwest::Response {
        let (content_type, body) = multipart(parts);
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in with the mailed link and accepts the terms.
    async fn sign_in(&self, email: &str) -> Customer {
        let (status, _) = self.ask_link(email).await;
        assert_eq!(status, StatusCode::OK);
        let link = self.links(email).await.into_iter().next().expect("a link");
        let response = self.get(path_of(&link), None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], "/portal/");
        let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            set.contains("HttpOnly")
                && set.contains("SameSite=Lax")
                && set.contains("Path=/portal"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "http tracking URL: no Secure");
        let cookie = set.split(';').next().unwrap().to_owned();
        // Terms first: nothing else before them.
        for path in ["/portal/", "/portal/new", "/portal/tickets/SUP-1"] {
            let response = self.get(path, Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(response.headers()[LOCATION], "/portal/terms", "{path}");
        }
        let terms = self
            .get("/portal/terms", Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(terms.contains("Terms of use") || terms.contains("Conditions d"));
        let csrf = csrf_of(&terms);
        let refused = self
            .post_form("/portal/terms", &cookie, &[("version", "1")])
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let response = self
            .post_form(
                "/portal/terms",
                &cookie,
                &[("csrf", csrf.as_str()), ("version", "1")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let consents = self.store.portal_consents(email).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert_eq!(consents[0].0, "1");
        assert_eq!(consents[0].2, "127.0.0.1");
        Customer { cookie, csrf }
    }

    async fn sql(&self, statement: &str) {
        if self.url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
    }
}

#[tokio::test]
async fn portal_sign_in_links_are_single_use_and_tell_nothing() {
    sign_in_links(&Portal::start().await).await;
}

#[tokio::test]
async fn portal_sign_in_links_on_postgres() {
    let Some(db) = TestDb::postgres("portal_web").await else {
        return;
    };
    sign_in_links(&Portal::on(Some(&db)).await).await;
    db.drop_pg().await;
}

async fn sign_in_links(site: &Portal) {
    let page = site.get("/portal/login", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("form-action 'self'") && policy.contains("default-src 'none'"));
    assert!(!page.text().await.unwrap().contains("<script"));

    // Not signed in: to the sign-in page.
    let response = site.get("/portal/", None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/portal/login");

    // An address that may not sign in (policy `registered`): the same
    // answer, and no mail.
    let (status, unknown) = site.ask_link("stranger@example.net").await;
    assert_eq!(status, StatusCode::OK);
    let (status, known) = site.ask_link("marie.dupont@acme.fr").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unknown, known);
    assert!(known.contains("If this address may sign in, a link is on its way"));
    let (_, malformed) = site.ask_link("not an address").await;
    assert_eq!(malformed, known);
    let outbox = site.store.list_outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].recipients, "marie.dupont@acme.fr");
    assert_eq!(outbox[0].kind, "portal-login");
    assert!(site.links("stranger@example.net").await.is_empty());

    // The link works once.
    let link = site.links("marie.dupont@acme.fr").await.remove(0);
    assert!(link.starts_with(&format!(
        "{}/portal/login/",
        site.settings.tickets.tracking_url
    )));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let first = site.get(&format!("/portal/login/{token}"), None).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let again = site.get(&format!("/portal/login/{token}"), None).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.unwrap().contains("expired or was used"));
    assert_eq!(
        site.get("/portal/login/zz", None).await.status(),
        StatusCode::GONE
    );

    // An expired link is refused.
    site.ask_link("marie.dupont@acme.fr").await;
    let link = site.links("marie.dupont@acme.fr").await.remove(0);
    site.sql("UPDATE portal_login_tokens SET expires_at = '2000-01-01T00:00:00.000Z'")
        .await;
    let expired = site.get(path_of(&link), None).await;
    assert_eq!(expired.status(), StatusCode::GONE);

    // Three links an hour per address: the fourth is not sent, and the
    // answer is the same.
    let (_, limited) = site.ask_link("marie.dupont@acme.fr").await;
    let (_, limited_again) = site.ask_link("marie.dupont@acme.fr").await;
    assert_eq!(limited, known);
    assert_eq!(limited_again, known);
    assert_eq!(site.links("marie.dupont@acme.fr").await.len(), 3);
}

#[tokio::test]
async fn portal_shows_a_customer_only_their_tickets_and_checks_csrf() {
    let site = Portal::start().await;
    site.store
        .register_customer("j.smith@globex.com", None, None, None)
        .await
        .unwrap();
    for raw in [request(), OTHER.to_owned()] {
        let decision = mailgate::intake::decide(
            raw.as_bytes(),
            &site.settings.intake,
            &mailgate::intake::MailboxDefaults::default(),
        );
        let inbound = mailgate::store::Inbound {
            source: mailgate::store::SourceKind::File,
            mailbox: None,
            uidvalidity: None,
            uid: None,
            raw: raw.as_bytes(),
            digest: None,
        };
        site.store.file_message(&inbound, &decision).await.unwrap();
    }
    let marie = site.sign_in("marie.dupont@acme.fr").await;
    let list = site.get("/portal/", Some(&marie.cookie)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    // Her language is recorded (French, from her mail): the portal speaks it.
    assert!(list.contains("Mes demandes"), "{list}");
    assert!(
        list.contains("/portal/tickets/SUP-1") && !list.contains("SUP-2"),
        "{list}"
    );
    assert!(!list.contains("<script>document"), "escaped");
    let closed = site
        .get("/portal/?status=closed", Some(&marie.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(!closed.contains("/portal/tickets/SUP-1"));

    let mine = site.get("/portal/tickets/SUP-1", Some(&marie.cookie)).await;
    assert_eq!(mine.status(), StatusCode::OK);
    let mine = mine.text().await.unwrap();
    assert!(mine.contains("export CSV est vide"), "{mine}");
    assert!(!mine.contains("<script>document"));
    let theirs = site.get("/portal/tickets/SUP-2", Some(&marie.cookie)).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let theirs = theirs.text().await.unwrap();
    let unknown = site
        .get("/portal/tickets/SUP-99", Some(&marie.cookie))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.text().await.unwrap(), theirs);

    // POSTs without the session's CSRF token: 403, nothing done.
    let before = site.store.ticket("SUP-1").await.unwrap().comments.len();
    let forged = site
        .post_multipart(
            "/portal/tickets/SUP-1",
            &marie.cookie,
            &[("text", None, b"forged")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let wrong = "0".repeat(64);
    let forged = site
        .post_multipart(
            "/portal/new",
            &marie.cookie,
            &[("csrf", None, wrong.as_bytes()), ("summary", None, b"x")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let logout = site
        .post_form("/portal/logout", &marie.cookie, &[("csrf", "nope")])
        .await;
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        site.store.ticket("SUP-1").await.unwrap().comments.len(),
        before
    );
    assert!(
        site.store
            .messages(None, None)
            .await
            .unwrap()
            .iter()
            .all(|m| m.source == "file")
    );

    // A reply on her own ticket is added as her emailed one would be.
    let reply = site
        .post_multipart(
            "/portal/tickets/SUP-1",
            &marie.cookie,
            &[
                ("csrf", None, marie.csrf.as_bytes()),
                ("text", None, b"Still broken this morning."),
                ("attachments", Some(("", "application/octet-stream")), b""),
            ],
        )
        .await;
    assert_eq!(reply.status(), StatusCode::SEE_OTHER);
    assert_eq!(reply.headers()[LOCATION], "/portal/tickets/SUP-1");
    let ticket = site.store.ticket("SUP-1").await.unwrap();
    assert_eq!(ticket.comments.len(), before + 1);
    let last = ticket.comments.last().unwrap();
    assert_eq!(last.body.trim(), "Still broken this morning.");
    assert_eq!(last.author_email, "marie.dupont@acme.fr");
    assert_eq!(
        site.store.messages(None, Some(1)).await.unwrap()[0].source,
        "portal"
    );

    // Signing out ends the session.
    let logout = site
        .post_form(
            "/portal/logout",
            &marie.cookie,
            &[("csrf", marie.csrf.as_str())],
        )
        .await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let after = site.get("/portal/", Some(&marie.cookie)).await;
    assert_eq!(after.headers()[LOCATION], "/portal/login");
}

#[tokio::test]
async fn portal_new_requests_are_checked_limited_and_filed_as_mail() {
    let site = Portal::start().await;
    let marie = site.sign_in("marie.dupont@acme.fr").await;
    let form = site
        .get("/portal/new", Some(&marie.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"Atlas\"") && form.contains("enctype=\"multipart/form-data\""));
    let csrf = marie.csrf.as_bytes();
    let vocabulary = &site.settings.intake.vocabulary;
    let request_type = vocabulary.request_types.names().last().unwrap().to_owned();
    let severity = vocabulary.severities.names().next().unwrap().to_owned();

    // Over intake.max_message_size (64 KB): 413, nothing filed.
    let big = vec![b'x'; 100 * 1024];
    let over = site
        .post_multipart(
            "/portal/new",
            &marie.cookie,
            &[
                ("csrf", None, csrf),
                ("request_type", None, request_type.as_bytes()),
                ("summary", None, b"Big"),
                ("severity", None, severity.as_bytes()),
                ("description", None, b"d"),
                (
                    "attachments",
                    Some(("big.bin", "application/octet-stream")),
                    &big,
                ),
            ],
        )
        .await;
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(over.text().await.unwrap().contains("size limit"));
    assert!(site.store.messages(None, None).await.unwrap().is_empty());

    // An unknown product: the form again, with the error and what was typed.
    let wrong = site
        .post_multipart(
            "/portal/new",
            &marie.cookie,
            &[
                ("csrf", None, csrf),
                ("request_type", None, request_type.as_bytes()),
                ("summary", None, b"Export <b>empty</b> again"),
                ("severity", None, severity.as_bytes()),
                ("products", None, b"Atlas"),
                ("products", None, b"Zephyr"),
                ("description", None, b"Since Tuesday."),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    assert!(
        wrong.contains("Zephyr") && wrong.contains("is not one of the accepted values"),
        "{wrong}"
    );
    assert!(
        wrong.contains("value=\"Export &lt;b&gt;empty&lt;&#x2f;b&gt; again\""),
        "{wrong}"
    );
    assert!(wrong.contains("Since Tuesday."));
    assert!(site.store.messages(None, None).await.unwrap().is_empty());

    // A valid request: a ticket with two products and the PNG, filed as a
    // received message of source `portal`, confirmed and announced.
    let filed = site
        .post_multipart(
            "/portal/new",
            &marie.cookie,
            &[
                ("csrf", None, csrf),
                ("request_type", None, request_type.as_bytes()),
                ("summary", None, b"Export empty"),
                ("severity", None, severity.as_bytes()),
                ("products", None, b"Atlas"),
                ("products", None, b"Nova"),
                (
                    "description",
                    None,
                    b"The CSV export is empty since Tuesday.",
                ),
                ("attachments", Some(("screen.png", "image/png")), PNG),
            ],
        )
        .await;
    let status = filed.status();
    let location = filed.headers().get(LOCATION).cloned();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        filed.text().await.unwrap()
    );
    assert_eq!(location.unwrap(), "/portal/tickets/SUP-1");
    let ticket = site.store.ticket("SUP-1").await.unwrap();
    assert_eq!(ticket.summary, "Export empty");
    assert_eq!(ticket.products, ["Atlas", "Nova"]);
    assert_eq!(ticket.severity, severity);
    assert_eq!(ticket.request_type, request_type);
    assert_eq!(ticket.reporter_email, "marie.dupont@acme.fr");
    assert!(
        ticket
            .description
            .contains("The CSV export is empty since Tuesday.")
    );
    assert!(
        !ticket.description.contains("Severity:"),
        "{}",
        ticket.description
    );
    assert_eq!(ticket.attachments.len(), 1);
    assert_eq!(ticket.attachments[0].filename, "screen.png");
    assert_eq!(ticket.attachments[0].content_type, "image/png");
    assert_eq!(
        site.store
            .blob(&ticket.attachments[0].sha256)
            .await
            .unwrap(),
        PNG
    );
    let messages = site.store.messages(None, None).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].source, "portal");
    let raw = site.store.inbound_raw(messages[0].id).await.unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("From: marie.dupont@acme.fr"));
    let kinds: Vec<String> = (site.store.list_outbox().await.unwrap().into_iter())
        .filter(|r| r.ticket.as_deref() == Some("SUP-1"))
        .map(|r| r.kind)
        .collect();
    assert!(kinds.iter().any(|k| k == "confirmation"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "notification"), "{kinds:?}");
    let page = site
        .get("/portal/tickets/SUP-1", Some(&marie.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("screen.png") && page.contains("Atlas, Nova"),
        "{page}"
    );
    // Its file, through the tracking page's download (relative link).
    let at = page.find("href=\"../../t/").expect("a file link") + 12;
    let href = &page[at..at + page[at..].find('"').unwrap()];
    let file = site.get(&format!("/{href}"), Some(&marie.cookie)).await;
    assert_eq!(file.status(), StatusCode::OK, "{href}");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PNG);
    let list = site
        .get("/portal/?status=open", Some(&marie.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("/portal/tickets/SUP-1"));
}

/// Headless Chromium with a profile of its own kept between runs (so the
/// session cookie set by the sign-in link stays), at phone width.
async fn chromium(profile: &Path, args: &[String]) -> std::process::Output {
    let mut command = tokio::process::Command::new(super::CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=390,844",
            "--accept-lang=en-US,en",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
        .await
        .expect("chromium did not finish within 120 s")
        .expect("chromium runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_walks_the_portal_on_a_phone() {
    assert!(
        Path::new(super::CHROMIUM).exists(),
        "{} is missing",
        super::CHROMIUM
    );
    let site = Portal::start().await;
    let paul = site.sign_in("paul.martin@acme.fr").await;
    // A request of his, so that the list and the ticket have something.
    let vocabulary = &site.settings.intake.vocabulary;
    let request_type = vocabulary.request_types.names().last().unwrap().to_owned();
    let severity = vocabulary.severities.names().next().unwrap().to_owned();
    let filed = site
        .post_multipart(
            "/portal/new",
            &paul.cookie,
            &[
                ("csrf", None, paul.csrf.as_bytes()),
                ("request_type", None, request_type.as_bytes()),
                (
                    "summary",
                    None,
                    b"Export <script>document.title='pwned'</script> empty",
                ),
                ("severity", None, severity.as_bytes()),
                ("products", None, b"Atlas"),
                (
                    "description",
                    None,
                    b"The CSV export is empty since Tuesday.",
                ),
                ("attachments", Some(("screen.png", "image/png")), PNG),
            ],
        )
        .await;
    assert_eq!(filed.status(), StatusCode::SEE_OTHER);

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let shoot = |name: &str, url: String| {
        let png = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let args = vec![format!("--screenshot={}", png.display()), url];
        let profile = profile.path().to_owned();
        async move {
            let out = chromium(&profile, &args).await;
            let bytes = std::fs::read(&png).unwrap_or_else(|e| {
                panic!(
                    "no screenshot at {} ({e}): {}",
                    png.display(),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            assert_eq!(width, 390);
            bytes.len()
        }
    };
    shoot("login", format!("{}/portal/login", site.base)).await;
    // The link followed by the browser: its cookie, then the list.
    site.ask_link("paul.martin@acme.fr").await;
    let link = site.links("paul.martin@acme.fr").await.remove(0);
    shoot("list", format!("{}{}", site.base, path_of(&link))).await;
    let out = chromium(
        profile.path(),
        &["--dump-dom".to_owned(), format!("{}/portal/", site.base)],
    )
    .await;
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("My requests") && dom.contains("SUP-1"),
        "{dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
    let title = dom.split("<title>").nth(1).unwrap_or_default();
    assert!(!title.starts_with("pwned"));
    shoot("ticket", format!("{}/portal/tickets/SUP-1", site.base)).await;
    shoot("new", format!("{}/portal/new", site.base)).await;
}
