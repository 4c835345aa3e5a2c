// Glove learns word vectors with GloVe (Pennington, Socher and Manning,
// 2014): weighted least squares on the log of a word co-occurrence matrix,
// trained with Adagrad as the paper does. Every step touches a few hundred
// rows of the embedding tables, so each gathers those rows from the device
// and sends back row-sparse gradients.
//
//	go run ./examples/glove                                 # the Go spec that ships with Go
//	go run ./examples/glove -corpus book.txt -out vectors.txt
//	go build -tags mpi -o glove ./examples/glove && mpirun -np 3 ./glove
//
// It prints the mean training loss per epoch and the nearest neighbours of
// a few words, and can write the vectors in the usual text format (a word
// and its numbers per line).
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
