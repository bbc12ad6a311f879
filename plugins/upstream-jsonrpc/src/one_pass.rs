//! Reading a batch response in one typed pass.
//!
//! A healthy endpoint answers every call of a batch with a result. For that
//! case the whole response is decoded straight into typed results (the
//! block and receipt structures), in one walk over its bytes, off the async
//! workers. Locating each result first ([`crate::answer_scan`]) and then
//! decoding it walked every byte twice: ~7% of a sync's CPU went to that
//! first walk alone (docs/BENCHMARKS.md).
//!
//! Anything else (an error answer, a `null` or missing result, an id that
//! is not one of ours, a result the typed decoder refuses) sends the same
//! bytes down the generic path of [`crate::rpc`]: answers located and
//! matched by id, failed calls retried, each result decoded on its own. So
//! what is reported for a bad answer does not depend on this pass.

use std::{sync::Arc, time::Instant};

use serde::{Deserialize, de::IgnoredAny};

use crate::{
    endpoint::Endpoint,
    error::UpstreamError,
    offload::blocking,
    options::Options,
    rpc::{self, Call, RawResult},
    score::Outcome,
};

/// How the results of one kind of call are decoded: all at once from the
/// response text when every call was answered, or one by one.
pub trait ResultDecoder: Send + Sync + 'static {
    /// What one result decodes into.
    type Item: Send + 'static;

    /// Every result of `text`, the answers to ids `first..first + count`,
    /// decoded in call order; `None` when the response is anything but a
    /// result for every call that this decoder accepts.
    fn whole(&self, text: &str, first: u64, count: usize) -> Option<Vec<Self::Item>>;

    /// The result of call `index`, read on its own (the generic path; its
    /// errors are the ones reported).
    fn each(&self, index: usize, result: &RawResult) -> Result<Self::Item, UpstreamError>;
}

/// One answer object with its result typed.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct TypedAnswer<T> {
    id: u64,
    result: Option<T>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

/// The results of `text` typed as `T`, in call order, when it answers every
/// id of `first..first + count` (in any order, each once) with a non-null
/// result and no error; `None` otherwise.
pub fn typed_results<'a, T: Deserialize<'a>>(
    text: &'a str,
    first: u64,
    count: usize,
) -> Option<Vec<T>> {
    let answers: Vec<TypedAnswer<T>> = if count == 1 {
        vec![serde_json::from_str(text).ok()?]
    } else {
        serde_json::from_str(text).ok()?
    };
    if answers.len() != count {
        return None;
    }
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for answer in answers {
        if answer.error.is_some() {
            return None;
        }
        let offset = usize::try_from(answer.id.checked_sub(first)?).ok()?;
        let slot = slots.get_mut(offset)?;
        if slot.is_some() {
            return None;
        }
        *slot = Some(answer.result?);
    }
    slots.into_iter().collect()
}

/// What a response became: every result decoded at once, or the answers
/// as the generic path matched them.
enum Pass<T> {
    Whole(Vec<T>),
    Each(Result<Vec<Result<RawResult, UpstreamError>>, UpstreamError>),
}

/// Sends `calls` in one request and decodes their results with `decoder`,
/// in one pass when every call was answered; otherwise as
/// [`rpc::send_all`] would (failed calls retried on this endpoint), each
/// result then decoded on its own. Errors are those of `send_all` and of
/// [`ResultDecoder::each`].
pub async fn send_all_decoded<D: ResultDecoder>(
    endpoint: &Endpoint,
    calls: &[Call],
    options: &Options,
    decoder: Arc<D>,
) -> Result<Vec<D::Item>, UpstreamError> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let count = calls.len();
    let first = rpc::reserve_ids(count);
    let started = Instant::now();
    let answer = endpoint
        .exchange(first, rpc::request_body(first, calls))
        .await;
    let latency = started.elapsed();
    let pass = match answer {
        Ok(bytes) => {
            let decoder = Arc::clone(&decoder);
            let name = endpoint.name().to_string();
            let owned: Vec<Call> = calls.to_vec();
            blocking(move || {
                let whole = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| decoder.whole(text, first, count));
                Ok(match whole {
                    Some(items) => Pass::Whole(items),
                    None => Pass::Each(rpc::match_answers(&name, &owned, first, bytes)),
                })
            })
            .await?
        }
        Err(error) => Pass::Each(Err(error)),
    };
    let answers = match pass {
        Pass::Whole(items) => {
            endpoint.record(
                Outcome::Answered {
                    latency,
                    answered: 1.0,
                },
                options,
            );
            return Ok(items);
        }
        Pass::Each(answers) => answers,
    };
    rpc::book(endpoint, count, &answers, latency, options);
    let results = rpc::complete(endpoint, calls, options, answers?).await?;
    blocking(move || {
        results
            .iter()
            .enumerate()
            .map(|(index, result)| decoder.each(index, result))
            .collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_put_in_call_order() {
        let text = r#"[{"jsonrpc":"2.0","id":12,"result":"b"},{"jsonrpc":"2.0","id":11,"result":"a"},{"id":13,"result":"c","error":null}]"#;
        assert_eq!(
            typed_results::<&str>(text, 11, 3),
            Some(vec!["a", "b", "c"])
        );
        let single = r#"{"jsonrpc":"2.0","id":7,"result":"x"}"#;
        assert_eq!(typed_results::<&str>(single, 7, 1), Some(vec!["x"]));
    }

    #[test]
    fn anything_but_a_result_for_every_call_is_left_to_the_generic_path() {
        let cases = [
            // An error answer.
            r#"[{"id":1,"result":"a"},{"id":2,"error":{"code":-32000,"message":"busy"}}]"#,
            // A null result.
            r#"[{"id":1,"result":"a"},{"id":2,"result":null}]"#,
            // A missing answer, a repeated one, an unknown id.
            r#"[{"id":1,"result":"a"}]"#,
            r#"[{"id":1,"result":"a"},{"id":1,"result":"a"}]"#,
            r#"[{"id":1,"result":"a"},{"id":9,"result":"b"}]"#,
            // A non-numeric id, a result of another type, not JSON.
            r#"[{"id":"1","result":"a"},{"id":2,"result":"b"}]"#,
            r#"[{"id":1,"result":"a"},{"id":2,"result":5}]"#,
            r#"[{"id":1,"result":"a"},{"id":2,"result":"b"}"#,
            // A single answer to a batch.
            r#"{"id":1,"result":"a"}"#,
        ];
        for text in cases {
            assert_eq!(typed_results::<&str>(text, 1, 2), None, "{text}");
        }
    }
}
