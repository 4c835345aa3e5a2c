// Glove learns word vectors with GloVe (Pennington, Socher and Manning,
// 2014): weighted least squares on the log of a word co-occurrence matrix,
// trained with Adagrad as the paper does. Every step touches a few hundred
// rows of the embedding tables, so each gathers those rows from the device
// and sends back row-sparse gradients.
//
//	go run ./examples/glove                                 # the Go spec that ships with Go
//	go run ./examples/glove -corpus book.txt -out vectors.txt
//
// It prints the mean training loss per epoch and the nearest neighbours of
// a few words, and can write the vectors in the usual text format (a word
// and its numbers per line).
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
