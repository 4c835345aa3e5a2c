// Quickstart fits a linear least-squares model with Adagrad on any device
// and prints the loss as it falls: the smallest program that uses the
// library.
//
//	go run ./examples/quickstart -device auto
//
// The model's weights live on the device, in float32 (which every device
// has; many OpenCL devices have no float64). Each step reads them back
// (this small model needs them to compute its gradient on the host), fills
// the gradient and takes one Adagrad step.
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"gonum.org/v1/gonum/mat"

	"github.com/adagrad-go/adagrad/cmdflag"
	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/device"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
	"github.com/adagrad-go/adagrad/optim"
)

// program is the name the help and the errors use: a go run binary's own
// name is a path in the build cache.
const program = "quickstart"

const about = `quickstart: a least-squares fit with Adagrad on a device, the smallest program.

It fits w in y = Xw + noise (512 samples of 8 features) with Adagrad in
float32 and prints the mean squared error as it falls.

Usage:
  quickstart [flags]
(in a checkout of the module: go run ./examples/quickstart [flags])

Flags:
`

// The problem's size and its noise: the error that no fit can go below.
const (
	samples  = 512
	features = 8
	noise    = 0.1
)

func main() { os.Exit(command(os.Args[1:], os.Stdout, os.Stderr)) }

// command runs the program with its arguments and returns the exit
// status: 0; 2 for a flag error, as one line on stderr; 1 for any other
// failure.
func command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	spec := fs.String("device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	steps := fs.Int("steps", 300, "Adagrad steps")
	lr := fs.Float64("lr", 0.5, "learning rate")
	err := cmdflag.Parse(fs, args, about, stderr)
	if err == nil {
		err = cmdflag.First(
			cmdflag.Device("device", *spec),
			cmdflag.Int("steps", *steps, 1, 10_000_000),
			cmdflag.Float("lr", *lr, 1e-12, 1e6),
		)
	}
	if err != nil {
		return cmdflag.Status(program, err, stderr)
	}
	if err := run(*spec, *steps, *lr, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	return 0
}

func run(spec string, steps int, lr float64, out io.Writer) error {
	dev, err := device.Open(spec)
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Fprintf(out, "Least squares: fit w in y = Xw + noise (%d samples of %d features, noise σ %g)\n", samples, features, noise)
	fmt.Fprintf(out, "with Adagrad (lr %g) in float32 on %v. Mean squared error (lower is better):\n", lr, dev)
	first, last, err := fit(dev, steps, lr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "It fell from %.4g to %.4g in %d steps; the noise alone gives %.4g.\n", first, last, steps, noise*noise)
	return nil
}

// problem is y = X w* + noise.
type problem struct {
	x *mat.Dense
	y *mat.VecDense
}

func newProblem(n, d int, rng *rand.Rand) problem {
	x := mat.NewDense(n, d, nil)
	wTrue := mat.NewVecDense(d, nil)
	for j := range d {
		wTrue.SetVec(j, rng.NormFloat64()*3)
	}
	for i := range n {
		for j := range d {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	y := mat.NewVecDense(n, nil)
	y.MulVec(x, wTrue)
	for i := range n {
		y.SetVec(i, y.AtVec(i)+noise*rng.NormFloat64())
	}
	return problem{x, y}
}

// lossGrad returns the mean squared error at w and writes its gradient,
// 2/n Xᵀ(Xw − y), into grad; the arithmetic is in float64.
func (p problem) lossGrad(w []float32, grad []float32) float64 {
	n, d := p.x.Dims()
	w64 := mat.NewVecDense(d, nil)
	for j, v := range w {
		w64.SetVec(j, float64(v))
	}
	var r, g mat.VecDense
	r.MulVec(p.x, w64)
	r.SubVec(&r, p.y)
	g.MulVec(p.x.T(), &r)
	for j := range grad {
		grad[j] = float32(2 / float64(n) * g.AtVec(j))
	}
	return mat.Dot(&r, &r) / float64(n)
}

// fit trains the model for steps steps, printing the loss ten times to out,
// and returns the first and the last loss.
func fit(dev device.Backend, steps int, lr float64, out io.Writer) (first, last float64, err error) {
	prob := newProblem(samples, features, rand.New(rand.NewPCG(1, 2)))
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, features)}}, optim.LR(lr))
	if err != nil {
		return 0, 0, err
	}
	defer opt.Close()

	w := make([]float32, features)
	for step := 0; step <= steps; step++ {
		if err := opt.Read("w", w); err != nil {
			return 0, 0, err
		}
		grad, err := opt.Grad32("w")
		if err != nil {
			return 0, 0, err
		}
		last = prob.lossGrad(w, grad)
		if step == 0 {
			first = last
		}
		if step%(max(steps/10, 1)) == 0 {
			fmt.Fprintf(out, "  step %5d  %.6f\n", step, last)
		}
		if step == steps {
			break
		}
		if err := opt.Step(); err != nil {
			return 0, 0, err
		}
	}
	return first, last, nil
}
