// bor-forkid prints the EIP-2124 fork ids Bor computes, using Bor's own
// core/forkid and genesis code, so the tests can check ours against them.
// It is built inside the Bor v2.2.11 source tree (see .ci/run):
//
//	bor-forkid mainnet|amoy|<genesis.json> <head>...
//
// prints one line per head: "<head> <genesis hash> <fork hash> <next>".
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/forkid"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: bor-forkid mainnet|amoy|<genesis.json> <head>...")
		os.Exit(2)
	}
	var genesis *core.Genesis
	switch os.Args[1] {
	case "mainnet":
		genesis = core.DefaultBorMainnetGenesisBlock()
	case "amoy":
		genesis = core.DefaultAmoyGenesisBlock()
	default:
		data, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		genesis = new(core.Genesis)
		if err := json.Unmarshal(data, genesis); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	block := genesis.ToBlock()
	for _, arg := range os.Args[2:] {
		head, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Bor forks by block only: the head time does not matter.
		id := forkid.NewID(genesis.Config, block, head, 0)
		fmt.Printf("%d %x %x %d\n", head, block.Hash(), id.Hash, id.Next)
	}
}
