package device

// Buffer is a typed array that lives on a backend's device. Only the backend
// that allocated a buffer may use it.
type Buffer interface {
	DType() DType
	Len() int
}

// Backend is one opened device: memory, ordering and lifetime. Its methods
// may be called from any goroutine but not concurrently; the optimizer
// serialises its own calls. What a backend computes is an optional
// capability (Updater for the update rules, RowReader, Copier, Freer), and
// what it supports is declared as data by Capabilities, so that callers
// choose without trial and error.
//
// Every method validates its arguments before touching device memory, so a
// call that returns an error leaves all buffers unchanged. Backends check in
// one order (see Tracker): the backend is open, every buffer is a live one
// of its own, the arguments fit, and only then the work.
type Backend interface {
	// Alloc returns a zeroed buffer of n elements.
	Alloc(dt DType, n int) (Buffer, error)
	// Write copies src ([]float32, []float64, or []uint16 raw bits for the
	// half types, matching dst's dtype) into dst starting at element off.
	Write(dst Buffer, off int, src any) error
	// Read copies len(dst) elements of src starting at element off into
	// dst, after all work queued before it.
	Read(dst any, src Buffer, off int) error
	// Sync waits until all work queued on the device has finished and reports
	// the first error it raised.
	Sync() error
	// Close releases every buffer and the device itself. Later calls return
	// ErrClosed; closing twice is not an error.
	Close() error
	// String names the device, for example "cpu (2 threads)" or
	// "cuda:0 NVIDIA H200".
	String() string
	// Capabilities declares what the backend supports.
	Capabilities() Capabilities
}

// Freer is an optional capability: a backend that can release one buffer
// before Close.
type Freer interface {
	Free(b Buffer) error
}

// Copier is an optional capability: a backend that can copy between two of
// its buffers on the device. Benchmarks use it to measure the device's own
// copy bandwidth.
type Copier interface {
	Copy(dst, src Buffer) error
}

// Driver opens backends of one kind. Open receives what follows the first
// colon of a spec: "" for "cuda", "1" for "cuda:1", "0:1" for "opencl:0:1".
type Driver interface {
	Open(arg string) (Backend, error)
}

// Lister is an optional capability of a Driver: it lists the devices it can
// open, so that "auto" can prefer GPUs.
type Lister interface {
	Devices() ([]Info, error)
}

// Info describes one device a driver can open.
type Info struct {
	Spec string // what Open takes, for example "opencl:0:1"
	Name string // what the hardware calls itself
	GPU  bool
}
