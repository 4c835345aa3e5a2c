package device

// Buffer is a typed array that lives on a backend's device. Only the backend
// that allocated a buffer may use it.
type Buffer interface {
	DType() DType
	Len() int
}

// Backend is one opened device. Its methods may be called from any goroutine
// but not concurrently; the optimizer serialises its own calls.
//
// Every method validates its arguments before touching device memory, so a
// call that returns an error for bad input leaves all buffers unchanged.
type Backend interface {
	// Alloc returns a zeroed buffer of n elements.
	Alloc(dt DType, n int) (Buffer, error)
	// Write copies src ([]float32 or []float64, matching dst's dtype) into dst
	// starting at element off.
	Write(dst Buffer, off int, src any) error
	// Read copies len(dst) elements of src starting at element off into dst
	// ([]float32 or []float64, matching src's dtype).
	Read(dst any, src Buffer, off int) error
	// Adagrad runs the fused update over every range of u, in one pass where
	// the device allows. It may return before the device has finished.
	Adagrad(u Update) error
	// Sync waits until all work queued on the device has finished and reports
	// the first error it raised.
	Sync() error
	// Close releases every buffer and the device itself. Later calls return
	// ErrClosed.
	Close() error
	// String names the device, for example "cpu (2 threads)" or
	// "cuda:0 NVIDIA H200".
	String() string
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

// Overlapper is an optional capability: a backend whose Writes run beside
// its kernels, so that uploading the next step's gradients while the
// current step runs pays off. The optimizer then alternates two gradient
// buffers per dtype, so that the upload never lands in the buffer the
// running kernel reads.
type Overlapper interface {
	OverlapsWrites() bool
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
