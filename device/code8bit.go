package device

import (
	"math"
	"sort"
)

// Code8Bit is the code table of Adagrad8Bit's state: bitsandbytes' unsigned
// dynamic map, create_dynamic_map(signed=False, max_exponent_bits=7,
// total_bits=8) in bitsandbytes/functional.py, as its float32 arithmetic
// (torch on the CPU) gives it: 0, then for e = 0…6 the midpoints of
// 2^(e+1) equal steps of [0.1, 1], times 10^(e-6), then 1; sorted. An
// accumulator is non-negative, so the unsigned map (254 steps in (0, 1))
// holds twice the resolution of the signed one bitsandbytes gives its
// 8-bit Adagrad. The values were taken from torch 1.13 (Debian's
// python3-torch) and are part of the rule: every backend uses these bits.
var Code8Bit = [256]float32{
	0, 0x1.5cf754p-22, 0x1.a0133p-21, 0x1.1d367p-19,
	0x1.2599ecp-18, 0x1.bc98a2p-18, 0x1.29cbaap-17, 0x1.0624dcp-16,
	0x1.c2e34p-16, 0x1.3fd0dp-15, 0x1.9e3p-15, 0x1.fc8f34p-15,
	0x1.2d7732p-14, 0x1.5ca6c8p-14, 0x1.8bd662p-14, 0x1.0cb296p-13,
	0x1.82a994p-13, 0x1.f8a09p-13, 0x1.374bc8p-12, 0x1.724744p-12,
	0x1.ad42c4p-12, 0x1.e83e44p-12, 0x1.119ce2p-11, 0x1.2f1aap-11,
	0x1.4c986p-11, 0x1.6a162p-11, 0x1.8793dep-11, 0x1.a511ap-11,
	0x1.c28f5ep-11, 0x1.e00d1cp-11, 0x1.fd8adcp-11, 0x1.2b020cp-10,
	0x1.74bc6ap-10, 0x1.be76c8p-10, 0x1.041892p-9, 0x1.28f5c2p-9,
	0x1.4dd2fp-9, 0x1.72b01ep-9, 0x1.978d4ep-9, 0x1.bc6a7cp-9,
	0x1.e147aep-9, 0x1.03126ep-8, 0x1.158104p-8, 0x1.27ef9ep-8,
	0x1.3a5e34p-8, 0x1.4cccccp-8, 0x1.5f3b64p-8, 0x1.71a9fap-8,
	0x1.841894p-8, 0x1.968728p-8, 0x1.a8f5c2p-8, 0x1.bb645cp-8,
	0x1.cdd2fp-8, 0x1.e0418ap-8, 0x1.f2b01ep-8, 0x1.028f5cp-7,
	0x1.0bc6a6p-7, 0x1.14fdf2p-7, 0x1.1e354p-7, 0x1.276c8ap-7,
	0x1.30a3d6p-7, 0x1.39db2p-7, 0x1.43126ep-7, 0x1.5eb854p-7,
	0x1.8ccccep-7, 0x1.bae146p-7, 0x1.e8f5c4p-7, 0x1.0b851ep-6,
	0x1.228f5cp-6, 0x1.39999ap-6, 0x1.50a3d6p-6, 0x1.67ae16p-6,
	0x1.7eb854p-6, 0x1.95c29p-6, 0x1.accccep-6, 0x1.c3d70ep-6,
	0x1.dae146p-6, 0x1.f1eb86p-6, 0x1.047aep-5, 0x1.1p-5,
	0x1.1b851ep-5, 0x1.270a3ep-5, 0x1.328f5ep-5, 0x1.3e147ap-5,
	0x1.49999ap-5, 0x1.551eb6p-5, 0x1.60a3d6p-5, 0x1.6c28f6p-5,
	0x1.77ae14p-5, 0x1.833334p-5, 0x1.8eb854p-5, 0x1.9a3d7p-5,
	0x1.a5c29p-5, 0x1.b147aep-5, 0x1.bccccep-5, 0x1.c851eep-5,
	0x1.d3d70ep-5, 0x1.df5c2ap-5, 0x1.eae146p-5, 0x1.f66666p-5,
	0x1.00f5c4p-4, 0x1.06b852p-4, 0x1.0c7ae2p-4, 0x1.123d72p-4,
	0x1.18p-4, 0x1.1dc29p-4, 0x1.23852p-4, 0x1.2947aep-4,
	0x1.2f0a3ep-4, 0x1.34cccep-4, 0x1.3a8f5ep-4, 0x1.4051ecp-4,
	0x1.46147ap-4, 0x1.4bd70ap-4, 0x1.51999ap-4, 0x1.575c28p-4,
	0x1.5d1eb8p-4, 0x1.62e146p-4, 0x1.68a3d6p-4, 0x1.6e6666p-4,
	0x1.7428f6p-4, 0x1.79eb86p-4, 0x1.7fae14p-4, 0x1.8570a4p-4,
	0x1.8b3334p-4, 0x1.90f5c2p-4, 0x1.96b852p-4, 0x1.a8p-4,
	0x1.c4ccccp-4, 0x1.e1999ap-4, 0x1.fe6666p-4, 0x1.0d9998p-3,
	0x1.1cp-3, 0x1.2a6668p-3, 0x1.38ccccp-3, 0x1.473334p-3,
	0x1.559998p-3, 0x1.64p-3, 0x1.726668p-3, 0x1.80ccccp-3,
	0x1.8f3334p-3, 0x1.9d9998p-3, 0x1.acp-3, 0x1.ba6668p-3,
	0x1.c8ccccp-3, 0x1.d73334p-3, 0x1.e5999cp-3, 0x1.f4p-3,
	0x1.013334p-2, 0x1.086666p-2, 0x1.0f999ap-2, 0x1.16cccep-2,
	0x1.1ep-2, 0x1.253334p-2, 0x1.2c6668p-2, 0x1.33999ap-2,
	0x1.3acccep-2, 0x1.42p-2, 0x1.493334p-2, 0x1.506666p-2,
	0x1.579998p-2, 0x1.5eccccp-2, 0x1.66p-2, 0x1.6d3332p-2,
	0x1.746666p-2, 0x1.7b9998p-2, 0x1.82ccccp-2, 0x1.8ap-2,
	0x1.913334p-2, 0x1.986666p-2, 0x1.9f9998p-2, 0x1.a6ccccp-2,
	0x1.aep-2, 0x1.b53332p-2, 0x1.bc6666p-2, 0x1.c3999ap-2,
	0x1.caccccp-2, 0x1.d2p-2, 0x1.d93334p-2, 0x1.e06666p-2,
	0x1.e7999ap-2, 0x1.eeccccp-2, 0x1.f6p-2, 0x1.fd3332p-2,
	0x1.023334p-1, 0x1.05ccccp-1, 0x1.096664p-1, 0x1.0dp-1,
	0x1.109998p-1, 0x1.143334p-1, 0x1.17ccccp-1, 0x1.1b6668p-1,
	0x1.1fp-1, 0x1.22999ap-1, 0x1.263334p-1, 0x1.29ccccp-1,
	0x1.2d6668p-1, 0x1.31p-1, 0x1.34999ap-1, 0x1.383334p-1,
	0x1.3bccccp-1, 0x1.3f6666p-1, 0x1.43p-1, 0x1.469998p-1,
	0x1.4a3334p-1, 0x1.4dccccp-1, 0x1.516668p-1, 0x1.55p-1,
	0x1.58999cp-1, 0x1.5c3334p-1, 0x1.5fccccp-1, 0x1.636668p-1,
	0x1.67p-1, 0x1.6a999cp-1, 0x1.6e3334p-1, 0x1.71ccccp-1,
	0x1.756668p-1, 0x1.79p-1, 0x1.7c9998p-1, 0x1.803334p-1,
	0x1.83ccccp-1, 0x1.876668p-1, 0x1.8bp-1, 0x1.8e9998p-1,
	0x1.923334p-1, 0x1.95ccccp-1, 0x1.996664p-1, 0x1.9dp-1,
	0x1.a09998p-1, 0x1.a43334p-1, 0x1.a7ccccp-1, 0x1.ab6668p-1,
	0x1.afp-1, 0x1.b2999ap-1, 0x1.b63334p-1, 0x1.b9ccccp-1,
	0x1.bd6668p-1, 0x1.c1p-1, 0x1.c4999ap-1, 0x1.c83334p-1,
	0x1.cbccccp-1, 0x1.cf6666p-1, 0x1.d3p-1, 0x1.d69998p-1,
	0x1.da3334p-1, 0x1.ddccccp-1, 0x1.e16668p-1, 0x1.e5p-1,
	0x1.e8999cp-1, 0x1.ec3334p-1, 0x1.efccccp-1, 0x1.f36668p-1,
	0x1.f7p-1, 0x1.fa999cp-1, 0x1.fe3334p-1, 0x1p+0}

// thresholds8Bit[c] is the midpoint of Code8Bit[c] and Code8Bit[c+1],
// computed exactly in float64 and rounded to float32 once.
var thresholds8Bit = func() (t [255]float32) {
	for c := range t {
		t[c] = float32((float64(Code8Bit[c]) + float64(Code8Bit[c+1])) / 2)
	}
	return t
}()

// Thresholds8Bit returns the 255 thresholds of Quantize8Bit, increasing.
func Thresholds8Bit() [255]float32 { return thresholds8Bit }

// Quantize8Bit is the code of a normalized value x: the number of
// thresholds (Thresholds8Bit) below x, that is the nearest code, the lower
// one at a threshold itself. NaN and values up to the first threshold
// give 0, values past the last 255.
func Quantize8Bit(x float32) uint8 {
	if math.IsNaN(float64(x)) {
		return 0
	}
	return uint8(sort.Search(len(thresholds8Bit), func(c int) bool { return !(thresholds8Bit[c] < x) }))
}
