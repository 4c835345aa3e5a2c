// Package kernels embeds the device kernels' sources, so that every backend
// compiles the same text at run time and the sources stay readable files:
// adagrad.cl for OpenCL (CUDA's adagrad.cu arrives with the CUDA backend).
//
// The kernels implement the contract of device.Update exactly as the CPU
// backend does: the accumulator and weight-decay terms are fused
// multiply-adds (fma, rounded once), every other operation is rounded on
// its own, and the compilers run without contraction (OpenCL FP_CONTRACT
// OFF, CUDA --fmad=false) and with correctly rounded division and square
// root.
package kernels

import _ "embed"

// OpenCL is the source of kernels/adagrad.cl: kernel "adagrad", built with
// -DREAL=float or -DREAL=double -DADAGRAD_FP64.
//
//go:embed adagrad.cl
var OpenCL string
