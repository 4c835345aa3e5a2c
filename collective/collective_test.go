package collective_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/collective"
	"github.com/adagrad-go/adagrad/collective/collectivetest"
)

func TestOne(t *testing.T) {
	collectivetest.RunWorld(t, []collective.Comm{collective.One()})
}

func TestInProcess(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			comms, err := collective.InProcess(n, collective.Options{Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			collectivetest.RunWorld(t, comms)
		})
	}
}

func TestOpen(t *testing.T) {
	for _, name := range []string{"", "one"} {
		c, err := collective.Open(name)
		if err != nil || c.Size() != 1 || c.Rank() != 0 {
			t.Errorf("Open(%q) = %v, %v; want the world of one", name, c, err)
		}
	}
	if _, err := collective.Open("nccl"); !errors.Is(err, collective.ErrUnknownDriver) {
		t.Errorf("Open(nccl) without a driver: %v, want ErrUnknownDriver", err)
	}
}

// world returns an in-process world with a short timeout.
func world(t *testing.T, n int, timeout time.Duration) []collective.Comm {
	t.Helper()
	comms, err := collective.InProcess(n, collective.Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return comms
}

// TestSizeMismatch: a receiver that expects another length gets ErrSize,
// and the Comm refuses further calls.
func TestSizeMismatch(t *testing.T) {
	comms := world(t, 2, 5*time.Second)
	err := collectivetest.OnEveryRank(comms, func(c collective.Comm) error {
		recv := [][]byte{make([]byte, 3), make([]byte, 3)}
		if c.Rank() == 0 {
			recv[1] = make([]byte, 4) // rank 1 sends 3
		}
		return c.AllToAll([][]byte{{1, 2, 3}, {4, 5, 6}}, recv)
	})
	if !errors.Is(err, collective.ErrSize) {
		t.Fatalf("err = %v, want ErrSize", err)
	}
	if err := comms[0].Barrier(); !errors.Is(err, collective.ErrBroken) || !errors.Is(err, collective.ErrSize) {
		t.Errorf("call after a failure: %v, want ErrBroken wrapping ErrSize", err)
	}
	if err := comms[0].AllToAll(make([][]byte, 3), make([][]byte, 2)); !errors.Is(err, collective.ErrBroken) {
		t.Errorf("bad call on a broken comm: %v", err)
	}
	if err := world(t, 2, time.Second)[0].AllToAll(make([][]byte, 3), make([][]byte, 2)); !errors.Is(err, collective.ErrSize) {
		t.Errorf("three buffers for two ranks: %v, want ErrSize", err)
	}
}

// TestTimeout: a rank that never calls makes the others time out, naming
// it.
func TestTimeout(t *testing.T) {
	comms := world(t, 3, 200*time.Millisecond)
	start := time.Now()
	err := collectivetest.OnEveryRank(comms[:2], func(c collective.Comm) error { return c.Barrier() })
	if !errors.Is(err, collective.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timed out after %v, want about 200ms", d)
	}
	t.Log(err)
}

// TestPeerGone: a rank that closes ends its peers' waits at once.
func TestPeerGone(t *testing.T) {
	comms := world(t, 3, time.Minute)
	comms[2].Close()
	start := time.Now()
	err := collectivetest.OnEveryRank(comms[:2], func(c collective.Comm) error { return c.Barrier() })
	if !errors.Is(err, collective.ErrPeerGone) || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %v, want ErrPeerGone at once", err, time.Since(start))
	}
	if err := comms[2].Barrier(); !errors.Is(err, collective.ErrClosed) {
		t.Errorf("closed comm: %v, want ErrClosed", err)
	}
}

// TestPeerLeavesAfterSending: a peer that sends its last message and
// closes is not reported gone.
func TestPeerLeavesAfterSending(t *testing.T) {
	comms := world(t, 2, time.Minute)
	done := make(chan error)
	go func() {
		err := comms[1].AllGather([]byte{7}, [][]byte{make([]byte, 1), make([]byte, 1)})
		comms[1].Close()
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	recv := [][]byte{make([]byte, 1), make([]byte, 1)}
	if err := comms[0].AllGather([]byte{3}, recv); err != nil || recv[1][0] != 7 {
		t.Errorf("rank 0: %v, %v", err, recv)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestInterrupt(t *testing.T) {
	comms := world(t, 2, time.Minute)
	reason := errors.New("SIGTERM")
	go func() {
		time.Sleep(50 * time.Millisecond)
		comms[0].(collective.Interrupter).Interrupt(reason)
	}()
	err := comms[0].Barrier()
	if !errors.Is(err, collective.ErrInterrupted) || !errors.Is(err, reason) {
		t.Errorf("err = %v, want ErrInterrupted wrapping the reason", err)
	}
}

func TestSplit(t *testing.T) {
	for _, n := range []int{0, 1, 5, 7, 100} {
		for parts := 1; parts <= 6; parts++ {
			counts := collective.Split(n, parts)
			sum := 0
			for r, k := range counts {
				if collective.Bound(n, parts, r) != sum {
					t.Errorf("Bound(%d, %d, %d) = %d, want %d", n, parts, r, collective.Bound(n, parts, r), sum)
				}
				sum += k
				if k < n/parts || k > n/parts+1 {
					t.Errorf("Split(%d, %d) = %v: uneven", n, parts, counts)
				}
			}
			if sum != n {
				t.Errorf("Split(%d, %d) = %v sums to %d", n, parts, counts, sum)
			}
		}
	}
}
