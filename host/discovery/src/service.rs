//! The async shell: moves datagrams between the UDP socket and the pure
//! [`V4Node`], drives its timers, and stops on cancellation.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use discv5::{Discv5, Event};
use parking_lot::Mutex;
use tokio::{net::UdpSocket, sync::mpsc, time::MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{debug, trace};

use crate::{
    protocol::{MAX_PACKET_SIZE, REFRESH_INTERVAL},
    v4node::{Now, Outbound, V4Node},
    v4wire::is_discv4,
};

/// How often the node's timers run.
const TICK: Duration = Duration::from_millis(200);

/// Where received frames come from.
pub(crate) enum FrameSource {
    /// We own the socket's receive side (discv5 disabled).
    Socket,
    /// discv5 owns it and hands us the frames it does not recognise.
    Discv5(mpsc::Receiver<Event>),
}

/// The running service.
pub(crate) struct Service {
    pub(crate) socket: Arc<UdpSocket>,
    /// IPv4 destinations are mapped to IPv6 on an IPv6 socket.
    pub(crate) socket_is_v6: bool,
    pub(crate) node: Arc<Mutex<V4Node>>,
    pub(crate) source: FrameSource,
    pub(crate) discv5: Arc<Mutex<Option<Discv5>>>,
    pub(crate) shutdown: CancellationToken,
}

impl Service {
    /// Runs until `shutdown` is cancelled (or the frame source closes).
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut v5_refresh = tokio::time::interval(REFRESH_INTERVAL);
        v5_refresh.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut buf = vec![0u8; MAX_PACKET_SIZE * 2];
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = tick.tick() => {
                    let out = self.node.lock().on_tick(Now::current());
                    self.send_all(out).await;
                }
                _ = v5_refresh.tick() => self.v5_lookup(),
                frame = next_frame(&self.socket, &mut self.source, &mut buf) => {
                    let Some((from, datagram)) = frame else {
                        debug!("frame source closed");
                        break;
                    };
                    if !is_discv4(&datagram) {
                        trace!(%from, len = datagram.len(), "dropping non-discv4 frame");
                        continue;
                    }
                    let out = self.node.lock().on_datagram(Now::current(), from, &datagram);
                    self.send_all(out).await;
                }
            }
        }
        if let Some(mut discv5) = self.discv5.lock().take() {
            discv5.shutdown();
        }
        debug!("discovery stopped");
    }

    async fn send_all(&self, out: Vec<Outbound>) {
        let v6_socket = self.socket_is_v6;
        for Outbound { to, datagram } in out {
            let to = match (v6_socket, to.ip()) {
                (true, IpAddr::V4(v4)) => {
                    SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), to.port())
                }
                _ => to,
            };
            if let Err(error) = self.socket.send_to(&datagram, to).await {
                debug!(%to, %error, "send failed");
            }
        }
    }

    /// Starts a random discv5 lookup in the background (if discv5 runs), so
    /// its table fills beyond the nodes that contact us.
    fn v5_lookup(&self) {
        let query = {
            let guard = self.discv5.lock();
            let Some(discv5) = guard.as_ref() else {
                return;
            };
            if discv5.connected_peers() == 0 && discv5.table_entries_id().is_empty() {
                return;
            }
            discv5.find_node(enr::NodeId::random())
        };
        tokio::spawn(async move {
            match query.await {
                Ok(found) => debug!(found = found.len(), "discv5 lookup finished"),
                Err(error) => debug!(?error, "discv5 lookup failed"),
            }
        });
    }
}

/// The next received frame, from the socket or from discv5's unrecognised
/// frames. `None` when the source is gone.
async fn next_frame(
    socket: &UdpSocket,
    source: &mut FrameSource,
    buf: &mut [u8],
) -> Option<(SocketAddr, Vec<u8>)> {
    match source {
        FrameSource::Socket => loop {
            match socket.recv_from(buf).await {
                Ok((len, from)) => return Some((from, buf[..len].to_vec())),
                Err(error) => {
                    debug!(%error, "recv failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        },
        FrameSource::Discv5(events) => loop {
            match events.recv().await? {
                Event::UnrecognizedFrame(frame) => {
                    return Some((frame.src_address, frame.packet));
                }
                other => trace!(event = ?std::mem::discriminant(&other), "discv5 event"),
            }
        },
    }
}
