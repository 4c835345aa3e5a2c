package optim_test

import (
	"fmt"
	"log"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/optim"
)

// An embedding table gets row-sparse gradients: only the rows named change,
// parameters and accumulators both, and only those rows travel to the
// device. Duplicate rows are summed first, in the order given.
func ExampleAdagrad_SetSparseGrad() {
	dev := cpu.New()
	defer dev.Close()
	emb := []float32{ // 4 rows of 2
		1, 1,
		2, 2,
		3, 3,
		4, 4,
	}
	opt, err := optim.New(dev, []optim.Param{{Name: "emb", Init: emb, Shape: []int{4, 2}}}, optim.LR(0.5))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	// Rows 1 and 3; row 3 twice: its gradient is (0.25+0.25, -1+1) = (0.5, 0).
	if err := opt.SetSparseGrad("emb", []int64{3, 1, 3}, []float32{0.25, -1, 1, 1, 0.25, 1}); err != nil {
		log.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		log.Fatal(err)
	}
	rows := make([]float32, 2*2)
	if err := opt.ReadRows("emb", []int64{0, 3}, rows); err != nil { // a gather of rows
		log.Fatal(err)
	}
	fmt.Println(rows)
	// Output: [1 1 3.5 4]
}

// Gradients of float32 tensors can travel in half the bytes, for models
// whose steps are bound by the host link: rounded to bfloat16 (or float16)
// on the host, widened exactly on the device, accumulated in float32, with
// the same bits on every backend.
func ExampleAdagrad_SetGradPrecision() {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 1}}}, optim.LR(0.1))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	if err := opt.SetGradPrecision(device.BFloat16); err != nil {
		log.Fatal(err)
	}
	// 1.00390625 = 1 + 2^-8 is not a bfloat16: it rounds to 1 (ties to even).
	if err := opt.SetGrad("w", []float32{1.00390625, -3}); err != nil {
		log.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		log.Fatal(err)
	}
	sum := make([]float32, 2)
	if err := opt.ReadAccum("w", sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum) // the squares of the gradients the device received
	// Output: [1 9]
}

// State reads everything a run needs to resume bit for bit; LoadState puts
// it into an optimizer of the same tensors (on any backend). A run resumed
// so ends where the uninterrupted one does.
func ExampleAdagrad_State() {
	dev := cpu.New()
	defer dev.Close()
	params := []optim.Param{{Name: "w", Init: []float64{0.5, -0.5}}}
	step := func(opt *optim.Adagrad, k int) {
		if err := opt.SetGrad("w", []float64{float64(k), 1}); err != nil {
			log.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			log.Fatal(err)
		}
	}
	whole, err := optim.New(dev, params, optim.LR(0.1), optim.LRDecay(0.01))
	if err != nil {
		log.Fatal(err)
	}
	defer whole.Close()
	for k := range 6 {
		step(whole, k)
	}

	first, err := optim.New(dev, params, optim.LR(0.1), optim.LRDecay(0.01))
	if err != nil {
		log.Fatal(err)
	}
	defer first.Close()
	for k := range 3 {
		step(first, k)
	}
	st, err := first.State() // parameters, accumulators, step counts, hyperparameters
	if err != nil {
		log.Fatal(err)
	}
	resumed, err := optim.New(dev, params) // its own settings are replaced by the state's
	if err != nil {
		log.Fatal(err)
	}
	defer resumed.Close()
	if err := resumed.LoadState(st); err != nil {
		log.Fatal(err)
	}
	for k := 3; k < 6; k++ {
		step(resumed, k)
	}
	a, b := make([]float64, 2), make([]float64, 2)
	if err := whole.Read("w", a); err != nil {
		log.Fatal(err)
	}
	if err := resumed.Read("w", b); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a[0] == b[0] && a[1] == b[1], resumed.Tensors()[0].Step)
	// Output: true 6
}

// An embedding table with FBGEMM's row-wise Adagrad keeps one accumulator
// per row: each row's step is scaled by the mean of its squared gradients.
func ExampleUpdateRule_rowwise() {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{{Name: "emb", Init: make([]float32, 3*2), Shape: []int{3, 2}}},
		optim.UpdateRule(device.AdagradRowwise), optim.LR(2.5), optim.Eps(0))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	// Row 1's gradient (1, 7): mean square 25, so the step is 2.5/5 = 0.5 of it.
	if err := opt.SetSparseGrad("emb", []int64{1}, []float32{1, 7}); err != nil {
		log.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		log.Fatal(err)
	}
	p, sums := make([]float32, 6), make([]float32, 3)
	if err := opt.Read("emb", p); err != nil {
		log.Fatal(err)
	}
	if err := opt.ReadState("emb", 0, sums); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p, sums)
	// Output: [0 0 -0.5 -3.5 0 0] [0 25 0]
}

// Parameters kept in bfloat16 take float32 gradients and float32 state,
// and are rounded back stochastically: a step smaller than bfloat16's unit
// still moves them, on average.
func ExampleParam_bfloat16() {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 1, 1, 1}, DType: device.BFloat16}},
		optim.LR(0.001), optim.Seed(7))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	for range 100 {
		if err := opt.SetGrad("w", []float32{1, 1, 1, 1}); err != nil {
			log.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			log.Fatal(err)
		}
	}
	w := make([]float32, 4)
	if err := opt.Read("w", w); err != nil { // widened exactly; []uint16 reads the codes
		log.Fatal(err)
	}
	// Each step subtracts about 0.001/sqrt(t), below bfloat16's 0.0039
	// half-unit at 1: nearest rounding would leave 1; the sum is 0.019.
	fmt.Println(w[0] < 0.99 && w[0] > 0.97)
	// Output: true
}

// An accumulator in 8 bits: 1 byte per element and a float32 scale per
// block of 256, with any starting value.
func ExampleUpdateRule_eightBit() {
	dev := cpu.New()
	defer dev.Close()
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, 300)}},
		optim.UpdateRule(device.Adagrad8Bit), optim.InitialAccumulatorValue(0.1))
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	scales, codes := make([]float32, 2), make([]uint8, 300)
	if err := opt.ReadState("w", 0, scales); err != nil {
		log.Fatal(err)
	}
	if err := opt.ReadState("w", 1, codes); err != nil {
		log.Fatal(err)
	}
	fmt.Println(scales, codes[0], device.Code8Bit[codes[0]]*scales[0])
	// Output: [0.1 0.1] 255 0.1
}
