package half

import (
	"math"
	"math/rand/v2"
	"testing"
)

// nearest checks that h is a correctly rounded (ties to even) conversion
// of f, given the widening w of the format: no representable value is
// nearer, and on a tie h's last bit is even.
func checkNearest(t *testing.T, name string, f float32, h uint16, widen func(uint16) float32, maxFinite float64) {
	t.Helper()
	x := float64(f)
	got := float64(widen(h))
	if math.IsInf(got, 0) {
		// Overflow: only right beyond the largest finite value rounded half up.
		if math.Abs(x) < maxFinite {
			t.Fatalf("%s(%v) = Inf", name, f)
		}
		return
	}
	d := math.Abs(got - x)
	for _, n := range []uint16{h + 1, h - 1} {
		w := float64(widen(n))
		if math.IsNaN(w) || math.IsInf(w, 0) || math.Signbit(w) != math.Signbit(got) && w != 0 {
			continue
		}
		if dn := math.Abs(w - x); dn < d || dn == d && h&1 == 1 && n&1 == 0 {
			t.Fatalf("%s(%v) = %#04x (%v), but %#04x (%v) is nearer or the even tie", name, f, h, got, n, w)
		}
	}
}

func TestWidenRoundTrips(t *testing.T) {
	for h := range 1 << 16 {
		u := uint16(h)
		if f := F16ToFloat32(u); f == f {
			if back := FromFloat32F16(f); back != u {
				t.Fatalf("f16 %#04x → %v → %#04x", u, f, back)
			}
		} else if back := FromFloat32F16(f); F16ToFloat32(back) == F16ToFloat32(back) {
			t.Fatalf("f16 NaN %#04x came back as %#04x", u, back)
		}
		if f := BF16ToFloat32(u); f == f {
			if back := FromFloat32BF16(f); back != u {
				t.Fatalf("bf16 %#04x → %v → %#04x", u, f, back)
			}
		}
	}
}

func TestRoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 2000000 {
		var f float32
		switch i % 4 {
		case 0:
			f = math.Float32frombits(rng.Uint32())
		case 1:
			f = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(50)-35)))
		case 2: // exact ties of binary16 and bfloat16
			h := uint16(rng.Uint32())
			a, b := F16ToFloat32(h), F16ToFloat32(h+1)
			f = float32((float64(a) + float64(b)) / 2)
		default:
			h := uint16(rng.Uint32())
			f = float32((float64(BF16ToFloat32(h)) + float64(BF16ToFloat32(h+1))) / 2)
		}
		if f != f {
			continue
		}
		checkNearest(t, "f16", f, FromFloat32F16(f), F16ToFloat32, 65520)
		checkNearest(t, "bf16", f, FromFloat32BF16(f), BF16ToFloat32, (2-0x1p-8)*0x1p127)
	}
	for _, c := range []struct {
		f    float32
		f16  uint16
		bf16 uint16
	}{
		{1, 0x3c00, 0x3f80}, {-2, 0xc000, 0xc000}, {65504, 0x7bff, 0x4780}, {65520, 0x7c00, 0x4780},
		{5.960464477539063e-08, 0x0001, 0x3380}, {2.9e-08, 0x0000, 0x32f9}, {float32(math.Inf(-1)), 0xfc00, 0xff80},
	} {
		if got := FromFloat32F16(c.f); got != c.f16 {
			t.Errorf("f16(%v) = %#04x, want %#04x", c.f, got, c.f16)
		}
		if got := FromFloat32BF16(c.f); got != c.bf16 {
			t.Errorf("bf16(%v) = %#04x, want %#04x", c.f, got, c.bf16)
		}
	}
}
