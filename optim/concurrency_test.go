package optim_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// TestConcurrentCalls runs the documented safe pattern under the race
// detector (go test -race): goroutines give gradients with SetGrad and
// SetSparseGrad while others step, read, take and load the state, change
// hyperparameters and the gradient precision. Every call must succeed and
// no race be reported.
func TestConcurrentCalls(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	var params []optim.Param
	for i := range 6 {
		params = append(params, optim.Param{Name: fmt.Sprint("w", i), Init: make([]float32, 100+i)})
	}
	params = append(params,
		optim.Param{Name: "d", Init: make([]float64, 70)},
		optim.Param{Name: "emb", Init: make([]float32, 64), Shape: []int{16, 4}})
	opt, err := optim.New(dev, params, optim.LR(0.01))
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	const rounds = 200
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	run := func(what string, f func(i int) error) {
		wg.Go(func() {
			for i := range rounds {
				if err := f(i); err != nil {
					errs <- fmt.Errorf("%s, round %d: %w", what, i, err)
					return
				}
			}
		})
	}
	for w := range 6 {
		name := fmt.Sprint("w", w)
		run("SetGrad "+name, func(i int) error {
			g := make([]float32, 100+w)
			for k := range g {
				g[k] = float32(i%7) - 3
			}
			return opt.SetGrad(name, g)
		})
	}
	run("SetGrad d", func(i int) error { return opt.SetGrad("d", make([]float64, 70)) })
	run("SetSparseGrad", func(i int) error {
		return opt.SetSparseGrad("emb", []int64{int64(i % 16), 3, 3}, make([]float32, 12))
	})
	run("Step", func(int) error { return opt.Step() })
	run("Read", func(int) error { return opt.Read("w3", make([]float32, 103)) })
	run("ReadRows", func(i int) error { return opt.ReadRows("emb", []int64{int64(i % 16)}, make([]float32, 4)) })
	run("State and LoadState", func(i int) error {
		st, err := opt.State()
		if err != nil || i%10 != 0 {
			return err
		}
		return opt.LoadState(st)
	})
	run("SetHyper", func(i int) error { return opt.SetHyper([]string{"w1", "d"}, optim.LR(0.01/float64(1+i%5))) })
	run("SetGradPrecision", func(i int) error {
		if i%20 != 0 {
			return nil
		}
		return opt.SetGradPrecision([]device.DType{device.Float32, device.BFloat16, device.Float16}[i/20%3])
	})
	run("Tensors, Stats, Sync", func(int) error {
		_ = opt.Tensors()
		_ = opt.Stats()
		return opt.Sync()
	})
	run("ZeroGrad", func(i int) error {
		if i%50 == 0 {
			opt.ZeroGrad()
		}
		return nil
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
