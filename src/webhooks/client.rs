//! The deliverer's HTTP/1.1 client (over TLS for an https:// url, `tls.rs`): one keep-alive connection per site (deliveries are sequential, so one is all a
//! site uses), re-opened after any failure. hyper's connection API, not a pooled client: there is nothing to pool, and
//! every attempt — connect, send, answer — must fit `timeout_ms`.

use super::Target;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::time::Duration;
use tonic::codegen::http::{Request, header};

/// At most this much of a receiver's answer is read (then the connection is dropped rather than drained).
const MAX_ANSWER: usize = 64 * 1024;

/// Why an attempt failed, in words from a closed set (safe to log: never the receiver's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Connect(std::io::ErrorKind),
    /// The TLS handshake failed: the receiver's certificate is not trusted for its host, or no common protocol.
    Tls,
    Timeout,
    /// The receiver answered with a status other than 2xx; `retry_after` from its `Retry-After` (seconds).
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// The connection broke mid-exchange, or the answer was not HTTP.
    Protocol,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(kind) => write!(f, "connect: {kind}"),
            Failure::Tls => {
                f.write_str("TLS handshake failed (certificate not trusted for the host, or no common protocol)")
            }
            Failure::Timeout => f.write_str("timed out"),
            Failure::Status { code, .. } => write!(f, "answered HTTP {code}"),
            Failure::Protocol => f.write_str("connection broke or answer was not HTTP"),
        }
    }
}

/// One site's connection to its receiver.
#[derive(Default)]
pub struct Client {
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// POSTs `body` with the given extra headers; `Ok` when the receiver answered 2xx within the target's timeout.
    pub async fn post(&mut self, target: &Target, body: Bytes, headers: &[(&str, String)]) -> Result<(), Failure> {
        let attempt = self.attempt(target, body, headers);
        let result = match tokio::time::timeout(target.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        };
        if result.is_err() {
            // A connection that failed once is not trusted with the next attempt.
            self.conn = None;
        }
        result
    }

    async fn attempt(&mut self, target: &Target, body: Bytes, headers: &[(&str, String)]) -> Result<(), Failure> {
        let mut sender = match self.conn.take() {
            Some(s) if !s.is_closed() => s,
            _ => connect(target).await?,
        };
        sender.ready().await.map_err(|_| Failure::Protocol)?;
        let mut req = Request::post(target.path.as_str())
            .header(header::HOST, target.host_header.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, concat!("commentguard/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let req = req.body(Full::new(body)).map_err(|_| Failure::Protocol)?;
        let answer = sender.send_request(req).await.map_err(|_| Failure::Protocol)?;
        let status = answer.status();
        let retry_after = answer
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read the answer so the connection can carry the next delivery.
        let read = Limited::new(answer.into_body(), MAX_ANSWER).collect().await.is_ok();
        if read {
            self.conn = Some(sender);
        }
        if status.is_success() { Ok(()) } else { Err(Failure::Status { code: status.as_u16(), retry_after }) }
    }
}

async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| Failure::Connect(e.kind()))?;
    let _ = stream.set_nodelay(true);
    match &target.tls {
        Some(tls) => handshake(tls.connect(stream).await.map_err(|_| Failure::Tls)?).await,
        None => handshake(stream).await,
    }
}

async fn handshake<S>(io: S) -> Result<SendRequest<Full<Bytes>>, Failure>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|_| Failure::Protocol)?;
    // Drives the connection; ends when `sender` is dropped or the peer closes.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
