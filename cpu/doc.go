// Package cpu is the pure-Go Adagrad backend. It is always built, needs no
// cgo, and runs the fused update on all cores (GOMAXPROCS) in chunks.
//
// It registers itself as "cpu" with package device when imported:
//
//	import _ "github.com/adagrad-go/adagrad/cpu"
//
// and can be used directly with cpu.New(). Its arithmetic is the reference
// for every other backend: each operation is rounded to the buffer's dtype
// and nothing is fused, so results are reproducible bit for bit.
package cpu
