package progress

import "fmt"

// Mode says how progress is shown. It is a flag.Value, so that an unknown
// mode is refused while the flags are parsed.
type Mode string

// The modes.
const (
	Auto Mode = "auto" // Bar on a terminal, else Log
	Bar  Mode = "bar"  // a progress bar with the loss, speed and time left
	Log  Mode = "log"  // a log/slog text line every so many steps
	None Mode = "none" // nothing
)

// Usage is a help text for a -progress flag.
const Usage = "progress: auto (a bar on a terminal, else log lines), bar, log or none"

// String returns the mode's name.
func (m Mode) String() string { return string(m) }

// Set sets the mode from its name (flag.Value).
func (m *Mode) Set(s string) error {
	switch Mode(s) {
	case Auto, Bar, Log, None:
		*m = Mode(s)
		return nil
	}
	return fmt.Errorf("unknown progress mode %q (want auto, bar, log or none)", s)
}
