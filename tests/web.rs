//! The tracking page and the team API over real HTTP: the server of
//! `mailgate run` on a loopback port of its own, a real SQLite file (and
//! PostgreSQL for the API), tickets filed from raw messages as intake files
//! them, and a headless Chromium for what a phone shows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use mailgate::config::{self, Settings};
use mailgate::intake::{self, MailboxDefaults};
use mailgate::store::{Filed, Inbound, SourceKind, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

const API_TOKEN: &str = "desk-3f1c9a7e5b2d";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The injected script of the subject and body: shown as text, never run.
const SCRIPT: &str = "<script>document.title='pwned'</script>";

fn request() -> String {
    format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\n\
To: support@example.com\n\
Subject: Export {SCRIPT} broken\n\
Message-ID: <req-1@acme.fr>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\
\n\
--b\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Bonjour,\n\
Produit : Atlas\n\
L'export CSV est vide depuis la mise à jour de mardi.\n\
{SCRIPT}\n\
Merci d'avance !\n\
--b\n\
Content-Type: text/csv; name=export.csv\n\
Content-Disposition: attachment; filename=\"export.csv\"\n\
\n\
a;b\n\
1;2\n\
--b\n\
Content-Type: text/html; name=page.html\n\
Content-Disposition: attachment; filename=\"page.html\"\n\
\n\
<html><script>alert(1)</script></html>\n\
--b--\n"
    )
}

const FOLLOW_UP: &str = "From: Marie Dupont <marie.dupont@acme.fr>\n\
To: support@example.com\n\
Subject: Re: Export broken\n\
Message-ID: <req-1-b@acme.fr>\n\
In-Reply-To: <req-1@acme.fr>\n\
References: <req-1@acme.fr>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=c\n\
\n\
--c\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Here is the log you asked for.\n\
It stops at line 42.\n\
--c\n\
Content-Type: text/plain; name=trace.log\n\
Content-Disposition: attachment; filename=\"trace.log\"\n\
\n\
ERROR export: no rows\n\
--c--\n";

const NOTE: &str = "From: Alice <alice@vendor.example>\n\
To: support@example.com\n\
Subject: Re: Export broken\n\
Message-ID: <note-1@vendor.example>\n\
In-Reply-To: <req-1@acme.fr>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=d\n\
\n\
--d\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
#note Customer still runs the 2019 build, keep that between us.\n\
--d\n\
Content-Type: text/plain; name=internal-secret.txt\n\
Content-Disposition: attachment; filename=\"internal-secret.txt\"\n\
\n\
db password hunter2\n\
--d--\n";

const OTHER: &str = "From: j.smith@globex.com\n\
To: support@example.com\n\
Subject: Login loop\n\
Message-ID: <req-2@globex.com>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=e\n\
\n\
--e\n\
Content-Type: text/plain\n\
\n\
The app keeps asking for my password.\n\
--e\n\
Content-Type: application/pdf; name=other.pdf\n\
Content-Disposition: attachment; filename=\"other.pdf\"\n\
\n\
%PDF-1.4 not really\n\
--e--\n";

#[path = "support/database.rs"]
mod database;

#[path = "web/listener.rs"]
mod listener;
#[path = "web/portal.rs"]
mod portal;

use database::TestDb;

/// The configuration file as an operator writes it.
fn settings(dir: &Path, url: &str, with_tokens: bool) -> Settings {
    let tokens = if with_tokens {
        format!(
            "[[http.api_tokens]]\nname = \"desk\"\nsha256 = \"{}\"\n",
            hex::encode(Sha256::digest(API_TOKEN.as_bytes()))
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"
[database]
url = "{url}"
[outbox]
directory = "{dir}/outbox"
[intake]
own_addresses = ["support@example.com"]
[tickets]
team_addresses = ["@vendor.example"]
[http]
listen = "127.0.0.1:0"
{tokens}
[[products]]
name = "Atlas"
aliases = ["atlas erp"]
[[products]]
name = "Nova"
"#,
        dir = dir.display()
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    config::load(Some(&path), Some(Default::default())).unwrap()
}

/// A running server with its store.
struct Site {
    base: String,
    store: Store,
    settings: Arc<Settings>,
    http: reqwest::Client,
    _stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Site {
    async fn start(db: Option<&TestDb>, with_tokens: bool) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let url = match db {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}/mailgate.db", dir.path().display()),
        };
        let settings = Arc::new(settings(dir.path(), &url, with_tokens));
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
        Site {
            base,
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

    async fn file(&self, raw: &str) -> Filed {
        let decision = intake::decide(
            raw.as_bytes(),
            &self.settings.intake,
            &MailboxDefaults::default(),
        );
        let inbound = Inbound {
            source: SourceKind::File,
            mailbox: None,
            uidvalidity: None,
            uid: None,
            raw: raw.as_bytes(),
            digest: None,
        };
        self.store.file_message(&inbound, &decision).await.unwrap()
    }

    /// SUP-1 with its whole story, and SUP-2 beside it.
    async fn story(&self) {
        assert_eq!(
            self.file(&request()).await,
            Filed::Ticket {
                key: "SUP-1".into()
            }
        );
        assert_eq!(
            self.file(FOLLOW_UP).await,
            Filed::Comment {
                key: "SUP-1".into()
            }
        );
        assert_eq!(
            self.file(NOTE).await,
            Filed::Comment {
                key: "SUP-1".into()
            }
        );
        self.store
            .team_reply(
                "SUP-1",
                "alice@vendor.example",
                "We found the cause: the export skips empty rows.\nA fix ships tomorrow.",
                &[],
            )
            .await
            .unwrap();
        self.store
            .update_ticket(
                "SUP-1",
                "api:desk",
                &mailgate::store::FieldUpdate {
                    status: Some("resolved".into()),
                    ..Default::default()
                },
                Some("Fixed in 4.2.1."),
            )
            .await
            .unwrap();
        assert_eq!(
            self.file(OTHER).await,
            Filed::Ticket {
                key: "SUP-2".into()
            }
        );
        let t = self.store.ticket("SUP-1").await.unwrap();
        assert!(
            t.comments.iter().any(|c| c.visibility == "internal"),
            "the team's #note is an internal note"
        );
    }

    async fn token(&self, key: &str) -> String {
        self.store.ticket(key).await.unwrap().tracking_token
    }

    async fn attachment_id(&self, key: &str, filename: &str) -> i64 {
        let t = self.store.ticket(key).await.unwrap();
        t.attachments
            .iter()
            .find(|a| a.filename == filename)
            .unwrap_or_else(|| panic!("{filename} not on {key}: {:?}", t.attachments))
            .id
    }

    async fn get(&self, path: &str, language: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(language) = language {
            request = request.header("Accept-Language", language);
        }
        request.send().await.unwrap()
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api{path}", self.base))
            .bearer_auth(API_TOKEN)
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

fn assert_security_headers(response: &reqwest::Response) {
    assert_eq!(
        header(response, "content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "cache-control"), "no-store");
    assert_eq!(header(response, "x-robots-tag"), "noindex, nofollow");
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_page_in_english_and_french_shows_only_public_things_escaped() {
    let site = Site::start(None, true).await;
    site.story().await;
    let token = site.token("SUP-1").await;

    // The customer wrote in French: the page is French whatever the browser
    // asks, until the reader follows the link to the other language.
    let recorded = site
        .get(&format!("/t/{token}"), Some("en-US,en;q=0.9,fr;q=0.5"))
        .await;
    assert_eq!(header(&recorded, "content-language"), "fr");
    assert!((recorded.text().await.unwrap()).contains("href=\"?lang=en\""));
    let response = site
        .get(&format!("/t/{token}?lang=en"), Some("fr-FR,fr"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_security_headers(&response);
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&response, "content-language"), "en");
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("SUP-1"));
    assert!(
        html.contains("Export &lt;script&gt;document.title="),
        "{html}"
    );
    assert!(html.contains("name=\"viewport\""));
    for public in [
        "Resolved",
        "Open →",
        "L&#x27;export CSV est vide",
        "Here is the log you asked for.\nIt stops at line 42.",
        "We found the cause: the export skips empty rows.\nA fix ships tomorrow.",
        "Fixed in 4.2.1.",
        "Support team",
        "Marie Dupont",
        "export.csv",
        "trace.log",
        "page.html",
        "Atlas",
    ] {
        assert!(html.contains(public), "{public:?} missing from\n{html}");
    }
    // Nothing internal, no markup from the customer, no team addresses.
    for hidden in [
        "<script",
        "2019 build",
        "internal-secret",
        "hunter2",
        "alice@vendor.example",
        "api:desk",
        "<link",
        "http://",
        "https://",
    ] {
        assert!(!html.contains(hidden), "{hidden:?} shown in\n{html}");
    }

    let french = site
        .get(&format!("/t/{token}"), Some("fr-FR,fr;q=0.9,en;q=0.8"))
        .await;
    assert_eq!(header(&french, "content-language"), "fr");
    let french = french.text().await.unwrap();
    for word in [
        "<html lang=\"fr\">",
        "Résolue",
        "Ouverte →",
        "Équipe support",
        "Pièces jointes",
        "Fixed in 4.2.1.",
    ] {
        assert!(french.contains(word), "{word:?} missing from\n{french}");
    }
    assert!(!french.contains("2019 build"));
    let plain_fr = site.get(&format!("/t/{token}"), Some("fr")).await;
    assert!(plain_fr.text().await.unwrap().contains("Résolue"));
    // No header, or only other languages: the customer's language still;
    // a language we do not write is no choice.
    let default = site.get(&format!("/t/{token}"), None).await;
    assert!(default.text().await.unwrap().contains("Résolue"));
    let german = site
        .get(&format!("/t/{token}?lang=de"), Some("de-DE,de"))
        .await;
    assert!(german.text().await.unwrap().contains("Résolue"));

    // The home page says what this is and lists nothing.
    let home = site.get("/", Some("fr")).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_security_headers(&home);
    let home = home.text().await.unwrap();
    assert!(home.contains("Suivi des demandes"));
    assert!(!home.contains("SUP-"));
}

#[tokio::test]
async fn attachments_are_downloads_of_their_own_ticket_only() {
    let site = Site::start(None, true).await;
    site.story().await;
    let token = site.token("SUP-1").await;
    let other_token = site.token("SUP-2").await;

    let csv = site.attachment_id("SUP-1", "export.csv").await;
    let response = site
        .get(&format!("/t/{token}/attachments/{csv}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"export.csv\"; filename*=UTF-8''export.csv"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    assert_eq!(
        header(&response, "content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"a;b\n1;2");

    // HTML is never served as HTML.
    let html = site.attachment_id("SUP-1", "page.html").await;
    let response = site
        .get(&format!("/t/{token}/attachments/{html}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    assert!(header(&response, "content-disposition").starts_with("attachment;"));

    // A customer's text file of a follow-up.
    let log = site.attachment_id("SUP-1", "trace.log").await;
    let response = site
        .get(&format!("/t/{token}/attachments/{log}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/plain; charset="));

    // The PDF of SUP-2: through its own token only.
    let pdf = site.attachment_id("SUP-2", "other.pdf").await;
    let mine = site
        .get(&format!("/t/{other_token}/attachments/{pdf}"), None)
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(header(&mine, "content-type"), "application/pdf");
    let not_found = site
        .get(&format!("/t/{token}/attachments/{pdf}"), None)
        .await;
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&not_found);

    // The file of an internal note does not exist for the customer.
    let secret = site.attachment_id("SUP-1", "internal-secret.txt").await;
    let response = site
        .get(&format!("/t/{token}/attachments/{secret}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!response.text().await.unwrap().contains("hunter2"));

    for id in ["0", "-1", "abc", "99999", &format!("0{csv}"), "1e3"] {
        let response = site
            .get(&format!("/t/{token}/attachments/{id}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "id {id}");
    }
    let wrong_token = "0".repeat(40);
    let response = site
        .get(&format!("/t/{wrong_token}/attachments/{csv}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_and_malformed_tokens_get_the_same_404() {
    let site = Site::start(None, true).await;
    site.story().await;
    let token = site.token("SUP-1").await;
    let mut last_token_char = token.clone();
    let flipped = if token.ends_with('0') { '1' } else { '0' };
    last_token_char.pop();
    last_token_char.push(flipped);

    let mut bodies = Vec::new();
    for path in [
        format!("/t/{}", "0".repeat(40)),
        format!("/t/{last_token_char}"),
        format!("/t/{token}0"),
        "/t/nope".to_owned(),
        "/t/SUP-1".to_owned(),
        "/t/%ff%fe".to_owned(),
        format!("/t/{}", "g".repeat(40)),
    ] {
        let response = site.get(&path, Some("en")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_security_headers(&response);
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        bodies.push(response.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    assert!(bodies[0].contains("Page not found"));
    assert!(!bodies[0].contains("SUP-"));
    let french = site.get("/t/nope", Some("fr-CA")).await;
    assert!(french.text().await.unwrap().contains("Page introuvable"));
    for path in ["/tickets", "/t/", "/robots.txt", "/t/x/y"] {
        let response = site.get(path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A real token in upper case is the same token.
    let response = site
        .get(&format!("/t/{}", token.to_uppercase()), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unavailable_database_gives_503() {
    let site = Site::start(None, true).await;
    site.story().await;
    let token = site.token("SUP-1").await;
    site.store.close().await;
    let response = site.get(&format!("/t/{token}"), Some("fr")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_security_headers(&response);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Momentanément indisponible")
    );
    let api = site
        .api(reqwest::Method::GET, "/tickets")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(header(&response, "content-type"), "application/json");
    response.json().await.unwrap()
}

async fn api_story(db: Option<&TestDb>) {
    use reqwest::Method;
    let site = Site::start(db, true).await;
    site.story().await;

    // Authentication first, whatever the route.
    for (path, authorization) in [
        ("/tickets", None),
        ("/tickets", Some("Bearer wrong-token")),
        ("/tickets", Some(&*format!("Basic {API_TOKEN}"))),
        ("/tickets", Some("Bearer ")),
        ("/tickets/SUP-99", None),
        ("/no/such/route", None),
    ] {
        let mut request = site.http.get(format!("{}/api{path}", site.base));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{path} {authorization:?}"
        );
        assert!(header(&response, "www-authenticate").starts_with("Bearer"));
        assert!(json_of(response).await["error"].is_string());
    }
    let unauthenticated_post = site
        .http
        .post(format!("{}/api/tickets/SUP-1/notes", site.base))
        .json(&json!({"text": "sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated_post.status(), StatusCode::UNAUTHORIZED);

    // List, filtered list, one ticket.
    let list = json_of(site.api(Method::GET, "/tickets").send().await.unwrap()).await;
    let keys: Vec<&str> = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["SUP-2", "SUP-1"]);
    assert_eq!(list["tickets"][1]["comments"], json!(3));
    let open = json_of(
        site.api(Method::GET, "/tickets?status=open")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(open["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(open["tickets"][0]["key"], "SUP-2");
    assert_eq!(open["next_cursor"], Value::Null);
    // By page: the cursor of one page gives the next.
    let first = json_of(
        site.api(Method::GET, "/tickets?limit=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first["tickets"][0]["key"], "SUP-2");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json_of(
        site.api(Method::GET, &format!("/tickets?limit=1&cursor={cursor}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(second["tickets"][0]["key"], "SUP-1");
    assert_eq!(second["next_cursor"], Value::Null);
    // Words, with the line where they are.
    let found = json_of(
        site.api(Method::GET, "/tickets?q=EXPORT%20brok")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(found["tickets"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["tickets"][0]["key"], "SUP-1");
    assert!(
        found["tickets"][0]["snippet"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("export"),
        "{found}"
    );
    for bad in [
        "limit=0",
        "limit=201",
        "cursor=zzz",
        "q=%22%2A",
        "product=Nowhere",
    ] {
        let refused = site
            .api(Method::GET, &format!("/tickets?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let bad_status = site
        .api(Method::GET, "/tickets?status=sleeping")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_status.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json_of(bad_status).await["accepted"]
            .as_array()
            .unwrap()
            .contains(&json!("pending"))
    );

    let one = site
        .api(Method::GET, "/tickets/sup-1")
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    let one = json_of(one).await;
    assert_eq!(one["key"], "SUP-1");
    assert_eq!(one["status"], "resolved");
    assert!(one["comments"].as_array().unwrap().len() >= 4);
    assert!(one["tracking_url"].as_str().unwrap().contains("/t/"));
    for missing in ["/tickets/SUP-99", "/tickets/nonsense"] {
        let response = site.api(Method::GET, missing).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
        assert!(json_of(response).await["error"].is_string());
    }

    // A reply with a file.
    let before = site.store.ticket("SUP-2").await.unwrap();
    let response = site
        .api(Method::POST, "/tickets/SUP-2/replies")
        .json(&json!({
            "text": "Please sign out and in again.\nThen tell us.",
            "attachments": [{
                "filename": "../how to.txt",
                "content_type": "text/plain",
                "content_base64": base64::engine::general_purpose::STANDARD.encode("step 1\nstep 2\n"),
            }],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let done = json_of(response).await;
    assert_eq!(done["key"], "SUP-2");
    assert_eq!(done["mails"], json!(1));
    let after = site.store.ticket("SUP-2").await.unwrap();
    let reply = after.comments.last().unwrap();
    assert_eq!(reply.body, "Please sign out and in again.\nThen tell us.");
    assert_eq!(reply.author_email, "api:desk");
    assert_eq!(reply.author_role, "team");
    assert_eq!(reply.visibility, "public");
    let file = after
        .attachments
        .iter()
        .find(|a| a.comment_id == Some(reply.id))
        .expect("the reply's file");
    assert_eq!(file.filename, "how to.txt");
    assert_eq!(file.content_type, "text/plain");
    assert_eq!(file.size, 14);
    assert_eq!(
        site.store.blob(&file.sha256).await.unwrap(),
        b"step 1\nstep 2\n"
    );
    assert_eq!(after.replies.len(), before.replies.len() + 1);
    assert_eq!(after.replies.last().unwrap().kind, "reply");
    assert_eq!(
        after.replies.last().unwrap().recipients,
        "j.smith@globex.com"
    );

    // An internal note by a named person: no mail.
    let response = site
        .api(Method::POST, "/tickets/SUP-2/notes")
        .json(&json!({"text": "Known issue #118.", "author": "Alice@Vendor.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_of(response).await, json!({"key": "SUP-2", "mails": 0}));
    let noted = site.store.ticket("SUP-2").await.unwrap();
    let note = noted.comments.last().unwrap();
    assert_eq!(note.body, "Known issue #118.");
    assert_eq!(note.visibility, "internal");
    assert_eq!(note.author_email, "alice@vendor.example");
    assert_eq!(noted.replies.len(), after.replies.len());

    // Status and fields, with aliases read against the vocabulary.
    let response = site
        .api(Method::PATCH, "/tickets/SUP-2")
        .json(&json!({
            "status": "pending",
            "severity": "haute",
            "products": ["nova", "atlas erp", "Nova"],
            "request_type": "bug",
            "message": "Does it work now?",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await, json!({"key": "SUP-2", "mails": 1}));
    let patched = site.store.ticket("SUP-2").await.unwrap();
    assert_eq!(patched.status, "pending");
    assert_eq!(patched.severity, "high");
    assert_eq!(patched.products, ["Nova", "Atlas"]);
    assert_eq!(patched.request_type, "support");
    let status = patched
        .events
        .iter()
        .find(|e| e.kind == "status")
        .expect("a status event");
    assert_eq!(status.old_value.as_deref(), Some("open"));
    assert_eq!(status.new_value.as_deref(), Some("pending"));
    assert_eq!(status.actor, "api:desk");
    assert!(status.public.0);
    assert!(
        patched
            .events
            .iter()
            .any(|e| e.kind == "field" && e.field.as_deref() == Some("severity"))
    );
    assert_eq!(patched.comments.last().unwrap().body, "Does it work now?");
    assert_eq!(patched.replies.last().unwrap().kind, "status");

    // The assignee alone: Bob is told; lists find his tickets; `null`
    // takes it back, without a mail.
    let response = site
        .api(Method::PATCH, "/tickets/SUP-2")
        .json(&json!({"assignee": "Bob@Vendor.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await, json!({"key": "SUP-2", "mails": 1}));
    let assigned = site.store.ticket("SUP-2").await.unwrap();
    assert_eq!(assigned.assignee.as_deref(), Some("bob@vendor.example"));
    assert_eq!(assigned.replies.last().unwrap().kind, "assignment");
    let mine = site
        .api(Method::GET, "/tickets?assignee=bob@vendor.example")
        .send()
        .await
        .unwrap();
    let mine = json_of(mine).await;
    let listed: Vec<_> = mine["tickets"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1, "{mine}");
    assert_eq!(listed[0]["key"], "SUP-2");
    assert_eq!(listed[0]["assignee"], "bob@vendor.example");
    let response = site
        .api(Method::PATCH, "/tickets/SUP-2")
        .json(&json!({"assignee": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await, json!({"key": "SUP-2", "mails": 0}));
    assert_eq!(site.store.ticket("SUP-2").await.unwrap().assignee, None);
    let bad = site
        .api(Method::PATCH, "/tickets/SUP-2")
        .json(&json!({"assignee": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Watchers: 201 when added, 200 when already there; removed with 200,
    // 404 when absent; each recorded by whom.
    let watch = |body: Value| {
        site.api(Method::POST, "/tickets/SUP-2/watchers")
            .json(&body)
            .send()
    };
    let response = watch(json!({"email": "Lucie@Acme.fr", "author": "carol@vendor.example"}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        json_of(response).await,
        json!({"key": "SUP-2", "email": "lucie@acme.fr", "changed": true})
    );
    let response = watch(json!({"email": "lucie@acme.fr"})).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["changed"], json!(false));
    for (body, status) in [
        (json!({"email": "lucie"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"mail": "lucie@acme.fr"}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            watch(body.clone()).await.unwrap().status(),
            status,
            "{body}"
        );
    }
    let missing = site
        .api(Method::POST, "/tickets/SUP-99/watchers")
        .json(&json!({"email": "lucie@acme.fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let watched = site.store.ticket("SUP-2").await.unwrap();
    assert!(watched.watchers.iter().any(|w| w.email == "lucie@acme.fr"));
    let event = watched.events.iter().find(|e| e.kind == "watcher").unwrap();
    assert_eq!(
        (event.new_value.as_deref(), event.actor.as_str()),
        (Some("lucie@acme.fr"), "carol@vendor.example")
    );
    let unwatch = || {
        site.api(Method::DELETE, "/tickets/SUP-2/watchers/lucie%40acme.fr")
            .send()
    };
    let response = unwatch().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["changed"], json!(true));
    let response = unwatch().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(json_of(response).await["error"].is_string());
    let unwatched = site.store.ticket("SUP-2").await.unwrap();
    assert!(
        !unwatched
            .watchers
            .iter()
            .any(|w| w.email == "lucie@acme.fr")
    );
    let event = unwatched
        .events
        .iter()
        .rfind(|e| e.kind == "watcher")
        .unwrap();
    assert_eq!(
        (event.old_value.as_deref(), event.actor.as_str()),
        (Some("lucie@acme.fr"), "api:desk")
    );

    // Refused values: 422 naming what is accepted; malformed bodies: 400.
    for (body, status) in [
        (
            json!({"status": "sleeping"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"severity": "apocalyptic"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"products": ["Zephyr"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"request_type": "gossip"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message": "Hello"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"status": "resolved", "author": "not an address"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"colour": "red"}), StatusCode::BAD_REQUEST),
        (json!({"status": 3}), StatusCode::BAD_REQUEST),
    ] {
        let response = site
            .api(Method::PATCH, "/tickets/SUP-2")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        let error = json_of(response).await;
        assert!(error["error"].is_string(), "{error}");
        if body.get("severity").is_some() {
            assert!(
                error["accepted"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("high"))
            );
        }
    }
    let not_json = site
        .api(Method::POST, "/tickets/SUP-2/notes")
        .header("Content-Type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(not_json).await["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let bad_file = site
        .api(Method::POST, "/tickets/SUP-2/replies")
        .json(&json!({"text": "x", "attachments": [{"filename": "a", "content_base64": "%%%"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_file.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = site
        .api(Method::POST, "/tickets/SUP-99/replies")
        .json(&json!({"text": "Hello?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let wrong_method = site
        .api(Method::DELETE, "/tickets/SUP-2")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Nothing refused was written.
    let unchanged = site.store.ticket("SUP-2").await.unwrap();
    assert_eq!(unchanged.status, "pending");
    assert_eq!(unchanged.comments.len(), patched.comments.len());

    // The customer sees the reply and its file, not the note.
    let token = site.token("SUP-2").await;
    let page = site
        .get(&format!("/t/{token}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Please sign out and in again."));
    assert!(page.contains("how to.txt"));
    assert!(page.contains("Does it work now?"));
    assert!(page.contains("Waiting for your reply"));
    assert!(!page.contains("Known issue"));

    // Merging: SUP-2 into SUP-1, answered with what moved; a second time,
    // an unknown target or a malformed body are refused.
    let merge = |body: Value| {
        site.api(Method::POST, "/tickets/SUP-2/merge")
            .json(&body)
            .send()
    };
    let response = merge(json!({"into": "SUP-1"})).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let merged = json_of(response).await;
    assert_eq!(
        (&merged["source"], &merged["target"]),
        (&json!("SUP-2"), &json!("SUP-1")),
        "{merged}"
    );
    assert!(merged["comments"].as_u64().unwrap() >= 1, "{merged}");
    let source = site.store.ticket("SUP-2").await.unwrap();
    assert_eq!(source.merged_into.as_deref(), Some("SUP-1"));
    let shown = json_of(
        site.api(Method::GET, "/tickets/SUP-2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (&shown["status"], &shown["merged_into"]),
        (&json!("merged"), &json!("SUP-1"))
    );
    for (body, status) in [
        (json!({"into": "SUP-1"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"into": "SUP-99"}), StatusCode::NOT_FOUND),
        (json!({"target": "SUP-1"}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            merge(body.clone()).await.unwrap().status(),
            status,
            "{body}"
        );
    }

    // Erasure for the team's tools: counted dry, then done, then nothing
    // left to erase; a wrong choice is refused.
    let path = "/customers/J.Smith@globex.com";
    let dry = json_of(
        site.api(Method::DELETE, &format!("{path}?dry_run=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(dry["dry_run"], json!(true), "{dry}");
    assert_eq!(dry["erasure_log"], Value::Null);
    assert!(
        dry["counts"].as_object().is_some_and(|c| !c.is_empty()),
        "{dry}"
    );
    assert_eq!(
        site.store.ticket("SUP-2").await.unwrap().reporter_email,
        "j.smith@globex.com"
    );
    let refused = site
        .api(Method::DELETE, &format!("{path}?tickets=burn"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = json_of(site.api(Method::DELETE, path).send().await.unwrap()).await;
    let pseudonym = done["pseudonym"].as_str().unwrap();
    assert!(
        pseudonym.starts_with("erased-") && pseudonym.ends_with("@invalid"),
        "{done}"
    );
    let erased = site.store.ticket("SUP-2").await.unwrap();
    assert_eq!(erased.reporter_email, pseudonym);
    assert_eq!(erased.description, mailgate::store::ERASED);
    let again = site.api(Method::DELETE, path).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    site.store.close().await;
}

#[tokio::test]
async fn api_on_sqlite() {
    api_story(None).await;
}

#[tokio::test]
async fn api_on_postgres() {
    let Some(db) = TestDb::postgres("web_api").await else {
        return;
    };
    api_story(Some(&db)).await;
    db.drop_pg().await;
}

#[tokio::test]
async fn without_api_tokens_the_api_is_off() {
    let site = Site::start(None, false).await;
    site.story().await;
    for path in ["/tickets", "/tickets/SUP-1"] {
        let response = site.api(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            json_of(response).await["error"]
                .as_str()
                .unwrap()
                .contains("api_tokens")
        );
    }
    // The tracking page does not need them.
    let token = site.token("SUP-1").await;
    assert_eq!(
        site.get(&format!("/t/{token}"), None).await.status(),
        StatusCode::OK
    );
}

/// Runs the Debian `chromium` headless with a profile of its own.
async fn chromium(args: &[String]) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/test, which installs the Debian package chromium \
         (or apt-get install -y chromium)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(CHROMIUM);
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
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("chromium did not finish within 120 s")
        .expect("chromium runs")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_shows_the_page_on_a_phone() {
    let site = Site::start(None, true).await;
    site.story().await;
    let url = format!("{}/t/{}", site.base, site.token("SUP-1").await);

    // The DOM as Chromium built it, asking for French.
    let out = chromium(&[
        "--accept-lang=fr-FR,fr".to_owned(),
        "--dump-dom".to_owned(),
        url.clone(),
    ])
    .await;
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("SUP-1"),
        "chromium failed ({}):\n{dom}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dom.contains("<html lang=\"fr\">"), "{dom}");
    assert!(dom.contains("Résolue"));
    // The script is text in the summary and the description, and no
    // element: nothing ran, the title is the page's own.
    assert!(
        dom.contains("Export &lt;script&gt;document.title='pwned'&lt;/script&gt; broken"),
        "{dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .unwrap_or_default();
    assert!(title.starts_with("SUP-1 · Export"), "title {title:?}");
    assert_ne!(title, "pwned");
    assert!(!dom.contains("internal-secret"));

    // What a phone shows (390×844 CSS pixels), in English.
    let png = artifacts().join("tracking-page.png");
    let _ = std::fs::remove_file(&png);
    let out = chromium(&[
        format!("--screenshot={}", png.display()),
        "--window-size=390,844".to_owned(),
        "--accept-lang=en-US,en".to_owned(),
        url,
    ])
    .await;
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}): {}\n{}",
            png.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // Width and height from the IHDR chunk.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (390, 844));
    assert!(
        bytes.len() > 20_000,
        "a {}-byte screenshot is too small to hold the page",
        bytes.len()
    );
}
