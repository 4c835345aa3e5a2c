// Logreg trains logistic regression on sparse features with Adagrad, the
// setting Adagrad was made for: rare features get large steps. The weights
// are a table of one row per feature on the device; each step gathers the
// rows its batch touches, and sends back only their gradient rows.
//
//	go run ./examples/logreg                                  # generated power-law data
//	go run ./examples/logreg -data train.libsvm -test test.libsvm
//	go build -tags mpi -o logreg ./examples/logreg && mpirun -np 3 ./logreg
//
// For comparison it trains plain SGD on the host on the same batches. Each
// optimizer's learning rate is tuned on a validation split of the training
// data, from a grid of five rates; then both train on all of it, and the
// program reports, on a held-out test set, the log-loss and accuracy of
// each, with all weights and with the rare features' weights (of features
// seen fewer than -rare times) set to 0, which shows what each learned from
// them; and which one won by how much, against the test set's noise.
package main

import (
	"io"
	"os"

	_ "github.com/adagrad-go/adagrad/cpu"  // always built
	_ "github.com/adagrad-go/adagrad/cuda" // registers with -tags cuda
	"github.com/adagrad-go/adagrad/examples/internal/group"
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
)

func main() { group.Exit(command(os.Args[1:], os.Stdout, os.Stderr)) }

// command runs the program with its arguments and returns the exit
// status: 0; 2 for a flag error, as one line on stderr; 1 for any other
// failure.
//
// Under mpirun (built with -tags mpi) every rank runs it; only rank 0
// prints, and a failing rank says which it is (see parallel.go).
func command(args []string, stdout, stderr io.Writer) int {
	return group.Command(program, args, stdout, stderr, parseFlags, func(g *group.Group, c config) error {
		_, err := runIn(g, c)
		return err
	})
}
