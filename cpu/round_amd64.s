//go:build !purego

#include "textflag.h"

// Stochastic rounding of half-precision parameters (device.RoundBF16,
// device.RoundF16) with their random bits (device.StochasticBits) on 8
// lanes: SplitMix64 on four 64-bit lanes at a time, its 64-bit products
// built from 32-bit ones (AVX2 has no 64-bit multiply).

DATA srSteps<>+0(SB)/8, $0
DATA srSteps<>+8(SB)/8, $0x9e3779b97f4a7c15
DATA srSteps<>+16(SB)/8, $0x3c6ef372fe94f82a
DATA srSteps<>+24(SB)/8, $0xdaa66d2c7ddf743f
GLOBL srSteps<>(SB), RODATA|NOPTR, $32
DATA srFour<>+0(SB)/8, $0x78dde6e5fd29f054
GLOBL srFour<>(SB), RODATA|NOPTR, $8
DATA srEight<>+0(SB)/8, $0xf1bbcdcbfa53e0a8
GLOBL srEight<>(SB), RODATA|NOPTR, $8
DATA srM1lo<>+0(SB)/8, $0x1ce4e5b9
GLOBL srM1lo<>(SB), RODATA|NOPTR, $8
DATA srM1hi<>+0(SB)/8, $0xbf58476d
GLOBL srM1hi<>(SB), RODATA|NOPTR, $8
DATA srM2lo<>+0(SB)/8, $0x133111eb
GLOBL srM2lo<>(SB), RODATA|NOPTR, $8
DATA srM2hi<>+0(SB)/8, $0x94d049bb
GLOBL srM2hi<>(SB), RODATA|NOPTR, $8
DATA srExp<>+0(SB)/4, $0x7f800000
GLOBL srExp<>(SB), RODATA|NOPTR, $4
DATA srAbs<>+0(SB)/4, $0x7fffffff
GLOBL srAbs<>(SB), RODATA|NOPTR, $4
DATA srQuiet<>+0(SB)/4, $0x00000040
GLOBL srQuiet<>(SB), RODATA|NOPTR, $4
DATA srSign<>+0(SB)/4, $0x00008000
GLOBL srSign<>(SB), RODATA|NOPTR, $4
DATA srBias<>+0(SB)/4, $0x0001c000
GLOBL srBias<>(SB), RODATA|NOPTR, $4
DATA srInf16<>+0(SB)/4, $0x00007c00
GLOBL srInf16<>(SB), RODATA|NOPTR, $4
DATA srMin16<>+0(SB)/4, $0x38800000
GLOBL srMin16<>(SB), RODATA|NOPTR, $4

// MIX64 applies SplitMix64 finalizer to the four 64-bit lanes of Z, with
// T1 and T2 as scratch: z ^= z>>30; z *= M1; z ^= z>>27; z *= M2;
// z ^= z>>31. A product z*m modulo 2^64 is lo(z)lo(m) + (hi(z)lo(m) +
// lo(z)hi(m))<<32.
#define MUL64(Z, MLO, MHI, T1, T2) \
	VPSRLQ $32, Z, T1 \
	VPMULUDQ MLO, T1, T1 \
	VPMULUDQ MHI, Z, T2 \
	VPADDQ T2, T1, T1 \
	VPSLLQ $32, T1, T1 \
	VPMULUDQ MLO, Z, Z \
	VPADDQ T1, Z, Z

#define MIX64(Z, T1, T2) \
	VPSRLQ $30, Z, T1 \
	VPXOR T1, Z, Z \
	MUL64(Z, Y15, Y14, T1, T2) \
	VPSRLQ $27, Z, T1 \
	VPXOR T1, Z, Z \
	MUL64(Z, Y13, Y12, T1, T2) \
	VPSRLQ $31, Z, T1 \
	VPXOR T1, Z, Z

// func roundHalfAVX2(dst *uint16, src *float32, n int, key, first uint64, f16 bool)
// dst[j] = RoundBF16 (or RoundF16) of src[j] with StochasticBits(key,
// first+j), for n a positive multiple of 8.
TEXT ·roundHalfAVX2(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ first+32(FP), AX
	INCQ AX
	MOVQ $0x9e3779b97f4a7c15, DX
	IMULQ DX, AX
	ADDQ key+24(FP), AX      // the state of element first: key + (first+1)·golden
	MOVQ AX, X10
	VPBROADCASTQ X10, Y10
	VPADDQ srSteps<>(SB), Y10, Y10 // lanes first .. first+3
	VPBROADCASTQ srFour<>(SB), Y9
	VPADDQ Y9, Y10, Y9             // lanes first+4 .. first+7
	VPBROADCASTQ srEight<>(SB), Y11
	VPBROADCASTQ srM1lo<>(SB), Y15
	VPBROADCASTQ srM1hi<>(SB), Y14
	VPBROADCASTQ srM2lo<>(SB), Y13
	VPBROADCASTQ srM2hi<>(SB), Y12
	XORQ BX, BX
	MOVBLZX f16+40(FP), R8

loop:
	VMOVDQA Y10, Y0
	MIX64(Y0, Y4, Y5)
	VMOVDQA Y9, Y1
	MIX64(Y1, Y4, Y5)
	VPADDQ Y11, Y10, Y10
	VPADDQ Y11, Y9, Y9
	VSHUFPS $0xdd, Y1, Y0, Y2 // the high halves, lanes 0 1 4 5 | 2 3 6 7
	VPERMQ $0xd8, Y2, Y2      // in order: the random bits r
	VMOVDQU (SI)(BX*4), Y3    // x's bits b
	TESTQ R8, R8
	JNE f16

	// bfloat16: (b + r>>16) >> 16; NaN and Inf to nearest: b>>16, NaN's
	// quiet bit set.
	VPSRLD $16, Y2, Y4
	VPADDD Y3, Y4, Y4
	VPSRLD $16, Y4, Y4
	VPBROADCASTD srExp<>(SB), Y5
	VPAND Y5, Y3, Y6
	VPCMPEQD Y5, Y6, Y6       // NaN or Inf
	VPBROADCASTD srAbs<>(SB), Y7
	VPAND Y7, Y3, Y7
	VPCMPGTD Y5, Y7, Y7       // NaN
	VPBROADCASTD srQuiet<>(SB), Y8
	VPAND Y8, Y7, Y7
	VPSRLD $16, Y3, Y8
	VPOR Y7, Y8, Y8
	VPBLENDVB Y6, Y8, Y4, Y4
	JMP store

f16:
	// binary16: a = |b| + r>>19, its code (a>>13) - (112<<10), at most
	// Inf, with b's sign; below 2^-14 and NaN, VCVTPS2PH's nearest.
	VPBROADCASTD srAbs<>(SB), Y5
	VPAND Y5, Y3, Y5          // a
	VPSRLD $19, Y2, Y4
	VPADDD Y5, Y4, Y4
	VPSRLD $13, Y4, Y4
	VPBROADCASTD srBias<>(SB), Y6
	VPSUBD Y6, Y4, Y4
	VPBROADCASTD srInf16<>(SB), Y6
	VPMINUD Y6, Y4, Y4
	VPSRLD $16, Y3, Y6
	VPBROADCASTD srSign<>(SB), Y7
	VPAND Y7, Y6, Y6
	VPOR Y6, Y4, Y4
	VPBROADCASTD srMin16<>(SB), Y6
	VPCMPGTD Y5, Y6, Y7       // a < 2^-14
	VPBROADCASTD srExp<>(SB), Y6
	VPCMPGTD Y6, Y5, Y6       // NaN
	VPOR Y6, Y7, Y7
	VCVTPS2PH $0, Y3, X6
	VPMOVZXWD X6, Y6
	VPBLENDVB Y7, Y6, Y4, Y4

store:
	VEXTRACTI128 $1, Y4, X5
	VPACKUSDW X5, X4, X4
	VMOVDQU X4, (DI)(BX*2)
	ADDQ $8, BX
	CMPQ BX, CX
	JB loop
	VZEROUPPER
	RET
