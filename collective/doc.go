// Package collective is how the ranks of a multi-process run talk: a small
// interface (Comm) for rank and size, a barrier, an all-to-all and an
// all-gather of variable sizes, with counts of the bytes each rank sends
// and receives; and, built on it, typed and reducing operations whose
// results do not depend on the transport: ReduceScatter and AllReduce sum
// the ranks' contributions in rank order (an all-to-all of the pieces, then
// a local sum), so a run is bitwise the same on any number of ranks and on
// any implementation of Comm.
//
// Implementations:
//
//	One()           the world of one: always built, pure Go; a
//	                single-process run takes the same code path as a
//	                multi-process one
//	InProcess(n, o) n ranks in one process (goroutines and channels), for
//	                tests and for trying a distributed program without a
//	                launcher
//	collective/mpi  MPI through cgo (build tag "mpi"), launched by mpirun
//
// Drivers register by blank import, as image/png does, and Open picks one:
//
//	import _ "github.com/adagrad-go/adagrad/collective/mpi" // with -tags mpi
//
//	world, err := collective.Open("") // MPI when built with the tag, else the world of one
//
// Every method of Comm is collective: every rank calls the same methods in
// the same order, each with buffers whose sizes agree with its peers' (what
// rank r sends to rank s is what s expects from r). A size that disagrees
// is reported as ErrSize where it can be seen. A peer that does not answer
// within the timeout (Options.Timeout; 30 minutes by default, as PyTorch's
// process groups) ends the call with ErrTimeout naming the ranks waited
// for; a failed call leaves the Comm unusable (ErrBroken), since the ranks
// no longer agree where they are. The methods of one Comm are not for
// concurrent use: a rank is one sequence of calls.
//
// The element types move as their in-memory bytes: every rank must run on
// machines of the same byte order, as is usual for MPI_BYTE transfers.
//
// LocalRank says a process's rank among the ranks on its machine, as the
// launcher tells it: a program that runs one rank per GPU picks its GPU by
// it (sharded.LocalDevice).
//
// Comm is kept small enough that an NCCL implementation (ncclSend/ncclRecv
// in a group for the all-to-all, ncclAllGather) fits behind it.
package collective
