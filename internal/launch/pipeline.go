package launch

import "sync"

// The GPU backends move host slices through page-locked staging slots
// (their copy engines read those at the full link rate) in chunks, so
// that the host's copy of one chunk overlaps the device transfer of the
// previous ones. Upload and Download are that pipeline, written once; the
// backends supply the slots and the transfers.

// Upload sends host in chunks of chunk bytes. For each chunk in turn,
// take returns a free staging slot and its memory (chunk bytes at least);
// up to workers chunks are copied into their slots at once, each on a
// goroutine; send queues chunk k's transfer of n bytes from its slot, in
// chunk order, once its copy is done. Upload returns once every chunk has
// been copied and sent, or at the first error once no goroutine copies any
// more: host may then be reused at once.
func Upload[S any](host []byte, chunk, workers int, take func() (S, []byte, error), send func(k int, s S, n int) error) error {
	chunks := (len(host) + chunk - 1) / chunk
	if chunks == 1 {
		s, mem, err := take()
		if err != nil {
			return err
		}
		ParallelCopy(mem, host, workers)
		return send(0, s, len(host))
	}
	w := max(1, min(workers, chunks))
	type job struct {
		s    S
		n    int
		done chan struct{}
	}
	ring := make([]job, w)
	sent := 0
	settle := func() { // waits for every copy still running
		for i := sent; i < chunks && i < sent+w; i++ {
			if j := &ring[i%w]; j.done != nil {
				<-j.done
				j.done = nil
			}
		}
	}
	next := func() error {
		j := &ring[sent%w]
		<-j.done
		j.done = nil
		if err := send(sent, j.s, j.n); err != nil {
			return err
		}
		sent++
		return nil
	}
	for k := range chunks {
		if k >= sent+w {
			if err := next(); err != nil {
				settle()
				return err
			}
		}
		s, mem, err := take()
		if err != nil {
			settle()
			return err
		}
		src := host[k*chunk : min((k+1)*chunk, len(host))]
		done := make(chan struct{})
		ring[k%w] = job{s: s, n: len(src), done: done}
		go func() {
			copy(mem, src)
			close(done)
		}()
	}
	for sent < chunks {
		if err := next(); err != nil {
			settle()
			return err
		}
	}
	return nil
}

// Download receives host in chunks of chunk bytes, the transfers of up to
// ahead chunks in flight (a single chunk is copied out on up to workers
// goroutines). fetch queues the transfer of chunk k (n bytes)
// into a staging slot it takes, and returns the slot and its memory; wait
// blocks until slot s holds its chunk, which is then copied into host on a
// goroutine. A slot is fetched into again only after the copy out of every
// chunk ahead or more chunks back has finished, so a ring of ahead slots
// or more is enough. Download returns once host holds every chunk, or at
// the first error once no goroutine copies any more.
func Download[S any](host []byte, chunk, ahead, workers int, fetch func(k, n int) (S, []byte, error), wait func(S) error) error {
	chunks := (len(host) + chunk - 1) / chunk
	ahead = max(1, min(ahead, chunks))
	type got struct {
		s    S
		mem  []byte
		done chan struct{}
	}
	inflight := make([]got, chunks)
	fetched, copied := 0, 0 // chunks queued; chunks whose copy out is known done
	finish := func(upTo int) {
		for ; copied < upTo; copied++ {
			if d := inflight[copied].done; d != nil {
				<-d
			}
		}
	}
	defer func() { finish(fetched) }()
	for k := range chunks {
		for fetched < chunks && fetched < k+ahead {
			finish(fetched - ahead + 1)
			s, mem, err := fetch(fetched, min(chunk, len(host)-fetched*chunk))
			if err != nil {
				return err
			}
			inflight[fetched] = got{s: s, mem: mem}
			fetched++
		}
		g := &inflight[k]
		if err := wait(g.s); err != nil {
			return err
		}
		dst := host[k*chunk : min((k+1)*chunk, len(host))]
		if chunks == 1 {
			ParallelCopy(dst, g.mem, workers)
			return nil
		}
		done := make(chan struct{})
		g.done = done
		mem := g.mem
		go func() {
			copy(dst, mem)
			close(done)
		}()
	}
	return nil
}

// minChunk is the smallest chunk Chunk gives a transfer of several.
const minChunk = 256 << 10

// Chunk is the chunk size for a transfer of n bytes through slots of
// slot bytes: n/16 rounded up to minChunk, at most slot. A few-MiB
// transfer then flows in small chunks, its first DMA starting after a
// short copy, and a large one in whole slots, which keeps the driver calls
// per byte few.
func Chunk(n, slot int) int {
	c := (n/16 + minChunk - 1) / minChunk * minChunk
	return max(min(c, slot), min(minChunk, slot))
}

// parallelMin is the smallest copy worth splitting across goroutines, and
// the least each takes.
const parallelMin = 256 << 10

// ParallelCopy is copy(dst, src) on up to workers goroutines for large
// pieces: one core copies into page-locked memory more slowly than the
// host link moves it. It returns the bytes copied.
func ParallelCopy(dst, src []byte, workers int) int {
	n := min(len(dst), len(src))
	parts := min(workers, n/(parallelMin/2))
	if n < parallelMin || parts <= 1 {
		return copy(dst, src)
	}
	per := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := per; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
	}
	copy(dst[:per], src[:per])
	wg.Wait()
	return n
}
