// Quickstart fits a linear least-squares model with Adagrad on any device
// and prints the loss as it falls.
//
//	go run ./examples/quickstart -device auto
//
// The model's weights live on the device; each step reads them back (this
// small model needs them to compute its gradient on the host), sends the
// gradient and takes one Adagrad step.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"

	"gonum.org/v1/gonum/mat"

	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/device"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
	"github.com/adagrad-go/adagrad/optim"
)

func main() {
	spec := flag.String("device", "", "device: cpu, cuda[:N], opencl[:P:D] or auto (default $"+device.EnvVar+", else auto)")
	steps := flag.Int("steps", 300, "Adagrad steps")
	lr := flag.Float64("lr", 0.5, "learning rate")
	flag.Parse()
	if err := run(*spec, *steps, *lr); err != nil {
		log.SetFlags(0)
		log.Fatal(err)
	}
}

// problem is y = X w* + noise with n samples of d features.
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
		y.SetVec(i, y.AtVec(i)+0.1*rng.NormFloat64())
	}
	return problem{x, y}
}

// lossGrad returns the mean squared error at w and writes its gradient,
// 2/n Xᵀ(Xw − y), into grad.
func (p problem) lossGrad(w []float64, grad []float64) float64 {
	n, _ := p.x.Dims()
	var r mat.VecDense
	r.MulVec(p.x, mat.NewVecDense(len(w), w))
	r.SubVec(&r, p.y)
	g := mat.NewVecDense(len(grad), grad)
	g.MulVec(p.x.T(), &r)
	g.ScaleVec(2/float64(n), g)
	return mat.Dot(&r, &r) / float64(n)
}

func run(spec string, steps int, lr float64) error {
	dev, err := device.Open(spec)
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Printf("device: %v\n", dev)
	_, _, err = fit(dev, steps, lr, os.Stdout)
	return err
}

// fit trains the model for steps steps, printing the loss ten times to out,
// and returns the first and the last loss.
func fit(dev device.Backend, steps int, lr float64, out io.Writer) (first, last float64, err error) {
	const n, d = 512, 8
	prob := newProblem(n, d, rand.New(rand.NewPCG(1, 2)))
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float64, d)}}, optim.LR(lr))
	if err != nil {
		return 0, 0, err
	}
	defer opt.Close()

	w := make([]float64, d)
	for step := 0; step <= steps; step++ {
		if err := opt.Read("w", w); err != nil {
			return 0, 0, err
		}
		grad, err := opt.Grad64("w")
		if err != nil {
			return 0, 0, err
		}
		last = prob.lossGrad(w, grad)
		if step == 0 {
			first = last
		}
		if step%(max(steps/10, 1)) == 0 {
			fmt.Fprintf(out, "step %4d  loss %.6f\n", step, last)
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
