//! Prints the effective configuration as YAML (secrets already redact
//! themselves when serialized).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// Renders any serializable value as block-style YAML. Strings are written
/// double-quoted with JSON escapes, which YAML reads back unchanged.
pub fn render_yaml(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = String::new();
    write_value(&mut out, &value, 0, true);
    Ok(out)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::String(text) => Value::String(text.clone()).to_string(),
        other => other.to_string(),
    }
}

fn write_value(out: &mut String, value: &Value, indent: usize, top: bool) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            if !top {
                out.push('\n');
            }
            for (key, child) in map {
                let _ = write!(out, "{pad}{key}:");
                match child {
                    Value::Object(inner) if !inner.is_empty() => {
                        write_value(out, child, indent + 2, false)
                    }
                    Value::Array(items) if !items.is_empty() => {
                        write_value(out, child, indent + 2, false)
                    }
                    _ => {
                        let _ = writeln!(out, " {}", empty_or_scalar(child));
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                match item {
                    Value::Object(inner) if !inner.is_empty() => {
                        let _ = write!(out, "{pad}-");
                        write_value(out, item, indent + 2, false);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", empty_or_scalar(item));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{}", empty_or_scalar(other));
        }
    }
}

fn empty_or_scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => scalar(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_maps_and_lists() {
        let value = serde_json::json!({
            "a": {"b": 1, "c": "x: y", "d": [], "e": ["p", "q"]},
            "f": null,
            "g": {}
        });
        assert_eq!(
            render_yaml(&value).unwrap(),
            "a:\n  b: 1\n  c: \"x: y\"\n  d: []\n  e:\n    - \"p\"\n    - \"q\"\nf: null\ng: {}\n"
        );
    }
}
