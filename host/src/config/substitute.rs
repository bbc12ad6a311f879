//! `${VAR}` substitution in configuration files.
//!
//! `${VAR}` is replaced by the variable's value and is an error when unset;
//! `${VAR:-default}` falls back to `default` when the variable is unset or
//! empty. `$$` is a literal `$`. Substitution happens on the text, before
//! YAML parsing, so a value can fill a number, a boolean or a string.
//! Comments (a `#` at the start of a line or after whitespace, outside
//! quotes) are left alone.

/// A `${VAR}` that could not be filled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubstituteError {
    /// The variable is unset and has no default.
    #[error(
        "line {line}: environment variable `{name}` is not set (write `${{{name}:-default}}` to give a default)"
    )]
    Unset {
        /// The variable.
        name: String,
        /// 1-based line in the file.
        line: usize,
    },
    /// `${` without a closing `}`.
    #[error("line {line}: `${{` is not closed by `}}`")]
    Unclosed {
        /// 1-based line in the file.
        line: usize,
    },
    /// An invalid variable name.
    #[error("line {line}: `{name}` is not a valid variable name")]
    BadName {
        /// What was written.
        name: String,
        /// 1-based line in the file.
        line: usize,
    },
}

/// Where the comment of a YAML line starts, if it has one.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (index, c) in line.char_indices() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => return Some(index),
            None => {}
        }
        previous = c;
    }
    None
}

/// Replaces every `${VAR}` and `${VAR:-default}` in `text` using `lookup`.
pub fn substitute(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, SubstituteError> {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let (code, comment) = line.split_at(comment_start(line).unwrap_or(line.len()));
        substitute_line(code, index + 1, &lookup, &mut out)?;
        out.push_str(comment);
    }
    Ok(out)
}

fn substitute_line(
    text: &str,
    line: usize,
    lookup: &impl Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), SubstituteError> {
    let mut rest = text;
    while let Some(position) = rest.find('$') {
        out.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(close) = body.find('}') else {
            return Err(SubstituteError::Unclosed { line });
        };
        let expression = &body[..close];
        let (name, default) = match expression.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expression, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(SubstituteError::BadName {
                name: name.to_string(),
                line,
            });
        }
        let value = lookup(name).filter(|value| !(default.is_some() && value.is_empty()));
        match (value, default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(SubstituteError::Unset {
                    name: name.to_string(),
                    line,
                });
            }
        }
        rest = &body[close + 1..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PEERS" => Some("50".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes() {
        assert_eq!(
            substitute(
                "a: ${PEERS}\nb: ${MISSING:-7}\nc: ${EMPTY:-x}\nd: $$HOME $x",
                env
            )
            .unwrap(),
            "a: 50\nb: 7\nc: x\nd: $HOME $x"
        );
        assert_eq!(substitute("e: '${EMPTY}'", env).unwrap(), "e: ''");
        assert_eq!(
            substitute(
                "# ${NOPE}\nf: ${PEERS} # ${NOPE}\ng: \"a # ${PEERS}\"\n",
                env
            )
            .unwrap(),
            "# ${NOPE}\nf: 50 # ${NOPE}\ng: \"a # 50\"\n"
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            substitute("a: 1\nb: ${NOPE}\n", env)
                .unwrap_err()
                .to_string(),
            "line 2: environment variable `NOPE` is not set (write `${NOPE:-default}` to give a default)"
        );
        assert_eq!(
            substitute("a: ${PEERS", env).unwrap_err(),
            SubstituteError::Unclosed { line: 1 }
        );
        assert_eq!(
            substitute("a: ${9x}", env).unwrap_err().to_string(),
            "line 1: `9x` is not a valid variable name"
        );
    }
}
