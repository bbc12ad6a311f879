//! The node key: the secp256k1 key behind the enode, kept in the data
//! directory as `nodekey` (64 hex characters, go-ethereum's format) so the
//! enode survives restarts and restores.

use std::{
    fs,
    io::Write,
    net::IpAddr,
    path::{Path, PathBuf},
};

use secp256k1::{PublicKey, SECP256K1, SecretKey};

/// The file name of the node key inside the data directory.
pub const NODEKEY_FILE: &str = "nodekey";

/// A node-key problem, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    /// The file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file does not hold a valid key.
    #[error("{path}: not a node key: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `generate` without `--force` over an existing key.
    #[error(
        "{path}: a node key already exists; the enode would change (use --force to replace it)"
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// A node's secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeKey(SecretKey);

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", hex::encode(self.node_id()))
    }
}

impl NodeKey {
    /// A fresh random key.
    pub fn random() -> Self {
        let (secret, _) = secp256k1::generate_keypair(&mut secp256k1::rand::rng());
        NodeKey(secret)
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, secp256k1::Error> {
        SecretKey::from_byte_array(*bytes).map(NodeKey)
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.0
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        PublicKey::from_secret_key(SECP256K1, &self.0)
    }

    /// The node id: the uncompressed public key without its `0x04` prefix.
    pub fn node_id(&self) -> [u8; 64] {
        let mut id = [0u8; 64];
        id.copy_from_slice(&self.public().serialize_uncompressed()[1..]);
        id
    }

    /// The path of the key inside `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(NODEKEY_FILE)
    }

    /// Reads the key from `data_dir`.
    pub fn load(data_dir: &Path) -> Result<Self, NodeKeyError> {
        let path = Self::path(data_dir);
        let text = fs::read_to_string(&path).map_err(|cause| NodeKeyError::Io {
            path: path.clone(),
            cause,
        })?;
        let invalid = |reason: String| NodeKeyError::Invalid {
            path: path.clone(),
            reason,
        };
        let digits = text.trim();
        let bytes = hex::decode(digits.strip_prefix("0x").unwrap_or(digits))
            .map_err(|error| invalid(format!("not hex: {error}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| invalid(format!("{} bytes, expected 32", bytes.len())))?;
        Self::from_bytes(&bytes).map_err(|error| invalid(error.to_string()))
    }

    /// Writes the key to `data_dir` (mode 0600), atomically.
    pub fn save(&self, data_dir: &Path) -> Result<PathBuf, NodeKeyError> {
        let path = Self::path(data_dir);
        let io = |cause| NodeKeyError::Io {
            path: path.clone(),
            cause,
        };
        fs::create_dir_all(data_dir).map_err(io)?;
        let temporary = data_dir.join(format!(".{NODEKEY_FILE}.tmp"));
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary).map_err(io)?;
        file.write_all(hex::encode(self.0.secret_bytes()).as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(io)?;
        fs::rename(&temporary, &path).map_err(io)?;
        Ok(path)
    }

    /// Reads the key from `data_dir`, creating one on first start.
    /// Returns the key and whether it was created.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool), NodeKeyError> {
        if Self::path(data_dir).exists() {
            return Self::load(data_dir).map(|key| (key, false));
        }
        let key = Self::random();
        key.save(data_dir)?;
        Ok((key, true))
    }

    /// Creates a new key in `data_dir`; refuses to replace one unless `force`.
    pub fn generate(data_dir: &Path, force: bool) -> Result<Self, NodeKeyError> {
        let path = Self::path(data_dir);
        if path.exists() && !force {
            return Err(NodeKeyError::Exists { path });
        }
        let key = Self::random();
        key.save(data_dir)?;
        Ok(key)
    }

    /// The enode URL for this key at `ip`, TCP `port` and UDP `discovery_port`.
    pub fn enode_url(&self, ip: IpAddr, port: u16, discovery_port: u16) -> String {
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let mut url = format!("enode://{}@{host}:{port}", hex::encode(self.node_id()));
        if discovery_port != port {
            url.push_str(&format!("?discport={discovery_port}"));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_key_gives_known_node_id() {
        // The node key and id of go-ethereum's p2p/enode tests ("b71c71a6...").
        let key = NodeKey::from_bytes(
            &hex::decode("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
                .unwrap()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            hex::encode(key.node_id()),
            "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"
        );
    }

    #[test]
    fn save_load_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let (key, created) = NodeKey::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (again, created) = NodeKey::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(key, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(NodeKey::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            NodeKey::generate(dir.path(), false),
            Err(NodeKeyError::Exists { .. })
        ));
        assert_ne!(NodeKey::generate(dir.path(), true).unwrap(), key);
    }

    #[test]
    fn bad_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(NodeKey::path(dir.path()), "abcd").unwrap();
        let error = NodeKey::load(dir.path()).unwrap_err().to_string();
        assert!(
            error.ends_with("nodekey: not a node key: 2 bytes, expected 32"),
            "{error}"
        );
    }

    #[test]
    fn enode_url_forms() {
        let key = NodeKey::random();
        let id = hex::encode(key.node_id());
        assert_eq!(
            key.enode_url("10.0.0.1".parse().unwrap(), 30303, 30303),
            format!("enode://{id}@10.0.0.1:30303")
        );
        assert_eq!(
            key.enode_url("::1".parse().unwrap(), 30303, 30301),
            format!("enode://{id}@[::1]:30303?discport=30301")
        );
    }
}
