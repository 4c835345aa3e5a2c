// Package mpi is the MPI implementation of collective.Comm (build tag
// "mpi"), bound directly to the few MPI calls it needs through cgo, for
// Open MPI (pkg-config "ompi"; Debian's libopenmpi-dev) launched by mpirun:
//
//	import _ "github.com/adagrad-go/adagrad/collective/mpi"
//
//	world, err := collective.Open("") // or mpi.Open(mpi.Options{})
//	defer world.Close()               // the last Close finalises MPI
//
//	go build -tags mpi ./cmd/train && mpirun -np 4 ./train
//
// Threads. Go moves goroutines between OS threads; MPI ties its state to
// the thread that initialised it. Every MPI call of the process, from
// MPI_Init_thread to MPI_Finalize, runs on one locked OS thread, so the
// package asks for MPI_THREAD_FUNNELED only and callers may use a Comm from
// any goroutine. When MPI was initialised by someone else before, it must
// provide MPI_THREAD_MULTIPLE.
//
// Transfers. The all-to-all and the all-gather are nonblocking point-to-point
// messages (MPI_Irecv, MPI_Isend) on a communicator of the package's own
// (a duplicate of MPI_COMM_WORLD, so no message of the program's can match
// them), in bytes, each cut into messages of at most Options.MaxMessage
// bytes: MPI counts are C ints, so a transfer of 2³¹ bytes or more (and any
// count of elements above 2³¹−1) is split rather than refused. The Go memory
// involved is pinned (runtime.Pinner) for as long as MPI holds it.
//
// Faults. The communicator returns errors (MPI_ERRORS_RETURN) instead of
// ending the job, and they come back as *Error, wrapping the MPI error code
// and its text. Waits poll (MPI_Testall, yielding the CPU between polls as
// Open MPI does when oversubscribed, and napping 50 µs between polls after
// the first 10 ms) so that they end at Options.Timeout with
// collective.ErrTimeout naming the ranks not heard from, or at Interrupt.
//
// What ends a job when a rank dies is the launcher: Open MPI's mpirun sees
// a rank exit non-zero or on a signal, prints which, and sends the other
// ranks SIGCONT, then SIGTERM, then SIGKILL, odls_base_sigkill_timeout
// seconds apart (1 by default; OMPI_MCA_odls_base_sigkill_timeout=3 gives
// a loaded machine more time). A program that wants its other ranks to say
// why they stop calls Interrupt from a SIGTERM handler (see
// collective.Interrupter): their blocked calls then return an error, which
// they print before exiting. A rank that hangs without dying is caught by
// the others' timeout instead. After a failure with messages in flight the
// communicator is not freed and MPI is not finalised (either could wait for
// the dead rank): the process exits without it, and mpirun ends the job.
//
// This file is untagged on purpose: an untagged build of the module must
// compile with no MPI installed. Without the tag nothing registers, and
// collective.Open("mpi") reports the missing build tag.
package mpi
