//go:build !unix

package checkpoint

import "io/fs"

func umask() fs.FileMode { return 0 }
