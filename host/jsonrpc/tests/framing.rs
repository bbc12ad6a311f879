//! The framing against go-ethereum's answers to the same bodies.

use hypasis_jsonrpc::{Body, Entry, Reply, Response, RpcError, answer, subscription_notification};
use serde_json::{Value, json, value::RawValue};

/// A method table: `echo` returns its params, `fail` errs, anything else is unknown.
fn table(
    calls: &mut Vec<String>,
) -> impl FnMut(&str, Option<&Value>) -> Result<Reply, RpcError> + '_ {
    move |method, params| {
        calls.push(method.to_owned());
        match method {
            "echo" => Ok(Reply::Value(params.cloned().unwrap_or(Value::Null))),
            "raw" => Ok(Reply::from(std::sync::Arc::<RawValue>::from(
                RawValue::from_string(r#"{"pre":"rendered"}"#.into()).unwrap(),
            ))),
            "fail" => Err(RpcError::server("it failed").with_data("0x01")),
            other => Err(RpcError::method_not_found(other)),
        }
    }
}

fn run(body: &str) -> (Option<Value>, Vec<String>) {
    let mut calls = Vec::new();
    let text = answer(body.as_bytes(), table(&mut calls)).map(Response::into_text);
    (
        text.map(|text| serde_json::from_str(&text).expect("the answer is JSON")),
        calls,
    )
}

#[test]
fn a_call_is_answered_with_its_id_and_result() {
    let (answer, calls) = run(r#"{"jsonrpc":"2.0","id":"a","method":"echo","params":[1,"x"]}"#);
    assert_eq!(
        answer,
        Some(json!({"jsonrpc":"2.0","id":"a","result":[1,"x"]}))
    );
    assert_eq!(calls, ["echo"]);
    let (answer, _) = run(r#"{"jsonrpc":"2.0","id":7,"method":"raw"}"#);
    assert_eq!(
        answer,
        Some(json!({"jsonrpc":"2.0","id":7,"result":{"pre":"rendered"}}))
    );
}

#[test]
fn errors_carry_code_message_and_data() {
    let (answer, _) = run(r#"{"jsonrpc":"2.0","id":1,"method":"fail"}"#);
    assert_eq!(
        answer,
        Some(
            json!({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"it failed","data":"0x01"}})
        )
    );
    let (answer, _) = run(r#"{"jsonrpc":"2.0","id":2,"method":"nope"}"#);
    assert_eq!(
        answer.unwrap()["error"]["message"],
        "the method nope does not exist/is not available"
    );
}

#[test]
fn malformed_bodies_get_geths_errors() {
    let (answer, calls) = run(r#"{"jsonrpc":"2.0","id":1,"method":"#);
    let answer = answer.unwrap();
    assert_eq!(answer["id"], Value::Null);
    assert_eq!(answer["error"]["code"], -32700);
    assert_eq!(answer["error"]["message"], "parse error");
    assert!(
        answer["error"]["data"].as_str().unwrap().contains("EOF"),
        "{answer}"
    );
    assert!(calls.is_empty());
    let (answer, _) = run("[]");
    assert_eq!(
        answer,
        Some(json!({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}))
    );
    for (body, id, reason) in [
        ("42", Value::Null, "not a request object"),
        (
            r#"{"jsonrpc":"2.0","id":{},"method":"echo"}"#,
            Value::Null,
            "`id` must be a number, a string or null",
        ),
        (
            r#"{"jsonrpc":"1.0","id":"x","method":"echo"}"#,
            json!("x"),
            "`jsonrpc` must be \"2.0\"",
        ),
        (
            r#"{"jsonrpc":"2.0","id":3,"method":""}"#,
            json!(3),
            "`method` must be a non-empty string",
        ),
        (
            r#"{"jsonrpc":"2.0","id":4}"#,
            json!(4),
            "`method` must be a non-empty string",
        ),
    ] {
        let (answer, calls) = run(body);
        assert_eq!(
            answer,
            Some(
                json!({"jsonrpc":"2.0","id":id,"error":{"code":-32600,"message":"invalid request","data":reason}})
            ),
            "{body}"
        );
        assert!(calls.is_empty(), "{body}");
    }
}

#[test]
fn notifications_run_and_get_no_answer() {
    let (answer, calls) = run(r#"{"jsonrpc":"2.0","method":"echo"}"#);
    assert_eq!(answer, None);
    assert_eq!(calls, ["echo"]);
    let (answer, calls) =
        run(r#"[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"fail"}]"#);
    assert_eq!(answer, None);
    assert_eq!(calls, ["echo", "fail"]);
}

#[test]
fn a_batch_answers_in_order_skipping_notifications() {
    let (answer, calls) = run(
        r#"[{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo"},17,{"jsonrpc":"2.0","id":"two","method":"nope"},{"jsonrpc":"2.0","id":3,"method":"raw"}]"#,
    );
    assert_eq!(
        answer,
        Some(json!([
            {"jsonrpc":"2.0","id":1,"result":[1]},
            {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request","data":"not a request object"}},
            {"jsonrpc":"2.0","id":"two","error":{"code":-32601,"message":"the method nope does not exist/is not available"}},
            {"jsonrpc":"2.0","id":3,"result":{"pre":"rendered"}},
        ]))
    );
    assert_eq!(calls, ["echo", "echo", "nope", "raw"]);
}

#[test]
fn the_body_counts_its_entries() {
    assert_eq!(
        Body::parse(br#"{"jsonrpc":"2.0","id":1,"method":"a"}"#)
            .unwrap()
            .len(),
        1
    );
    let batch = Body::parse(
        br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b","params":[2]}]"#,
    )
    .unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(
        batch,
        Body::Batch(vec![
            Entry::Call {
                id: json!(1),
                method: "a".into(),
                params: None
            },
            Entry::Notification {
                method: "b".into(),
                params: Some(json!([2]))
            },
        ])
    );
}

#[test]
fn a_subscription_notification_is_framed_as_geth_pushes_it() {
    let text =
        subscription_notification("0xab\"", Reply::Value(json!({"number":"0x1"}))).into_text();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xab\"","result":{"number":"0x1"}}})
    );
}
