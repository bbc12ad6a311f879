//! Heimdall v2's REST API: milestones, checkpoints and spans, parsed from
//! heimdall-v2's JSON (numbers as strings, bytes as base64).

use alloy_primitives::{Address, B256};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

/// A Heimdall milestone: validators agreed on the hash of `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// Hash of `end`.
    pub hash: B256,
    /// Total difficulty at `end` (0 for milestones migrated from Heimdall v1).
    pub total_difficulty: u64,
    /// Heimdall's timestamp.
    pub timestamp: u64,
}

/// A checkpoint as Heimdall reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeimdallCheckpoint {
    /// Heimdall's 1-based number (the L1 header-block id is this × 10,000).
    pub id: u64,
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// Root hash.
    pub root: B256,
    /// Proposer.
    pub proposer: Address,
}

/// A span: its range and selected producers (id, signer, power).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanInfo {
    /// Span id.
    pub id: u64,
    /// First block.
    pub start: u64,
    /// Last block.
    pub end: u64,
    /// Selected producers.
    pub producers: Vec<(u64, Address, u64)>,
    /// The whole validator set (Bor's first snapshot uses span 0's).
    pub validators: Vec<(u64, Address, u64)>,
}

/// A Heimdall problem.
#[derive(Debug, thiserror::Error)]
pub enum HeimdallError {
    /// Transport or HTTP failure.
    #[error("Heimdall {url}: {message}")]
    Http {
        /// The URL asked.
        url: String,
        /// What failed.
        message: String,
    },
    /// Heimdall answered "not found".
    #[error("Heimdall {url}: not found ({message})")]
    NotFound {
        /// The URL asked.
        url: String,
        /// Heimdall's message.
        message: String,
    },
    /// The answer does not have heimdall-v2's shape.
    #[error("Heimdall {url}: unexpected answer: {reason}")]
    Shape {
        /// The URL asked.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

fn number(value: &Value, field: &'static str) -> Result<u64, String> {
    match value.get(field) {
        Some(Value::String(text)) => text
            .parse()
            .map_err(|_| format!("`{field}` is not a decimal string: {text}")),
        Some(Value::Number(number)) => number
            .as_u64()
            .ok_or_else(|| format!("`{field}` is not a u64")),
        _ => Err(format!("`{field}` is missing")),
    }
}

fn base64_hash(value: &Value, field: &'static str) -> Result<B256, String> {
    let text = value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{field}` is missing"))?;
    let bytes = STANDARD
        .decode(text)
        .map_err(|error| format!("`{field}` is not base64: {error}"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(B256::from)
        .map_err(|_| format!("`{field}` is {} bytes, not 32", bytes.len()))
}

fn address(value: &Value, field: &'static str) -> Result<Address, String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{field}` is missing"))?
        .parse()
        .map_err(|error| format!("`{field}`: {error}"))
}

/// Parses `{"milestone": {...}}`.
pub fn parse_milestone(body: &Value) -> Result<Milestone, String> {
    let milestone = body.get("milestone").ok_or("no `milestone` object")?;
    Ok(Milestone {
        start: number(milestone, "start_block")?,
        end: number(milestone, "end_block")?,
        hash: base64_hash(milestone, "hash")?,
        total_difficulty: number(milestone, "total_difficulty").unwrap_or(0),
        timestamp: number(milestone, "timestamp")?,
    })
}

/// Parses `{"checkpoint": {...}}`.
pub fn parse_checkpoint(body: &Value) -> Result<HeimdallCheckpoint, String> {
    let checkpoint = body.get("checkpoint").ok_or("no `checkpoint` object")?;
    Ok(HeimdallCheckpoint {
        id: number(checkpoint, "id")?,
        start: number(checkpoint, "start_block")?,
        end: number(checkpoint, "end_block")?,
        root: base64_hash(checkpoint, "root_hash")?,
        proposer: address(checkpoint, "proposer")?,
    })
}

fn validators(list: Option<&Value>) -> Result<Vec<(u64, Address, u64)>, String> {
    list.and_then(Value::as_array)
        .ok_or("a validator list is missing")?
        .iter()
        .map(|validator| {
            Ok((
                number(validator, "val_id")?,
                address(validator, "signer")?,
                number(validator, "voting_power")?,
            ))
        })
        .collect()
}

/// Parses `{"span": {...}}`.
pub fn parse_span(body: &Value) -> Result<SpanInfo, String> {
    let span = body.get("span").ok_or("no `span` object")?;
    Ok(SpanInfo {
        id: number(span, "id")?,
        start: number(span, "start_block")?,
        end: number(span, "end_block")?,
        producers: validators(span.get("selected_producers"))?,
        validators: validators(
            span.get("validator_set")
                .and_then(|set| set.get("validators")),
        )?,
    })
}

/// An error's message followed by its sources' (reqwest hides the cause).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A Heimdall REST endpoint.
#[derive(Debug, Clone)]
pub struct HeimdallSource {
    base: String,
    client: reqwest::Client,
}

impl HeimdallSource {
    /// A source for `base` (for example `http://127.0.0.1:1317`).
    pub fn new(base: &str, timeout: std::time::Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        HeimdallSource {
            base: base.trim_end_matches('/').to_string(),
            client,
        }
    }

    /// GETs `path` and returns its JSON; "not found" (gRPC code 5, or 13
    /// with "not found") becomes [`HeimdallError::NotFound`].
    pub async fn get(&self, path: &str) -> Result<Value, HeimdallError> {
        let url = format!("{}{path}", self.base);
        let http = |message: String| HeimdallError::Http {
            url: url.clone(),
            message,
        };
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|error| http(error_chain(&error)))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| http(format!("HTTP {status}, body is not JSON: {error}")))?;
        if status.is_success() {
            return Ok(body);
        }
        let code = body.get("code").and_then(Value::as_u64);
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if code == Some(5) || (code == Some(13) && message.contains("not found")) {
            return Err(HeimdallError::NotFound { url, message });
        }
        Err(http(format!("HTTP {status}: {message}")))
    }

    fn shape(&self, path: &str, reason: String) -> HeimdallError {
        HeimdallError::Shape {
            url: format!("{}{path}", self.base),
            reason,
        }
    }

    /// The newest milestone.
    pub async fn latest_milestone(&self) -> Result<Milestone, HeimdallError> {
        let body = self.get("/milestones/latest").await?;
        parse_milestone(&body).map_err(|reason| self.shape("/milestones/latest", reason))
    }

    /// The newest checkpoint Heimdall knows.
    pub async fn latest_checkpoint(&self) -> Result<HeimdallCheckpoint, HeimdallError> {
        let body = self.get("/checkpoints/latest").await?;
        parse_checkpoint(&body).map_err(|reason| self.shape("/checkpoints/latest", reason))
    }

    /// Span `id`.
    pub async fn span(&self, id: u64) -> Result<SpanInfo, HeimdallError> {
        let path = format!("/bor/spans/{id}");
        let body = self.get(&path).await?;
        parse_span(&body).map_err(|reason| self.shape(&path, reason))
    }

    /// The chain spec a devnet serves at `/hypasis/chain-spec`.
    pub async fn devnet_chain_spec(&self) -> Result<hypasis_polygon::ChainSpec, HeimdallError> {
        let body = self.get("/hypasis/chain-spec").await?;
        serde_json::from_value(body)
            .map_err(|error| self.shape("/hypasis/chain-spec", error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/polygon/heimdall-v2-rest")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn parses_real_heimdall_v2_answers() {
        let checkpoint = parse_checkpoint(&fixture("checkpoints_by_id.json")).unwrap();
        assert_eq!(
            (checkpoint.id, checkpoint.start, checkpoint.end),
            (38871, 36_979_059, 36_979_826)
        );
        assert_eq!(
            format!("{:#x}", checkpoint.root),
            "0x3517efbd5f580238dabfe711ef4a26e960e86fe2086633d5c8860c01caf3c72e"
        );
        let milestone = parse_milestone(&fixture("milestones_by_number.json")).unwrap();
        assert_eq!(
            (milestone.start, milestone.end, milestone.total_difficulty),
            (36_981_373, 36_981_373, 178_740_647)
        );
        assert_eq!(
            format!("{:#x}", milestone.hash),
            "0xc866a7811d701a548def61e9347455aff6e5eef37d07a155eae281b1199bbc3b"
        );
        let span = parse_span(&fixture("bor_spans_latest.trimmed.json")).unwrap();
        assert_eq!(
            (span.id, span.start, span.end),
            (5982, 36_983_659, 36_990_058)
        );
        assert_eq!(
            span.producers,
            vec![(
                5,
                "0x6dc2dd54f24979ec26212794c71afefed722280c"
                    .parse()
                    .unwrap(),
                80_000_015
            )]
        );
        assert_eq!(span.validators.len(), 2);
        assert_eq!(
            parse_checkpoint(&serde_json::json!({"checkpoint": {"id": "x"}})).unwrap_err(),
            "`id` is not a decimal string: x"
        );
    }
}
