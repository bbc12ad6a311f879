//! Capability negotiation (go-ethereum `matchProtocols`, `p2p/peer.go`):
//! for each protocol name both sides offer, the highest version both
//! offer wins; the winners, sorted by name, get consecutive message-id
//! ranges starting at [`BASE_PROTOCOL_LENGTH`], each as long as the
//! protocol's message count.
//!
//! eth/68 (17 ids) + snap/1 (8 ids): eth at 16..=32, snap at 33..=40.

use crate::protocol::{BASE_PROTOCOL_LENGTH, MAX_FRAME_SIZE};

/// A capability as Hello lists it: a sub-protocol name and version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability {
    /// Protocol name, e.g. `eth`.
    pub name: String,
    /// Protocol version, e.g. 68.
    pub version: u64,
}

impl Capability {
    /// A capability.
    pub fn new(name: impl Into<String>, version: u64) -> Self {
        Capability {
            name: name.into(),
            version,
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.name, self.version)
    }
}

/// A sub-protocol we speak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol {
    /// Name, e.g. `eth`.
    pub name: String,
    /// Version, e.g. 68.
    pub version: u64,
    /// Number of message ids it uses (eth/68: 17, eth/69: 18, snap/1: 8).
    pub length: u64,
    /// Largest decoded message accepted on it; checked before decompressing.
    /// Default [`MAX_FRAME_SIZE`]; eth uses 10 MiB.
    pub max_message_size: usize,
}

impl Protocol {
    /// A protocol with the default message size limit.
    pub fn new(name: impl Into<String>, version: u64, length: u64) -> Self {
        Protocol {
            name: name.into(),
            version,
            length,
            max_message_size: MAX_FRAME_SIZE,
        }
    }

    /// The same protocol with a lower message size limit.
    pub fn with_max_message_size(mut self, max: usize) -> Self {
        self.max_message_size = max.min(MAX_FRAME_SIZE);
        self
    }

    /// Its Hello entry.
    pub fn capability(&self) -> Capability {
        Capability {
            name: self.name.clone(),
            version: self.version,
        }
    }
}

/// A capability both sides speak, with its message-id range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedCapability {
    /// Name and negotiated version.
    pub capability: Capability,
    /// First wire message id.
    pub offset: u64,
    /// Number of message ids.
    pub length: u64,
    /// Largest decoded message accepted.
    pub max_message_size: usize,
}

impl SharedCapability {
    /// Whether wire id `id` falls in this capability's range.
    pub fn contains(&self, id: u64) -> bool {
        id >= self.offset && id - self.offset < self.length
    }
}

/// The negotiated capabilities of a session, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedCapabilities(Vec<SharedCapability>);

impl SharedCapabilities {
    /// Negotiates our `protocols` against the peer's `offered` capabilities.
    pub fn negotiate(protocols: &[Protocol], offered: &[Capability]) -> Self {
        let mut best: Vec<&Protocol> = Vec::new();
        for proto in protocols {
            if !offered
                .iter()
                .any(|cap| cap.name == proto.name && cap.version == proto.version)
            {
                continue;
            }
            match best.iter_mut().find(|chosen| chosen.name == proto.name) {
                Some(chosen) if chosen.version < proto.version => *chosen = proto,
                Some(_) => {}
                None => best.push(proto),
            }
        }
        best.sort_by(|a, b| a.name.cmp(&b.name));
        let mut offset = BASE_PROTOCOL_LENGTH;
        let shared = best
            .into_iter()
            .map(|proto| {
                let shared = SharedCapability {
                    capability: proto.capability(),
                    offset,
                    length: proto.length,
                    max_message_size: proto.max_message_size,
                };
                offset = offset.saturating_add(proto.length);
                shared
            })
            .collect();
        SharedCapabilities(shared)
    }

    /// No capability in common.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All shared capabilities, by name.
    pub fn iter(&self) -> impl Iterator<Item = &SharedCapability> {
        self.0.iter()
    }

    /// The shared capability called `name`.
    pub fn get(&self, name: &str) -> Option<&SharedCapability> {
        self.0.iter().find(|shared| shared.capability.name == name)
    }

    /// The capability wire id `id` belongs to.
    pub fn by_wire_id(&self, id: u64) -> Option<&SharedCapability> {
        self.0.iter().find(|shared| shared.contains(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Vec<Protocol> {
        vec![
            Protocol::new("snap", 1, 8),
            Protocol::new("eth", 67, 17),
            Protocol::new("eth", 68, 17),
        ]
    }

    #[test]
    fn eth68_and_snap1_get_geth_offsets() {
        let offered = [
            Capability::new("eth", 67),
            Capability::new("eth", 68),
            Capability::new("snap", 1),
        ];
        let shared = SharedCapabilities::negotiate(&ours(), &offered);
        let got: Vec<_> = shared
            .iter()
            .map(|s| (s.capability.to_string(), s.offset, s.length))
            .collect();
        assert_eq!(
            got,
            [
                ("eth/68".to_string(), 16, 17),
                ("snap/1".to_string(), 33, 8)
            ]
        );
        assert_eq!(shared.by_wire_id(16).unwrap().capability.name, "eth");
        assert_eq!(shared.by_wire_id(32).unwrap().capability.name, "eth");
        assert_eq!(shared.by_wire_id(33).unwrap().capability.name, "snap");
        assert_eq!(shared.by_wire_id(40).unwrap().capability.name, "snap");
        assert!(shared.by_wire_id(41).is_none());
        assert!(shared.by_wire_id(15).is_none());
    }

    #[test]
    fn the_highest_common_version_wins_and_unshared_ones_drop() {
        let offered = [
            Capability::new("eth", 66),
            Capability::new("eth", 67),
            Capability::new("les", 4),
        ];
        let shared = SharedCapabilities::negotiate(&ours(), &offered);
        let got: Vec<_> = shared
            .iter()
            .map(|s| (s.capability.to_string(), s.offset))
            .collect();
        assert_eq!(got, [("eth/67".to_string(), 16)]);

        // eth/69 is 18 ids long, pushing snap to 34.
        let ours = [Protocol::new("eth", 69, 18), Protocol::new("snap", 1, 8)];
        let offered = [Capability::new("snap", 1), Capability::new("eth", 69)];
        let shared = SharedCapabilities::negotiate(&ours, &offered);
        assert_eq!(shared.get("snap").unwrap().offset, 34);
    }

    #[test]
    fn nothing_in_common_is_empty() {
        let shared = SharedCapabilities::negotiate(&ours(), &[Capability::new("eth", 63)]);
        assert!(shared.is_empty());
    }
}
