package group

import (
	"fmt"
	"io"

	"github.com/adagrad-go/adagrad/cmdflag"
)

// Command runs a program on this process's rank and returns its exit
// status: 0; 2 for a flag error, as one line on stderr; 1 for any other
// failure. It opens the group, parses the flags (rank 0 prints the help and
// flag errors: every rank has the same), runs, and closes the group; a
// failing rank writes one line naming itself, on any rank, and leaves the
// group open (see Close).
func Command[C any](program string, args []string, stdout, stderr io.Writer,
	parse func(args []string, stderr io.Writer) (C, error), run func(g *Group, c C) error) int {
	g, err := Open(stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	c, err := parse(args, g.Stderr)
	if err != nil {
		g.Close(false)
		return cmdflag.Status(program, err, g.Stderr)
	}
	if err := run(g, c); err != nil {
		g.Fail(program, err)
		g.Close(true)
		return 1
	}
	if err := g.Close(false); err != nil {
		g.Fail(program, err)
		return 1
	}
	return 0
}
