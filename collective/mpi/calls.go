//go:build mpi

package mpi

/*
#cgo pkg-config: ompi
#include <mpi.h>
#include <sched.h>
#include <time.h>
#include <stdlib.h>

// Open MPI's handles are macros over addresses of its globals, which cgo
// cannot take as constants: functions return them.
static MPI_Comm adg_comm_null(void) { return MPI_COMM_NULL; }
static MPI_Datatype adg_byte(void) { return MPI_BYTE; }

// adg_init initialises MPI asking for MPI_THREAD_FUNNELED (*ours = 1), or
// reports the level of an MPI that someone else initialised (*ours = 0).
static int adg_init(int *provided, int *ours) {
	int inited = 0, finalized = 0;
	int rc = MPI_Initialized(&inited);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Finalized(&finalized);
	if (rc != MPI_SUCCESS) return rc;
	if (finalized) { *provided = -1; *ours = 0; return MPI_SUCCESS; }
	if (inited) { *ours = 0; return MPI_Query_thread(provided); }
	*ours = 1;
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
}

// adg_dup makes the package's own communicator, returning errors.
static int adg_dup(MPI_Comm *out, int *rank, int *size) {
	int rc = MPI_Comm_dup(MPI_COMM_WORLD, out);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Comm_rank(*out, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(*out, size);
}

// adg_wait polls the requests until all are done (*outcome = 0), the
// timeout in seconds passes (1; none when timeout <= 0) or *stop becomes
// nonzero (2). It spins for the first 10 ms, yielding the CPU between
// polls (with more ranks than cores a spinning rank would starve the peer
// it waits for), as Open MPI's own waits do; then it naps 50 µs between
// polls, so that a rank that waits long (for a peer writing a checkpoint)
// does not burn a core.
static int adg_wait(int n, MPI_Request *reqs, MPI_Status *st, double timeout, int *stop, int *outcome) {
	double t0 = MPI_Wtime();
	for (;;) {
		int flag = 0;
		int rc = MPI_Testall(n, reqs, &flag, st);
		if (rc != MPI_SUCCESS) return rc;
		if (flag) { *outcome = 0; return MPI_SUCCESS; }
		if (__atomic_load_n(stop, __ATOMIC_RELAXED)) { *outcome = 2; return MPI_SUCCESS; }
		double waited = MPI_Wtime() - t0;
		if (timeout > 0 && waited > timeout) { *outcome = 1; return MPI_SUCCESS; }
		if (waited < 1e-2) { sched_yield(); continue; }
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
}

// adg_pending reports whether request r has not completed.
static int adg_pending(MPI_Request r) {
	int flag = 0;
	MPI_Status st;
	if (MPI_Request_get_status(r, &flag, &st) != MPI_SUCCESS) return 1;
	return !flag;
}

static int adg_status_error(MPI_Status *st) { return st->MPI_ERROR; }

static int adg_count(MPI_Status *st, int *count) { return MPI_Get_count(st, MPI_BYTE, count); }

static int adg_error_string(int code, char *buf, int *class) {
	int len = 0;
	if (MPI_Error_class(code, class) != MPI_SUCCESS) *class = -1;
	if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) len = 0;
	buf[len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = 0;
	return len;
}
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// This file is the binding: thin functions over the MPI calls, each run on
// the package's MPI thread (see thread.go). The rest of the package holds
// no C types.

const (
	success         = C.MPI_SUCCESS
	errInStatus     = C.MPI_ERR_IN_STATUS
	errTruncate     = C.MPI_ERR_TRUNCATE
	errCount        = C.MPI_ERR_COUNT
	errPending      = C.MPI_ERR_PENDING
	threadFunneled  = C.MPI_THREAD_FUNNELED
	threadMultiple  = C.MPI_THREAD_MULTIPLE
	maxErrorString  = C.MPI_MAX_ERROR_STRING
	messageTag      = 0x4144 // "AD": every message of the package's communicator
	outcomeDone     = 0
	outcomeTimedOut = 1
	outcomeStopped  = 2
)

type (
	handle  = C.MPI_Comm
	request = C.MPI_Request
	status  = C.MPI_Status
)

// initMPI initialises MPI, or finds it initialised (ours false) or already
// finalised (provided < 0).
func initMPI() (provided int, ours bool, rc int) {
	var p, o C.int
	rc = int(C.adg_init(&p, &o))
	return int(p), o != 0, rc
}

func dupWorld() (c handle, rank, size int, rc int) {
	var r, s C.int
	rc = int(C.adg_dup(&c, &r, &s))
	return c, int(r), int(s), rc
}

func commFree(c *handle) int { return int(C.MPI_Comm_free(c)) }

func finalize() int { return int(C.MPI_Finalize()) }

// irecv posts a receive of len(b) bytes from rank peer; b must stay
// pinned until the request completes.
func irecv(b []byte, peer int, c handle, r *request) int {
	return int(C.MPI_Irecv(bytesPtr(b), C.int(len(b)), C.adg_byte(), C.int(peer), messageTag, c, r))
}

// isend posts a send of b to rank peer; b must stay pinned until the
// request completes.
func isend(b []byte, peer int, c handle, r *request) int {
	return int(C.MPI_Isend(bytesPtr(b), C.int(len(b)), C.adg_byte(), C.int(peer), messageTag, c, r))
}

func ibarrier(c handle, r *request) int { return int(C.MPI_Ibarrier(c, r)) }

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// wait polls reqs (filling st) until they complete, timeout seconds pass
// (none when ≤ 0) or *stop is set.
func wait(reqs []request, st []status, timeout float64, stop *stopFlag) (outcome, rc int) {
	var o C.int
	rc = int(C.adg_wait(C.int(len(reqs)), unsafe.SliceData(reqs), unsafe.SliceData(st), C.double(timeout), stop.c(), &o))
	return int(o), rc
}

func pending(r request) bool { return C.adg_pending(r) != 0 }

func statusError(st *status) int { return int(C.adg_status_error(st)) }

func receivedBytes(st *status) (int, int) {
	var n C.int
	rc := C.adg_count(st, &n)
	return int(n), int(rc)
}

// errorText returns MPI's text and class for an error code.
func errorText(code int) (text string, class int) {
	buf := (*C.char)(C.malloc(maxErrorString + 1))
	defer C.free(unsafe.Pointer(buf))
	var cl C.int
	n := C.adg_error_string(C.int(code), buf, &cl)
	return C.GoStringN(buf, n), int(cl)
}

// stopFlag is an int in C memory that Interrupt sets from any goroutine
// while the MPI thread polls it.
type stopFlag struct{ p *C.int }

func newStopFlag() *stopFlag {
	p := (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
	return &stopFlag{p: p}
}

func (f *stopFlag) set()      { atomic.StoreInt32((*int32)(unsafe.Pointer(f.p)), 1) }
func (f *stopFlag) c() *C.int { return f.p }

// Freed never: a stop flag lives as long as its Comm may have a wait in
// flight, which after a failure is the rest of the process.

func nullComm() handle { return C.adg_comm_null() }
