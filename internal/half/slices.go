package half

// NarrowBF16 rounds src to bfloat16 into dst, as FromFloat32BF16 does each
// element, with vector instructions where the CPU has them (AVX2 on amd64,
// unless built with the purego tag). dst must be at least as long as src.
func NarrowBF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := narrowBF16Fast(dst, src)
	for i, f := range src[n:] {
		dst[n+i] = FromFloat32BF16(f)
	}
}

// NarrowF16 rounds src to binary16 into dst, as FromFloat32F16 does each
// element, with vector instructions where the CPU has them (F16C on
// amd64, unless built with the purego tag). dst must be at least as long
// as src.
func NarrowF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := narrowF16Fast(dst, src)
	for i, f := range src[n:] {
		dst[n+i] = FromFloat32F16(f)
	}
}

// WidenBF16 widens src into dst exactly, as BF16ToFloat32 does each
// element. dst must be at least as long as src.
func WidenBF16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := widenBF16Fast(dst, src)
	for i, h := range src[n:] {
		dst[n+i] = BF16ToFloat32(h)
	}
}

// WidenF16 widens src into dst exactly, as F16ToFloat32 does each element.
// dst must be at least as long as src.
func WidenF16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := widenF16Fast(dst, src)
	for i, h := range src[n:] {
		dst[n+i] = F16ToFloat32(h)
	}
}
