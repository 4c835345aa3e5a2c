// Package kernels embeds the device kernels' sources, so that every backend
// compiles the same text at run time and the sources stay readable files:
// adagrad.cl for OpenCL and adagrad.cu for CUDA.
//
// The kernels implement the contract of device.Update exactly as the CPU
// backend does, for every rule of device.Rules: the fused multiply-adds a
// rule states (fma, rounded once) and no other, every other operation
// rounded on its own, rsqrt as 1/sqrt (two correctly rounded operations),
// and the compilers run without contraction (OpenCL FP_CONTRACT OFF, CUDA
// --fmad=false) and with correctly rounded division and square root.
package kernels

import "embed"

// OpenCL is the source of kernels/adagrad.cl: kernels update (steps of
// element work alone), update_units (steps with row or block units too),
// update_rows and gather_rows, built with -DREAL=float or -DREAL=double -DADAGRAD_FP64
// (for half-precision parameters -DPARAM_BF16 or -DPARAM_F16, for
// half-precision gradients -DGRAD_BF16 or -DGRAD_F16).
//
//go:embed adagrad.cl
var OpenCL string

// CUDA is the source of kernels/adagrad.cu, compiled by NVRTC with
// --fmad=false: extern "C" kernels update_{f32,f64,f32_bf16,f32_f16,
// bf16_f32,bf16_bf16,f16_f32,f16_f16} (parameters_gradients; range table in
// device memory) and the same with _inline (table by value) for steps of
// element work alone, update_units_* (table in device memory) for steps
// with row or block units too, update_rows_{f32,f64,bf16,f16} and
// gather_rows_{f32,f64,u16}.
//
//go:embed adagrad.cu
var CUDA string

// Files holds every kernel source, for tools and tests that compile them
// all.
//
//go:embed *.cu *.cl
var Files embed.FS
