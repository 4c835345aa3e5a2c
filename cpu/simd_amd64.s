//go:build !purego

#include "textflag.h"

// func adagrad32AVX2(p, grad, s *float32, n int, c *[4]float32)
// n is a multiple of 8; c holds lr, eps, weight decay, sign. Each lane does
// exactly the scalar reference's operations, each correctly rounded: a
// multiply by ±1, fma(wd, p, g) when wd != 0, fma(g, g, s), sqrt, add eps,
// lr*g, divide, subtract. Go never sets flush-to-zero, so results are
// bitwise the scalar loop's.
TEXT ·adagrad32AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	VBROADCASTSS 0(AX), Y8   // lr
	VBROADCASTSS 4(AX), Y9   // eps
	VBROADCASTSS 8(AX), Y10  // weight decay
	VBROADCASTSS 12(AX), Y11 // sign
	XORQ BX, BX
	VXORPS X12, X12, X12
	VUCOMISS 8(AX), X12
	JNE decay32

plain32:
	CMPQ BX, CX
	JAE done32
	VMULPS (SI)(BX*4), Y11, Y0 // g = sign*g
	VMOVUPS (DX)(BX*4), Y2
	VFMADD231PS Y0, Y0, Y2     // s = fma(g, g, s)
	VMOVUPS Y2, (DX)(BX*4)
	VSQRTPS Y2, Y3
	VADDPS Y9, Y3, Y3          // std = sqrt(s) + eps
	VMULPS Y8, Y0, Y4          // lr*g
	VDIVPS Y3, Y4, Y4          // (lr*g)/std
	VMOVUPS (DI)(BX*4), Y1
	VSUBPS Y4, Y1, Y1          // p - (lr*g)/std
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	JMP plain32

decay32:
	CMPQ BX, CX
	JAE done32
	VMULPS (SI)(BX*4), Y11, Y0 // g = sign*g
	VMOVUPS (DI)(BX*4), Y1
	VFMADD231PS Y1, Y10, Y0    // g = fma(wd, p, g)
	VMOVUPS (DX)(BX*4), Y2
	VFMADD231PS Y0, Y0, Y2     // s = fma(g, g, s)
	VMOVUPS Y2, (DX)(BX*4)
	VSQRTPS Y2, Y3
	VADDPS Y9, Y3, Y3
	VMULPS Y8, Y0, Y4
	VDIVPS Y3, Y4, Y4
	VSUBPS Y4, Y1, Y1
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	JMP decay32

done32:
	VZEROUPPER
	RET

// func adagrad64AVX2(p, grad, s *float64, n int, c *[4]float64)
// n is a multiple of 4.
TEXT ·adagrad64AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	XORQ BX, BX
	VXORPD X12, X12, X12
	VUCOMISD 16(AX), X12
	JNE decay64

plain64:
	CMPQ BX, CX
	JAE done64
	VMULPD (SI)(BX*8), Y11, Y0
	VMOVUPD (DX)(BX*8), Y2
	VFMADD231PD Y0, Y0, Y2
	VMOVUPD Y2, (DX)(BX*8)
	VSQRTPD Y2, Y3
	VADDPD Y9, Y3, Y3
	VMULPD Y8, Y0, Y4
	VDIVPD Y3, Y4, Y4
	VMOVUPD (DI)(BX*8), Y1
	VSUBPD Y4, Y1, Y1
	VMOVUPD Y1, (DI)(BX*8)
	ADDQ $4, BX
	JMP plain64

decay64:
	CMPQ BX, CX
	JAE done64
	VMULPD (SI)(BX*8), Y11, Y0
	VMOVUPD (DI)(BX*8), Y1
	VFMADD231PD Y1, Y10, Y0
	VMOVUPD (DX)(BX*8), Y2
	VFMADD231PD Y0, Y0, Y2
	VMOVUPD Y2, (DX)(BX*8)
	VSQRTPD Y2, Y3
	VADDPD Y9, Y3, Y3
	VMULPD Y8, Y0, Y4
	VDIVPD Y3, Y4, Y4
	VSUBPD Y4, Y1, Y1
	VMOVUPD Y1, (DI)(BX*8)
	ADDQ $4, BX
	JMP decay64

done64:
	VZEROUPPER
	RET

// rowMask: 8 all-ones dwords, then 8 zero ones; the 8 dwords from
// rowMask+4*(8-t) select the first t lanes.
DATA rowMask<>+0(SB)/8, $0xffffffffffffffff
DATA rowMask<>+8(SB)/8, $0xffffffffffffffff
DATA rowMask<>+16(SB)/8, $0xffffffffffffffff
DATA rowMask<>+24(SB)/8, $0xffffffffffffffff
DATA rowMask<>+32(SB)/8, $0
DATA rowMask<>+40(SB)/8, $0
DATA rowMask<>+48(SB)/8, $0
DATA rowMask<>+56(SB)/8, $0
GLOBL rowMask<>(SB), RODATA|NOPTR, $64

// func rowSquares32AVX2(p, grad *float32, n int, sign, wd float32, a *[8]float32)
// a[l] = the sum, left to right with one fused multiply-add each, of
// h[j]² over the elements of the row j ≡ l (mod 8), where h = sign·g, and
// h = fma(wd, p, sign·g) when wd != 0: device.AdagradRowwise: lanes.
// The tail missing lanes load as zeros, whose square adds nothing (a
// lane sum is never -0). n >= 1.
TEXT ·rowSquares32AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS sign+24(FP), Y11
	VBROADCASTSS wd+28(FP), Y10
	MOVQ a+32(FP), AX
	VXORPS Y0, Y0, Y0
	MOVQ CX, DX
	ANDQ $-8, DX
	XORQ BX, BX
	MOVQ CX, R8
	SUBQ DX, R8 // the tail length
	SHLQ $2, R8
	LEAQ rowMask<>+32(SB), R9
	SUBQ R8, R9
	VMOVUPS (R9), Y9 // the tail mask
	VXORPS X12, X12, X12
	VUCOMISS wd+28(FP), X12
	JNE decaySq

plainSq:
	CMPQ BX, DX
	JAE plainSqTail
	VMOVUPS (SI)(BX*4), Y1
	VFMADD231PS Y1, Y1, Y0 // a = fma(g, g, a): (±g)² = g²
	ADDQ $8, BX
	JMP plainSq

plainSqTail:
	CMPQ BX, CX
	JAE doneSq
	LEAQ (SI)(BX*4), R10
	VMASKMOVPS (R10), Y9, Y1
	VFMADD231PS Y1, Y1, Y0
	JMP doneSq

decaySq:
	CMPQ BX, DX
	JAE decaySqTail
	VMULPS (SI)(BX*4), Y11, Y1 // h = sign·g
	VMOVUPS (DI)(BX*4), Y2
	VFMADD231PS Y2, Y10, Y1    // h = fma(wd, p, h)
	VFMADD231PS Y1, Y1, Y0     // a = fma(h, h, a)
	ADDQ $8, BX
	JMP decaySq

decaySqTail:
	CMPQ BX, CX
	JAE doneSq
	LEAQ (SI)(BX*4), R10
	LEAQ (DI)(BX*4), R11
	VMASKMOVPS (R10), Y9, Y1
	VMASKMOVPS (R11), Y9, Y2
	VMULPS Y1, Y11, Y1
	VFMADD231PS Y2, Y10, Y1
	VFMADD231PS Y1, Y1, Y0

doneSq:
	VMOVUPS Y0, (AX)
	VZEROUPPER
	RET

// func rowStep32AVX2(p, grad *float32, n int, mult, corr float32)
// p = corr·p - mult·g rounded once after the rounded product mult·g (one
// fused multiply-subtract): device.AdagradRowwise: step, mult carrying
// the sign. n >= 1.
TEXT ·rowStep32AVX2(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS mult+24(FP), Y8
	VBROADCASTSS corr+28(FP), Y10
	MOVQ CX, DX
	ANDQ $-8, DX
	XORQ BX, BX

stepLoop:
	CMPQ BX, DX
	JAE stepTail
	VMULPS (SI)(BX*4), Y8, Y1 // a = mult·g
	VMOVUPS (DI)(BX*4), Y2
	VFMSUB231PS Y2, Y10, Y1   // a = corr·p - a
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	JMP stepLoop

stepTail:
	CMPQ BX, CX
	JAE stepDone
	MOVQ CX, R8
	SUBQ DX, R8
	SHLQ $2, R8
	LEAQ rowMask<>+32(SB), R9
	SUBQ R8, R9
	VMOVUPS (R9), Y9
	LEAQ (SI)(BX*4), R10
	LEAQ (DI)(BX*4), R11
	VMASKMOVPS (R10), Y9, Y1
	VMASKMOVPS (R11), Y9, Y2
	VMULPS Y1, Y8, Y1
	VFMSUB231PS Y2, Y10, Y1
	VMASKMOVPS Y1, Y9, (R11)

stepDone:
	VZEROUPPER
	RET
