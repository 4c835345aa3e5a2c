package launch

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// fakeDevice is a ring of staging slots and a device memory that its
// transfers complete into at once.
type fakeDevice struct {
	t      *testing.T
	slots  [][]byte
	next   int
	mem    []byte
	sent   []int // chunks in the order sent or fetched
	failAt int   // the call that fails (take, send or fetch), -1 never
	calls  int
}

var errFake = errors.New("fake failure")

func newFake(t *testing.T, slots, size, memSize int) *fakeDevice {
	f := &fakeDevice{t: t, failAt: -1, mem: make([]byte, memSize)}
	for range slots {
		f.slots = append(f.slots, make([]byte, size))
	}
	return f
}

func (f *fakeDevice) fail() bool {
	f.calls++
	return f.calls-1 == f.failAt
}

func (f *fakeDevice) take() (int, []byte, error) {
	if f.fail() {
		return 0, nil, errFake
	}
	i := f.next
	f.next = (f.next + 1) % len(f.slots)
	return i, f.slots[i], nil
}

func TestUpload(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, chunk := range []int{1, 7, 64} {
		for _, n := range []int{1, chunk - 1, chunk, chunk + 1, 5*chunk + 3, 40 * chunk} {
			if n <= 0 {
				continue
			}
			for _, w := range []int{1, 2, 3, 8} {
				host := make([]byte, n)
				for i := range host {
					host[i] = byte(rng.Uint32())
				}
				f := newFake(t, 2*w+1, chunk, n)
				err := Upload(host, chunk, w, f.take, func(k, s, size int) error {
					if f.fail() {
						return errFake
					}
					f.sent = append(f.sent, k)
					copy(f.mem[k*chunk:], f.slots[s][:size])
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.mem, host) {
					t.Fatalf("chunk %d, %d bytes, %d workers: device memory differs", chunk, n, w)
				}
				for i, k := range f.sent {
					if i != k {
						t.Fatalf("sent chunks in order %v", f.sent)
					}
				}
			}
		}
	}
}

func TestUploadErrors(t *testing.T) {
	host := make([]byte, 100)
	for fail := range 30 {
		f := newFake(t, 9, 10, 100)
		f.failAt = fail
		err := Upload(host, 10, 4, f.take, func(k, s, size int) error {
			if f.fail() {
				return errFake
			}
			return nil
		})
		if fail < 20 && !errors.Is(err, errFake) {
			t.Errorf("failure at call %d: err = %v", fail, err)
		}
	}
}

func TestDownload(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, chunk := range []int{1, 7, 64} {
		for _, n := range []int{1, chunk + 1, 5*chunk + 3, 40 * chunk} {
			for _, ahead := range []int{1, 2, 5} {
				f := newFake(t, ahead, chunk, n)
				for i := range f.mem {
					f.mem[i] = byte(rng.Uint32())
				}
				host := make([]byte, n)
				// A ring of exactly ahead slots: fetching into a slot whose
				// copy out still runs gives wrong bytes, and a data race
				// under the race detector.
				err := Download(host, chunk, ahead, 4, func(k, size int) (int, []byte, error) {
					s, mem, err := f.take()
					if err != nil {
						return 0, nil, err
					}
					copy(mem, f.mem[k*chunk:k*chunk+size])
					return s, mem, nil
				}, func(int) error { return nil })
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.mem, host) {
					t.Fatalf("chunk %d, %d bytes, ahead %d: host differs", chunk, n, ahead)
				}
			}
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	for fail := range 12 {
		f := newFake(t, 3, 10, 100)
		f.failAt = fail
		host := make([]byte, 100)
		err := Download(host, 10, 3, 2, func(k, size int) (int, []byte, error) {
			s, mem, err := f.take()
			return s, mem, err
		}, func(int) error {
			if f.fail() {
				return errFake
			}
			return nil
		})
		if !errors.Is(err, errFake) {
			t.Errorf("failure at call %d: err = %v", fail, err)
		}
	}
}

func TestParallelCopy(t *testing.T) {
	for _, n := range []int{0, 1, parallelMin - 1, parallelMin, 3*parallelMin + 5} {
		for _, w := range []int{1, 2, 7} {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i * 7)
			}
			dst := make([]byte, n+3)
			if got := ParallelCopy(dst, src, w); got != n || !bytes.Equal(dst[:n], src) || !bytes.Equal(dst[n:], []byte{0, 0, 0}) {
				t.Fatalf("%s: copied %d", fmt.Sprint(n, " bytes, ", w, " workers"), got)
			}
		}
	}
}

func TestChunk(t *testing.T) {
	const slot = 1 << 20
	for _, c := range []struct{ n, want int }{
		{0, minChunk}, {1, minChunk}, {4 << 20, minChunk}, {8 << 20, 512 << 10}, {64 << 20, slot}, {1 << 30, slot},
	} {
		if got := Chunk(c.n, slot); got != c.want {
			t.Errorf("Chunk(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	if got := Chunk(10, 1000); got != 1000 {
		t.Errorf("a slot smaller than minChunk: %d", got)
	}
}
