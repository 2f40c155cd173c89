//! Server misbehaviour that a real Dovecot cannot be made to produce, played
//! by a small scripted IMAP peer on loopback: silence after the greeting,
//! `* BYE` in the middle of a FETCH, a connection cut inside a literal, a
//! half-written line followed by silence, and a reconnection after a BYE.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::support::{
    Daemon, db_counts, mailbox_toml, mailgate, message, wait_until, write_config,
};

const GREETING: &str = "* OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS] ready\r\n";
const UIDVALIDITY: u32 = 7;

/// What the peer does on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    /// A well-behaved server.
    Behave,
    /// Greets, then reads every command and never answers.
    SilentAfterGreeting,
    /// Answers the `BODY.PEEK[]` FETCH with the first message only, then
    /// `* BYE` and closes the connection.
    ByeAfterFirstBody,
    /// Answers the `BODY.PEEK[]` FETCH in full except for the last message,
    /// of which only half the announced literal is sent before closing.
    CloseMidLiteral,
    /// Starts answering the `RFC822.SIZE` FETCH, stops in the middle of the
    /// line and says nothing more (the connection stays open).
    HalfLineThenSilence,
    /// Advertises IDLE but answers it with BAD; otherwise well-behaved.
    RefuseIdle,
}

#[derive(Default)]
struct State {
    /// The INBOX: UID to raw message (CRLF line ends).
    inbox: BTreeMap<u32, Vec<u8>>,
    /// UIDs that were moved, with the target folder.
    moved: Vec<(u32, String)>,
    /// Every command line received: (connection number, line).
    received: Vec<(usize, String)>,
    connections: usize,
}

/// A scripted IMAP server on 127.0.0.1. Connection `n` follows `scripts[n]`
/// (the last script repeats); the INBOX is shared by all connections, so a
/// message moved on one is gone on the next.
struct Peer {
    port: u16,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl Peer {
    async fn start(messages: &[String], scripts: &[Script]) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = messages
            .iter()
            .zip(1..)
            .map(|(m, uid)| (uid, m.replace('\n', "\r\n").into_bytes()))
            .collect();
        let state = Arc::new(Mutex::new(State {
            inbox,
            ..State::default()
        }));
        let scripts = scripts.to_vec();
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            // Dropped with the accept task, which aborts every connection.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let n = {
                    let mut s = shared.lock().unwrap();
                    s.connections += 1;
                    s.connections - 1
                };
                let script = scripts[n.min(scripts.len() - 1)];
                let state = Arc::clone(&shared);
                connections.spawn(async move {
                    let _ = serve(stream, n, script, &state).await;
                });
            }
        });
        Peer {
            port,
            state,
            accept,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn moved(&self) -> Vec<u32> {
        let mut uids: Vec<u32> = self.state().moved.iter().map(|(uid, _)| *uid).collect();
        uids.sort_unstable();
        uids
    }

    fn connections(&self) -> usize {
        self.state().connections
    }

    /// The command lines received, for assertion messages.
    fn transcript(&self) -> String {
        self.state()
            .received
            .iter()
            .map(|(n, line)| format!("  [{n}] {line}\n"))
            .collect()
    }

    fn received(&self, word: &str) -> bool {
        self.state()
            .received
            .iter()
            .any(|(_, line)| line.contains(word))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `1:3,5` (or `*`) against the INBOX: the UIDs present, ascending.
fn uids_in(set: &str, inbox: &BTreeMap<u32, Vec<u8>>) -> Vec<u32> {
    let last = inbox.keys().next_back().copied().unwrap_or(0);
    let bound = |s: &str| {
        if s == "*" {
            last
        } else {
            s.parse().unwrap_or(0)
        }
    };
    inbox
        .keys()
        .copied()
        .filter(|uid| {
            set.split(',').any(|part| match part.split_once(':') {
                Some((a, b)) => {
                    let (a, b) = (bound(a), bound(b));
                    (a.min(b)..=a.max(b)).contains(uid)
                }
                None => bound(part) == *uid,
            })
        })
        .collect()
}

/// Sequence number of a UID in the INBOX.
fn seq(inbox: &BTreeMap<u32, Vec<u8>>, uid: u32) -> usize {
    inbox.keys().position(|u| *u == uid).unwrap_or(0) + 1
}

async fn send(w: &mut OwnedWriteHalf, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes).await?;
    w.flush().await
}

/// One connection. Returning drops the socket, which closes it.
async fn serve(
    stream: TcpStream,
    n: usize,
    script: Script,
    state: &Mutex<State>,
) -> io::Result<()> {
    let (read, mut w) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    send(&mut w, GREETING.as_bytes()).await?;
    let mut silent = script == Script::SilentAfterGreeting;
    while let Some(line) = lines.next_line().await? {
        let line = line.trim_end_matches('\r').to_owned();
        state.lock().unwrap().received.push((n, line.clone()));
        if silent {
            continue;
        }
        let (tag, command) = line.split_once(' ').unwrap_or((&line, ""));
        let words: Vec<&str> = command.split(' ').collect();
        let verb = words[0].to_ascii_uppercase();
        let uid_verb = words.get(1).map(|w| w.to_ascii_uppercase());
        let reply = match (verb.as_str(), uid_verb.as_deref()) {
            ("LOGIN", _) => format!("{tag} OK logged in\r\n"),
            ("CAPABILITY", _) => {
                format!("* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS\r\n{tag} OK done\r\n")
            }
            ("LIST", _) => {
                let name = words.last().unwrap_or(&"").trim_matches('"');
                format!("* LIST (\\HasNoChildren) \"/\" {name}\r\n{tag} OK done\r\n")
            }
            ("SELECT", _) => {
                let s = state.lock().unwrap();
                let next = s.inbox.keys().next_back().map_or(1, |u| u + 1);
                format!(
                    "* {} EXISTS\r\n* OK [UIDVALIDITY {UIDVALIDITY}] x\r\n* OK [UIDNEXT {next}] x\r\n{tag} OK [READ-WRITE] x\r\n",
                    s.inbox.len()
                )
            }
            ("UID", Some("SEARCH")) => {
                let s = state.lock().unwrap();
                let uids: String = s.inbox.keys().map(|u| format!(" {u}")).collect();
                format!("* SEARCH{uids}\r\n{tag} OK done\r\n")
            }
            ("UID", Some("FETCH")) if command.contains("RFC822.SIZE") => {
                let sizes: Vec<(usize, u32, usize)> = {
                    let s = state.lock().unwrap();
                    uids_in(words[2], &s.inbox)
                        .into_iter()
                        .map(|u| (seq(&s.inbox, u), u, s.inbox[&u].len()))
                        .collect()
                };
                if script == Script::HalfLineThenSilence {
                    send(&mut w, b"* 1 FETCH (UID 1 RFC8").await?;
                    silent = true;
                    continue;
                }
                let mut reply: String = sizes
                    .iter()
                    .map(|(seq, uid, size)| {
                        format!("* {seq} FETCH (UID {uid} RFC822.SIZE {size})\r\n")
                    })
                    .collect();
                reply.push_str(&format!("{tag} OK done\r\n"));
                reply
            }
            ("UID", Some("FETCH")) if command.contains("BODY.PEEK[]") => {
                let bodies: Vec<(usize, u32, Vec<u8>)> = {
                    let s = state.lock().unwrap();
                    uids_in(words[2], &s.inbox)
                        .into_iter()
                        .map(|u| (seq(&s.inbox, u), u, s.inbox[&u].clone()))
                        .collect()
                };
                for (i, (seq, uid, raw)) in bodies.iter().enumerate() {
                    let last = i + 1 == bodies.len();
                    let head = format!("* {seq} FETCH (UID {uid} BODY[] {{{}}}\r\n", raw.len());
                    send(&mut w, head.as_bytes()).await?;
                    if script == Script::CloseMidLiteral && last {
                        send(&mut w, &raw[..raw.len() / 2]).await?;
                        return Ok(());
                    }
                    send(&mut w, raw).await?;
                    send(&mut w, b")\r\n").await?;
                    if script == Script::ByeAfterFirstBody {
                        send(&mut w, b"* BYE shutting down\r\n").await?;
                        return Ok(());
                    }
                }
                format!("{tag} OK done\r\n")
            }
            ("UID", Some("MOVE")) => {
                let folder = words.get(3).unwrap_or(&"").trim_matches('"').to_owned();
                let mut s = state.lock().unwrap();
                for uid in uids_in(words[2], &s.inbox) {
                    s.inbox.remove(&uid);
                    s.moved.push((uid, folder.clone()));
                }
                format!("{tag} OK moved\r\n")
            }
            ("IDLE", _) if script == Script::RefuseIdle => {
                format!("{tag} BAD IDLE is disabled here\r\n")
            }
            ("IDLE", _) => {
                send(&mut w, b"+ idling\r\n").await?;
                match lines.next_line().await? {
                    Some(done) => state.lock().unwrap().received.push((n, done)),
                    None => return Ok(()),
                }
                format!("{tag} OK idle done\r\n")
            }
            ("NOOP" | "CREATE", _) => format!("{tag} OK done\r\n"),
            ("LOGOUT", _) => {
                send(&mut w, format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes()).await?;
                return Ok(());
            }
            _ => format!("{tag} BAD not scripted\r\n"),
        };
        send(&mut w, reply.as_bytes()).await?;
    }
    Ok(())
}

/// A configuration with one mailbox on the peer, a 2 s network time limit.
fn config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let mailbox = mailbox_toml("faulty", port, "support", "secret", extra)
        .replace("timeout = \"20s\"", "timeout = \"2s\"");
    assert!(mailbox.contains("timeout = \"2s\""), "{mailbox}");
    write_config(dir, &mailbox)
}

/// `mailgate run --once` (the command `support::run_once` runs), killed if
/// it has not finished within `limit`, so that a hang fails the test instead
/// of stalling it. The peer keeps being served while waiting. Returns the
/// exit status, stderr and how long it took.
async fn run_once_within(config: &Path, limit: Duration) -> (i32, String, Duration) {
    let stderr_path = config.with_file_name(format!(
        "run-once-{}.stderr",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut child = mailgate(config, &["run", "--once"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "mailgate run --once still running after {limit:?}:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    (status.code().unwrap_or(-1), stderr, took)
}

/// The Message-IDs of the inbound records, one per record.
async fn filed_message_ids(dir: &Path) -> Vec<String> {
    let url = format!("sqlite://{}/mailgate.db", dir.display());
    let store = mailgate::store::Store::open(&url, "SUP").await.unwrap();
    let ids = store
        .list_inbound(None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_id.unwrap_or_default())
        .collect();
    store.close().await;
    ids
}

/// The UIDs (message `n` has UID `n`) with an inbound record, asserting that
/// none was recorded twice.
async fn committed_uids(dir: &Path, messages: usize) -> Vec<u32> {
    let ids = filed_message_ids(dir).await;
    let mut uids = Vec::new();
    for n in 1..=messages {
        let needle = format!("m{n}@acme.fr");
        let times = ids.iter().filter(|id| id.contains(&needle)).count();
        assert!(times <= 1, "message {n} recorded {times} times: {ids:?}");
        if times == 1 {
            uids.push(u32::try_from(n).unwrap());
        }
    }
    uids
}

fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
}

#[tokio::test]
async fn silent_server_after_the_greeting_times_out() {
    let peer = Peer::start(&[message(1)], &[Script::SilentAfterGreeting]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "");

    let (code, stderr, took) = run_once_within(&config, Duration::from_secs(30)).await;
    assert_eq!(code, 75, "{stderr}\n{}", peer.transcript());
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(
        stderr.contains("no answer from the server") && stderr.contains("login"),
        "{stderr}"
    );
    assert!(peer.received("LOGIN"), "{}", peer.transcript());
    assert_eq!(db_counts(dir.path()).await, (0, 0));
    assert_no_panic(&stderr);
}

#[tokio::test]
async fn bye_in_the_middle_of_a_fetch_moves_only_what_was_committed() {
    let peer = Peer::start(
        &[message(1), message(2)],
        &[Script::ByeAfterFirstBody, Script::Behave],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "");

    let (code, stderr, took) = run_once_within(&config, Duration::from_secs(30)).await;
    let transcript = peer.transcript();
    assert_eq!(code, 75, "{stderr}\n{transcript}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(peer.received("BODY.PEEK[]"), "{transcript}");
    assert_no_panic(&stderr);
    assert!(
        stderr.contains("of the 2 messages asked for"),
        "the cut-off FETCH is named:\n{stderr}"
    );
    let committed = committed_uids(dir.path(), 2).await;
    assert!(
        !committed.contains(&2),
        "message 2 was never received, yet recorded"
    );
    let moved = peer.moved();
    assert!(
        moved.iter().all(|uid| committed.contains(uid)),
        "moved {moved:?}, committed only {committed:?}:\n{transcript}"
    );
    let (tickets, inbound) = db_counts(dir.path()).await;
    assert_eq!((tickets, inbound), (committed.len(), committed.len()));

    // The next run, against a server that behaves, files the rest, does not
    // file again what was committed, and moves both.
    let (code, stderr, _) = run_once_within(&config, Duration::from_secs(30)).await;
    assert_eq!(code, 0, "{stderr}\n{}", peer.transcript());
    assert_eq!(committed_uids(dir.path(), 2).await, [1, 2]);
    assert_eq!(db_counts(dir.path()).await, (2, 2));
    assert_eq!(peer.moved(), [1, 2], "{}", peer.transcript());
}

#[tokio::test]
async fn connection_closed_inside_a_literal() {
    let peer = Peer::start(&[message(1), message(2)], &[Script::CloseMidLiteral]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "");

    let (code, stderr, took) = run_once_within(&config, Duration::from_secs(30)).await;
    let transcript = peer.transcript();
    assert_eq!(code, 75, "{stderr}\n{transcript}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(peer.received("BODY.PEEK[]"), "{transcript}");
    assert_no_panic(&stderr);
    let committed = committed_uids(dir.path(), 2).await;
    assert!(
        !committed.contains(&2),
        "the half-received message 2 was recorded"
    );
    let moved = peer.moved();
    assert!(!moved.contains(&2), "message 2 moved:\n{transcript}");
    assert!(
        moved.iter().all(|uid| committed.contains(uid)),
        "moved {moved:?}, committed only {committed:?}:\n{transcript}"
    );
    assert_eq!(
        db_counts(dir.path()).await,
        (committed.len(), committed.len())
    );
}

#[tokio::test]
async fn half_written_line_then_silence_times_out() {
    let peer = Peer::start(&[message(1), message(2)], &[Script::HalfLineThenSilence]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "");

    let (code, stderr, took) = run_once_within(&config, Duration::from_secs(30)).await;
    let transcript = peer.transcript();
    assert_eq!(code, 75, "{stderr}\n{transcript}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(peer.received("RFC822.SIZE"), "{transcript}");
    assert!(
        stderr.contains("no answer from the server") && stderr.contains("UID FETCH"),
        "{stderr}"
    );
    assert_no_panic(&stderr);
    assert_eq!(db_counts(dir.path()).await, (0, 0));
    assert!(peer.moved().is_empty(), "{transcript}");
}

#[tokio::test]
async fn daemon_reconnects_after_a_bye_mid_fetch_and_files_each_message_once() {
    let peer = Peer::start(
        &[message(1), message(2)],
        &[Script::ByeAfterFirstBody, Script::Behave],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "");

    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    let done = wait_until(Duration::from_secs(20), || async {
        peer.moved().len() == 2 && db_counts(dir.path()).await.0 == 2
    })
    .await;
    assert!(
        done.is_some(),
        "not filed after a reconnection:\n{}\n{}",
        daemon.log(),
        peer.transcript()
    );
    assert!(peer.connections() >= 2, "{}", peer.transcript());
    assert_eq!(db_counts(dir.path()).await, (2, 2));
    assert_eq!(committed_uids(dir.path(), 2).await, [1, 2]);
    assert_eq!(peer.moved(), [1, 2]);

    let log = daemon.log();
    assert_eq!(log.matches("mailbox failing").count(), 1, "{log}");
    assert_no_panic(&log);
    // terminate() blocks while polling: off the runtime that serves the peer.
    let (code, took) = tokio::task::spawn_blocking(move || daemon.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0, "{log}\n{}", peer.transcript());
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_idle_is_polled() {
    let peer = Peer::start(&[message(1)], &[Script::RefuseIdle]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), peer.port, "poll_interval = \"1s\"");
    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    let refused = wait_until(Duration::from_secs(20), || async {
        daemon.log().contains("refused IDLE")
    })
    .await;
    assert!(refused.is_some(), "{}\n{}", daemon.log(), peer.transcript());
    // New mail now arrives by polling.
    let raw = message(2).replace('\n', "\r\n").into_bytes();
    peer.state().inbox.insert(2, raw);
    let filed = wait_until(Duration::from_secs(15), || async {
        db_counts(dir.path()).await.0 == 2
    })
    .await;
    assert!(filed.is_some(), "{}\n{}", daemon.log(), peer.transcript());
    let log = daemon.log();
    assert!(log.contains("mode=\"poll\""), "{log}");
    assert_eq!(log.matches("refused IDLE").count(), 1, "{log}");
    let (code, _) = tokio::task::spawn_blocking(move || daemon.terminate())
        .await
        .unwrap();
    assert_eq!(code, 0);
}
