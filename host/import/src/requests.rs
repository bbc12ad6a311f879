//! EIP-7685 execution-layer requests (Prague): EIP-6110 deposits read from
//! the deposit contract's logs. The EIP-7002 and EIP-7251 requests are the
//! outputs of the end-of-block system calls (see the executor).

use alloy_primitives::{Address, B256, Log, keccak256};

/// The size of an ABI-encoded `DepositEvent`'s data.
const DEPOSIT_EVENT_LENGTH: usize = 576;

/// topic0 of the deposit contract's `DepositEvent`.
fn deposit_topic() -> B256 {
    keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")
}

/// One deposit request (pubkey ‖ withdrawal credentials ‖ amount ‖
/// signature ‖ index, 192 bytes) from a `DepositEvent`'s ABI data, read at
/// the fixed offsets the deposit contract writes (as go-ethereum does).
fn deposit_from_log(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() != DEPOSIT_EVENT_LENGTH {
        return Err(format!(
            "deposit event data is {} bytes, expected {DEPOSIT_EVENT_LENGTH}",
            data.len()
        ));
    }
    // Five offsets and the first length word, then each value padded to
    // 32 bytes and followed by the next length word.
    let fields = [(192, 48), (288, 32), (352, 8), (416, 96), (544, 8)];
    Ok(fields
        .iter()
        .flat_map(|&(start, length)| &data[start..start + length])
        .copied()
        .collect())
}

/// The deposit requests data (without the type byte) of a block's logs:
/// every `DepositEvent` of `contract`, in order.
pub(crate) fn deposits(logs: &[Log], contract: Address) -> Result<Vec<u8>, String> {
    let topic = deposit_topic();
    let mut out = Vec::new();
    for log in logs {
        if log.address == contract && log.topics().first() == Some(&topic) {
            out.extend(deposit_from_log(&log.data.data)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, LogData};

    #[test]
    fn deposits_come_from_the_contract_only() {
        let mut data = vec![0u8; DEPOSIT_EVENT_LENGTH];
        data[192..240].fill(0xaa); // pubkey
        data[544..552].fill(0xbb); // index
        let contract = Address::repeat_byte(0x42);
        let log = |address| Log {
            address,
            data: LogData::new_unchecked(vec![deposit_topic()], Bytes::from(data.clone())),
        };
        let requests = deposits(&[log(contract), log(Address::ZERO)], contract).unwrap();
        assert_eq!(requests.len(), 192);
        assert_eq!(&requests[..48], &[0xaa; 48]);
        assert_eq!(&requests[184..], &[0xbb; 8]);
        let short = Log {
            address: contract,
            data: LogData::new_unchecked(vec![deposit_topic()], Bytes::from(vec![0; 10])),
        };
        assert!(deposits(&[short], contract).is_err());
    }
}
