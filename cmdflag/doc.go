// Package cmdflag checks the flags of command-line programs that train
// with this module, before they do any work: a typo or a bad path is found
// in a millisecond, not after an hour of training.
//
// Parse parses a flag.FlagSet with errors as one line (no usage dump) and
// refuses extra arguments; its -h starts with a line saying what the
// program does. The checks name the flag they refuse: device specs of
// backends not built in, input files that are missing, output files that
// cannot be created or have another extension than expected, numbers out
// of range.
//
//	fs := flag.NewFlagSet("logreg", flag.ContinueOnError)
//	epochs := fs.Int("epochs", 3, "passes over the data")
//	png := fs.String("png", "", "write a plot to this .png file")
//	err := cmdflag.Parse(fs, os.Args[1:], about, os.Stderr)
//	if err == nil {
//		err = cmdflag.First(cmdflag.Int("epochs", *epochs, 1, 1000), cmdflag.Output("png", *png, ".png"))
//	}
//	os.Exit(cmdflag.Status("logreg", err, os.Stderr)) // 0, or 2 with one line on stderr
package cmdflag
