//! The ABI stamp: a plain C symbol every plugin exports, read before any
//! abi_stable machinery so that a plugin built against another ABI gets a
//! message with both versions instead of a layout dump.

/// The name of the exported [`AbiStamp`] static, without a trailing NUL.
pub const ABI_STAMP_SYMBOL: &str = "HYPASIS_PLUGIN_ABI";

/// A plugin ABI version: major changes break, minor ones only append.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, abi_stable::StableAbi)]
pub struct AbiVersion {
    /// Incompatible changes bump this.
    pub major: u32,
    /// Appended prefix fields or methods bump this.
    pub minor: u32,
}

impl AbiVersion {
    /// Whether a plugin stamped `plugin` can be used by a host speaking `self`:
    /// same major, and the plugin is not newer than the host within it.
    pub fn accepts(self, plugin: AbiVersion) -> bool {
        self.major == plugin.major && plugin.minor <= self.minor
    }
}

impl std::fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

const fn parse_u32(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// The ABI version this crate defines: its own major and minor version
/// (one minor more in the test-only `next-minor` build, which stands for
/// the next minor release: see the crate docs).
pub const ABI_VERSION: AbiVersion = AbiVersion {
    major: parse_u32(env!("CARGO_PKG_VERSION_MAJOR")),
    minor: parse_u32(env!("CARGO_PKG_VERSION_MINOR")) + NEXT_MINOR,
};

#[cfg(feature = "next-minor")]
const NEXT_MINOR: u32 = 1;
#[cfg(not(feature = "next-minor"))]
const NEXT_MINOR: u32 = 0;

/// The value behind the [`ABI_STAMP_SYMBOL`] static.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiStamp {
    /// Always `*b"HYPASIS\0"`; anything else is not a Hypasis plugin.
    pub magic: [u8; 8],
    /// The plugin-api version the plugin was built against.
    pub version: AbiVersion,
}

impl AbiStamp {
    /// The magic bytes at the start of every stamp.
    pub const MAGIC: [u8; 8] = *b"HYPASIS\0";

    /// The stamp of a plugin built against this crate.
    pub const CURRENT: AbiStamp = AbiStamp {
        magic: Self::MAGIC,
        version: ABI_VERSION,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_follows_the_crate_version() {
        let expected: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split('.')
            .take(2)
            .map(|part| part.parse().unwrap())
            .collect();
        assert_eq!(
            vec![ABI_VERSION.major, ABI_VERSION.minor - NEXT_MINOR],
            expected
        );
    }

    #[test]
    fn compatibility_rule() {
        let host = AbiVersion { major: 1, minor: 2 };
        assert!(host.accepts(AbiVersion { major: 1, minor: 0 }));
        assert!(host.accepts(AbiVersion { major: 1, minor: 2 }));
        assert!(!host.accepts(AbiVersion { major: 1, minor: 3 }));
        assert!(!host.accepts(AbiVersion { major: 0, minor: 9 }));
        assert!(!host.accepts(AbiVersion { major: 2, minor: 0 }));
    }
}
