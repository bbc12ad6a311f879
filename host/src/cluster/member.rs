//! A cluster member as it is kept in Redis: who it is, where it is, how to
//! reach it, and how far it has synced. Values are versioned JSON, checked
//! field by field on read: a foreign or damaged value is an error, never a
//! member.

use serde::{Deserialize, Serialize};

/// The record version this host writes and reads.
pub const MEMBER_VERSION: u32 = 1;

/// Longest id or region accepted (also bounds the Redis key).
pub const MAX_ID_LEN: usize = 128;

/// Longest enode or URL accepted.
const MAX_URL_LEN: usize = 512;

/// What an instance does in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Syncs from upstreams and serves (`run`).
    Syncer,
    /// Serves a data directory without syncing (`serve`).
    Server,
}

/// One member's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Record version ([`MEMBER_VERSION`]).
    pub v: u32,
    /// `cloud.instance_id`.
    pub instance_id: String,
    /// `cloud.region`.
    pub region: String,
    /// Its devp2p enode URL, when devp2p runs.
    pub enode: Option<String>,
    /// Its public REST URL (`/api/v1/...`), when the REST API runs.
    pub api_url: Option<String>,
    /// Its public JSON-RPC URL, when JSON-RPC runs.
    pub rpc_url: Option<String>,
    /// Its served head block, when it has one.
    pub head: Option<u64>,
    /// The host's version.
    pub version: String,
    /// What it does.
    pub role: Role,
    /// When it last renewed its record, in Unix milliseconds (its clock).
    pub heartbeat_ms: u64,
}

/// Why a value read from Redis is not a member.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MemberError {
    /// Not JSON of the member shape.
    #[error("not a member record: {0}")]
    Shape(String),
    /// Written by another record version.
    #[error("member record version {found}, this host reads {MEMBER_VERSION}")]
    Version {
        /// The version found.
        found: u32,
    },
    /// A field is out of bounds.
    #[error("member field `{field}`: {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl Member {
    /// The record as stored.
    pub fn encode(&self) -> String {
        // A struct of strings and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses and checks a stored record; `key_id` is the id its key names.
    pub fn decode(bytes: &[u8], key_id: &str) -> Result<Member, MemberError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|error| MemberError::Shape(error.to_string()))?;
        let found = value.get("v").and_then(serde_json::Value::as_u64);
        match found {
            Some(found) if found == u64::from(MEMBER_VERSION) => {}
            Some(found) => {
                return Err(MemberError::Version {
                    found: u32::try_from(found).unwrap_or(u32::MAX),
                });
            }
            None => return Err(MemberError::Shape("no version `v`".into())),
        }
        let member: Member =
            serde_json::from_value(value).map_err(|error| MemberError::Shape(error.to_string()))?;
        member.check()?;
        if member.instance_id != key_id {
            return Err(MemberError::Field {
                field: "instance_id",
                problem: format!(
                    "`{}` is kept under the key of `{key_id}`",
                    member.instance_id
                ),
            });
        }
        Ok(member)
    }

    /// Checks the bounds of every field.
    pub fn check(&self) -> Result<(), MemberError> {
        let field =
            |field: &'static str, problem: String| Err(MemberError::Field { field, problem });
        if !is_id(&self.instance_id) {
            return field(
                "instance_id",
                format!(
                    "`{}` is not 1–{MAX_ID_LEN} of [A-Za-z0-9._-]",
                    self.instance_id
                ),
            );
        }
        if self.region.len() > MAX_ID_LEN || self.region.chars().any(char::is_control) {
            return field("region", "too long or has control characters".into());
        }
        if let Some(enode) = &self.enode
            && (!enode.starts_with("enode://") || enode.len() > MAX_URL_LEN)
        {
            return field("enode", format!("`{enode}` is not an enode URL"));
        }
        for (name, url) in [("api_url", &self.api_url), ("rpc_url", &self.rpc_url)] {
            if let Some(url) = url
                && (!(url.starts_with("http://") || url.starts_with("https://"))
                    || url.len() > MAX_URL_LEN)
            {
                return field(name, format!("`{url}` is not an http(s) URL"));
            }
        }
        if self.version.len() > MAX_ID_LEN {
            return field("version", "too long".into());
        }
        Ok(())
    }
}

/// Whether `id` can name a member (and a Redis key): 1–128 of `[A-Za-z0-9._-]`.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Member {
        Member {
            v: MEMBER_VERSION,
            instance_id: "hypasis-sync-1".into(),
            region: "us-east-1".into(),
            enode: Some("enode://ab@10.0.0.1:30303".into()),
            api_url: Some("http://10.0.0.1:8080".into()),
            rpc_url: None,
            head: Some(7),
            version: "0.1.0".into(),
            role: Role::Syncer,
            heartbeat_ms: 1,
        }
    }

    #[test]
    fn a_record_round_trips() {
        let encoded = member().encode();
        assert_eq!(
            Member::decode(encoded.as_bytes(), "hypasis-sync-1"),
            Ok(member())
        );
    }

    #[test]
    fn foreign_and_damaged_values_are_errors() {
        let other_version = member().encode().replace("\"v\":1", "\"v\":2");
        assert_eq!(
            Member::decode(other_version.as_bytes(), "hypasis-sync-1"),
            Err(MemberError::Version { found: 2 })
        );
        assert!(matches!(
            Member::decode(b"PONG", "x"),
            Err(MemberError::Shape(_))
        ));
        assert!(matches!(
            Member::decode(br#"{"v":1}"#, "x"),
            Err(MemberError::Shape(_))
        ));
        let bad_enode = member().encode().replace("enode://ab", "http://ab");
        assert!(matches!(
            Member::decode(bad_enode.as_bytes(), "hypasis-sync-1"),
            Err(MemberError::Field { field: "enode", .. })
        ));
        assert!(matches!(
            Member::decode(member().encode().as_bytes(), "hypasis-sync-2"),
            Err(MemberError::Field {
                field: "instance_id",
                ..
            })
        ));
        let extra = member()
            .encode()
            .replace("{\"v\":1", "{\"v\":1,\"limit\":9");
        assert!(matches!(
            Member::decode(extra.as_bytes(), "hypasis-sync-1"),
            Err(MemberError::Shape(_))
        ));
    }

    #[test]
    fn ids_are_key_safe() {
        assert!(is_id("hypasis-sync-1"));
        assert!(!is_id(""));
        assert!(!is_id("a:b"));
        assert!(!is_id("a b"));
        assert!(!is_id(&"x".repeat(129)));
    }
}
