//! discv5 on the discv4 UDP port, through the `discv5` crate.
//!
//! How the port is shared (checked against discv5 0.12 source,
//! `socket/recv.rs` and `service.rs`): discv5 can be given pre-bound sockets
//! (`ListenConfig::FromSockets`), and then its receive task owns reading.
//! Every datagram it cannot decode as discv5 (its masked header fails to
//! check) is handed up as `Event::UnrecognizedFrame` on the event stream. The
//! crate has no way to feed it frames from outside, so the direction is fixed:
//! discv5 reads the socket, we take the unrecognized frames, keep those framed
//! as discv4 (hash prefix) and drop the rest; we send discv4 packets on the
//! same socket directly. With discv5 disabled we read the socket ourselves.
//!
//! The event stream is bounded (30 events, try-send), so under a flood some
//! discv4 frames may be dropped, as UDP may drop them anyway.

use std::{net::SocketAddr, sync::Arc};

use discv5::{ConfigBuilder, Discv5, Event, ListenConfig};
use enr::CombinedKey;
use tokio::{net::UdpSocket, sync::mpsc};

use crate::{error::DiscoveryError, local_record::Enr};

/// How often discv5 pings the nodes in its table. The crate's default is
/// 5 minutes; go-ethereum revalidates new nodes within seconds, and its
/// `devp2p discv5 test` (FindnodeResults) expects a new node to be contacted
/// within 60 s. 20 s keeps the table live at a modest cost.
const PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(20);

/// A started discv5 service and the stream of its events.
pub struct V5Service {
    /// The service; dropping or shutting it down stops its tasks.
    pub discv5: Discv5,
    /// Its events, among them the frames it did not recognise.
    pub events: mpsc::Receiver<Event>,
}

/// Starts discv5 on `socket` with our record `enr` and its `key`.
///
/// `fixed_address` disables discv5's own external-address voting, for when
/// the operator configured the address to advertise.
pub async fn start(
    socket: Arc<UdpSocket>,
    local_addr: SocketAddr,
    enr: Enr,
    key: CombinedKey,
    fixed_address: bool,
    bootnodes: &[Enr],
) -> Result<V5Service, DiscoveryError> {
    let listen = if local_addr.is_ipv4() {
        ListenConfig::FromSockets {
            ipv4: Some(socket),
            ipv6: None,
        }
    } else {
        ListenConfig::FromSockets {
            ipv4: None,
            ipv6: Some(socket),
        }
    };
    let mut builder = ConfigBuilder::new(listen);
    builder.disable_report_discovered_peers();
    builder.ping_interval(PING_INTERVAL);
    if fixed_address {
        builder.disable_enr_update();
    }
    let mut discv5 = Discv5::new(enr, key, builder.build())
        .map_err(|e| DiscoveryError::Discv5(e.to_string()))?;
    for enr in bootnodes {
        if let Err(error) = discv5.add_enr(enr.clone()) {
            tracing::warn!(%error, enr = %enr.to_base64(), "discv5 bootnode not added");
        }
    }
    discv5
        .start()
        .await
        .map_err(|e| DiscoveryError::Discv5(format!("{e:?}")))?;
    let events = discv5
        .event_stream()
        .await
        .map_err(|e| DiscoveryError::Discv5(format!("{e:?}")))?;
    Ok(V5Service { discv5, events })
}
