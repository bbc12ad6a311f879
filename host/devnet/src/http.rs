//! A small HTTP/1.1 server on hyper for the devnet's three services. Unlike
//! a framework, a handler can also drop the connection without answering
//! (a fault to inject) or take it over as a WebSocket.

use std::{
    collections::VecDeque,
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Limited};
use hyper::{
    Request, Response, StatusCode,
    body::{Body, Frame, Incoming, SizeHint},
    header::{CONNECTION, CONTENT_TYPE, HeaderValue, UPGRADE},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, handshake::derive_accept_key, protocol::Role},
};
use tokio_util::sync::CancellationToken;

/// Largest request body accepted.
pub const MAX_BODY: usize = 8 << 20;

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    /// The body.
    pub body: Bytes,
    /// The peer.
    pub remote: SocketAddr,
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, as chunks sent in order without being joined.
    pub body: Vec<Bytes>,
}

impl HttpResponse {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: vec![Bytes::from(value.to_string())],
        }
    }
}

/// A response body sent as the chunks it was built from, so that shared
/// pre-rendered answers (megabytes per batch) reach the socket without
/// being copied into one buffer first. Its exact length is known, so hyper
/// sends a `Content-Length`, not chunked encoding.
#[derive(Debug, Default)]
pub struct ChunkedBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl ChunkedBody {
    /// A body of `chunks`, in order.
    pub fn new(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        let chunks: VecDeque<Bytes> = chunks
            .into_iter()
            .filter(|chunk| !chunk.is_empty())
            .collect();
        let remaining = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        ChunkedBody { chunks, remaining }
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let Some(chunk) = self.chunks.pop_front() else {
            return Poll::Ready(None);
        };
        self.remaining -= chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// What to do with a request.
pub enum Outcome {
    /// Answer it.
    Respond(HttpResponse),
    /// Close the connection without answering.
    Drop,
}

/// A boxed future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Handles one request.
pub type Handler = Arc<dyn Fn(HttpRequest) -> BoxFuture<Outcome> + Send + Sync>;

/// Serves one text message of a WebSocket connection: gets the incoming
/// text and a sender for outgoing messages (subscriptions push through it).
pub type SocketHandler = Arc<
    dyn Fn(
            tokio::sync::mpsc::UnboundedSender<String>,
            CancellationToken,
        ) -> Box<dyn FnMut(String) -> BoxFuture<Option<String>> + Send>
        + Send
        + Sync,
>;

#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose")]
struct Dropped;

fn is_websocket(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get(UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

async fn run_socket(
    upgraded: hyper::upgrade::Upgraded,
    sockets: SocketHandler,
    shutdown: CancellationToken,
) {
    let mut stream =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
    let (push, mut pushed) = tokio::sync::mpsc::unbounded_channel::<String>();
    let connection = shutdown.child_token();
    let mut handle = sockets(push, connection.clone());
    loop {
        tokio::select! {
            _ = connection.cancelled() => break,
            outgoing = pushed.recv() => match outgoing {
                Some(text) => if stream.send(Message::text(text)).await.is_err() { break },
                None => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = handle(text.to_string()).await
                        && stream.send(Message::text(reply)).await.is_err() { break; }
                }
                Some(Ok(Message::Ping(payload))) => { let _ = stream.send(Message::Pong(payload)).await; }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    connection.cancel();
}

async fn respond(
    request: Request<Incoming>,
    remote: SocketAddr,
    handler: Handler,
    sockets: Option<SocketHandler>,
    shutdown: CancellationToken,
) -> Result<Response<ChunkedBody>, Dropped> {
    if let (true, Some(sockets)) = (is_websocket(&request), sockets) {
        let key = request
            .headers()
            .get("sec-websocket-key")
            .map(|key| derive_accept_key(key.as_bytes()));
        let Some(accept) = key else {
            return Ok(plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key"));
        };
        let upgrade = hyper::upgrade::on(request);
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                run_socket(upgraded, sockets, shutdown).await;
            }
        });
        let mut response = Response::new(ChunkedBody::default());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        response
            .headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(value) = HeaderValue::from_str(&accept) {
            response.headers_mut().insert("sec-websocket-accept", value);
        }
        return Ok(response);
    }
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ));
        }
    };
    match handler(HttpRequest {
        method,
        path,
        query,
        body,
        remote,
    })
    .await
    {
        Outcome::Drop => Err(Dropped),
        Outcome::Respond(reply) => {
            let mut response = Response::new(ChunkedBody::new(reply.body));
            *response.status_mut() =
                StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            for (name, value) in reply.headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response)
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<ChunkedBody> {
    let mut response = Response::new(ChunkedBody::new([Bytes::from_static(text.as_bytes())]));
    *response.status_mut() = status;
    response
}

/// Serves `handler` (and WebSockets through `sockets`, if given) on
/// `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    handler: Handler,
    sockets: Option<SocketHandler>,
    shutdown: CancellationToken,
) {
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let sockets = sockets.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service_shutdown = shutdown.clone();
            let service = service_fn(move |request| {
                respond(
                    request,
                    remote,
                    Arc::clone(&handler),
                    sockets.clone(),
                    service_shutdown.clone(),
                )
            });
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::select! {
                _ = connection => {}
                _ = shutdown.cancelled() => {}
            }
        });
    }
}

/// Turns an infallible closure into a [`Handler`].
pub fn handler<F, Fut>(function: F) -> Handler
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    Arc::new(move |request| Box::pin(function(request)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunked_body_sends_its_chunks_in_order_with_an_exact_length() {
        let body = ChunkedBody::new([
            Bytes::from_static(b"[{\"a\":1},"),
            Bytes::new(),
            Bytes::from_static(b"{\"b\":2}]"),
        ]);
        assert_eq!(body.size_hint().exact(), Some(17));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.map(|body| body.to_bytes());
        assert_eq!(
            collected.ok().as_deref(),
            Some(&b"[{\"a\":1},{\"b\":2}]"[..])
        );
        assert!(ChunkedBody::default().is_end_stream());
        assert_eq!(ChunkedBody::default().size_hint().exact(), Some(0));
    }
}
