package cmdflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Parse parses args with fs. On -h it writes about (what the program does
// and how to call it) and the flags' defaults to help, and returns
// flag.ErrHelp. Errors are returned, not printed; positional arguments are
// an error.
func Parse(fs *flag.FlagSet, args []string, about string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(help, about)
			fs.SetOutput(help)
			fs.PrintDefaults()
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (this program takes flags only)", fs.Arg(0))
	}
	return nil
}

// Status returns the exit status for a flag error: 0 for none or -h
// (flag.ErrHelp); else it writes err to stderr as one line naming the
// program, with a pointer to -h, and returns 2, the status of a usage error.
func Status(program string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v (%s -h for help)\n", program, err, program)
	return 2
}

// Given returns the names of the flags set on the command line.
func Given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
