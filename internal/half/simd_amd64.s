//go:build !purego

#include "textflag.h"

// Each function converts n elements, n a positive multiple of 16, exactly
// as the scalar functions of half.go do each one (the tests compare them on
// every float32 and every half).

DATA bf16one<>+0(SB)/4, $0x00000001
GLOBL bf16one<>(SB), RODATA|NOPTR, $4
DATA bf16round<>+0(SB)/4, $0x00007fff
GLOBL bf16round<>(SB), RODATA|NOPTR, $4
DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4
DATA inf32<>+0(SB)/4, $0x7f800000
GLOBL inf32<>(SB), RODATA|NOPTR, $4
DATA quiet<>+0(SB)/4, $0x00000040
GLOBL quiet<>(SB), RODATA|NOPTR, $4
DATA h7c00<>+0(SB)/4, $0x00007c00
GLOBL h7c00<>(SB), RODATA|NOPTR, $4
DATA h03ff<>+0(SB)/4, $0x000003ff
GLOBL h03ff<>(SB), RODATA|NOPTR, $4
DATA h8000<>+0(SB)/4, $0x00008000
GLOBL h8000<>(SB), RODATA|NOPTR, $4

// func narrowBF16AVX2(dst *uint16, src *float32, n int)
// FromFloat32BF16 on 8 lanes: b + 0x7fff + (b>>16 & 1), the high half; a
// NaN (|b| > 0x7f800000) gives its high half with the quiet bit 0x40 set.
TEXT ·narrowBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VPBROADCASTD bf16one<>(SB), Y10
	VPBROADCASTD bf16round<>(SB), Y11
	VPBROADCASTD absmask<>(SB), Y12
	VPBROADCASTD inf32<>(SB), Y13
	VPBROADCASTD quiet<>(SB), Y14
	XORQ BX, BX

loopbf16:
	VMOVDQU (SI)(BX*4), Y0
	VMOVDQU 32(SI)(BX*4), Y5

	VPSRLD $16, Y0, Y1         // b>>16
	VPAND Y10, Y1, Y2          // (b>>16)&1
	VPADDD Y11, Y2, Y2
	VPADDD Y0, Y2, Y2          // b + 0x7fff + lsb
	VPSRLD $16, Y2, Y2         // rounded
	VPAND Y12, Y0, Y3          // |b|
	VPCMPGTD Y13, Y3, Y3       // NaN: |b| > 0x7f800000
	VPOR Y14, Y1, Y1           // b>>16 | 0x40
	VPBLENDVB Y3, Y1, Y2, Y2

	VPSRLD $16, Y5, Y6
	VPAND Y10, Y6, Y7
	VPADDD Y11, Y7, Y7
	VPADDD Y5, Y7, Y7
	VPSRLD $16, Y7, Y7
	VPAND Y12, Y5, Y8
	VPCMPGTD Y13, Y8, Y8
	VPOR Y14, Y6, Y6
	VPBLENDVB Y8, Y6, Y7, Y7

	VPACKUSDW Y7, Y2, Y2       // 16 halves, 128-bit lanes interleaved
	VPERMQ $0xd8, Y2, Y2       // in order
	VMOVDQU Y2, (DI)(BX*2)
	ADDQ $16, BX
	CMPQ BX, CX
	JB loopbf16
	VZEROUPPER
	RET

// func narrowF16F16C(dst *uint16, src *float32, n int)
// VCVTPS2PH with rounding to nearest even (imm 0): overflow to ±Inf,
// subnormal halves, and a NaN's sign and top payload bits with the quiet
// bit set, as FromFloat32F16. Go never sets flush-to-zero or
// denormals-are-zero.
TEXT ·narrowF16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ BX, BX

loopf16:
	VMOVUPS (SI)(BX*4), Y0
	VMOVUPS 32(SI)(BX*4), Y1
	VCVTPS2PH $0, Y0, X2
	VCVTPS2PH $0, Y1, X3
	VMOVDQU X2, (DI)(BX*2)
	VMOVDQU X3, 16(DI)(BX*2)
	ADDQ $16, BX
	CMPQ BX, CX
	JB loopf16
	VZEROUPPER
	RET

// func widenBF16AVX2(dst *float32, src *uint16, n int)
TEXT ·widenBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ BX, BX

loopwbf16:
	VPMOVZXWD (SI)(BX*2), Y0
	VPMOVZXWD 16(SI)(BX*2), Y1
	VPSLLD $16, Y0, Y0
	VPSLLD $16, Y1, Y1
	VMOVDQU Y0, (DI)(BX*4)
	VMOVDQU Y1, 32(DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JB loopwbf16
	VZEROUPPER
	RET

// func widenF16F16C(dst *float32, src *uint16, n int)
// VCVTPH2PS, except for NaNs: it sets a signalling NaN's quiet bit, where
// F16ToFloat32 keeps the payload as it is, so lanes with an all-ones
// exponent take sign<<16 | 0x7f800000 | mantissa<<13 instead.
TEXT ·widenF16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VPBROADCASTD h7c00<>(SB), Y10
	VPBROADCASTD h03ff<>(SB), Y11
	VPBROADCASTD h8000<>(SB), Y12
	VPBROADCASTD inf32<>(SB), Y13
	XORQ BX, BX

loopwf16:
	VPMOVZXWD (SI)(BX*2), Y0
	VCVTPH2PS (SI)(BX*2), Y1
	VPAND Y10, Y0, Y2
	VPCMPEQD Y10, Y2, Y2       // exponent all ones: Inf or NaN
	VPAND Y11, Y0, Y3
	VPSLLD $13, Y3, Y3         // mantissa<<13
	VPAND Y12, Y0, Y4
	VPSLLD $16, Y4, Y4         // sign<<16
	VPOR Y4, Y3, Y3
	VPOR Y13, Y3, Y3
	VPBLENDVB Y2, Y3, Y1, Y1
	VMOVUPS Y1, (DI)(BX*4)

	VPMOVZXWD 16(SI)(BX*2), Y0
	VCVTPH2PS 16(SI)(BX*2), Y1
	VPAND Y10, Y0, Y2
	VPCMPEQD Y10, Y2, Y2
	VPAND Y11, Y0, Y3
	VPSLLD $13, Y3, Y3
	VPAND Y12, Y0, Y4
	VPSLLD $16, Y4, Y4
	VPOR Y4, Y3, Y3
	VPOR Y13, Y3, Y3
	VPBLENDVB Y2, Y3, Y1, Y1
	VMOVUPS Y1, 32(DI)(BX*4)
	ADDQ $16, BX
	CMPQ BX, CX
	JB loopwf16
	VZEROUPPER
	RET
