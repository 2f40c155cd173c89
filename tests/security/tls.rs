//! An SMTP server whose certificate is not trusted (issued for 127.0.0.1
//! by a private CA, made with `openssl`) is refused by `mailgate check` and by the
//! sender of `mailgate run --once`, with implicit TLS and with STARTTLS,
//! before any AUTH: the server sees the client abort the handshake with an
//! alert, and never a password. (IMAP: tests/daemon.rs and
//! tests/daemon/check.rs.)

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::support;

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    connections: usize,
    handshakes: usize,
    handshake_errors: Vec<String>,
    /// Every command line, before and after TLS.
    commands: Vec<String>,
}

/// A server certificate for 127.0.0.1 issued by a private CA of its own
/// (what many companies' mail servers have), or `None` without `openssl`.
fn untrusted_acceptor(dir: &Path) -> Option<TlsAcceptor> {
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    for args in [
        format!("req -x509 {ec} -days 2 -subj /CN=Untrusted-test-CA -keyout ca.key -out ca.pem"),
        format!("req {ec} -subj /CN=127.0.0.1 -keyout key.pem -out leaf.csr"),
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext -out cert.pem".to_owned(),
    ] {
        let made = Command::new("openssl")
            .args(args.split(' '))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "openssl is required in CI"
            );
            eprintln!("\n*** SKIPPED: openssl cannot make certificates (openssl {args}) ***\n");
            return None;
        }
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let chain = [read("cert.pem"), read("ca.pem")].concat();
    let certs = rustls_pemfile::certs(&mut &chain[..])
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut &read("key.pem")[..])
        .unwrap()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    Some(TlsAcceptor::from(Arc::new(config)))
}

/// Answers SMTP commands as a server that accepts everything would.
async fn dialog<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    seen: &Mutex<Seen>,
    greet: bool,
    starttls: bool,
) -> Option<S> {
    let mut stream = BufReader::new(stream);
    if greet {
        stream.write_all(b"220 fake ESMTP\r\n").await.ok()?;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let command = line.trim_end().to_owned();
        seen.lock().unwrap().commands.push(command.clone());
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            if starttls {
                b"250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
            } else {
                b"250-fake\r\n250 AUTH PLAIN LOGIN\r\n"
            }
        } else if upper == "STARTTLS" && starttls {
            stream.write_all(b"220 2.0.0 go ahead\r\n").await.ok()?;
            return Some(stream.into_inner());
        } else if upper.starts_with("AUTH") {
            b"235 2.7.0 accepted\r\n"
        } else if upper == "DATA" {
            stream.write_all(b"354 go on\r\n").await.ok()?;
            loop {
                line.clear();
                if stream.read_line(&mut line).await.ok()? == 0 || line == ".\r\n" {
                    break;
                }
            }
            b"250 2.0.0 queued\r\n"
        } else if upper == "QUIT" {
            let _ = stream.write_all(b"221 bye\r\n").await;
            return None;
        } else {
            b"250 ok\r\n"
        };
        stream.write_all(reply).await.ok()?;
    }
}

/// A fake SMTP server on loopback: implicit TLS, or plain text offering
/// STARTTLS (and AUTH before it, which a client must not take).
async fn server(acceptor: TlsAcceptor, implicit: bool) -> (u16, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&state));
            tokio::spawn(async move {
                seen.lock().unwrap().connections += 1;
                let tcp = if implicit {
                    tcp
                } else {
                    match dialog(tcp, &seen, true, true).await {
                        Some(tcp) => tcp,
                        None => return,
                    }
                };
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        seen.lock().unwrap().handshakes += 1;
                        dialog(tls, &seen, implicit, false).await;
                    }
                    Err(e) => seen.lock().unwrap().handshake_errors.push(e.to_string()),
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_with_an_untrusted_certificate_gets_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let Some(acceptor) = untrusted_acceptor(dir.path()) else {
        return;
    };
    for (mode, implicit) in [("implicit", true), ("starttls", false)] {
        let (port, seen) = server(acceptor.clone(), implicit).await;
        let work = dir.path().join(mode);
        std::fs::create_dir_all(&work).unwrap();
        let config = work.join("mailgate.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n[outbox]\ndirectory = \"{dir}/outbox\"\n[intake]\nown_addresses = [\"support@example.com\"]\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{mode}\"\nusername = \"mailgate\"\npassword = \"never-sent-7Hq2\"\nfrom = \"support@example.com\"\n[[maildirs]]\nname = \"inbox\"\npath = \"{dir}/inbox\"\n",
                dir = work.display()
            ),
        )
        .unwrap();

        let out = support::mailgate(&config, &["check"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{mode}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let failed = stdout
            .lines()
            .find(|l| l.starts_with(&format!("✗ smtp 127.0.0.1:{port}")))
            .unwrap_or_else(|| panic!("{mode}: {stdout}"));
        assert!(
            failed.contains("certificate not trusted"),
            "{mode}: {failed}"
        );

        // A confirmation waiting, then the sender's attempt.
        let mut child = support::mailgate(&config, &["ingest"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            &mut child.stdin.take().unwrap(),
            support::message(1).as_bytes(),
        )
        .unwrap();
        assert!(child.wait().unwrap().success());
        let (_, stderr) = support::run_once(&config);

        let store = mailgate::store::Store::open(
            &format!("sqlite://{}/mailgate.db", work.display()),
            "SUP",
        )
        .await
        .unwrap();
        let rows = store.list_outbox().await.unwrap();
        store.close().await;
        assert_eq!(rows.len(), 1, "{mode}");
        assert_ne!(rows[0].status, "sent", "{mode}: {rows:?}\n{stderr}");
        assert!(
            rows[0].last_error.as_deref().is_some_and(
                |e| e.to_lowercase().contains("certificate") || e.contains("UnknownIssuer")
            ),
            "{mode}: {rows:?}"
        );

        let seen = seen.lock().unwrap();
        assert!(seen.connections >= 2, "{mode}: {seen:?}");
        assert_eq!(seen.handshakes, 0, "{mode}: {seen:?}");
        assert!(
            !seen.handshake_errors.is_empty()
                && seen.handshake_errors.iter().all(|e| e.contains("alert")),
            "{mode}: the client refused: {seen:?}"
        );
        assert!(
            seen.commands
                .iter()
                .all(|c| !c.to_ascii_uppercase().starts_with("AUTH")),
            "{mode}: AUTH sent: {seen:?}"
        );
        if !implicit {
            assert!(seen.commands.iter().any(|c| c == "STARTTLS"), "{seen:?}");
        }
    }
}
