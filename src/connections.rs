//! Bounds on gRPC connections: at most `server.max_connections` open at once, and a connection with no open RPC for
//! `server.idle_timeout_ms` is closed.
//!
//! tonic and hyper offer HTTP/2 keep-alive pings (which find a vanished peer) and a maximum connection age, but
//! nothing for a live peer that just sits there, nor a cap on connections. grpc-go's `MaxConnectionIdle` is the
//! model: idle means no open RPC, whatever bytes flow, so pings or a header that never completes cannot hold a
//! socket. The requests a connection carries mark it busy through [`TrackRpcs`]; its IO object ([`Conn`]) watches
//! the clock and ends the connection (end of stream to hyper, which then closes the socket) once it has been idle
//! for the timeout.
//!
//! Invariant: a connection's place (a semaphore permit) is held by its IO object, so it is freed exactly when hyper
//! drops the connection, however the connection ends.

use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_stream::{Stream, StreamExt, wrappers::TcpListenerStream};
use tonic::codegen::{Service, http};

/// The bounds, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Accepted connections, each holding one of `max_connections` places; a connection beyond them is accepted and
/// closed at once (the client sees the connection end, rather than hanging in the listen backlog). Nagle's
/// algorithm is off: gRPC writes small frames, and Nagle plus delayed ACKs would add ~40 ms to many replies.
pub fn incoming(listener: TcpListener, limits: Limits) -> impl Stream<Item = io::Result<Conn>> {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    TcpListenerStream::new(listener).filter_map(move |accepted| {
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => return Some(Err(e)),
        };
        let Ok(place) = places.clone().try_acquire_owned() else {
            metrics::counter!("commentguard_connections_refused_total").increment(1);
            tracing::debug!(max = limits.max_connections, "connection closed: server.max_connections are open");
            return None;
        };
        Some(stream.set_nodelay(true).map(|()| Conn::new(stream, place, limits.idle_timeout)))
    })
}

/// One connection's open RPCs and since when it has had none; shared by its IO object and its requests (tonic puts
/// it in every request's extensions as the connection's `ConnectInfo`).
#[derive(Debug, Clone)]
pub struct Activity(Arc<Mutex<Counts>>);

#[derive(Debug)]
struct Counts {
    open: usize,
    idle_since: Instant,
}

impl Activity {
    fn new() -> Activity {
        Activity(Arc::new(Mutex::new(Counts { open: 0, idle_since: Instant::now() })))
    }

    fn begin(&self) -> Busy {
        self.0.lock().open += 1;
        Busy(self.clone())
    }

    /// Since when the connection has had no open RPC; `None` while one is open.
    fn idle_since(&self) -> Option<Instant> {
        let counts = self.0.lock();
        (counts.open == 0).then_some(counts.idle_since)
    }
}

/// An open RPC: from the request's arrival until its response body (a whole stream) is done or dropped.
struct Busy(Activity);

impl Busy {
    /// Called as frames pass, so the response body's closure owns the guard.
    fn held(&self) {}
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut counts = self.0.0.lock();
        counts.open -= 1;
        if counts.open == 0 {
            counts.idle_since = Instant::now();
        }
    }
}

/// An accepted gRPC connection: the socket, its place among `max_connections`, and its idle clock.
pub struct Conn {
    stream: TcpStream,
    activity: Activity,
    idle_timeout: Duration,
    /// Fires when the connection could next have been idle for `idle_timeout`.
    check: Pin<Box<Sleep>>,
    _place: OwnedSemaphorePermit,
}

impl Conn {
    fn new(stream: TcpStream, place: OwnedSemaphorePermit, idle_timeout: Duration) -> Conn {
        metrics::gauge!("commentguard_connections_open").increment(1.0);
        let check = Box::pin(tokio::time::sleep(idle_timeout));
        Conn { stream, activity: Activity::new(), idle_timeout, check, _place: place }
    }

    /// True once the connection has had no open RPC for `idle_timeout`; otherwise arms the timer (with `cx`'s
    /// waker) for the earliest moment it could be.
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        while self.check.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            let next = match self.activity.idle_since() {
                Some(since) if now >= since + self.idle_timeout => return true,
                Some(since) => since + self.idle_timeout,
                None => now + self.idle_timeout,
            };
            self.check.as_mut().reset(next);
        }
        false
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        metrics::gauge!("commentguard_connections_open").decrement(1.0);
    }
}

impl AsyncRead for Conn {
    /// hyper always has a read pending on a connection, so this is where the idle clock is watched. Bytes already
    /// waiting are delivered first (they may be a new RPC); only a quiet, idle connection reads as ended.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending if this.idle_expired(cx) => {
                tracing::debug!(idle_ms = this.idle_timeout.as_millis() as u64, "idle connection closed");
                Poll::Ready(Ok(()))
            }
            polled => polled,
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The connection's [`Activity`] is what its requests see as `ConnectInfo` (so `Request::remote_addr` is `None`:
/// nothing in the service uses the peer address; authors' addresses come in the request).
impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = Activity;

    fn connect_info(&self) -> Activity {
        self.activity.clone()
    }
}

/// Marks a request's connection busy until its response body is finished (`Server::builder().layer(TrackRpcs)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackRpcs;

impl<S> tower_layer::Layer<S> for TrackRpcs {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked(inner)
    }
}

#[derive(Debug, Clone)]
pub struct Tracked<S>(S);

impl<S, B, R> Service<http::Request<B>> for Tracked<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    R::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let busy = request.extensions().get::<Activity>().map(Activity::begin);
        let response = self.0.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| match busy {
                Some(busy) => tonic::body::Body::new(body.map_frame(move |frame| {
                    busy.held();
                    frame
                })),
                None => tonic::body::Body::new(body),
            }))
        })
    }
}
