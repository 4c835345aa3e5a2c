// Package checkpoint writes and reads an optimizer's state (optim.State) as
// safetensors files in PyTorch's Adagrad state_dict layout, so that a run
// resumes bit for bit in Go and continues in PyTorch, and a PyTorch run
// continues in Go.
//
// A checkpoint is a safetensors file (an 8-byte little-endian header
// length, a JSON header, then the raw little-endian tensors):
//
//	<name>           the parameter tensor, under the optimizer's name for it
//	                 (F32, F64, or BF16 and F16 for half-precision parameters)
//	state.<i>.sum    the accumulator of parameter i (PyTorch's state['sum']);
//	                 generally state.<i>.<key> for each state of the tensor's
//	                 update rule (device.RuleSpec.State), of its dtype and
//	                 shape (optim.StateShape):
//	                   sum         F32/F64, the tensor's shape
//	                   row_sum     F32/F64 [rows]    (device.AdagradRowwise)
//	                   sum_absmax  F32/F64 [blocks]  (device.Adagrad8Bit: one
//	                               scale per block of 256 elements)
//	                   sum_codes   U8, the tensor's shape (device.Adagrad8Bit)
//	state.<i>.step   its step count, a float32 scalar as PyTorch keeps it
//
// with i the parameter's index in the order given to optim.New. The
// header's __metadata__ holds:
//
//	param_groups   PyTorch's param groups (JSON): one group per distinct set
//	               of hyperparameters, in the order of their first tensor, so
//	               that a model with one set loads into
//	               torch.optim.Adagrad(params, **hyperparameters)
//	names          the name of parameter i at index i (JSON)
//	steps          exact int64 step counts (JSON)
//	format         "adagrad-go/1"
//	sha256         a checksum over a canonical form of the header and every
//	               tensor byte, so that a damaged file is refused, not half
//	               loaded
//
// and any metadata of the caller (a Trainer keeps its position there).
//
// Write and Read stream: Write checks the state and hashes the tensors in
// place, then writes the header and the tensors straight from their slices;
// Read reads the header first (bounded), checks every size against the
// file's length before allocating, streams the tensors into their slices
// while hashing them, and verifies the checksum before returning anything.
// Neither holds more than the tensors themselves and a small constant.
// Save and Load do the same on files, atomically (a temporary file in the
// same directory, synced, renamed into place, the directory synced).
//
// A state sharded across processes (each process owning a contiguous
// slice of every tensor, a Part) is saved as one file per part plus a JSON
// manifest (Manifest: the files, their sizes and checksums, and the element
// ranges of every tensor each holds), written last:
//
//	run.json                                  the manifest
//	run.00000-of-00002.<16 hex>.safetensors   part 0: this layout, each tensor
//	run.00001-of-00002.<16 hex>.safetensors   a flat range, "shard" metadata
//
// Only per-element state can be cut into element ranges: a state of row-wise
// or 8-bit Adagrad is saved whole (Split refuses it). Part files are named
// after their content, so a save never overwrites a file the current
// manifest names; a save cut short leaves the previous
// manifest and its files intact. See Split, Join, SaveShard, SaveManifest,
// SaveSharded and LoadSharded; a state saved in N parts resumes in M.
//
// ImportTorch reads a plain safetensors file written from any
// torch.optim.Adagrad (examples/torch has the few lines of Python that
// write one, and a reader for the other way), without any key of this
// package.
//
// To save and restore an optimizer by hand:
//
//	st, err := opt.State()
//	...
//	err = checkpoint.Save("run.safetensors", st, map[string]string{"note": "epoch 3"})
//	...
//	st, meta, err := checkpoint.Load("run.safetensors")
//	if err != nil { ... }
//	err = opt.LoadState(st)
//
// (package train's Trainer does this every so many steps, and resumes).
package checkpoint
