package devicetest

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/internal/half"
)

// TestReferences fails for a rule without a reference: adding a rule to
// package device means adding its reference here.
func TestReferences(t *testing.T) {
	for _, r := range device.Rules() {
		if !hasReference(r) {
			t.Errorf("rule %v has no reference in devicetest (references in reference.go)", r)
		}
		spec, _ := r.Spec()
		p, g := []float64{1, -2}, []float64{0.5, 0.25}
		var st [device.MaxStates][]float64
		for k := range spec.State {
			st[k] = []float64{0.1, 0.1}
		}
		if err := ReferenceStep(r, coefsFor(r, 0, 0, false), 2, p, g, st); err != nil {
			t.Errorf("%v: %v", r, err)
		}
	}
	if err := ReferenceStep(device.Rule(250), [device.MaxCoefs]float64{}, 1, []float64{1}, []float64{1}, [device.MaxStates][]float64{}); err == nil {
		t.Error("ReferenceStep of an undefined rule succeeded")
	}
}

// TestAdagradByHand checks device.Adagrad's references on values worked
// out by hand, exact in binary: the dense form and the row-sparse one.
func TestAdagradByHand(t *testing.T) {
	// g = 3, sum 7 → 16, sqrt 4, eps 0.5 → 4.5; lr 0.75: 0.75·3 / 4.5 = 0.5.
	p, sum := []float32{2}, []float32{7}
	if err := ReferenceStep(device.Adagrad, adagradCoef(0.75, 0.5, 0, false), 1, p, []float32{3}, [device.MaxStates][]float32{sum}); err != nil {
		t.Fatal(err)
	}
	if p[0] != 1.5 || sum[0] != 16 {
		t.Errorf("dense: p = %v, sum = %v; want 1.5, 16", p[0], sum[0])
	}
	// Weight decay 0.5 on p = 2 adds 1 to g: g = 3 → 4 with maximize (-3 + 1 = -2)...
	p, sum = []float32{2}, []float32{0}
	if err := ReferenceStep(device.Adagrad, adagradCoef(1, 0, 0.5, true), 1, p, []float32{3}, [device.MaxStates][]float32{sum}); err != nil {
		t.Fatal(err)
	}
	// g = -3 + 0.5·2 = -2, sum = 4, p = 2 - 1·(-2)/2 = 3.
	if p[0] != 3 || sum[0] != 4 {
		t.Errorf("dense with weight decay and maximize: p = %v, sum = %v; want 3, 4", p[0], sum[0])
	}
	// Rows: duplicate rows 1 sum to 1 + 2 = 3 per element; row 0 untouched.
	idx, vals := Coalesce([]int64{1, 0, 1}, []float64{1, 1, 5, 5, 2, 2}, 2)
	if len(idx) != 2 || idx[0] != 0 || idx[1] != 1 || vals[0] != 5 || vals[2] != 3 {
		t.Fatalf("Coalesce = %v, %v", idx, vals)
	}
	p64, s64 := []float64{1, 1, 1, 1}, []float64{7, 7, 7, 7}
	if err := ReferenceRows(device.Adagrad, adagradCoef(0.75, 0.5, 0, false), 2, p64, [device.MaxStates][]float64{s64}, idx[1:], vals[2:]); err != nil {
		t.Fatal(err)
	}
	if p64[0] != 1 || s64[0] != 7 || p64[2] != 0.5 || s64[2] != 16 {
		t.Errorf("rows: p = %v, sum = %v", p64, s64)
	}
	if err := ReferenceRows(device.Adagrad, adagradCoef(1, 0, 0, false), 2, p64, [device.MaxStates][]float64{s64}, []int64{1, 1}, make([]float64, 4)); err == nil {
		t.Error("ReferenceRows with a repeated row succeeded")
	}
}

// TestFMAExact holds the float32 fused multiply-add to math/big alone,
// over products and addends of every relative size (where the float64 sum
// is exact, and where it is not and a second rounding would go wrong).
func TestFMAExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	slow := func(a, b, c float32) float32 {
		prod := new(big.Float).SetPrec(600).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
		f, _ := new(big.Float).SetPrec(600).Add(prod, big.NewFloat(float64(c))).Float32()
		return f
	}
	random := func() float32 {
		return float32(math.Ldexp(rng.Float64()+0.5, rng.IntN(120)-60)) * float32(1-2*rng.IntN(2))
	}
	for i := range 200000 {
		a, b, c := random(), random(), random()
		if i%3 == 0 {
			// Halfway cases: a·b just off a float32 midpoint of c's.
			a, b = 1+0x1p-12, 1+0x1p-12
			c = float32(math.Ldexp(1, -40-rng.IntN(60))) * float32(1-2*rng.IntN(2))
		}
		if got, want := fmaExact(a, b, c), slow(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fmaExact(%v, %v, %v) = %v, math/big %v", a, b, c, got, want)
		}
	}
}

// TestHalf holds HalfValue and HalfBits to internal/half, which the
// backends and the optimizer use: every code widened, and float32 values
// of every exponent, halfway cases and overflows rounded.
func TestHalf(t *testing.T) {
	for _, dt := range []device.DType{device.BFloat16, device.Float16} {
		widen, round := half.BF16ToFloat32, half.FromFloat32BF16
		if dt == device.Float16 {
			widen, round = half.F16ToFloat32, half.FromFloat32F16
		}
		for c := range 1 << 16 {
			got, want := HalfValue(dt, uint16(c)), widen(uint16(c))
			if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				t.Fatalf("%v code %#x = %v, internal/half %v", dt, c, got, want)
			}
		}
		rng := rand.New(rand.NewPCG(5, uint64(dt)))
		for i := range 300000 {
			x := math.Float32frombits(rng.Uint32())
			switch code := uint16(rng.Uint32()); i % 3 {
			case 0: // near a code: its value nudged by a few float32 ulps
				x = math.Float32frombits(math.Float32bits(HalfValue(dt, code)) + uint32(rng.IntN(1<<14)) - 1<<13)
			case 1: // halfway between two codes
				x = float32((float64(HalfValue(dt, code)) + float64(HalfValue(dt, code+1))) / 2)
			}
			if x != x {
				continue
			}
			if got, want := HalfBits(dt, x), round(x); got != want {
				t.Fatalf("%v rounding of %v (%#x) = %#x, internal/half %#x", dt, x, math.Float32bits(x), got, want)
			}
		}
	}
}

// TestRowwiseByHand checks device.AdagradRowwise's reference on rows
// worked out by hand, exact in binary: plain, L2 and decoupled weight
// decay, and the same row through the row-sparse form.
func TestRowwiseByHand(t *testing.T) {
	cases := []struct {
		name        string
		coef        [device.MaxCoefs]float64
		p, g        []float32
		m           float32
		wantP       []float32
		wantM       float32
		sparseAgain bool
	}{
		// Squares 1 + 49, mean 25, sqrt 5, lr 2.5: mult 0.5.
		{"plain", [device.MaxCoefs]float64{2.5, 0, 0, 1, 0}, []float32{1, 1}, []float32{1, 7}, 0, []float32{0.5, -2.5}, 25, true},
		// g' = g + 0.5·p = (2, 8): squares 68, mean 34, m 36, sqrt 6, lr 3:
		// mult 0.5, corr 1 - 0.25; p = 0.75·2 - 0.5·g.
		{"L2", [device.MaxCoefs]float64{3, 0, 0.5, 1, 0}, []float32{2, 2}, []float32{1, 7}, 2, []float32{1, -2}, 36, true},
		// Decoupled: the sum of g alone (25), mult 0.5, corr 1 - 2.5·0.25.
		{"decoupled", [device.MaxCoefs]float64{2.5, 0, 0.25, 1, 1}, []float32{2, 2}, []float32{1, 7}, 0, []float32{0.25, -2.75}, 25, false},
		// Maximize: g = -(1, 7), the same squares, p moves the other way.
		{"maximize", [device.MaxCoefs]float64{2.5, 0, 0, -1, 0}, []float32{1, 1}, []float32{1, 7}, 0, []float32{1.5, 4.5}, 25, false},
	}
	for _, c := range cases {
		p, m := append([]float32(nil), c.p...), []float32{c.m}
		if err := ReferenceStep(device.AdagradRowwise, c.coef, 2, p, c.g, [device.MaxStates][]float32{m}); err != nil {
			t.Fatal(err)
		}
		if p[0] != c.wantP[0] || p[1] != c.wantP[1] || m[0] != c.wantM {
			t.Errorf("%s: p = %v, m = %v; want %v, %v", c.name, p, m[0], c.wantP, c.wantM)
		}
		if !c.sparseAgain {
			continue
		}
		// The same row as row 1 of a table of two: row 0 stays.
		p2, m2 := []float32{9, 9, c.p[0], c.p[1]}, []float32{5, c.m}
		if err := ReferenceRows(device.AdagradRowwise, c.coef, 2, p2, [device.MaxStates][]float32{m2}, []int64{1}, c.g); err != nil {
			t.Fatal(err)
		}
		if p2[0] != 9 || m2[0] != 5 || p2[2] != c.wantP[0] || p2[3] != c.wantP[1] || m2[1] != c.wantM {
			t.Errorf("%s, row-sparse: p = %v, m = %v", c.name, p2, m2)
		}
	}
	// Nine elements: element 8 adds into lane 0 after element 0. With
	// g = 2^12 at 0, 1 at 8 and 0 elsewhere, lane 0 is fma(1, 1, 2^24) =
	// 2^24 in float32 (the 1 is lost), so the mean is 2^24/9 rounded.
	p, g, m := make([]float32, 9), make([]float32, 9), []float32{0}
	g[0], g[8] = 4096, 1
	if err := ReferenceStep(device.AdagradRowwise, [device.MaxCoefs]float64{1, 0, 0, 1, 0}, 9, p, g, [device.MaxStates][]float32{m}); err != nil {
		t.Fatal(err)
	}
	if want := float32(float32(1<<24) / 9); m[0] != want {
		t.Errorf("9 elements: m = %v, want %v", m[0], want)
	}
}

// Test8BitByHand checks device.Adagrad8Bit's reference on a block worked
// out by hand, and that a block of equal accumulators (an initial value)
// is exact.
func Test8BitByHand(t *testing.T) {
	// Codes 255 and 0 with scale 4 are sums 4 and 0; gradients 0 and 3
	// make them 4 and 9; lr 1, eps 0: p1 moves by 3/3.
	p, g := []float32{1, 1}, []float32{0, 3}
	scale, codes := []float32{4}, []float32{255, 0}
	if err := ReferenceStep(device.Adagrad8Bit, adagradCoef(1, 0, 0, false), 2, p, g, [device.MaxStates][]float32{scale, codes}); err != nil {
		t.Fatal(err)
	}
	if p[0] != 1 || p[1] != 0 || scale[0] != 9 || codes[1] != 255 {
		t.Fatalf("p = %v, scale %v, codes %v; want [1 0], 9, [_ 255]", p, scale, codes)
	}
	// 4/9 takes the nearest code.
	x := 4.0 / 9
	c := int(codes[0])
	for _, o := range []int{c - 1, c + 1} {
		if math.Abs(float64(device.Code8Bit[o])-x) < math.Abs(float64(device.Code8Bit[c])-x) {
			t.Errorf("4/9 coded as %d (%v), but code %d (%v) is nearer", c, device.Code8Bit[c], o, device.Code8Bit[o])
		}
	}
	if got := device.Quantize8Bit(float32(x)); int(got) != c {
		t.Errorf("device.Quantize8Bit(4/9) = %d, the reference %d", got, c)
	}
	// An initial accumulator of 0.1 everywhere: code 255 and scale 0.1
	// dequantize to 0.1 exactly; zero gradients keep it so.
	p, g = []float32{1, 2, 3}, []float32{0, 0, 0}
	scale, codes = []float32{0.1}, []float32{255, 255, 255}
	if err := ReferenceStep(device.Adagrad8Bit, adagradCoef(0.5, 1e-10, 0, false), 3, p, g, [device.MaxStates][]float32{scale, codes}); err != nil {
		t.Fatal(err)
	}
	if scale[0] != 0.1 || codes[0] != 255 || codes[2] != 255 || p[0] != 1 {
		t.Errorf("initial value: scale %v, codes %v, p %v", scale, codes, p)
	}
	// The code table: 0 and 1 at its ends, increasing, and the thresholds
	// between neighbours.
	if device.Code8Bit[0] != 0 || device.Code8Bit[255] != 1 {
		t.Errorf("Code8Bit ends %v, %v", device.Code8Bit[0], device.Code8Bit[255])
	}
	for c := range 255 {
		if !(device.Code8Bit[c] < device.Code8Bit[c+1]) {
			t.Fatalf("Code8Bit not increasing at %d", c)
		}
		mid := (device.Code8Bit[c] + device.Code8Bit[c+1]) / 2
		if got := device.Quantize8Bit(device.Code8Bit[c]); int(got) != c {
			t.Fatalf("Quantize8Bit(Code8Bit[%d]) = %d", c, got)
		}
		if code8(float64(mid)) != c && code8(float64(mid)) != c+1 {
			t.Fatalf("the midpoint of codes %d and %d codes as %d", c, c+1, code8(float64(mid)))
		}
	}
}

// TestStochasticByHand checks the stochastic rounding of half parameters
// on values worked out by hand, and its random bits against SplitMix64's
// published first output.
func TestStochasticByHand(t *testing.T) {
	// SplitMix64 seeded with 0: first output 0xe220a8397b1dcdaf.
	if got := randomBits(0, 0); got != 0xe220a839 {
		t.Errorf("randomBits(0, 0) = %#x, want 0xe220a839", got)
	}
	if got := device.StochasticBits(0, 0); got != 0xe220a839 {
		t.Errorf("device.StochasticBits(0, 0) = %#x, want 0xe220a839", got)
	}
	for i := range uint64(1000) {
		if a, b := randomBits(i*977, i), device.StochasticBits(i*977, i); a != b {
			t.Fatalf("key %d index %d: %#x, device %#x", i*977, i, a, b)
		}
	}
	cases := []struct {
		dt   device.DType
		x    float32
		r    uint32
		want uint16
	}{
		// 1 + 2^-9 is a quarter of the way from bfloat16's 1 to 1 + 2^-7:
		// up when the top 16 random bits reach 3/4 of 2^16.
		{device.BFloat16, 1 + 0x1p-9, 0xc0000000, 0x3f81},
		{device.BFloat16, 1 + 0x1p-9, 0xbfffffff, 0x3f80},
		{device.BFloat16, -(1 + 0x1p-9), 0xc0000000, 0xbf81},
		// Exact values never move.
		{device.BFloat16, 1, 0xffffffff, 0x3f80},
		{device.Float16, 1, 0xffffffff, 0x3c00},
		// 1 + 2^-11 is halfway to binary16's next value, 1 + 2^-10.
		{device.Float16, 1 + 0x1p-11, 0x80000000, 0x3c01},
		{device.Float16, 1 + 0x1p-11, 0x7fffffff, 0x3c00},
		// Past the largest finite binary16, up is +Inf; from 2^16 always.
		{device.Float16, 65504 + 16, 0xffffffff, 0x7c00},
		{device.Float16, 65536, 0, 0x7c00},
		// Binary16's subnormals round to nearest: 2^-24·1.25 to 2^-24.
		{device.Float16, 0x1p-24 * 1.25, 0xffffffff, 0x0001},
	}
	for _, c := range cases {
		got := stochasticHalf(c.dt, c.x, c.r)
		dev := device.RoundBF16(c.x, c.r)
		if c.dt == device.Float16 {
			dev = device.RoundF16(c.x, c.r)
		}
		if got != c.want || dev != c.want {
			t.Errorf("%v rounding of %v with %#x = %#x (device %#x), want %#x", c.dt, c.x, c.r, got, dev, c.want)
		}
	}
}
