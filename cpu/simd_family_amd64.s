//go:build !purego

#include "textflag.h"

// The AVX2 kernels of the family's per-element rules (see
// simd_family_amd64.go and device/rule_family.go). Each lane does exactly
// the scalar kernel's operations (kernel_family.go), each correctly
// rounded: VSQRT and VDIV are IEEE, a fused multiply-add appears only in
// GloVe's accumulator, as the rule states, and Go never sets flush-to-zero.
// rsqrt is 1/sqrt: VSQRT, then VDIV of 1. TensorFlow's sign and max(x, 0)
// are built from ordered compares, so that a NaN compares false (sign 0,
// max keeps the NaN) and a zero's sign is +0, as in the scalar code.
//
// Every kernel has the signature
//
//	func name(p, grad, s0, s1 *T, bytes int, k *[8]T)
//
// and runs over bytes (a multiple of 32: 8 float32 or 4 float64 lanes)
// of p, g and the states; k holds the constants of the rule, as
// simd_family_amd64.go packs them. The bodies below are written once with
// the VMUL, VADD ... names, defined as the PS instructions for the float32
// kernels and the PD ones for the float64 kernels.
//
// Registers: DI p, SI g, DX s0, R8 s1, CX bytes, BX the offset, AX k;
// Y8-Y15 constants, Y0-Y7 temporaries.

// Predicates of VCMP: greater than and less than, ordered (false for NaN).
#define GT $0x1e
#define LT $0x11

#define ARGS \
	MOVQ p+0(FP), DI \
	MOVQ grad+8(FP), SI \
	MOVQ s0+16(FP), DX \
	MOVQ s1+24(FP), R8 \
	MOVQ bytes+32(FP), CX \
	MOVQ k+40(FP), AX \
	XORQ BX, BX

// LOOP runs BODY over every 32 bytes, then returns.
#define LOOP(BODY) \
next: \
	CMPQ BX, CX \
	JAE done \
	BODY \
	ADDQ $32, BX \
	JMP next \
done: \
	VZEROUPPER \
	RET

// SQUARE_INTO: s (in Y1, from s0) = s + round(g·g), stored; g in Y0.
#define SQUARE_INTO \
	VLOAD (DX)(BX*1), Y1 \
	VMUL Y0, Y0, Y2 \
	VADD Y2, Y1, Y1 \
	VSTORE Y1, (DX)(BX*1)

// SUB_FROM_P: p = p - Y4.
#define SUB_FROM_P \
	VLOAD (DI)(BX*1), Y5 \
	VSUB Y4, Y5, Y5 \
	VSTORE Y5, (DI)(BX*1)

// SGN: Y(out) = TensorFlow's sign of Y(in), with Y(zero) zero, Y(one) 1
// and Y(minus) -1; Y(tmp) is clobbered.
#define SGN(in, out, tmp, zero, one, minus) \
	VCMP GT, zero, in, out \
	VAND one, out, out \
	VCMP LT, zero, in, tmp \
	VAND minus, tmp, tmp \
	VOR tmp, out, out

// MAX0: Y(x) = x < 0 ? 0 : x; Y(tmp) is clobbered.
#define MAX0(x, tmp, zero) \
	VCMP LT, zero, x, tmp \
	VANDN x, tmp, x

// AdagradTF: k = lr, eps, sign.
#define TF_BODY \
	VMUL (SI)(BX*1), Y10, Y0 \
	SQUARE_INTO \
	VSQRT Y1, Y3 \
	VADD Y9, Y3, Y3 \
	VMUL Y8, Y0, Y4 \
	VDIV Y3, Y4, Y4 \
	SUB_FROM_P

// Adagrad's row-sparse form (PyTorch's sparse path): k = lr, eps, sign.
// The square rounded, then added; the division before the scaling.
#define SPARSE_BODY \
	VMUL (SI)(BX*1), Y10, Y0 \
	SQUARE_INTO \
	VSQRT Y1, Y3 \
	VADD Y9, Y3, Y3 \
	VDIV Y3, Y0, Y4 \
	VMUL Y8, Y4, Y4 \
	SUB_FROM_P

// AdagradEpsInside: k = lr, eps, sign.
#define KERAS_BODY \
	VMUL (SI)(BX*1), Y10, Y0 \
	SQUARE_INTO \
	VADD Y9, Y1, Y3 \
	VSQRT Y3, Y3 \
	VMUL Y8, Y0, Y4 \
	VDIV Y3, Y4, Y4 \
	SUB_FROM_P

// AdagradNoEps: k = lr, sign, 1.
#define NOEPS_BODY \
	VMUL (SI)(BX*1), Y9, Y0 \
	SQUARE_INTO \
	VSQRT Y1, Y3 \
	VDIV Y3, Y10, Y3 \
	VMUL Y8, Y0, Y4 \
	VMUL Y3, Y4, Y4 \
	SUB_FROM_P

// AdagradOptax: k = lr, eps, sign, 1; Y12 zero.
#define OPTAX_BODY \
	VMUL (SI)(BX*1), Y10, Y0 \
	SQUARE_INTO \
	VADD Y9, Y1, Y3 \
	VSQRT Y3, Y3 \
	VDIV Y3, Y11, Y3 \
	VCMP GT, Y12, Y1, Y4 \
	VAND Y4, Y3, Y3 \
	VMUL Y0, Y3, Y3 \
	VMUL Y8, Y3, Y4 \
	SUB_FROM_P

// AdagradGloVe: k = lr, sign.
#define GLOVE_BODY \
	VMUL (SI)(BX*1), Y9, Y0 \
	VMUL Y8, Y0, Y0 \
	VLOAD (DX)(BX*1), Y1 \
	VSQRT Y1, Y3 \
	VDIV Y3, Y0, Y4 \
	SUB_FROM_P \
	VFMA231 Y0, Y0, Y1 \
	VSTORE Y1, (DX)(BX*1)

// ProximalAdagrad: k = lr, l1, l2, sign, 1, -1, -0; Y15 zero. PROX_V
// leaves v in Y5, η in Y3 and the denominator in Y6; PROX_L1 shrinks v.
#define PROX_V \
	VMUL (SI)(BX*1), Y11, Y0 \
	SQUARE_INTO \
	VSQRT Y1, Y3 \
	VDIV Y3, Y12, Y3 \
	VMUL Y3, Y8, Y3 \
	VMUL Y3, Y0, Y4 \
	VLOAD (DI)(BX*1), Y5 \
	VSUB Y4, Y5, Y5 \
	VMUL Y3, Y10, Y6 \
	VADD Y6, Y12, Y6

#define PROX_L1 \
	VMUL Y9, Y3, Y7 \
	VANDN Y5, Y14, Y2 \
	VSUB Y7, Y2, Y2 \
	MAX0(Y2, Y7, Y15) \
	SGN(Y5, Y7, Y4, Y15, Y12, Y13) \
	VMUL Y2, Y7, Y5

#define PROX_STORE \
	VDIV Y6, Y5, Y5 \
	VSTORE Y5, (DI)(BX*1)

#define PROX_BODY PROX_V PROX_STORE
#define PROX_L1_BODY PROX_V PROX_L1 PROX_STORE

// AdagradDA, dense: k = -lr, lr, l1·τ, l2·(τ·lr), sign, 1, -1, -0. DA_ACC
// leaves ĝ in Y1, the denominator in Y2 and zero in Y6.
#define DA_ACC \
	VMUL (SI)(BX*1), Y12, Y0 \
	VLOAD (DX)(BX*1), Y1 \
	VADD Y0, Y1, Y1 \
	VSTORE Y1, (DX)(BX*1) \
	VLOAD (R8)(BX*1), Y2 \
	VMUL Y0, Y0, Y3 \
	VADD Y3, Y2, Y2 \
	VSTORE Y2, (R8)(BX*1) \
	VSQRT Y2, Y2 \
	VADD Y11, Y2, Y2 \
	VXOR Y6, Y6, Y6

#define DA_L1_BODY \
	DA_ACC \
	VANDN Y1, Y15, Y3 \
	VSUB Y10, Y3, Y3 \
	MAX0(Y3, Y4, Y6) \
	SGN(Y1, Y4, Y5, Y6, Y13, Y14) \
	VMUL Y8, Y4, Y4 \
	VMUL Y3, Y4, Y4 \
	VDIV Y2, Y4, Y4 \
	VSTORE Y4, (DI)(BX*1)

#define DA_BODY \
	DA_ACC \
	VMUL Y9, Y1, Y4 \
	VXOR Y15, Y4, Y4 \
	VDIV Y2, Y4, Y4 \
	VSTORE Y4, (DI)(BX*1)

// AdagradJAX: k = lr, momentum, 1 - momentum, sign, 1.
#define JAX_BODY \
	VMUL (SI)(BX*1), Y11, Y0 \
	SQUARE_INTO \
	VSQRT Y1, Y3 \
	VDIV Y3, Y12, Y3 \
	VXOR Y6, Y6, Y6 \
	VCMP GT, Y6, Y1, Y4 \
	VAND Y4, Y3, Y3 \
	VMUL Y3, Y0, Y3 \
	VMUL Y10, Y3, Y3 \
	VLOAD (R8)(BX*1), Y5 \
	VMUL Y9, Y5, Y5 \
	VADD Y5, Y3, Y3 \
	VSTORE Y3, (R8)(BX*1) \
	VMUL Y8, Y3, Y4 \
	SUB_FROM_P

// K8F32 and K8F64 broadcast k[0..7] into Y8-Y15.
#define K8F32 \
	VBROADCASTSS 0(AX), Y8 \
	VBROADCASTSS 4(AX), Y9 \
	VBROADCASTSS 8(AX), Y10 \
	VBROADCASTSS 12(AX), Y11 \
	VBROADCASTSS 16(AX), Y12 \
	VBROADCASTSS 20(AX), Y13 \
	VBROADCASTSS 24(AX), Y14 \
	VBROADCASTSS 28(AX), Y15

#define K8F64 \
	VBROADCASTSD 0(AX), Y8 \
	VBROADCASTSD 8(AX), Y9 \
	VBROADCASTSD 16(AX), Y10 \
	VBROADCASTSD 24(AX), Y11 \
	VBROADCASTSD 32(AX), Y12 \
	VBROADCASTSD 40(AX), Y13 \
	VBROADCASTSD 48(AX), Y14 \
	VBROADCASTSD 56(AX), Y15

// The float32 kernels.
#define VLOAD VMOVUPS
#define VSTORE VMOVUPS
#define VMUL VMULPS
#define VADD VADDPS
#define VSUB VSUBPS
#define VDIV VDIVPS
#define VSQRT VSQRTPS
#define VCMP VCMPPS
#define VAND VANDPS
#define VANDN VANDNPS
#define VOR VORPS
#define VXOR VXORPS
#define VFMA231 VFMADD231PS

// func tfF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·tfF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(TF_BODY)

// func sparseF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·sparseF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(SPARSE_BODY)

// func kerasF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·kerasF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(KERAS_BODY)

// func noEpsF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·noEpsF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(NOEPS_BODY)

// func optaxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·optaxF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	VXORPS Y12, Y12, Y12
	LOOP(OPTAX_BODY)

// func gloveF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·gloveF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(GLOVE_BODY)

// func proxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·proxF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	VXORPS Y15, Y15, Y15
	LOOP(PROX_BODY)

// func proxL1F32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·proxL1F32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	VXORPS Y15, Y15, Y15
	LOOP(PROX_L1_BODY)

// func daF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·daF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(DA_BODY)

// func daL1F32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·daL1F32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(DA_L1_BODY)

// func jaxF32(p, grad, s0, s1 *float32, bytes int, k *[8]float32)
TEXT ·jaxF32(SB), NOSPLIT, $0-48
	ARGS
	K8F32
	LOOP(JAX_BODY)

// The float64 kernels: the same bodies with the PD instructions.
#undef VLOAD
#undef VSTORE
#undef VMUL
#undef VADD
#undef VSUB
#undef VDIV
#undef VSQRT
#undef VCMP
#undef VAND
#undef VANDN
#undef VOR
#undef VXOR
#undef VFMA231
#define VLOAD VMOVUPD
#define VSTORE VMOVUPD
#define VMUL VMULPD
#define VADD VADDPD
#define VSUB VSUBPD
#define VDIV VDIVPD
#define VSQRT VSQRTPD
#define VCMP VCMPPD
#define VAND VANDPD
#define VANDN VANDNPD
#define VOR VORPD
#define VXOR VXORPD
#define VFMA231 VFMADD231PD

// func tfF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·tfF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(TF_BODY)

// func sparseF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·sparseF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(SPARSE_BODY)

// func kerasF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·kerasF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(KERAS_BODY)

// func noEpsF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·noEpsF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(NOEPS_BODY)

// func optaxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·optaxF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	VXORPD Y12, Y12, Y12
	LOOP(OPTAX_BODY)

// func gloveF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·gloveF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(GLOVE_BODY)

// func proxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·proxF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	VXORPD Y15, Y15, Y15
	LOOP(PROX_BODY)

// func proxL1F64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·proxL1F64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	VXORPD Y15, Y15, Y15
	LOOP(PROX_L1_BODY)

// func daF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·daF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(DA_BODY)

// func daL1F64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·daL1F64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(DA_L1_BODY)

// func jaxF64(p, grad, s0, s1 *float64, bytes int, k *[8]float64)
TEXT ·jaxF64(SB), NOSPLIT, $0-48
	ARGS
	K8F64
	LOOP(JAX_BODY)
