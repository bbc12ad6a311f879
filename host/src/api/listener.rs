//! The accept loop both API servers run: at most
//! `connection_pool.max_connections` open connections (one over the limit
//! is answered `503` and closed), the client's address handed to the routes
//! as a [`ClientAddr`] extension, HTTP/1.1 with upgrades (WebSocket), and a
//! graceful stop that lets requests in flight finish.

use std::{net::SocketAddr, sync::Arc};

use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower_service::Service;
use warp::{Filter, filters::BoxedFilter};

/// The peer address of a request's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// A filter extracting the client's address (none outside [`serve`]).
pub fn client_addr()
-> impl Filter<Extract = (Option<SocketAddr>,), Error = std::convert::Infallible> + Copy {
    warp::ext::optional::<ClientAddr>().map(|addr: Option<ClientAddr>| addr.map(|addr| addr.0))
}

/// The answer to a connection over the limit.
const OVER_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 83\r\n\r\n{\"error\":\"busy\",\"message\":\"too many open connections (connection_pool.max_connections)\"}";

/// Serves `routes` on `listener` until `shutdown`.
pub async fn serve(
    routes: BoxedFilter<(warp::reply::Response,)>,
    listener: TcpListener,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "API accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = stream.write_all(OVER_LIMIT).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let mut filtered = warp::service(routes.clone());
        let service =
            tower::service_fn_like(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ClientAddr(remote));
                filtered.call(request)
            });
        let connection = Builder::new(TokioExecutor::new())
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = watched.await {
                tracing::debug!(%error, "API connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A `tower_service::Service` from a closure (tower's own `service_fn`
/// without the tower dependency).
mod tower {
    use std::task::{Context, Poll};

    use tower_service::Service;

    /// Wraps `call` as a service that is always ready.
    pub fn service_fn_like<F>(call: F) -> ServiceFn<F> {
        ServiceFn(call)
    }

    #[derive(Clone)]
    pub struct ServiceFn<F>(F);

    impl<F, Request, Fut, Response, Error> Service<Request> for ServiceFn<F>
    where
        F: FnMut(Request) -> Fut,
        Fut: Future<Output = Result<Response, Error>>,
    {
        type Response = Response;
        type Error = Error;
        type Future = Fut;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request) -> Fut {
            (self.0)(request)
        }
    }
}
