//go:build !linux

package cpu

// physicalMemory is unknown here: only the address space limits Alloc.
func physicalMemory() int64 { return 0 }
