//! The one table of the operator guide's names for our keys, and of keys
//! that are refused with a reason. The guide's YAML loads as written: its
//! name is read as ours (our names stay the documented ones); a key in
//! [`REFUSED`] stops start-up with its path and why.

use serde_json::{Map, Value};

/// How a guide key's value becomes ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// The same value.
    Same,
    /// `p2p.mode`: `devp2p` runs devp2p, `off` (or `none`) does not.
    P2pMode,
}

/// A guide key read as one of ours.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    /// The guide's dotted key.
    pub guide: &'static str,
    /// Ours.
    pub ours: &'static str,
    /// How its value translates.
    pub translation: Translation,
}

/// Every alias.
pub const ALIASES: &[Alias] = &[
    Alias {
        guide: "p2p.listen",
        ours: "p2p.listen_addr",
        translation: Translation::Same,
    },
    Alias {
        guide: "p2p.mode",
        ours: "p2p.enabled",
        translation: Translation::P2pMode,
    },
    Alias {
        guide: "cluster.heartbeat_period",
        ours: "cluster.heartbeat_interval",
        translation: Translation::Same,
    },
];

/// Keys refused, with the reason.
pub const REFUSED: &[(&str, &str)] = &[(
    "cache.ttl",
    "responses are cached by block hash, which never names other contents, so entries never go stale; remove the key and bound the cache with cache.max_entries or cache.max_size",
)];

/// A value under a dotted key of a tree, removed.
fn take(tree: &mut Value, key: &str) -> Option<Value> {
    let (parent, last) = match key.rsplit_once('.') {
        Some((parent, last)) => (Some(parent), last),
        None => (None, key),
    };
    let mut node = tree;
    if let Some(parent) = parent {
        for part in parent.split('.') {
            node = node.get_mut(part)?;
        }
    }
    node.as_object_mut()?.remove(last)
}

fn contains(tree: &Value, key: &str) -> bool {
    let mut node = tree;
    for part in key.split('.') {
        match node.get(part) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

fn put(tree: &mut Value, key: &str, value: Value) {
    let mut node = tree;
    let parts: Vec<&str> = key.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        let Some(object) = node.as_object_mut() else {
            return;
        };
        node = object
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let (Some(object), Some(last)) = (node.as_object_mut(), parts.last()) {
        object.insert(last.to_string(), value);
    }
}

/// Whether `tree` uses any alias or refused key (then it must be rewritten).
pub fn needed(tree: &Value) -> bool {
    ALIASES.iter().any(|alias| contains(tree, alias.guide))
        || REFUSED.iter().any(|(key, _)| contains(tree, key))
}

/// Rewrites the guide's keys in `tree` into ours; a refused key, a guide
/// key given together with ours, or a value that does not translate is an
/// error `(key, message)`.
pub fn apply(tree: &mut Value) -> Result<(), (String, String)> {
    for (key, reason) in REFUSED {
        if contains(tree, key) {
            return Err((key.to_string(), format!("not supported: {reason}")));
        }
    }
    for alias in ALIASES {
        let Some(value) = take(tree, alias.guide) else {
            continue;
        };
        if contains(tree, alias.ours) {
            return Err((
                alias.guide.to_string(),
                format!(
                    "the operator guide's name for {}, which is set too: keep one",
                    alias.ours
                ),
            ));
        }
        let value = match alias.translation {
            Translation::Same => value,
            Translation::P2pMode => match value.as_str() {
                Some("devp2p") => Value::Bool(true),
                Some("off" | "none") => Value::Bool(false),
                _ => {
                    return Err((
                        alias.guide.to_string(),
                        format!("must be `devp2p` or `off`, not {value}"),
                    ));
                }
            },
        };
        put(tree, alias.ours, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guide_keys_become_ours_and_refused_keys_say_why() {
        let mut tree = json!({"p2p": {"listen": "0.0.0.0:30303", "mode": "devp2p"},
            "cluster": {"heartbeat_period": "5s"}});
        assert!(needed(&tree));
        apply(&mut tree).unwrap();
        assert_eq!(
            tree,
            json!({"p2p": {"listen_addr": "0.0.0.0:30303", "enabled": true},
                "cluster": {"heartbeat_interval": "5s"}})
        );
        assert!(!needed(&tree));
        let mut both = json!({"p2p": {"listen": "a", "listen_addr": "b"}});
        assert_eq!(apply(&mut both).unwrap_err().0, "p2p.listen");
        let mut mode = json!({"p2p": {"mode": "libp2p"}});
        let (key, message) = apply(&mut mode).unwrap_err();
        assert_eq!(key, "p2p.mode");
        assert!(message.contains("`devp2p` or `off`"), "{message}");
        let mut ttl = json!({"cache": {"ttl": "2s"}});
        let (key, message) = apply(&mut ttl).unwrap_err();
        assert_eq!(key, "cache.ttl");
        assert!(message.starts_with("not supported: "), "{message}");
    }
}
