// Package kernels will embed the device kernels' sources (adagrad.cu for
// CUDA, adagrad.cl for OpenCL) with go:embed, so that every backend compiles
// the same text at run time.
//
// The GPU kernels implement the contract of device.Update exactly as the CPU
// backend does: the accumulator and weight-decay terms are fused
// multiply-adds (fmaf/fma, rounded once), every other operation is rounded
// on its own, and the compilers run without contraction (CUDA --fmad=false,
// OpenCL FP_CONTRACT OFF) and with correctly rounded division and square
// root.
package kernels
