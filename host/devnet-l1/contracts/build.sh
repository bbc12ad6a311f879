#!/usr/bin/env bash
# Rebuilds RootChain.bin and RootChain.abi.json from RootChain.sol with solc-js from npm.
# See BUILD.md. Needs node and npm (npx); the outputs are committed, so building the crate does not.
set -euo pipefail
cd "$(dirname "$0")"
SOLC_VERSION=0.8.28
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx --yes "solc@${SOLC_VERSION}" --bin --abi --optimize --optimize-runs 200 -o "$out" RootChain.sol
# solc-js names its outputs after the source path and the contract: RootChain_sol_RootChain.{bin,abi}.
tr -d '\n' < "$out/RootChain_sol_RootChain.bin" > RootChain.bin
node -e 'const fs=require("fs");const abi=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));fs.writeFileSync("RootChain.abi.json",JSON.stringify(abi,null,2)+"\n")' "$out/RootChain_sol_RootChain.abi"
echo "wrote RootChain.bin ($(wc -c < RootChain.bin) hex chars) and RootChain.abi.json with solc ${SOLC_VERSION}"
