// Package cpu is the pure-Go Adagrad backend. It is always built, needs no
// cgo, and runs the fused update on all cores (GOMAXPROCS) in chunks.
//
// It registers itself as "cpu" with package device when imported:
//
//	import _ "github.com/adagrad-go/adagrad/cpu"
//
// and can be used directly with cpu.New(). It runs every rule of
// device.Rules on every parameter dtype (half-precision parameters widened
// to float32 a cache-sized piece at a time and rounded back
// stochastically), each range cut into pieces of whole units of its rule's
// work (rows, blocks). Its arithmetic is every other backend's: each
// operation rounded to the compute dtype on its own, a fused multiply-add
// only where a rule states one (AVX2 kernels where the CPU has them, held
// bitwise to the scalar ones), so results are reproducible bit for bit.
package cpu
