//! A tiny HTTP server on loopback for the tests that need one (an OAuth
//! token endpoint, Dovecot's token introspection).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers a request's path and body with a status and a JSON body.
pub type Handler = Box<dyn Fn(&str, &str) -> (u16, String) + Send + Sync>;
/// The (path, body) of every request received.
pub type Requests = Arc<Mutex<Vec<(String, String)>>>;

/// An HTTP server on loopback: each request's path and body go to
/// `handler`, which gives the status and JSON body. Returns its base URL and
/// the (path, body) of every request received.
#[allow(dead_code)]
pub async fn http_server(handler: Handler) -> (String, Requests) {
    let received: Requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    let url = serve(handler, move |request| {
        log.lock().unwrap().push((request.path, request.body));
    })
    .await;
    (url, received)
}

/// A request as received: its path, its head (request line and headers),
/// its body.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Received {
    pub path: String,
    pub head: String,
    pub body: String,
}

impl Received {
    /// A header's value, by name in any case.
    #[allow(dead_code)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// [`http_server`], keeping each request's headers too.
#[allow(dead_code)]
pub async fn http_receiver(handler: Handler) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    let url = serve(handler, move |request| log.lock().unwrap().push(request)).await;
    (url, received)
}

async fn serve(handler: Handler, log: impl Fn(Received) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handler = Arc::new(handler);
    let log = Arc::new(log);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (log, handler) = (Arc::clone(&log), Arc::clone(&handler));
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The head, then as many body bytes as Content-Length says.
                let received = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some(head_end) = text.find("\r\n\r\n") else {
                        if n == 0 {
                            return;
                        }
                        continue;
                    };
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length || n == 0 {
                        break Received {
                            path: text.split_whitespace().nth(1).unwrap_or("/").to_owned(),
                            head: text[..head_end].to_owned(),
                            body: text[head_end + 4..].to_owned(),
                        };
                    }
                };
                let (status, reply) = handler(&received.path, &received.body);
                log(received);
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}
