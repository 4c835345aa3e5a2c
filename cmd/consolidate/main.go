// Consolidate turns a sharded checkpoint (a manifest and a part file per
// rank, as a run of N processes writes it) into one checkpoint file in the
// layout of a single process: the file that one process would have written
// for the same state, byte for byte, which Go resumes from on any number of
// processes and PyTorch reads (package checkpoint).
//
//	go run ./cmd/consolidate -manifest run.json -out run.safetensors
//
// Every part file is verified (sizes and checksums, against the manifest
// and on their own) before the output is written, atomically. It holds the
// whole state in memory.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/cmdflag"
)

const program = "consolidate"

const about = `consolidate: one checkpoint file from a sharded checkpoint.

It reads the manifest of a checkpoint that N processes wrote (a part file
each), verifies every part, and writes the file that one process would have
written for the same state, byte for byte (safetensors, PyTorch's Adagrad
layout).

Usage:
  consolidate -manifest run.json -out run.safetensors
(in a checkout of the module: go run ./cmd/consolidate [flags])

Flags:
`

func main() { os.Exit(command(os.Args[1:], os.Stdout, os.Stderr)) }

// command runs the program and returns its exit status: 0; 2 for a flag
// error; 1 for any other failure, one line on stderr.
func command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	manifest := fs.String("manifest", "", "the sharded checkpoint's manifest (.json)")
	out := fs.String("out", "", "the checkpoint file to write (.safetensors)")
	err := cmdflag.Parse(fs, args, about, stderr)
	if err == nil {
		switch {
		case *manifest == "" || *out == "":
			err = fmt.Errorf("-manifest and -out are both needed")
		default:
			err = cmdflag.First(cmdflag.Input("manifest", *manifest), checkpoint.CheckPath(*out))
		}
	}
	if err != nil {
		return cmdflag.Status(program, err, stderr)
	}
	if err := checkpoint.Consolidate(*manifest, *out); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	m, err := checkpoint.ReadManifest(*manifest)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d tensors from %d part files\n", *out, len(m.Tensors), len(m.Shards))
	return 0
}
