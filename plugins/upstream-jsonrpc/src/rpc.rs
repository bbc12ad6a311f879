//! The JSON-RPC client over one endpoint: single calls and batches, answers
//! matched by id, each request booked in the endpoint's health, and failed
//! calls of a batch retried on the same endpoint with backoff. Answers are
//! located by [`crate::answer_scan`] (serde_json only for what it refuses).

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Value, json, value::RawValue};

use crate::{
    answer_scan, backoff, endpoint::Endpoint, error::UpstreamError, http::excerpt,
    options::Options, score::Outcome,
};

/// A call's result as the endpoint wrote it, decoded by whoever needs it
/// (block answers straight into typed structures, small ones into a
/// `Value`). It is a slice of the whole response's text, shared by every
/// result of a batch, so that matching answers copies nothing.
#[derive(Debug, Clone)]
pub struct RawResult {
    text: Arc<String>,
    range: Range<usize>,
}

impl RawResult {
    /// The result's JSON text.
    pub fn get(&self) -> &str {
        // The range was taken from a slice of `text`: always in bounds.
        self.text.get(self.range.clone()).unwrap_or("null")
    }

    /// A `null` result (what a call that never got an answer leaves).
    fn null() -> Self {
        RawResult {
            text: Arc::new("null".to_owned()),
            range: 0..4,
        }
    }

    /// The result at `range` of `text`.
    fn at(text: &Arc<String>, range: Range<usize>) -> Self {
        RawResult {
            text: Arc::clone(text),
            range,
        }
    }

    /// The result `raw`, a slice of `text`.
    fn within(text: &Arc<String>, raw: &RawValue) -> Self {
        let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        Self::at(text, start..start + raw.get().len())
    }
}

/// A `result` member: absent, or present (`null` included).
#[derive(Debug, Default)]
enum Member<'a> {
    #[default]
    Absent,
    Present(&'a RawValue),
}

impl<'de: 'a, 'a> Deserialize<'de> for Member<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(Member::Present)
    }
}

/// One answer object of a response, its result borrowed from the text.
#[derive(Debug, Deserialize)]
struct AnswerObject<'a> {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, borrow)]
    result: Member<'a>,
    #[serde(default)]
    error: Option<Value>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Reserves `count` consecutive request ids and returns the first.
pub fn reserve_ids(count: usize) -> u64 {
    NEXT_ID.fetch_add(count.max(1) as u64, Ordering::Relaxed)
}

/// One call: a method and its JSON parameter array.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The method.
    pub method: String,
    /// The parameters (a JSON array).
    pub params: Value,
}

impl Call {
    /// A call of `method` with `params`.
    pub fn new(method: impl Into<String>, params: Value) -> Self {
        Call {
            method: method.into(),
            params,
        }
    }
}

/// Sends `calls` as one request (a batch when there is more than one) and
/// returns each call's `result` or error, in order. An `Err` means the
/// request as a whole failed.
pub async fn send(
    endpoint: &Endpoint,
    calls: &[Call],
    options: &Options,
) -> Result<Vec<Result<RawResult, UpstreamError>>, UpstreamError> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let first = reserve_ids(calls.len());
    let started = Instant::now();
    let answer = endpoint.exchange(first, request_body(first, calls)).await;
    let latency = started.elapsed();
    let results = answer.and_then(|answer| match_answers(endpoint.name(), calls, first, answer));
    book(endpoint, calls.len(), &results, latency, options);
    results
}

/// The request text for `calls` under ids from `first` on: one object, or
/// a batch array when there is more than one call.
pub(crate) fn request_body(first: u64, calls: &[Call]) -> String {
    let request = |offset: usize, call: &Call| json!({"jsonrpc": "2.0", "id": first + offset as u64, "method": call.method, "params": call.params});
    match calls {
        [single] => request(0, single),
        _ => Value::Array(
            calls
                .iter()
                .enumerate()
                .map(|(offset, call)| request(offset, call))
                .collect(),
        ),
    }
    .to_string()
}

/// Books one request of `count` calls, answered with `results` after
/// `latency`, in the endpoint's health: the share of calls answered (an
/// error any endpoint would give counts as answered), a 429's parking, or
/// a failure.
pub(crate) fn book<T>(
    endpoint: &Endpoint,
    count: usize,
    results: &Result<Vec<Result<T, UpstreamError>>, UpstreamError>,
    latency: Duration,
    options: &Options,
) {
    match results {
        Ok(results) => {
            let answered = results
                .iter()
                .filter(|result| match result {
                    Ok(_) => true,
                    Err(error) => !error.is_endpoint_trouble(),
                })
                .count();
            endpoint.record(
                Outcome::Answered {
                    latency,
                    answered: answered as f64 / count.max(1) as f64,
                },
                options,
            );
        }
        Err(UpstreamError::RateLimited { retry_after, .. }) => endpoint.record(
            Outcome::RateLimited {
                until: Instant::now() + *retry_after,
            },
            options,
        ),
        Err(UpstreamError::Shutdown) => {}
        Err(_) => endpoint.record(Outcome::Failed, options),
    }
}

/// Sends one call and returns its result.
pub async fn call(
    endpoint: &Endpoint,
    method: &str,
    params: Value,
    options: &Options,
) -> Result<Value, UpstreamError> {
    let raw = send(endpoint, &[Call::new(method, params)], options)
        .await?
        .pop()
        .unwrap_or_else(|| {
            Err(UpstreamError::Malformed {
                endpoint: endpoint.name().into(),
                reason: "no answer to the call".into(),
            })
        })?;
    serde_json::from_str(raw.get()).map_err(|error| UpstreamError::Malformed {
        endpoint: endpoint.name().into(),
        reason: format!("the result of `{method}` is not JSON: {error}"),
    })
}

/// Sends `calls` in one request and retries the calls that failed with an
/// endpoint-side JSON-RPC error (internal error, limit exceeded…) on the
/// same endpoint, up to `retries` times with backoff. A failure of the
/// request as a whole, or an error any endpoint would give, is returned at
/// once so that the caller can fail over.
pub async fn send_all(
    endpoint: &Endpoint,
    calls: &[Call],
    options: &Options,
) -> Result<Vec<RawResult>, UpstreamError> {
    let answers = send(endpoint, calls, options).await?;
    complete(endpoint, calls, options, answers).await
}

/// Completes `answers` (the first answers to `calls`) the way
/// [`send_all`] does: calls that failed with endpoint trouble are sent
/// again, with backoff, until they are answered or retries run out.
pub(crate) async fn complete(
    endpoint: &Endpoint,
    calls: &[Call],
    options: &Options,
    answers: Vec<Result<RawResult, UpstreamError>>,
) -> Result<Vec<RawResult>, UpstreamError> {
    let mut results: Vec<Option<RawResult>> = (0..calls.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..calls.len()).collect();
    let mut answers = answers;
    let mut attempt = 0;
    loop {
        let mut failed = Vec::new();
        let mut last_error = None;
        for (index, answer) in pending.iter().zip(answers) {
            match answer {
                Ok(value) => results[*index] = Some(value),
                Err(error) if error.is_endpoint_trouble() => {
                    failed.push(*index);
                    last_error = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
        match last_error {
            None => break,
            Some(error) if attempt >= options.retries => return Err(error),
            Some(_) => {
                tokio::time::sleep(backoff::delay(attempt, options)).await;
                attempt += 1;
                pending = failed;
                let batch: Vec<Call> = pending.iter().map(|index| calls[*index].clone()).collect();
                answers = send(endpoint, &batch, options).await?;
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|result| result.unwrap_or_else(RawResult::null))
        .collect())
}

/// One answer of a response: its id and error decoded, its result (when
/// present, `null` included) left as text.
struct Answer {
    id: Option<Value>,
    result: Option<RawResult>,
    error: Option<Value>,
}

/// Matches an answer (the response body) to the calls by id.
pub(crate) fn match_answers(
    endpoint: &str,
    calls: &[Call],
    first: u64,
    answer: bytes::Bytes,
) -> Result<Vec<Result<RawResult, UpstreamError>>, UpstreamError> {
    let malformed = |reason: String| malformed(endpoint, reason);
    // One UTF-8 check of the whole text (no copy when the body is not
    // shared), then every result is borrowed from it.
    let text = match String::from_utf8(Vec::from(answer)) {
        Ok(text) => Arc::new(text),
        Err(error) => {
            return Err(malformed(format!(
                "not JSON-RPC answers (not UTF-8): {}",
                excerpt(error.as_bytes())
            )));
        }
    };
    let (batch, answers) = match answer_scan::scan(text.as_bytes()) {
        Ok(scanned) => {
            let (batch, spans) = match scanned {
                answer_scan::Scanned::Batch(spans) => (true, spans),
                answer_scan::Scanned::Single(span) => (false, vec![span]),
            };
            (batch, scanned_answers(endpoint, &text, spans)?)
        }
        // Not a shape the scanner takes: serde_json reads it or says what
        // is wrong with it.
        Err(_) => decoded_answers(endpoint, calls, &text)?,
    };
    if !batch && calls.len() > 1 {
        let whole_batch_error = answers
            .first()
            .is_some_and(|answer| answer.id.as_ref().is_none_or(Value::is_null));
        // An error for the whole batch (id null).
        let error = answers
            .first()
            .filter(|_| whole_batch_error)
            .and_then(|answer| answer.error.as_ref())
            .and_then(|error| rpc_error(endpoint, "batch", error))
            .unwrap_or_else(|| malformed("a single answer to a batch".into()));
        return Err(error);
    }
    match_items(endpoint, calls, first, answers)
}

/// The answers the scanner located: the small `id` and `error` members
/// decoded, the results sliced out of `text`.
fn scanned_answers(
    endpoint: &str,
    text: &Arc<String>,
    spans: Vec<answer_scan::AnswerSpan>,
) -> Result<Vec<Answer>, UpstreamError> {
    let member =
        |range: Option<Range<usize>>, name: &str| -> Result<Option<Value>, UpstreamError> {
            let Some(range) = range else {
                return Ok(None);
            };
            let value = text.get(range).unwrap_or("null");
            // `null` counts as absent, as for serde_json's `Option` members.
            serde_json::from_str(value)
                .map(|value: Value| (!value.is_null()).then_some(value))
                .map_err(|error| {
                    malformed(
                        endpoint,
                        format!(
                            "the `{name}` of an answer is not JSON ({error}): {}",
                            excerpt(value.as_bytes())
                        ),
                    )
                })
        };
    spans
        .into_iter()
        .map(|span| {
            Ok(Answer {
                id: member(span.id, "id")?,
                result: span.result.map(|range| RawResult::at(text, range)),
                error: member(span.error, "error")?,
            })
        })
        .collect()
}

/// The answers as serde_json reads them, for text the scanner did not
/// take: whether they came as a batch, or the reason they are not answers.
fn decoded_answers(
    endpoint: &str,
    calls: &[Call],
    text: &Arc<String>,
) -> Result<(bool, Vec<Answer>), UpstreamError> {
    let malformed = |reason: String| malformed(endpoint, reason);
    let owned = |object: AnswerObject<'_>| Answer {
        id: object.id,
        result: match object.result {
            Member::Present(raw) => Some(RawResult::within(text, raw)),
            Member::Absent => None,
        },
        error: object.error,
    };
    let starts_batch = text
        .bytes()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| byte == b'[');
    if starts_batch {
        let items: Vec<AnswerObject<'_>> = serde_json::from_str(text).map_err(|error| {
            malformed(format!(
                "not JSON-RPC answers ({error}): {}",
                excerpt(text.as_bytes())
            ))
        })?;
        return Ok((true, items.into_iter().map(owned).collect()));
    }
    match serde_json::from_str::<AnswerObject<'_>>(text) {
        Ok(object) => Ok((false, vec![owned(object)])),
        Err(_) => {
            let single: Value = serde_json::from_str(text).map_err(|error| {
                malformed(format!("not JSON ({error}): {}", excerpt(text.as_bytes())))
            })?;
            Err(malformed(format!(
                "expected {} answers, got {}",
                calls.len(),
                kind_of(&single)
            )))
        }
    }
}

fn match_items(
    endpoint: &str,
    calls: &[Call],
    first: u64,
    answers: Vec<Answer>,
) -> Result<Vec<Result<RawResult, UpstreamError>>, UpstreamError> {
    let malformed = |reason: String| malformed(endpoint, reason);
    let mut slots: Vec<Option<Answer>> = (0..calls.len()).map(|_| None).collect();
    for answer in answers {
        let id = answer.id.as_ref().and_then(Value::as_u64);
        let slot = id
            .and_then(|id| id.checked_sub(first))
            .and_then(|offset| usize::try_from(offset).ok())
            .filter(|offset| *offset < calls.len());
        match slot {
            Some(offset) => slots[offset] = Some(answer),
            None if calls.len() == 1 && answer.error.is_some() => slots[0] = Some(answer),
            None => return Err(malformed(format!("answer with unknown id {id:?}"))),
        }
    }
    slots
        .into_iter()
        .zip(calls)
        .map(|(slot, call)| {
            let answer =
                slot.ok_or_else(|| malformed(format!("no answer to `{}`", call.method)))?;
            if let Some(error) = answer
                .error
                .as_ref()
                .and_then(|error| rpc_error(endpoint, &call.method, error))
            {
                return Ok(Err(error));
            }
            answer
                .result
                .map(Ok)
                .ok_or_else(|| malformed(format!("answer to `{}` has no result", call.method)))
        })
        .collect()
}

/// A response that is not the JSON-RPC answers asked for.
fn malformed(endpoint: &str, reason: String) -> UpstreamError {
    UpstreamError::Malformed {
        endpoint: endpoint.into(),
        reason,
    }
}

fn rpc_error(endpoint: &str, method: &str, error: &Value) -> Option<UpstreamError> {
    if error.is_null() {
        return None;
    }
    Some(UpstreamError::Rpc {
        endpoint: endpoint.into(),
        method: method.into(),
        code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("(no message)")
            .to_string(),
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(
        calls: &[Call],
        first: u64,
        answer: Value,
    ) -> Result<Vec<Result<String, UpstreamError>>, UpstreamError> {
        let results = match_answers("e", calls, first, answer.to_string().into())?;
        Ok(results
            .into_iter()
            .map(|result| result.map(|raw| raw.get().to_string()))
            .collect())
    }

    fn calls(count: usize) -> Vec<Call> {
        (0..count)
            .map(|index| Call::new("eth_getBlockByNumber", json!([index])))
            .collect()
    }

    #[test]
    fn answers_are_matched_by_id_in_any_order() {
        let answer = json!([
            {"jsonrpc": "2.0", "id": 11, "result": "b"},
            {"jsonrpc": "2.0", "id": 10, "result": "a"},
            {"jsonrpc": "2.0", "id": 12, "error": {"code": -32603, "message": "boom"}},
        ]);
        let results = answers(&calls(3), 10, answer).unwrap();
        assert_eq!(results[0], Ok(r#""a""#.to_string()));
        assert_eq!(results[1], Ok(r#""b""#.to_string()));
        let error = results[2].clone().unwrap_err();
        assert!(error.is_endpoint_trouble());
        assert_eq!(
            error.to_string(),
            "e: eth_getBlockByNumber: JSON-RPC error -32603: boom"
        );
    }

    #[test]
    fn broken_answers_are_malformed() {
        assert!(answers(&calls(2), 10, json!([{"id": 10, "result": 1}])).is_err());
        assert!(answers(&calls(1), 10, json!("text")).is_err());
        assert!(answers(&calls(1), 10, json!({"id": 10})).is_err());
        assert!(answers(&calls(2), 10, json!([{"id": 99, "result": 1}])).is_err());
        // An error for a whole batch (id null) fails the request.
        let whole = json!({"id": null, "error": {"code": -32600, "message": "batch too large"}});
        let error = answers(&calls(2), 10, whole).unwrap_err();
        assert!(matches!(error, UpstreamError::Rpc { code: -32600, .. }));
        // A single call answered with an error and a null id.
        let single = json!({"id": null, "error": {"code": -32005, "message": "limit"}});
        let results = answers(&calls(1), 10, single).unwrap();
        assert!(results[0].is_err());
        // A null result is a result.
        let results = answers(&calls(1), 10, json!({"id": 10, "result": null})).unwrap();
        assert_eq!(results[0], Ok("null".to_string()));
        // Text that is not JSON at all.
        assert!(match_answers("e", &calls(1), 10, bytes::Bytes::from_static(b"<html>")).is_err());
        // Nor is text that is not UTF-8.
        let error =
            match_answers("e", &calls(1), 10, bytes::Bytes::from_static(b"[\xff]")).unwrap_err();
        assert!(error.to_string().contains("not UTF-8"), "{error}");
    }
}
