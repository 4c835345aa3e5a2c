package optim

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrName: a tensor name that cannot be used: empty, not UTF-8, or one of
// the names that checkpoints reserve for themselves.
var ErrName = errors.New("optim: bad tensor name")

// CheckName reports whether name can name a tensor. Checkpoints (package
// checkpoint) are safetensors files in PyTorch's state_dict layout, which
// keep the optimizer's state under "state.<i>.<key>" and the file's own
// metadata under "__metadata__", and whose header is JSON: so a name must be
// non-empty, valid UTF-8, and start with neither "state." nor "__". New
// refuses other names, so that a model that trains can also be saved.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrName, name)
	case strings.HasPrefix(name, "state."):
		return fmt.Errorf("%w: %q: names starting with \"state.\" are reserved for optimizer state", ErrName, name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%w: %q: names starting with \"__\" are reserved for file metadata", ErrName, name)
	}
	return nil
}
