//! Address classes: which node addresses may be told to which requester, and
//! which addresses are worth contacting at all. The rules follow go-ethereum's
//! `p2p/netutil` (`CheckRelayIP`, `IsLAN`): loopback nodes are only relayed
//! to loopback requesters, LAN nodes only to LAN requesters, and special
//! (unspecified, multicast, documentation) addresses never.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is loopback.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Whether `ip` is on a local network: loopback, RFC 1918, link-local,
/// carrier-grade NAT, or IPv6 unique-local / link-local.
pub fn is_lan(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && v4.octets()[1] & 0xc0 == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 || is_link_local_v6(&v6)
        }
    }
}

fn is_link_local_v6(v6: &Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xffc0) == 0xfe80
}

/// Whether `ip` can never be a real peer: unspecified, multicast, broadcast,
/// or a documentation / benchmarking range.
pub fn is_special(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_unspecified()
                || v4.is_multicast()
                || v4 == Ipv4Addr::BROADCAST
                || (a, b) == (192, 0) && c == 2
                || (a, b, c) == (198, 51, 100)
                || (a, b, c) == (203, 0, 113)
                || (a, b & 0xfe) == (198, 18)
                || a == 0
        }
        IpAddr::V6(v6) => {
            v6.is_unspecified() || v6.is_multicast() || v6.segments()[..2] == [0x2001, 0x0db8]
        }
    }
}

/// Whether a node at `node` may be included in an answer to `requester`.
pub fn can_relay(requester: IpAddr, node: IpAddr) -> bool {
    if is_special(node) {
        return false;
    }
    if is_loopback(node) && !is_loopback(requester) {
        return false;
    }
    if is_lan(node) && !is_lan(requester) {
        return false;
    }
    true
}

/// The /24 (IPv4) or /64 (IPv6) network of `ip`, for per-subnet limits.
/// `None` for LAN addresses, which are exempt from those limits.
pub fn subnet(ip: IpAddr) -> Option<[u8; 8]> {
    if is_lan(ip) {
        return None;
    }
    let mut net = [0u8; 8];
    match ip.to_canonical() {
        IpAddr::V4(v4) => net[..3].copy_from_slice(&v4.octets()[..3]),
        IpAddr::V6(v6) => net.copy_from_slice(&v6.octets()[..8]),
    }
    Some(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn relay_rules() {
        assert!(can_relay(ip("127.0.0.1"), ip("127.0.0.5")));
        assert!(!can_relay(ip("8.8.8.8"), ip("127.0.0.5")));
        assert!(!can_relay(ip("8.8.8.8"), ip("192.168.1.1")));
        assert!(can_relay(ip("10.0.0.1"), ip("192.168.1.1")));
        assert!(can_relay(ip("8.8.8.8"), ip("1.2.3.4")));
        assert!(!can_relay(ip("8.8.8.8"), ip("0.0.0.0")));
        assert!(!can_relay(ip("127.0.0.1"), ip("192.0.2.0")));
        assert!(!can_relay(ip("::1"), ip("::")));
        assert!(can_relay(ip("::1"), ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn subnets() {
        assert_eq!(subnet(ip("127.0.0.1")), None);
        assert_eq!(subnet(ip("1.2.3.4")), subnet(ip("1.2.3.200")));
        assert_ne!(subnet(ip("1.2.3.4")), subnet(ip("1.2.4.4")));
    }
}
