//! The public listener's limits, on a real socket with tokio's clock
//! paused: the runtime moves time forward whenever every task waits, so a
//! ten-second timeout takes no real time and happens at a known instant.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use mailgate::config::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

const LIMITS: ConnectionLimits = ConnectionLimits {
    max_connections: 1,
    header_timeout: Duration::from_secs(10),
    request_timeout: Duration::from_secs(30),
};

/// A server of two routes under `LIMITS`; its address.
async fn start(stop: watch::Receiver<bool>) -> String {
    let app = Router::new().route("/", get(|| async { "hello" })).route(
        "/upload",
        post(|body: String| async move { body.len().to_string() }),
    );
    let listener = mailgate::web::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(mailgate::web::serve(listener, app, LIMITS, stop));
    address
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    // A reset instead of a close counts as closed too.
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(start_paused = true)]
async fn half_sent_headers_are_cut_off_and_the_cap_makes_the_next_client_wait() {
    let (_stop, stop) = watch::channel(false);
    let address = start(stop).await;

    // The one connection allowed, held by a client that never ends its
    // headers.
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::task::yield_now().await;

    let started = Instant::now();
    let mut next = TcpStream::connect(&address).await.unwrap();
    next.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut next).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    // Served only once the slow client's time was up.
    assert!(
        started.elapsed() >= LIMITS.header_timeout,
        "{:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < LIMITS.request_timeout,
        "{:?}",
        started.elapsed()
    );

    // And the slow client got nothing but the end of its connection.
    let cut = read_to_close(&mut slow).await;
    assert!(!cut.contains("hello"), "{cut}");
}

#[tokio::test(start_paused = true)]
async fn a_body_trickled_in_gets_408_at_the_request_timeout() {
    let (_stop, stop) = watch::channel(false);
    let address = start(stop).await;

    let started = Instant::now();
    let mut client = TcpStream::connect(&address).await.unwrap();
    client
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nfirst bytes")
        .await
        .unwrap();
    let answer = read_to_close(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("within 30 seconds"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        started.elapsed() >= LIMITS.request_timeout,
        "{:?}",
        started.elapsed()
    );

    // A whole body in time is read and answered.
    let mut client = TcpStream::connect(&address).await.unwrap();
    client
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nabcde")
        .await
        .unwrap();
    let answer = read_to_close(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with('5'), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_accepting_and_closes_idle_connections() {
    let (stop_tx, stop) = watch::channel(false);
    let address = start(stop).await;

    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    let started = Instant::now();
    stop_tx.send(true).unwrap();
    // The kept-alive connection is closed by the shutdown, well before its
    // idle time would end it.
    let rest = read_to_close(&mut idle).await;
    assert!(rest.ends_with("hello"), "{rest}");
    assert!(
        started.elapsed() < LIMITS.header_timeout,
        "{:?}",
        started.elapsed()
    );
    tokio::task::yield_now().await;
    assert!(TcpStream::connect(&address).await.is_err());
}
