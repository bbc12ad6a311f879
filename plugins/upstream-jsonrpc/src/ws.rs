//! JSON-RPC over WebSocket: one connection per endpoint, opened on first
//! use and again after it drops, carrying calls and batches (answers routed
//! back by id) and `eth_subscribe` subscriptions (notifications routed by
//! subscription id).

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};
use tokio_util::sync::CancellationToken;

use crate::error::UpstreamError;

/// Who waits for an answer with a given id.
enum Waiter {
    /// A call or batch: gets the whole answer.
    Call(oneshot::Sender<Result<String, UpstreamError>>),
    /// An `eth_subscribe`: gets the subscription id; notifications then go to `sink`.
    Subscribe {
        reply: oneshot::Sender<Result<String, UpstreamError>>,
        sink: mpsc::UnboundedSender<Value>,
    },
}

/// One open connection.
struct Connection {
    name: String,
    outgoing: mpsc::UnboundedSender<String>,
    waiters: Mutex<HashMap<u64, Waiter>>,
    subscriptions: Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>,
    closed: CancellationToken,
}

/// One ws(s):// endpoint.
pub struct WsTransport {
    url: String,
    name: String,
    timeout: Duration,
    max_message: usize,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for WsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsTransport")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl WsTransport {
    /// A transport to `url`; nothing is opened until the first use.
    /// Messages longer than `max_message` bytes close the connection.
    pub fn new(
        url: String,
        name: String,
        timeout: Duration,
        max_message: usize,
        shutdown: CancellationToken,
    ) -> Self {
        WsTransport {
            url,
            name,
            timeout,
            max_message,
            connection: tokio::sync::Mutex::new(None),
            shutdown,
        }
    }

    fn closed_error(&self) -> UpstreamError {
        UpstreamError::Transport {
            endpoint: self.name.clone(),
            reason: "WebSocket connection closed".into(),
        }
    }

    fn timeout_error(&self) -> UpstreamError {
        UpstreamError::Timeout {
            endpoint: self.name.clone(),
            after_ms: self.timeout.as_millis() as u64,
        }
    }

    /// The open connection, opening one if there is none.
    async fn connection(&self) -> Result<Arc<Connection>, UpstreamError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref()
            && !connection.closed.is_cancelled()
        {
            return Ok(Arc::clone(connection));
        }
        if self.shutdown.is_cancelled() {
            return Err(UpstreamError::Shutdown);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message));
        let (stream, _) = tokio::time::timeout(
            self.timeout,
            connect_async_with_config(self.url.as_str(), Some(config), true),
        )
        .await
        .map_err(|_| self.timeout_error())?
        .map_err(|error| UpstreamError::Transport {
            endpoint: self.name.clone(),
            reason: format!(
                "WebSocket connect failed: {}",
                redact_error(&error.to_string())
            ),
        })?;
        let (outgoing, queue) = mpsc::unbounded_channel();
        let connection = Arc::new(Connection {
            name: self.name.clone(),
            outgoing,
            waiters: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(HashMap::new()),
            closed: self.shutdown.child_token(),
        });
        tokio::spawn(run(stream, queue, Arc::clone(&connection)));
        hypasis_plugin_sdk::tracing::debug!(endpoint = %self.name, "WebSocket connected");
        *slot = Some(Arc::clone(&connection));
        Ok(connection)
    }

    /// Sends `body` (a call or a batch whose first id is `key`) and waits
    /// for the answer.
    /// Sends `body` (whose first id is `key`) and returns the answer's text.
    pub async fn send(&self, key: u64, body: String) -> Result<String, UpstreamError> {
        let connection = self.connection().await?;
        let (reply, answer) = oneshot::channel();
        connection.waiters.lock().insert(key, Waiter::Call(reply));
        if connection.outgoing.send(body).is_err() {
            connection.waiters.lock().remove(&key);
            return Err(self.closed_error());
        }
        match tokio::time::timeout(self.timeout, answer).await {
            Err(_) => {
                connection.waiters.lock().remove(&key);
                Err(self.timeout_error())
            }
            Ok(Err(_)) => Err(self.closed_error()),
            Ok(Ok(result)) => result,
        }
    }

    /// Subscribes to `newHeads`; the receiver yields each head's JSON and
    /// ends when the connection drops.
    pub async fn subscribe_new_heads(
        &self,
        id: u64,
    ) -> Result<mpsc::UnboundedReceiver<Value>, UpstreamError> {
        let connection = self.connection().await?;
        let (reply, answer) = oneshot::channel();
        let (sink, heads) = mpsc::unbounded_channel();
        connection
            .waiters
            .lock()
            .insert(id, Waiter::Subscribe { reply, sink });
        let request =
            json!({"jsonrpc": "2.0", "id": id, "method": "eth_subscribe", "params": ["newHeads"]});
        if connection.outgoing.send(request.to_string()).is_err() {
            connection.waiters.lock().remove(&id);
            return Err(self.closed_error());
        }
        match tokio::time::timeout(self.timeout, answer).await {
            Err(_) => {
                connection.waiters.lock().remove(&id);
                Err(self.timeout_error())
            }
            Ok(Err(_)) => Err(self.closed_error()),
            Ok(Ok(result)) => result.map(|_| heads),
        }
    }
}

/// Keeps credentials that a connect error might quote out of messages.
fn redact_error(text: &str) -> String {
    text.split_whitespace()
        .map(|word| if word.contains("://") { "<url>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pumps one connection until it closes, then fails whoever still waits.
async fn run<S>(
    mut stream: S,
    mut queue: mpsc::UnboundedReceiver<String>,
    connection: Arc<Connection>,
) where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
        + Unpin,
{
    loop {
        tokio::select! {
            _ = connection.closed.cancelled() => break,
            outgoing = queue.recv() => match outgoing {
                Some(text) => {
                    if stream.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => route(&connection, text.as_str()),
                Some(Ok(Message::Binary(bytes))) => {
                    route(&connection, &String::from_utf8_lossy(&bytes));
                }
                Some(Ok(Message::Ping(payload))) => {
                    if stream.send(Message::Pong(payload)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(error)) => {
                    hypasis_plugin_sdk::tracing::debug!(endpoint = %connection.name, %error, "WebSocket failed");
                    break;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    connection.closed.cancel();
    let _ = stream.close().await;
    let waiters: Vec<Waiter> = connection
        .waiters
        .lock()
        .drain()
        .map(|(_, waiter)| waiter)
        .collect();
    for waiter in waiters {
        let error = UpstreamError::Transport {
            endpoint: connection.name.clone(),
            reason: "WebSocket connection closed".into(),
        };
        match waiter {
            Waiter::Call(reply) => {
                let _ = reply.send(Err(error));
            }
            Waiter::Subscribe { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
    connection.subscriptions.lock().clear();
    hypasis_plugin_sdk::tracing::debug!(endpoint = %connection.name, "WebSocket closed");
}

fn id_of(value: &Value) -> Option<u64> {
    value.get("id").and_then(Value::as_u64)
}

/// Hands one incoming message to whoever waits for it.
fn route(connection: &Connection, text: &str) {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        hypasis_plugin_sdk::tracing::debug!(endpoint = %connection.name, "WebSocket message is not JSON");
        return;
    };
    if value.get("method").and_then(Value::as_str) == Some("eth_subscription") {
        let params = value.get("params");
        let id = params
            .and_then(|params| params.get("subscription"))
            .and_then(Value::as_str);
        let result = params.and_then(|params| params.get("result"));
        if let (Some(id), Some(result)) = (id, result) {
            let mut subscriptions = connection.subscriptions.lock();
            if let Some(sink) = subscriptions.get(id)
                && sink.send(result.clone()).is_err()
            {
                subscriptions.remove(id);
            }
        }
        return;
    }
    let waiter = match &value {
        Value::Array(items) => {
            let mut waiters = connection.waiters.lock();
            items
                .iter()
                .filter_map(id_of)
                .find_map(|id| waiters.remove(&id))
        }
        _ => id_of(&value).and_then(|id| connection.waiters.lock().remove(&id)),
    };
    match waiter {
        Some(Waiter::Call(reply)) => {
            let _ = reply.send(Ok(text.to_string()));
        }
        Some(Waiter::Subscribe { reply, sink }) => {
            let answer = match value.get("result").and_then(Value::as_str) {
                Some(id) => {
                    connection.subscriptions.lock().insert(id.to_string(), sink);
                    Ok(id.to_string())
                }
                None => Err(UpstreamError::Rpc {
                    endpoint: connection.name.clone(),
                    method: "eth_subscribe".into(),
                    code: value
                        .pointer("/error/code")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    message: value
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("no subscription id")
                        .to_string(),
                }),
            };
            let _ = reply.send(answer);
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_errors_do_not_quote_urls() {
        assert_eq!(
            redact_error("HTTP error: 401 for wss://host/v2/secret"),
            "HTTP error: 401 for <url>"
        );
    }
}
