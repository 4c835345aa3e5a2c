//go:build unix

package checkpoint

import (
	"io/fs"
	"syscall"
)

// umask returns the process's umask.
func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}
