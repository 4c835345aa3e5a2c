//go:build cuda

package cuda

// #include <stdlib.h>
// #include <string.h>
// #include <cuda.h>
//
// static CUresult adagrad_launch(CUfunction f, unsigned grid, unsigned block, CUstream s, void **params) {
// 	return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, s, params, NULL);
// }
import "C"

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/adagrad-go/adagrad/device"
)

// gorgonia.org/cu's Function.Launch passes every argument as 8 bytes and
// allocates C memory twice per launch; the update kernels take a range
// table by value (up to a few KiB), so launches are made here, from
// argument memory in C that each backend allocates once and reuses under
// its lock.

const (
	maxArgs     = 24
	maxArgBytes = 4096 // CUDA's limit on a kernel's parameters
)

// args is one kernel launch's parameters in C memory: values, each at
// its own aligned slot, and the array of pointers to them that
// cuLaunchKernel takes. The driver reads from each pointer as many bytes
// as the kernel's parameter has (little-endian: a 32-bit parameter reads
// the low half of an 8-byte slot).
type args struct {
	mem  unsafe.Pointer // C memory: maxArgs pointers, then maxArgBytes of values
	ptrs []unsafe.Pointer
	vals []byte
	n    int   // arguments so far
	used int   // bytes of vals used
	err  error // the arguments overflowed (a bug: the kernels' signatures are fixed)
}

func newArgs() (*args, error) {
	size := maxArgs*int(unsafe.Sizeof(unsafe.Pointer(nil))) + maxArgBytes
	mem := C.calloc(1, C.size_t(size))
	if mem == nil {
		return nil, fmt.Errorf("cuda: %w: %d bytes of kernel arguments", device.ErrOutOfMemory, size)
	}
	a := &args{mem: mem}
	a.ptrs = unsafe.Slice((*unsafe.Pointer)(mem), maxArgs)
	a.vals = unsafe.Slice((*byte)(unsafe.Add(mem, maxArgs*int(unsafe.Sizeof(unsafe.Pointer(nil))))), maxArgBytes)
	return a, nil
}

func (a *args) free() {
	if a != nil && a.mem != nil {
		C.free(a.mem)
		a.mem, a.ptrs, a.vals = nil, nil, nil
	}
}

func (a *args) reset() { a.n, a.used, a.err = 0, 0, nil }

// slot reserves size bytes aligned to align for the next argument and
// returns them.
func (a *args) slot(size, align int) []byte {
	at := (a.used + align - 1) / align * align
	if a.n == maxArgs || at+size > maxArgBytes {
		if a.err == nil {
			a.err = fmt.Errorf("cuda: kernel arguments overflow (%d arguments, %d bytes)", a.n+1, at+size)
		}
		return make([]byte, size)
	}
	a.ptrs[a.n] = unsafe.Pointer(&a.vals[at])
	a.n++
	a.used = at + size
	return a.vals[at : at+size]
}

// u64 adds a 64-bit argument (a pointer, an index, or a 32-bit one in its
// low half).
func (a *args) u64(vs ...uint64) {
	for _, v := range vs {
		binary.LittleEndian.PutUint64(a.slot(8, 8), v)
	}
}

// block adds a by-value struct of size bytes whose first bytes are data
// (the rest left as it was: the kernel reads only what data holds).
func (a *args) block(data []byte, size int) {
	copy(a.slot(size, 8), data)
}

// launch starts fn, grid blocks of block threads, on stream with the
// arguments added since the last reset.
func (a *args) launch(fn cu.Function, grid, block int, stream cu.Stream) error {
	if a.err != nil {
		return a.err
	}
	rc := C.adagrad_launch(cFunction(fn), C.unsigned(grid), C.unsigned(block), cStream(stream), (*unsafe.Pointer)(a.mem))
	if rc != C.CUDA_SUCCESS {
		return &Error{Op: fmt.Sprintf("cuLaunchKernel(%d blocks of %d)", grid, block), Code: int(rc)}
	}
	return nil
}

// cFunction and cStream are the driver handles inside gorgonia.org/cu's
// types, structs whose only field is that handle (checked by size below:
// the module is pinned at v0.9.6).
func cFunction(f cu.Function) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&f)) }
func cStream(s cu.Stream) C.CUstream       { return *(*C.CUstream)(unsafe.Pointer(&s)) }

var (
	_ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))]struct{}
	_ [unsafe.Sizeof(C.CUfunction(nil)) - unsafe.Sizeof(cu.Function{})]struct{}
	_ [unsafe.Sizeof(cu.Stream{}) - unsafe.Sizeof(C.CUstream(nil))]struct{}
	_ [unsafe.Sizeof(C.CUstream(nil)) - unsafe.Sizeof(cu.Stream{})]struct{}
)
