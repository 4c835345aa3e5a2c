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
//	                 shape (optim.StateShape), named as the rule's library
//	                 names it:
//	                   sum         F32/F64, the tensor's shape (Adagrad)
//	                   accumulator, sum_of_squares, gradsq, g_sq, m,
//	                   gradient_accumulator, gradient_squared_accumulator
//	                               F32/F64, the tensor's shape (TensorFlow and
//	                               Keras, Optax, GloVe, JAX, Adagrad DA)
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
//	               torch.optim.Adagrad(params, **hyperparameters); keys of
//	               this library's own, left out at their defaults:
//	               adagrad_go_rule (the rule's name, when not Adagrad),
//	               adagrad_go_l1, adagrad_go_l2, adagrad_go_momentum,
//	               adagrad_go_decoupled_weight_decay, adagrad_go_seed (a
//	               decimal string), adagrad_go_skip_non_finite. A state
//	               loads only into a model whose tensors run the same rules
//	               on the same parameter dtypes (optim.LoadState refuses
//	               another with device.ErrRule or device.ErrDType).
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
// A tensor whose rule keeps state per row (row-wise Adagrad) or per block
// (8-bit Adagrad) is cut on its rows or blocks: a part holds its rows'
// (blocks') state beside their elements. Part files are named after their
// content, so a save never overwrites a file the current manifest names; a
// save cut short leaves the previous manifest and its files intact. See Split, Join, SaveShard, SaveManifest,
// SaveSharded and LoadSharded; a state saved in N parts resumes in M.
// LoadRanges reads only a block of every tensor (what one process of a
// sharded run owns) from a sharded or a whole checkpoint, reading and
// verifying only the files that hold it; Consolidate (and the command
// cmd/consolidate) writes a sharded checkpoint as the one file that Save
// writes for the same state, byte for byte.
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
