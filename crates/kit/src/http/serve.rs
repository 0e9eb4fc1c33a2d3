//! The HTTP server loop every front uses: axum's router on hyper, with read timeouts. Without
//! them a client that sends one header every few seconds (or a body byte by byte) holds a
//! connection, and its task, as long as it likes.

use std::future::Future as _;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long a client may take to send a request's headers (from the connection, or from the
/// end of the previous request on a kept-alive connection).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request body may take to arrive (the largest upload is a few megabytes).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How many connections a front holds open at once unless configured (`MAX_CONNECTIONS`). An
/// open connection takes ~32 KiB of buffers (docs/benchmarks.md): 2,048 of them 64 MiB. Beyond,
/// a new connection waits in the listener's queue until one closes (kept-alive ones close after
/// [`HEADER_READ_TIMEOUT`] idle), as nginx's `worker_connections` does.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2048;

/// Serves `router` on `listener` until `stop`, then lets the requests in flight finish; at
/// most `max_connections` open at once.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let open = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let slot = tokio::select! {
            slot = open.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        // The peer's address wraps the router as one service; `Router::layer` would wrap every
        // route again, for every connection (tens of kilobytes each, held while it is open).
        // Counted outside everything the router runs, cache hits and shed requests included.
        let service = tower::Layer::layer(
            &axum::Extension(ConnectInfo::<SocketAddr>(peer)),
            crate::http::CountRequests::new(router.clone()),
        )
        .map_request(|request: http::Request<hyper::body::Incoming>| {
            let (parts, body) = request.into_parts();
            if http_body::Body::is_end_stream(&body) {
                // No body to wait for (a GET): no deadline to keep either (a timer per
                // request is a measurable share of a cached page's cost).
                return http::Request::from_parts(parts, axum::body::Body::new(body));
            }
            let body = TimedBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(BODY_READ_TIMEOUT)),
            };
            http::Request::from_parts(parts, axum::body::Body::new(body))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// A request body that fails once its deadline passes.
struct TimedBody {
    inner: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(axum::Error::new(
                "the request body took too long to arrive",
            ))));
        }
        std::pin::Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|f| f.map_err(axum::Error::new)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
