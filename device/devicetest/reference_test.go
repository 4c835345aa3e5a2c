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
