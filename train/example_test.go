package train_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
	"github.com/adagrad-go/adagrad/train"
)

// Fit w to (3, -1) by least squares, with a checkpoint every epoch; a run
// started again resumes from it (here: finds nothing left to do).
func ExampleTrainer() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.safetensors")

	target := []float32{3, -1}
	run := func() []float32 {
		dev := cpu.New()
		defer dev.Close()
		opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: make([]float32, 2)}}, optim.LR(0.5))
		if err != nil {
			log.Fatal(err)
		}
		defer opt.Close()
		tr := &train.Trainer{Opt: opt, Epochs: 4, StepsPerEpoch: 50, FetchEvery: 1,
			CheckpointPath: path, CheckpointEvery: 50}
		if err := tr.Resume(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Fatal(err) // a damaged checkpoint, or one of another model
		}
		err = tr.Run(context.Background(), func(s *train.StepContext) (float64, error) {
			w, err := s.Params32("w")
			if err != nil {
				return 0, err
			}
			g, err := s.Grad32("w")
			if err != nil {
				return 0, err
			}
			loss := 0.0
			for i := range w {
				d := w[i] - target[i]
				g[i], loss = 2*d, loss+float64(d*d)
			}
			return loss, nil
		})
		if err != nil {
			log.Fatal(err)
		}
		w := make([]float32, 2)
		if err := opt.Read("w", w); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("at %+v: w ≈ (%.2f, %.2f)\n", tr.Position(), w[0], w[1])
		return w
	}
	first, again := run(), run()
	fmt.Println("resumed bitwise:", first[0] == again[0] && first[1] == again[1])
	// Output:
	// at {Epoch:4 Step:0}: w ≈ (3.00, -1.00)
	// at {Epoch:4 Step:0}: w ≈ (3.00, -1.00)
	// resumed bitwise: true
}
