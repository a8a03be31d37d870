//! The TCP listener in front of axum: a cap on open connections and an idle timeout.
//!
//! Without them a client could hold connections open for ever (half-sent requests, idle
//! keep-alives) until the process runs out of file descriptors, and then new requests time out
//! and the background tasks fail to open the database. So:
//!
//! - at most `--max-connections` connections are served at once; a connection over the cap is
//!   answered at once with `503 Service Unavailable` (a `ServiceUnavailable` error document, as
//!   AWS answers when it sheds load, with `Retry-After`) and closed, so the client gets a clear
//!   answer instead of a hang;
//! - a connection on which no byte moves in either direction for `--idle-timeout-ms` is closed.
//!   That ends a stalled header or body as well as an idle keep-alive; a response being
//!   written, or a live tail's keep-alive frames, count as traffic.
//!
//! The cap's default leaves room under the process's open-file limit for the database and
//! the tasks: a cap above the limit could not protect anything.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections kept free for the database, the log and the tasks below the open-file limit.
const RESERVED_DESCRIPTORS: u64 = 64;
/// The cap when the open-file limit cannot be read.
const FALLBACK_CAP: usize = 1024;

const BUSY_BODY: &str = r#"{"__type":"ServiceUnavailable","message":"The server is at its connection limit. Retry the request later."}"#;

/// The default connection cap: the soft open-file limit less what the server needs itself
/// (Linux; elsewhere [`FALLBACK_CAP`]), never below 16.
pub fn default_connection_cap() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<u64>().ok())
        });
    match limit {
        Some(soft) => usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS))
            .unwrap_or(FALLBACK_CAP)
            .clamp(16, FALLBACK_CAP.saturating_mul(16)),
        None => FALLBACK_CAP,
    }
}

/// A listener that serves at most `cap` connections at once, each closed when idle.
pub struct Guarded {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle: Option<Duration>,
}

impl Guarded {
    /// `idle` of `None` never closes an idle connection.
    pub fn new(inner: TcpListener, cap: usize, idle: Option<Duration>) -> Self {
        Guarded {
            inner,
            permits: Arc::new(Semaphore::new(cap.max(1))),
            idle,
        }
    }
}

impl axum::serve::Listener for Guarded {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, usually: wait for some to be freed, as axum does.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => return (GuardedStream::new(stream, permit, self.idle), addr),
                Err(_) => {
                    tokio::spawn(refuse(stream));
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Answers a connection over the cap and closes it, without reading its request.
async fn refuse(mut stream: TcpStream) {
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BUSY_BODY}",
        BUSY_BODY.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    // A client that does not read its answer is not waited for.
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// A served connection: holds its place under the cap until dropped, and fails its reads once
/// nothing has moved for the idle timeout.
pub struct GuardedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
}

impl GuardedStream {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit, idle: Option<Duration>) -> Self {
        GuardedStream {
            stream,
            _permit: permit,
            idle: idle.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
        }
    }

    /// Traffic: the idle clock starts again.
    fn touch(&mut self) {
        if let Some((duration, sleep)) = &mut self.idle {
            sleep.as_mut().reset(Instant::now() + *duration);
        }
    }

    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.idle {
            Some((_, sleep)) => sleep.as_mut().poll(cx).is_ready(),
            None => false,
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.touch();
                Poll::Ready(result)
            }
            Poll::Pending if this.idle_expired(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for longer than the idle timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        result
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
