//! `hypasis-sync header decode`.

use std::path::Path;

use anyhow::Context;
use clap::{Args, Subcommand};
use hypasis_polygon::{bor, decode_header};
use hypasis_sync::config::ChainName;

#[derive(Debug, Subcommand)]
pub enum HeaderCommand {
    /// Decode an RLP header (hex, or a file holding hex or raw bytes) and
    /// print its hash, number and the seal signer by the rule for that block.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Hex (with or without 0x) or a file path.
    input: String,
    /// Which chain's rules (mainnet, amoy, devnet).
    #[arg(long, default_value = "mainnet")]
    chain: ChainName,
    /// The devnet's Heimdall URL (for `--chain devnet`).
    #[arg(long)]
    heimdall: Option<String>,
    /// The genesis file of a private chain (for `--chain custom`).
    #[arg(long)]
    genesis_file: Option<std::path::PathBuf>,
}

fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    let text = if Path::new(input).exists() {
        let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
        match std::str::from_utf8(&bytes) {
            Ok(text)
                if text
                    .trim()
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == 'x') =>
            {
                text.trim().to_string()
            }
            _ => return Ok(bytes),
        }
    } else {
        input.trim().to_string()
    };
    hex::decode(text.trim_start_matches("0x")).context("the input is neither a file nor hex")
}

pub fn execute(command: HeaderCommand) -> anyhow::Result<()> {
    let HeaderCommand::Decode(args) = command;
    let bytes = read_input(&args.input)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let spec = runtime.block_on(hypasis_sync::chain::resolve(
        args.chain,
        args.heimdall.as_deref(),
        args.genesis_file.as_deref(),
    ))?;
    let header = decode_header(&bytes)?;
    let hash = alloy_primitives::keccak256(&bytes);
    println!("hash:        {hash:#x}");
    println!("number:      {}", header.number);
    println!("parent:      {:#x}", header.parent_hash);
    println!("timestamp:   {}", header.timestamp);
    println!("difficulty:  {}", header.difficulty);
    if let Some(fee) = header.base_fee_per_gas {
        println!("base fee:    {fee}");
    }
    match bor::recover_signer(&header, &spec) {
        Ok(signer) => println!(
            "signer:      {signer:#x}   (seal hash {} the base fee: {} rule at block {})",
            if spec.is_jaipur(header.number) && header.base_fee_per_gas.is_some() {
                "with"
            } else {
                "without"
            },
            if spec.is_jaipur(header.number) {
                "Jaipur"
            } else {
                "pre-Jaipur"
            },
            header.number
        ),
        Err(error) => println!("signer:      none ({error})"),
    }
    let validators = bor::validator_bytes(&header, &spec)
        .and_then(|bytes| bor::parse_validators(header.number, &bytes))?;
    if validators.is_empty() {
        println!("validators:  none in this header");
    } else {
        println!("validators:  {} (sprint end)", validators.len());
        for validator in validators {
            println!("  {:#x}  power {}", validator.address, validator.power);
        }
    }
    Ok(())
}
