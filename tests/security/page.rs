//! A message with dangerous attachment names and markup, filed by
//! `mailgate ingest`, then its tracking page and downloads over HTTP (the
//! router of `mailgate run`, as tests/web.rs serves it) and, when Chromium
//! is there, the DOM a browser builds from the page.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use mailgate::config;
use regex::Regex;
use tokio::sync::watch;

use crate::support;

/// Sets the title if it ever runs.
const SCRIPT: &str = "<script>document.title='pwned'</script>";
const CHROMIUM: &str = "/usr/bin/chromium";

/// (Content-Disposition parameters, what safe_filename makes of them, content).
fn parts() -> Vec<(String, String, String)> {
    let long = "x".repeat(4000);
    let truncated = format!("{}.pdf", "x".repeat(251));
    let dotted = format!("{}.{}", "y".repeat(254), "z".repeat(20));
    [
        ("filename=\"../../etc/passwd\"", "passwd"),
        ("filename=\"/etc/shadow\"", "shadow"),
        ("filename=\"C:\\\\Windows\\\\win.ini\"", "win.ini"),
        ("filename=\"..\\\\..\\\\boot.ini\"", "boot.ini"),
        ("filename*=utf-8''nul%00byte.txt", "nul byte.txt"),
        ("filename*=utf-8''%00%00", "attachment-6.txt"),
        ("filename=\"CON\"", "_CON"),
        ("filename=\"aux.pdf\"", "_aux.pdf"),
        ("filename=\".htaccess\"", "htaccess"),
        (&*format!("filename=\"{long}.pdf\""), &*truncated),
        // No extension to keep (over 16 bytes): cut at 255 bytes, where a
        // dot was, and no trailing dot left.
        (&*format!("filename=\"{dotted}\""), &*"y".repeat(254)),
        (
            "filename=\"<img src=x onerror=alert(1)>.html\"",
            "_img src=x onerror=alert(1)_.html",
        ),
        ("filename=\"javascript:alert(1)\"", "javascript_alert(1)"),
        (
            "filename=\"\\\" onmouseover=\\\"alert(1)\\\".txt\"",
            "_ onmouseover=_alert(1)_.txt",
        ),
        ("filename=\"invoice\u{202e}fdp.exe\"", "invoice fdp.exe"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (params, safe))| {
        (
            (*params).to_owned(),
            (*safe).to_owned(),
            format!("content of part {}\n", i + 1),
        )
    })
    .collect()
}

fn message() -> String {
    let mut raw = format!(
        "From: Eve <eve@evil.example>\n\
To: support@example.com\n\
Subject: Help {SCRIPT} <a href=\"javascript:alert(1)\">click</a> javascript:alert(2)\n\
Message-ID: <names-1@evil.example>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\
\n\
--b\n\
Content-Type: text/html; charset=utf-8\n\
\n\
<p>Hello {SCRIPT}</p>\n\
<p><a href=\"javascript:alert(3)\">open me</a> <a href=\" JaVaScRiPt:alert(4)\">x</a>\n\
<img src=x onerror=\"document.title='pwned'\"><iframe src=\"javascript:alert(5)\"></iframe>\n\
<a href=\"data:text/html,&lt;script&gt;alert(6)&lt;/script&gt;\">data</a></p>\n\
<p>&lt;a href=\"javascript:alert(7)\"&gt;escaped&lt;/a&gt;</p>\n"
    );
    for (params, _, content) in parts() {
        raw.push_str(&format!(
            "--b\nContent-Type: text/plain\nContent-Disposition: attachment; {params}\n\n{content}"
        ));
    }
    raw.push_str("--b--\n");
    raw
}

/// Runs the Debian `chromium` headless with a profile of its own (as
/// tests/web.rs does).
async fn chromium(args: &[String]) -> std::process::Output {
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
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("chromium did not finish within 120 s")
        .expect("chromium runs")
}

/// `%XX` escapes decoded, as UTF-8.
fn percent_decoded(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// Markup that could run anything: script elements, event handler
/// attributes, frames, objects, and links or sources that are not the
/// page's own downloads.
fn dangerous_markup(html: &str, token: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = html.to_lowercase();
    for element in [
        "<script",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<svg",
        "<form",
        "<base",
        "<meta http",
    ] {
        if lower.contains(element) {
            found.push(format!("element {element}"));
        }
    }
    // Attributes inside tags only: the same text escaped is harmless.
    let tag = Regex::new(r"<[a-zA-Z][^>]*>").unwrap();
    let handler = Regex::new(r"(?i)\son[a-z]+\s*=").unwrap();
    let url = Regex::new(
        r#"(?i)\s(href|src|srcset|action|formaction|xlink:href)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
    )
    .unwrap();
    // The ticket's own downloads, and the same page in the other language.
    let own = Regex::new(&format!(r"^({token}/attachments/[0-9]+|\?lang=(en|fr))$")).unwrap();
    for tag in tag.find_iter(html).map(|m| m.as_str()) {
        if handler.is_match(tag) {
            found.push(format!("handler in {tag}"));
        }
        for caps in url.captures_iter(tag) {
            let value = caps[2].trim_matches(['"', '\'']);
            if !own.is_match(value) {
                found.push(format!("{}={value:?} in {tag}", &caps[1]));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangerous_names_and_links_are_harmless_on_the_tracking_page() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("mailgate.toml");
    std::fs::write(
        &config_path,
        format!(
            "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n[outbox]\ndirectory = \"{dir}/outbox\"\n[intake]\nown_addresses = [\"support@example.com\"]\n[http]\nlisten = \"127.0.0.1:0\"\n",
            dir = dir.path().display()
        ),
    )
    .unwrap();
    let raw = message();
    let mut child = support::mailgate(&config_path, &["ingest"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), raw.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "-: SUP-1 created"
    );

    let settings = Arc::new(config::load(Some(&config_path), Some(Default::default())).unwrap());
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let listener = mailgate::web::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, shutdown) = watch::channel(false);
    tokio::spawn(mailgate::web::serve(
        listener,
        mailgate::web::router(settings.clone(), store.clone()),
        settings.http_limits,
        shutdown,
    ));
    let http = reqwest::Client::new();

    // The names as stored: the last path component, no NUL, no device
    // name, at most 255 bytes with the extension kept.
    let ticket = store.ticket("SUP-1").await.unwrap();
    let stored: Vec<&str> = ticket
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    let expected: Vec<(String, String, String)> = parts();
    assert_eq!(
        stored,
        expected
            .iter()
            .map(|(_, safe, _)| safe.as_str())
            .collect::<Vec<_>>()
    );

    // The page: every name shown, escaped; nothing that runs or navigates
    // anywhere but to the ticket's own downloads.
    let token = ticket.tracking_token.clone();
    let html = http
        .get(format!("{base}/t/{token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let found = dangerous_markup(&html, &token);
    assert!(found.is_empty(), "{found:?} in\n{html}");
    // One link per file, and the switch to the other language.
    assert_eq!(html.matches("<a ").count(), stored.len() + 1, "{html}");
    assert_eq!(html.matches("href=\"?lang=").count(), 1, "{html}");
    for shown in [
        "Help &lt;script&gt;document.title=",
        "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;&#x2f;a&gt;",
        "_img src=x onerror=alert(1)_.html",
        "_ onmouseover=_alert(1)_.txt",
        "passwd",
        "_CON",
    ] {
        assert!(html.contains(shown), "{shown:?} missing from\n{html}");
    }
    assert!(!html.contains('\0'));

    // Each download: an attachment, never a page; a safe name both ways;
    // the very bytes received.
    for (record, (_, safe, content)) in ticket.attachments.iter().zip(&expected) {
        let response = http
            .get(format!("{base}/t/{token}/attachments/{}", record.id))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{safe}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let disposition = header("content-disposition");
        let fallback = disposition
            .strip_prefix("attachment; filename=\"")
            .and_then(|rest| rest.split_once("\"; filename*=UTF-8''"))
            .unwrap_or_else(|| panic!("{disposition:?}"));
        let (ascii, encoded) = fallback;
        assert!(
            !ascii.contains(['/', '\\', '"', '%']) && !ascii.chars().any(char::is_control),
            "{disposition:?}"
        );
        assert!(
            !ascii.starts_with('.') && ascii.len() <= 255,
            "{disposition:?}"
        );
        assert_eq!(percent_decoded(encoded), *safe, "{disposition:?}");
        assert_eq!(header("content-type"), "text/plain; charset=utf-8");
        assert_eq!(header("x-content-type-options"), "nosniff");
        // The line break before the next boundary belongs to the boundary.
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            content.trim_end().as_bytes()
        );
    }

    // What a browser makes of it: nothing ran, no element from the mail.
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{CHROMIUM} is required in CI"
        );
        eprintln!("\n*** SKIPPED the browser half: {CHROMIUM} is not installed ***\n");
        return;
    }
    let out = chromium(&["--dump-dom".to_owned(), format!("{base}/t/{token}")]).await;
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("SUP-1"),
        "chromium failed ({}):\n{dom}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let found = dangerous_markup(&dom, &token);
    assert!(found.is_empty(), "{found:?} in the DOM\n{dom}");
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .unwrap_or_default();
    assert!(title.starts_with("SUP-1 · Help"), "title {title:?}");
    // The subject is in the title as text; a script that ran would have
    // made the title `pwned` and nothing else.
    assert_ne!(title, "pwned");
    store.close().await;
}
