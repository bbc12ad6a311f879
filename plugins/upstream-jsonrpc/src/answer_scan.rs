//! Locating the answer objects of a JSON-RPC response (each one's `id`,
//! `result` and `error` members) without decoding the results.
//!
//! A batch of blocks with full transactions is megabytes of hex strings.
//! Splitting it with serde_json (each result as a `RawValue`) walked every
//! byte once, and the typed decoder that reads each result walked it
//! again: the split alone was ~10% of a sync's CPU. Here strings are
//! skipped with `memchr` and a result is only checked to be balanced; its
//! contents are checked by whoever decodes it. The shape around the results
//! (the array, the answer objects, their members) is checked strictly.
//!
//! Anything this scanner does not accept (invalid JSON, but also escaped
//! or repeated member names) is left to the serde_json path in
//! [`crate::rpc`], which either decodes it or says exactly what is wrong.

use std::ops::Range;

/// Where one answer object's members sit in the response text (byte
/// ranges of their values, absent members `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerSpan {
    /// The `id` member's value.
    pub id: Option<Range<usize>>,
    /// The `result` member's value.
    pub result: Option<Range<usize>>,
    /// The `error` member's value.
    pub error: Option<Range<usize>>,
}

/// A response's answers: an array of answer objects (a batch) or one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// A JSON array of answer objects.
    Batch(Vec<AnswerSpan>),
    /// A single answer object.
    Single(AnswerSpan),
}

/// The text is not a shape this scanner takes; the byte offset where it
/// stopped (only for tests and logs: the caller re-reads the text with
/// serde_json for the real error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotScanned(pub usize);

/// Locates the answers in `text`.
pub fn scan(text: &[u8]) -> Result<Scanned, NotScanned> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.skip_whitespace();
    let scanned = match cursor.peek() {
        Some(b'[') => {
            cursor.at += 1;
            let mut answers = Vec::new();
            cursor.skip_whitespace();
            if cursor.peek() == Some(b']') {
                cursor.at += 1;
            } else {
                loop {
                    cursor.skip_whitespace();
                    answers.push(cursor.answer()?);
                    cursor.skip_whitespace();
                    match cursor.next() {
                        Some(b',') => {}
                        Some(b']') => break,
                        _ => return Err(cursor.stop()),
                    }
                }
            }
            Scanned::Batch(answers)
        }
        Some(b'{') => Scanned::Single(cursor.answer()?),
        _ => return Err(cursor.stop()),
    };
    cursor.skip_whitespace();
    if cursor.at != text.len() {
        return Err(cursor.stop());
    }
    Ok(scanned)
}

/// A position in the text being scanned.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn stop(&self) -> NotScanned {
        NotScanned(self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// One answer object, the cursor on its `{`.
    fn answer(&mut self) -> Result<AnswerSpan, NotScanned> {
        if self.next() != Some(b'{') {
            return Err(self.stop());
        }
        let mut span = AnswerSpan::default();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(span);
        }
        loop {
            self.skip_whitespace();
            let name = self.string()?;
            let name = &self.text[name.start + 1..name.end - 1];
            self.skip_whitespace();
            if self.next() != Some(b':') {
                return Err(self.stop());
            }
            self.skip_whitespace();
            let value = self.value()?;
            let slot = match name {
                b"id" => Some(&mut span.id),
                b"result" => Some(&mut span.result),
                b"error" => Some(&mut span.error),
                // Escaped names would need unescaping to compare.
                _ if name.contains(&b'\\') => return Err(self.stop()),
                _ => None,
            };
            if let Some(slot) = slot {
                if slot.is_some() {
                    // A repeated member: serde_json's verdict, not ours.
                    return Err(self.stop());
                }
                *slot = Some(value);
            }
            self.skip_whitespace();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(span),
                _ => return Err(self.stop()),
            }
        }
    }

    /// A string, the cursor on its opening quote; returns its range with
    /// both quotes.
    fn string(&mut self) -> Result<Range<usize>, NotScanned> {
        let start = self.at;
        if self.next() != Some(b'"') {
            return Err(self.stop());
        }
        loop {
            let rest = self.text.get(self.at..).unwrap_or_default();
            match memchr::memchr2(b'"', b'\\', rest) {
                Some(offset) if rest[offset] == b'"' => {
                    self.at += offset + 1;
                    return Ok(start..self.at);
                }
                // A backslash: the byte after it is escaped (the `u` of
                // `\uXXXX` included: its hex digits hold no quote).
                Some(offset) if offset + 1 < rest.len() => self.at += offset + 2,
                _ => {
                    self.at = self.text.len();
                    return Err(self.stop());
                }
            }
        }
    }

    /// Any value, the cursor on its first byte; returns its range. Arrays
    /// and objects are checked only to be balanced, scalars only to be
    /// non-empty runs of the bytes a number or literal is made of.
    fn value(&mut self) -> Result<Range<usize>, NotScanned> {
        let start = self.at;
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{' | b'[') => {
                let mut open: Vec<u8> = Vec::new();
                loop {
                    match self.peek() {
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(byte @ (b'{' | b'[')) => open.push(byte),
                        Some(b'}') if open.pop() == Some(b'{') => {}
                        Some(b']') if open.pop() == Some(b'[') => {}
                        Some(b'}' | b']') | None => return Err(self.stop()),
                        Some(_) => {}
                    }
                    self.at += 1;
                    if open.is_empty() {
                        return Ok(start..self.at);
                    }
                }
            }
            _ => {
                while let Some(b'0'..=b'9' | b'a'..=b'z' | b'-' | b'+' | b'.' | b'E') = self.peek()
                {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(self.stop());
                }
                Ok(start..self.at)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member<'a>(text: &'a str, range: &Option<Range<usize>>) -> Option<&'a str> {
        range.clone().map(|range| &text[range])
    }

    #[test]
    fn batches_are_split_into_answer_members() {
        let text = r#" [ {"jsonrpc":"2.0","id":7,"result":{"a":["x\"}]",{"b":null}],"c":"\\"}} ,
            {"error":{"code":-32000,"message":"no"}, "id" : 8},
            {"id":9,"result":null},{"id":10,"result":-1.5e+3},{} ] "#;
        let Ok(Scanned::Batch(answers)) = scan(text.as_bytes()) else {
            panic!("not a batch: {:?}", scan(text.as_bytes()));
        };
        assert_eq!(answers.len(), 5);
        assert_eq!(member(text, &answers[0].id), Some("7"));
        assert_eq!(
            member(text, &answers[0].result),
            Some(r#"{"a":["x\"}]",{"b":null}],"c":"\\"}"#)
        );
        assert_eq!(answers[0].error, None);
        assert_eq!(
            member(text, &answers[1].error),
            Some(r#"{"code":-32000,"message":"no"}"#)
        );
        assert_eq!(member(text, &answers[1].id), Some("8"));
        assert_eq!(answers[1].result, None);
        assert_eq!(member(text, &answers[2].result), Some("null"));
        assert_eq!(member(text, &answers[3].result), Some("-1.5e+3"));
        assert_eq!(answers[4], AnswerSpan::default());
        assert_eq!(scan(b"[]"), Ok(Scanned::Batch(Vec::new())));
    }

    #[test]
    fn a_single_answer_is_one_object() {
        let text = r#"{"id":null,"error":{"code":-32600,"message":"batch too large"}}"#;
        let Ok(Scanned::Single(answer)) = scan(text.as_bytes()) else {
            panic!("not a single answer");
        };
        assert_eq!(member(text, &answer.id), Some("null"));
        assert!(answer.error.is_some());
    }

    #[test]
    fn what_it_does_not_take_is_refused() {
        for text in [
            "",
            "<html>",
            "\"text\"",
            "[",
            "[{\"id\":1}",
            "[{\"id\":1},]",
            "[{\"id\":1}] x",
            "{\"id\":1,}",
            "{\"id\" 1}",
            "{\"id\":}",
            "{\"result\":{\"a\":1]}",
            "{\"result\":[1,2}",
            "{\"result\":\"unterminated}",
            "{\"result\":\"ends in a backslash\\",
            "{\"id\":1,\"id\":2}",
            "{\"\\u0069d\":1}",
            "{id:1}",
        ] {
            assert!(scan(text.as_bytes()).is_err(), "took {text:?}");
        }
    }

    /// Every answer the scanner takes, serde_json reads the same way: the
    /// same members with the same values.
    #[test]
    fn agrees_with_serde_json_on_generated_answers() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let strings = [
            "\"\"",
            "\"0xabc\"",
            "\"a\\\"b\"",
            "\"\\\\\"",
            "\"\\u00e9]}\"",
            "\"é\"",
        ];
        let scalars = ["1", "-0.5", "2e10", "true", "false", "null"];
        for _ in 0..2000 {
            let count = random(4);
            let mut answers = Vec::new();
            for _ in 0..count {
                let mut members = Vec::new();
                if random(4) > 0 {
                    members.push(format!("\"id\":{}", random(100)));
                }
                let mut nested = String::new();
                for _ in 0..random(5) {
                    nested.push_str(match random(4) {
                        0 => "[",
                        1 => "{\"k\":",
                        _ => "",
                    });
                }
                let depth_open: Vec<char> =
                    nested.chars().filter(|c| *c == '[' || *c == '{').collect();
                let leaf = if random(2) == 0 {
                    strings[random(strings.len() as u64) as usize]
                } else {
                    scalars[random(scalars.len() as u64) as usize]
                };
                let mut value = nested.clone();
                value.push_str(leaf);
                for open in depth_open.iter().rev() {
                    value.push(if *open == '[' { ']' } else { '}' });
                }
                members.push(format!("\"result\" : {value}"));
                if random(3) == 0 {
                    members.push("\"error\":{\"code\":-32000,\"message\":\"x\"}".into());
                }
                members.push("\"jsonrpc\":\"2.0\"".into());
                let rotate = random(members.len() as u64) as usize;
                members.rotate_left(rotate);
                answers.push(format!("{{{}}}", members.join(", ")));
            }
            let text = format!("[{}]", answers.join(",\n"));
            let parsed: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(&text).unwrap_or_else(|error| panic!("{text}: {error}"));
            let Ok(Scanned::Batch(spans)) = scan(text.as_bytes()) else {
                panic!("refused {text}");
            };
            assert_eq!(spans.len(), parsed.len());
            for (span, object) in spans.iter().zip(&parsed) {
                for (name, range) in [
                    ("id", &span.id),
                    ("result", &span.result),
                    ("error", &span.error),
                ] {
                    let scanned: Option<serde_json::Value> = range
                        .clone()
                        .map(|range| serde_json::from_str(&text[range]).unwrap());
                    assert_eq!(scanned.as_ref(), object.get(name), "{name} in {text}");
                }
            }
        }
    }
}
