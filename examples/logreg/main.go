// Logreg trains logistic regression on sparse features with Adagrad, the
// setting Adagrad was made for: rare features get large steps. The weights
// are a table of one row per feature on the device; each step gathers the
// rows its batch touches, and sends back only their gradient rows.
//
//	go run ./examples/logreg                                  # generated power-law data
//	go run ./examples/logreg -data train.libsvm -test test.libsvm
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
	"fmt"
	"io"
	"os"

	"github.com/adagrad-go/adagrad/cmdflag"
	_ "github.com/adagrad-go/adagrad/cpu"    // always built
	_ "github.com/adagrad-go/adagrad/cuda"   // registers with -tags cuda
	_ "github.com/adagrad-go/adagrad/opencl" // registers with -tags opencl
)

func main() { os.Exit(command(os.Args[1:], os.Stdout, os.Stderr)) }

// command runs the program with its arguments and returns the exit
// status: 0; 2 for a flag error, as one line on stderr; 1 for any other
// failure.
func command(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return cmdflag.Status(program, err, stderr)
	}
	if _, err := run(c, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	return 0
}
