//! Validation level `none`: every header, body and receipt list must decode
//! and the header's number must be the one claimed; nothing else is
//! checked. The upstream is trusted, so nothing is confirmed.

use hypasis_plugin_sdk::{
    PluginConfig, PluginError, ValidationLevel,
    api::{PluginInstance, RawBlock, Rejection, Requirements, ValidationRequest, Verdict},
    validation_instance,
};
use hypasis_polygon::{decode_body_shape, decode_header, decode_receipts_shape};

/// The `none` level.
#[derive(Debug, Default, Clone, Copy)]
pub struct DecodeOnly;

fn reject(number: u64, field: &str, expected: impl ToString, found: impl ToString) -> Verdict {
    Verdict::Rejected(Rejection {
        number,
        field: field.into(),
        expected: expected.to_string().into(),
        found: found.to_string().into(),
    })
}

fn check_block(block: &RawBlock) -> Option<Verdict> {
    let header = match decode_header(&block.header) {
        Ok(header) => header,
        Err(error) => return Some(reject(block.number, "header", "valid RLP header", error)),
    };
    if header.number != block.number {
        return Some(reject(block.number, "number", block.number, header.number));
    }
    if let Some(body) = block.body.as_ref().into_option()
        && let Err(error) = decode_body_shape(body)
    {
        return Some(reject(block.number, "body", "valid RLP body", error));
    }
    if let Some(receipts) = block.receipts.as_ref().into_option()
        && let Err(error) = decode_receipts_shape(receipts)
    {
        return Some(reject(
            block.number,
            "receipts",
            "valid RLP receipt list",
            error,
        ));
    }
    None
}

impl ValidationLevel for DecodeOnly {
    fn requirements(&self) -> Requirements {
        Requirements {
            bodies: false,
            receipts: false,
            spans: false,
        }
    }

    fn validate(&self, request: ValidationRequest) -> Result<Verdict, PluginError> {
        let mut expected = request.blocks.first().map(|block| block.number);
        for block in request.blocks.iter() {
            if Some(block.number) != expected {
                return Err(PluginError::new(
                    hypasis_plugin_sdk::ErrorKind::InvalidInput,
                    format!(
                        "blocks are not contiguous: expected {expected:?}, got {}",
                        block.number
                    ),
                ));
            }
            expected = block.number.checked_add(1);
            if let Some(verdict) = check_block(block) {
                return Ok(verdict);
            }
        }
        Ok(Verdict::Accepted {
            confirmed: Default::default(),
        })
    }
}

/// Creates an instance; the level takes no options.
pub fn new_instance(config: PluginConfig) -> Result<PluginInstance, PluginError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoOptions {}
    let _: NoOptions = config.options()?;
    Ok(validation_instance(DecodeOnly))
}

#[cfg(not(feature = "in-process"))]
hypasis_plugin_sdk::export_plugin! {
    name: "validation-none",
    kind: Validation,
    description: "Decode only: trust the upstream, check that every block part is well-formed RLP.",
    instantiate: new_instance,
}
