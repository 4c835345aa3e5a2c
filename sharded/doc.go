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
// each to one owner, and keeps per-row state (of row-wise rules) whole.
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
// Every method that communicates (New, Step, Read, ReadRows, State,
// LoadState) is collective: every rank calls it, in the same order, with
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
// Shards give what a checkpoint of one rank's rows needs.
//
// Traffic counts the bytes this rank sends, by purpose; per step they are:
// dense, the model's gradient bytes less this rank's piece (with equal
// pieces (N−1)/N of the gradient bytes, and as much again when the
// parameters are all gathered: 2·(N−1)/N in all); row-sparse, the rows and
// their 8-byte indices that go to other ranks; and a header of 8 bytes per
// tensor to each other rank.
package sharded
