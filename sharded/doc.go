// Package sharded is Adagrad with its state sharded over the ranks of a
// collective.Comm, in the manner of ZeRO stage 1: each rank owns a
// contiguous block of rows of every tensor, and that block's parameters
// and accumulators live only on the rank's device, in an optim.Adagrad of
// its own (so memory per rank is about 1/N of the model's state). Adagrad
// is elementwise, so an update needs no communication; only gradients and,
// when asked, parameters move.
//
//	world, _ := collective.Open("")           // MPI under mpirun, else the world of one
//	opt, err := sharded.New(world, dev, params, optim.LR(0.1))
//	g, _ := opt.Grad32("w")                    // this rank's full-size gradient
//	…
//	err = opt.Step()                           // every rank, in step
//
// Rows. A tensor is viewed as shape[0] rows of the rest (a 1-D tensor is
// rows of one element, a scalar one row); rank r owns rows
// [R·r/N, R·(r+1)/N). Splitting on rows sends a row-sparse gradient's rows
// each to one owner, and keeps per-row state (of row-wise rules) whole:
// a rank's checkpoint part holds its rows' accumulators. Rules of any
// per-element state (one state or two) and row-wise Adagrad are sharded;
// half-precision parameters and 8-bit state are refused (a rank's rows
// would round and quantize apart from the whole tensor's: stochastic
// rounding counts elements, and 8-bit blocks run, from the tensor's start).
//
// Step. Every rank gives its own gradients; Step first tells every rank
// which tensors each rank gave and how (so that all take the same
// decision: a tensor steps when any rank gave it a gradient), then:
//
//   - dense gradients: each rank cuts its full-size gradients into the
//     owners' pieces, and the pieces are summed at their owners in rank
//     order (collective.ReduceScatter): ((g₀ + g₁) + g₂) + …, a rank that
//     gave none counting as zeros;
//   - row-sparse gradients: each row goes to its owner (an all-to-all of
//     indices and values), where the rows from all ranks are concatenated
//     in rank order and given to the owner's optimizer, which sums
//     duplicates in that order.
//
// Each owner then updates its shard. So an N-rank run is bitwise equal to
// one process given the same summed gradients (or the rows of all ranks
// concatenated in rank order), on any N, any Comm and any device that the
// device conformance suite passes.
//
// Parameters come back only when asked: Read all-gathers a tensor,
// ReadRows gathers rows from their owners (only those rows move), State
// gathers everything. State returns the whole optimizer state in optim's
// format, and LoadState takes a whole state and keeps each rank's rows, so
// that a checkpoint of an N-rank run resumes on any number of ranks, or in
// one process with optim.
//
// Checkpoints. SaveCheckpoint writes one without gathering the state: each
// rank writes its rows as a part file, atomically, and rank 0 writes the
// manifest last, once every part is durable (package checkpoint's sharded
// layout; checkpoint.Consolidate makes of it the file one process writes,
// byte for byte). LoadCheckpoint restores a sharded or a whole checkpoint
// on any number of ranks, each rank reading and verifying only the files
// that hold its rows. The optimizer has the capabilities that package
// train's Trainer looks for (train.Checkpointer, train.Distributed), so
// that a Trainer drives it unchanged on every rank.
//
// Devices. Each rank's rows live on its own device: one rank per GPU,
// LocalDevice picking the GPU by the rank's place on its machine. Gradients
// are computed on the host and travel between ranks from host memory (Go
// memory that the MPI transport pins while it sends); the owner's
// optimizer then uploads its summed piece through its backend's staging
// (page-locked on CUDA). Parameters come back to the host the same way.
//
// Every method that communicates (New, Step, Read, ReadRows, State,
// LoadState, SaveCheckpoint, LoadCheckpoint, CheckCheckpointPath) is
// collective: every rank calls it, in the same order, with
// the same tensor names; arguments that only one rank gets wrong (a
// destination of the wrong length, a bad row index) make that rank's call
// fail after it has taken its part, so that the others do not hang. A
// device that fails on one rank mid-way leaves the ranks apart: end the
// job (mpirun does when a rank exits non-zero) and resume from a
// checkpoint.
//
// The optimizer has optim.Adagrad's methods for training (Step, Sync,
// Tensors, Read, ReadRows, Grad32, Grad64, SetGrad, SetSparseGrad, State,
// LoadState, Stats), so that the Trainer drives either; ShardState and
// Shards give one rank's rows and where they lie.
//
// Traffic counts the bytes this rank sends, by purpose; per step they are:
// dense, the model's gradient bytes less this rank's piece (with equal
// pieces (N−1)/N of the gradient bytes, and as much again when the
// parameters are all gathered: 2·(N−1)/N in all); row-sparse, the rows and
// their 8-byte indices that go to other ranks; and a header of 8 bytes per
// tensor to each other rank.
package sharded
