// The update rules for CUDA (see device.Rule for the contract of each).
//
// Compiled at run time by NVRTC with --fmad=false, --prec-div=true and
// --prec-sqrt=true, never with --use_fast_math. Every operation is also
// written as its round-to-nearest intrinsic (__fmul_rn, __fadd_rn, ...),
// which the compiler never contracts, so the fused multiply-adds a rule
// states are the only ones in the code whatever the options.
//
// One launch covers every range of a step, whatever their rules, as in
// kernels/adagrad.cl: range r's record meta[8r..8r+7] holds its first unit,
// offset, length, row width (for block work the block length),
// rule | work<<32 (RULE_* and WORK_* below: device.Rule's numbers and
// device.Work's), the offsets of its states 0 and 1 in the state buffer of
// each state's type (NO_STATE for a state the rule does not keep), and its
// stochastic-rounding key; coef[6r..6r+5] its coefficients. Each thread
// takes one unit, as the OpenCL kernel's work-items do (the grid covers
// every unit; the loop only runs again if a launch ever had to be capped),
// finds its range by binary search, and runs the unit of its rule's work
// (the update_units_* kernels where some range is of row or block work, so
// that the others keep the element code alone): 4 elements from offset +
// 4*(u - first) through rule_dense (16-byte vector
// loads where the unit is whole and 4-element aligned: the optimizer aligns
// every tensor and its state to 4), row or block u - first through
// rule_unit. States live in two buffers by type
// (device.StateSpec.Buffer): state (the compute type) and bytes (8-bit);
// tables holds Adagrad8Bit's code table and thresholds as float bits.
//
// Parameters are T (float, double) or the 16-bit codes of half values
// (BF16Param, F16Param): widened exactly, computed in float and written
// back rounded stochastically with the random bits of the range's key and
// the element's index in its range (device.StochasticBits, RoundBF16,
// RoundF16).
//
// The table (meta, then coef: the bytes of internal/launch.Table) reaches
// the kernel in one of two ways: by value, as a kernel parameter of
// INLINE_RANGES ranges at most (the update_*_inline kernels: nothing to
// copy before the launch, and a table that changes every step, such as a
// decayed learning rate, costs nothing), or, for more ranges, in device
// memory (update_*). The code reads the table with plain loads, never
// __ldg, so that a table in parameter space stays there (ld.param) rather
// than being copied to local memory.
//
// Adding a rule of element work: its RULE_ number, its element functions
// (dense and row-sparse), and a case in rule_dense and rule_rows (which
// hand every element rule both of its states, s0 and s1: a rule of one
// state ignores s1, and the kernels neither load nor store a state the
// range's rule does not keep). A rule of row or block work: its unit
// function and a case in rule_unit.

typedef unsigned long long u64;

#define RULE_ADAGRAD 1
#define RULE_ADAGRAD_EPS_INSIDE 2
#define RULE_ADAGRAD_TF 3
#define RULE_ADAGRAD_NO_EPS 4
#define RULE_ADAGRAD_OPTAX 5
#define RULE_ADAGRAD_GLOVE 6
#define RULE_PROXIMAL_ADAGRAD 7
#define RULE_ADAGRAD_DA 8
#define RULE_ADAGRAD_JAX 9
#define RULE_ADAGRAD_ROWWISE 20
#define RULE_ADAGRAD_8BIT 21

#define WORK_ELEMENT 0
#define WORK_ROW 1
#define WORK_BLOCK 2

#define META_WORDS 8
#define MAX_COEFS 6
#define NO_STATE 0xffffffffffffffffull

__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double sqrt_rn(double a) { return __dsqrt_rn(a); }
// rsqrt_rn is the contract's rsqrt: 1/sqrt(x), two correctly rounded
// operations (never rsqrt.approx).
template <typename T> __device__ __forceinline__ T rsqrt_rn(T a) { return div_rn(T(1), sqrt_rn(a)); }
// step_as_float is TensorFlow's static_cast<float>(global_step) of
// ApplyAdagradDA, seen in T.
__device__ __forceinline__ float step_as_float(float t) { return t; }
__device__ __forceinline__ double step_as_float(double t) { return (double)__double2float_rn(t); }

// Coef holds one range's coefficients, in device.RuleSpec.Coefs order.
template <typename T> struct Coef {
	T c[MAX_COEFS];
};

// The Adagrad family's coefficients: lr, eps, weight decay, sign, and
// AdagradRowwise's decoupled flag.
#define LR 0
#define EPS 1
#define WD 2
#define SIGN 3
#define DECOUPLED 4

// adagrad_dense is device.Adagrad for one element, dense: PyTorch's CUDA
// (foreach) arithmetic.
template <typename T> __device__ __forceinline__ void adagrad_dense(T &p, T g, T &s, const Coef<T> &k) {
	T gi = mul_rn(k.c[SIGN], g);
	if (k.c[WD] != T(0)) {
		gi = fma_rn(k.c[WD], p, gi);
	}
	s = fma_rn(gi, gi, s);
	T stdv = add_rn(sqrt_rn(s), k.c[EPS]);
	p = sub_rn(p, div_rn(mul_rn(k.c[LR], gi), stdv));
}

// adagrad_rows is device.Adagrad for one element of a row-sparse update:
// PyTorch's sparse path, the square rounded then added, the division
// before the scaling by the learning rate.
template <typename T> __device__ __forceinline__ void adagrad_rows(T &p, T g, T &s, const Coef<T> &k) {
	T gi = mul_rn(k.c[SIGN], g);
	s = add_rn(s, mul_rn(gi, gi));
	T stdv = add_rn(sqrt_rn(s), k.c[EPS]);
	p = sub_rn(p, mul_rn(k.c[LR], div_rn(gi, stdv)));
}

// decayed is the family's gradient: the sign, then the weight decay at
// coefficient wd when it is not 0.
template <typename T> __device__ __forceinline__ T decayed(T p, T g, const Coef<T> &k, int wd, int sign) {
	T gi = mul_rn(k.c[sign], g);
	if (k.c[wd] != T(0)) {
		gi = fma_rn(k.c[wd], p, gi);
	}
	return gi;
}

// eps_inside is device.AdagradEpsInside (Keras 3), dense and row-sparse
// alike: the square rounded, then added.
template <typename T> __device__ __forceinline__ void eps_inside(T &p, T g, T &s, const Coef<T> &k) {
	T gi = decayed(p, g, k, WD, SIGN);
	s = add_rn(s, mul_rn(gi, gi));
	T stdv = sqrt_rn(add_rn(s, k.c[EPS]));
	p = sub_rn(p, div_rn(mul_rn(k.c[LR], gi), stdv));
}

// The coefficient positions of the rules without ε (lr, weight decay,
// sign), of the regularised ones (lr, l1, l2, sign, step) and of JAX's
// (lr, momentum, 1 - momentum, sign); see device/rule_family.go.
#define NE_LR 0
#define NE_WD 1
#define NE_SIGN 2
#define REG_LR 0
#define REG_L1 1
#define REG_L2 2
#define REG_SIGN 3
#define REG_STEP 4
#define JAX_LR 0
#define JAX_MOM 1
#define JAX_ONE_MINUS 2
#define JAX_SIGN 3

// TensorFlow's sign (+0 for both zeros and NaN) and max(x, 0) (x < 0 ? 0 :
// x: NaN stays NaN).
template <typename T> __device__ __forceinline__ T sgn_tf(T v) { return v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0)); }
template <typename T> __device__ __forceinline__ T max0_tf(T x) { return x < T(0) ? T(0) : x; }

// adagrad_tf is device.AdagradTF (TensorFlow's ApplyAdagradV2).
template <typename T> __device__ __forceinline__ void adagrad_tf(T &p, T g, T &s, const Coef<T> &k) {
	T gi = decayed(p, g, k, WD, SIGN);
	s = add_rn(s, mul_rn(gi, gi));
	p = sub_rn(p, div_rn(mul_rn(k.c[LR], gi), add_rn(sqrt_rn(s), k.c[EPS])));
}

// no_eps is device.AdagradNoEps (TensorFlow's ApplyAdagrad).
template <typename T> __device__ __forceinline__ void no_eps(T &p, T g, T &s, const Coef<T> &k) {
	T gi = decayed(p, g, k, NE_WD, NE_SIGN);
	s = add_rn(s, mul_rn(gi, gi));
	p = sub_rn(p, mul_rn(mul_rn(gi, k.c[NE_LR]), rsqrt_rn(s)));
}

// optax is device.AdagradOptax: a zero (or NaN) sum gives a zero step.
template <typename T> __device__ __forceinline__ void optax(T &p, T g, T &s, const Coef<T> &k) {
	T gi = decayed(p, g, k, WD, SIGN);
	s = add_rn(mul_rn(gi, gi), s);
	T r = s > T(0) ? rsqrt_rn(add_rn(s, k.c[EPS])) : T(0);
	p = sub_rn(p, mul_rn(k.c[LR], mul_rn(r, gi)));
}

// glove is device.AdagradGloVe: the step over the accumulator before it,
// then the fused square.
template <typename T> __device__ __forceinline__ void glove(T &p, T g, T &s, const Coef<T> &k) {
	T t = mul_rn(k.c[NE_LR], decayed(p, g, k, NE_WD, NE_SIGN));
	p = sub_rn(p, div_rn(t, sqrt_rn(s)));
	s = fma_rn(t, t, s);
}

// proximal is device.ProximalAdagrad (TensorFlow's ApplyProximalAdagrad).
template <typename T> __device__ __forceinline__ void proximal(T &p, T g, T &s, const Coef<T> &k) {
	T gi = mul_rn(k.c[REG_SIGN], g);
	s = add_rn(s, mul_rn(gi, gi));
	T eta = mul_rn(k.c[REG_LR], rsqrt_rn(s));
	T v = sub_rn(p, mul_rn(gi, eta));
	T denom = add_rn(T(1), mul_rn(k.c[REG_L2], eta));
	if (k.c[REG_L1] > T(0)) {
		v = mul_rn(sgn_tf(v), max0_tf(sub_rn(fabs(v), mul_rn(eta, k.c[REG_L1]))));
	}
	p = div_rn(v, denom);
}

// da_dense and da_rows are device.AdagradDA (TensorFlow's ApplyAdagradDA,
// the step cast to float, and SparseApplyAdagradDA): a is the gradient
// accumulator, q the squared one.
template <typename T> __device__ __forceinline__ void da_dense(T &p, T g, T &a, T &q, const Coef<T> &k) {
	T gi = mul_rn(k.c[REG_SIGN], g);
	a = add_rn(a, gi);
	q = add_rn(q, mul_rn(gi, gi));
	const T step = step_as_float(k.c[REG_STEP]);
	T denom = add_rn(mul_rn(k.c[REG_L2], mul_rn(step, k.c[REG_LR])), sqrt_rn(q));
	if (k.c[REG_L1] > T(0)) {
		T shrunk = max0_tf(sub_rn(fabs(a), mul_rn(step, k.c[REG_L1])));
		p = div_rn(mul_rn(mul_rn(-k.c[REG_LR], sgn_tf(a)), shrunk), denom);
	} else {
		p = div_rn(-mul_rn(k.c[REG_LR], a), denom);
	}
}

template <typename T> __device__ __forceinline__ void da_rows(T &p, T g, T &a, T &q, const Coef<T> &k) {
	T gi = mul_rn(k.c[REG_SIGN], g);
	a = add_rn(a, gi);
	q = add_rn(q, mul_rn(gi, gi));
	const T step = k.c[REG_STEP];
	T denom = add_rn(k.c[REG_L2], div_rn(sqrt_rn(q), mul_rn(step, k.c[REG_LR])));
	if (k.c[REG_L1] > T(0)) {
		T shrunk = max0_tf(sub_rn(div_rn(fabs(a), step), k.c[REG_L1]));
		p = div_rn(mul_rn(-sgn_tf(a), shrunk), denom);
	} else {
		p = div_rn(-div_rn(a, step), denom);
	}
}

// jax is device.AdagradJAX: q is g_sq, m the momentum.
template <typename T> __device__ __forceinline__ void jax(T &p, T g, T &q, T &m, const Coef<T> &k) {
	T gi = mul_rn(k.c[JAX_SIGN], g);
	q = add_rn(q, mul_rn(gi, gi));
	T r = q > T(0) ? rsqrt_rn(q) : T(0);
	m = add_rn(mul_rn(k.c[JAX_ONE_MINUS], mul_rn(gi, r)), mul_rn(k.c[JAX_MOM], m));
	p = sub_rn(p, mul_rn(k.c[JAX_LR], m));
}

// same_forms applies the family's one-state rules whose dense and
// row-sparse forms are one; it reports whether rule is one of them.
template <typename T> __device__ __forceinline__ bool same_forms(u64 rule, T &p, T g, T &s0, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD_TF:
		adagrad_tf(p, g, s0, k);
		return true;
	case RULE_ADAGRAD_NO_EPS:
		no_eps(p, g, s0, k);
		return true;
	case RULE_ADAGRAD_OPTAX:
		optax(p, g, s0, k);
		return true;
	case RULE_ADAGRAD_GLOVE:
		glove(p, g, s0, k);
		return true;
	case RULE_PROXIMAL_ADAGRAD:
		proximal(p, g, s0, k);
		return true;
	}
	return false;
}

// rule_dense and rule_rows apply an element rule to one element with its
// states s0 and s1 (s1 for the rules that keep two: AdagradDA's squared
// accumulator, AdagradJAX's momentum).
template <typename T>
__device__ __forceinline__ void rule_dense(u64 rule, T &p, T g, T &s0, T &s1, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD:
		adagrad_dense(p, g, s0, k);
		break;
	case RULE_ADAGRAD_EPS_INSIDE:
		eps_inside(p, g, s0, k);
		break;
	case RULE_ADAGRAD_DA:
		da_dense(p, g, s0, s1, k);
		break;
	case RULE_ADAGRAD_JAX:
		jax(p, g, s0, s1, k);
		break;
	default:
		same_forms(rule, p, g, s0, k);
	}
}

template <typename T>
__device__ __forceinline__ void rule_rows(u64 rule, T &p, T g, T &s0, T &s1, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD:
		adagrad_rows(p, g, s0, k);
		break;
	case RULE_ADAGRAD_EPS_INSIDE:
		eps_inside(p, g, s0, k);
		break;
	case RULE_ADAGRAD_DA:
		da_rows(p, g, s0, s1, k);
		break;
	case RULE_ADAGRAD_JAX:
		jax(p, g, s0, s1, k);
		break;
	default:
		same_forms(rule, p, g, s0, k);
	}
}

template <typename T> struct Quad {
	T v[4];
};

__device__ __forceinline__ Quad<float> load4(const float *p) {
	float4 a = *reinterpret_cast<const float4 *>(p);
	return Quad<float>{{a.x, a.y, a.z, a.w}};
}
__device__ __forceinline__ Quad<double> load4(const double *p) {
	double2 a = reinterpret_cast<const double2 *>(p)[0], b = reinterpret_cast<const double2 *>(p)[1];
	return Quad<double>{{a.x, a.y, b.x, b.y}};
}
__device__ __forceinline__ void store4(float *p, const Quad<float> &q) {
	*reinterpret_cast<float4 *>(p) = make_float4(q.v[0], q.v[1], q.v[2], q.v[3]);
}
__device__ __forceinline__ void store4(double *p, const Quad<double> &q) {
	reinterpret_cast<double2 *>(p)[0] = make_double2(q.v[0], q.v[1]);
	reinterpret_cast<double2 *>(p)[1] = make_double2(q.v[2], q.v[3]);
}

__device__ __forceinline__ float bf16_to_float(unsigned short h) { return __uint_as_float((unsigned)h << 16); }
__device__ __forceinline__ float f16_to_float(unsigned short h) {
	float f;
	asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
	return f;
}

// Gradient loaders: the parameters' compute type, or, for float
// parameters, the raw bits of bfloat16 or binary16, widened exactly.
template <typename T> struct SameGrad {
	typedef T raw;
	static __device__ __forceinline__ T widen(T g) { return g; }
	static __device__ __forceinline__ Quad<T> load4(const T *p) { return ::load4(p); }
};

struct BF16Grad {
	typedef unsigned short raw;
	static __device__ __forceinline__ float widen(unsigned short h) { return bf16_to_float(h); }
	static __device__ __forceinline__ Quad<float> load4(const unsigned short *p) {
		uint2 v = *reinterpret_cast<const uint2 *>(p);
		return Quad<float>{{widen(v.x & 0xffff), widen(v.x >> 16), widen(v.y & 0xffff), widen(v.y >> 16)}};
	}
};

struct F16Grad {
	typedef unsigned short raw;
	static __device__ __forceinline__ float widen(unsigned short h) { return f16_to_float(h); }
	static __device__ __forceinline__ Quad<float> load4(const unsigned short *p) {
		uint2 v = *reinterpret_cast<const uint2 *>(p);
		return Quad<float>{{widen(v.x & 0xffff), widen(v.x >> 16), widen(v.y & 0xffff), widen(v.y >> 16)}};
	}
};

// SplitMix64's finalizer (device.Mix64) and the random bits of element i
// under key (device.StochasticBits).
__device__ __forceinline__ u64 mix64(u64 z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
__device__ __forceinline__ unsigned stochastic_bits(u64 key, u64 i) {
	return (unsigned)(mix64(key + (i + 1) * 0x9e3779b97f4a7c15ull) >> 32);
}

// Parameter accessors: T itself, or half codes widened exactly and written
// back rounded stochastically (device.RoundBF16, device.RoundF16): element
// i is index idx of its range under key.
template <typename T> struct SameParam {
	typedef T raw;
	static __device__ __forceinline__ T load(const T *p, u64 i) { return p[i]; }
	static __device__ __forceinline__ Quad<T> load4(const T *p, u64 i) { return ::load4(p + i); }
	static __device__ __forceinline__ void store(T *p, u64 i, T v, u64, u64) { p[i] = v; }
	static __device__ __forceinline__ void store4(T *p, u64 i, const Quad<T> &v, u64, u64) { ::store4(p + i, v); }
};

struct BF16Round {
	static __device__ __forceinline__ float widen(unsigned short c) { return bf16_to_float(c); }
	static __device__ __forceinline__ unsigned short round(float x, unsigned r) {
		unsigned b = __float_as_uint(x);
		if ((b & 0x7f800000u) == 0x7f800000u) { // NaN and ±Inf: to nearest
			return x != x ? (unsigned short)((b >> 16) | 0x40) : (unsigned short)(b >> 16);
		}
		return (unsigned short)((b + (r >> 16)) >> 16);
	}
};

struct F16Round {
	static __device__ __forceinline__ float widen(unsigned short c) { return f16_to_float(c); }
	static __device__ __forceinline__ unsigned short round(float x, unsigned r) {
		unsigned b = __float_as_uint(x);
		unsigned short sign = (unsigned short)(b >> 16) & 0x8000;
		unsigned a = b & 0x7fffffffu;
		if (a < 0x38800000u || a > 0x7f800000u) { // binary16's subnormals, NaN: to nearest
			unsigned short h;
			asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
			return h;
		}
		a += r >> 19;
		int e = (int)(a >> 23) - 127;
		if (e > 15) {
			return sign | 0x7c00;
		}
		return sign | (unsigned short)((e + 15) << 10) | (unsigned short)((a >> 13) & 0x3ff);
	}
};

// round4 rounds four values stochastically, elements idx..idx+3 under key,
// into the codes of a uint2. Not inlined: every update kernel of half
// parameters shares one copy.
template <typename R> __device__ __noinline__ uint2 round4(float a, float b, float c, float d, u64 key, u64 idx) {
	return make_uint2((unsigned)R::round(a, stochastic_bits(key, idx)) | (unsigned)R::round(b, stochastic_bits(key, idx + 1)) << 16,
	                  (unsigned)R::round(c, stochastic_bits(key, idx + 2)) |
	                      (unsigned)R::round(d, stochastic_bits(key, idx + 3)) << 16);
}

template <typename R> __device__ __noinline__ unsigned short round1(float v, u64 key, u64 idx) {
	return R::round(v, stochastic_bits(key, idx));
}

template <typename R> struct HalfParam {
	typedef unsigned short raw;
	static __device__ __forceinline__ float load(const unsigned short *p, u64 i) { return R::widen(p[i]); }
	static __device__ __forceinline__ Quad<float> load4(const unsigned short *p, u64 i) {
		uint2 v = *reinterpret_cast<const uint2 *>(p + i);
		return Quad<float>{{R::widen(v.x & 0xffff), R::widen(v.x >> 16), R::widen(v.y & 0xffff), R::widen(v.y >> 16)}};
	}
	static __device__ __forceinline__ void store(unsigned short *p, u64 i, float v, u64 key, u64 idx) {
		p[i] = round1<R>(v, key, idx);
	}
	static __device__ __forceinline__ void store4(unsigned short *p, u64 i, const Quad<float> &v, u64 key, u64 idx) {
		*reinterpret_cast<uint2 *>(p + i) = round4<R>(v.v[0], v.v[1], v.v[2], v.v[3], key, idx);
	}
};

// States is the two states of an element rule at one place: s0[i] and
// s1[i] (or four from i), each read and written only when the range's rule
// keeps it (has0, has1).
template <typename T> struct States {
	T *s0, *s1;
	bool has0, has1;
	__device__ __forceinline__ void load4(u64 i, Quad<T> &a, Quad<T> &b) const {
		if (has0) {
			a = ::load4(s0 + i);
		}
		if (has1) {
			b = ::load4(s1 + i);
		}
	}
	__device__ __forceinline__ void store4(u64 i, const Quad<T> &a, const Quad<T> &b) const {
		if (has0) {
			::store4(s0 + i, a);
		}
		if (has1) {
			::store4(s1 + i, b);
		}
	}
	__device__ __forceinline__ void load(u64 i, T &a, T &b) const {
		a = has0 ? s0[i] : T(0);
		b = has1 ? s1[i] : T(0);
	}
	__device__ __forceinline__ void store(u64 i, T a, T b) const {
		if (has0) {
			s0[i] = a;
		}
		if (has1) {
			s1[i] = b;
		}
	}
	// aligned reports whether four states from i are 16-byte aligned.
	__device__ __forceinline__ bool aligned(u64 i) const {
		return (!has0 || (u64)(s0 + i) % 16 == 0) && (!has1 || (u64)(s1 + i) % 16 == 0);
	}
};

// states_at returns the states of a range at offset off whose states start
// at soff0 and soff1 in state (NO_STATE: the rule keeps none): element i's
// are at s0[i], s1[i].
template <typename T> __device__ __forceinline__ States<T> states_at(T *state, u64 off, u64 soff0, u64 soff1) {
	const bool has0 = soff0 != NO_STATE, has1 = soff1 != NO_STATE;
	return States<T>{state + (has0 ? (long long)soff0 - (long long)off : 0),
	                 state + (has1 ? (long long)soff1 - (long long)off : 0), has0, has1};
}

// rowwise_row is device.AdagradRowwise on one row of width elements at e
// of the parameters with accumulator m, gradient j at grad[g0+j]: the
// row's squares in 8 lanes (element j into lane j%8, each left to right;
// the lanes unrolled so that they stay in registers), the lanes summed in
// a fixed tree, then the step. Element e+j is index idx0+j of its range.
template <typename T, typename P, typename G>
__device__ __forceinline__ void rowwise_row(typename P::raw *__restrict__ param, const typename G::raw *__restrict__ grad,
                                         u64 e, u64 g0, u64 width, T *m, const Coef<T> k, u64 key, u64 idx0) {
	const T sign = k.c[SIGN], wd = k.c[WD];
	const bool l2 = wd != T(0) && k.c[DECOUPLED] == T(0);
	T a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	for (u64 j = 0; j < width; j += 8) {
#pragma unroll
		for (int l = 0; l < 8; l++) {
			if (j + l < width) {
				T gj = mul_rn(sign, G::widen(grad[g0 + j + l]));
				if (l2) {
					gj = fma_rn(wd, P::load(param, e + j + l), gj);
				}
				a[l] = fma_rn(gj, gj, a[l]);
			}
		}
	}
	const T sum = add_rn(add_rn(add_rn(a[0], a[1]), add_rn(a[2], a[3])), add_rn(add_rn(a[4], a[5]), add_rn(a[6], a[7])));
	const T mean = div_rn(sum, T(width));
	const T mi = add_rn(*m, mean);
	*m = mi;
	const T mult = div_rn(k.c[LR], add_rn(sqrt_rn(mi), k.c[EPS]));
	T corr = T(1);
	if (l2) {
		corr = sub_rn(T(1), mul_rn(mult, wd));
	} else if (wd != T(0)) {
		corr = sub_rn(T(1), mul_rn(k.c[LR], wd));
	}
	for (u64 j = 0; j < width; j++) {
		const T step = mul_rn(mult, mul_rn(sign, G::widen(grad[g0 + j])));
		P::store(param, e + j, fma_rn(corr, P::load(param, e + j), -step), key, idx0 + j);
	}
}

// adagrad_8bit_block is device.Adagrad8Bit on one block of n elements at e:
// scale at *a, codes at codes[0..n). A first pass finds the block's new
// largest accumulator; a second computes each element again (the same
// operations on the same inputs: the same bits) and writes it: no
// per-element scratch.
template <typename T, typename P, typename G>
__device__ __forceinline__ void adagrad_8bit_block(typename P::raw *__restrict__ param,
                                                const typename G::raw *__restrict__ grad, u64 e, u64 n, T *a,
                                                unsigned char *codes, const unsigned *tables, const Coef<T> k, u64 key,
                                                u64 idx0) {
	const T scale = *a;
	T amax = T(0);
	for (u64 j = 0; j < n; j++) {
		T gj = mul_rn(k.c[SIGN], G::widen(grad[e + j]));
		if (k.c[WD] != T(0)) {
			gj = fma_rn(k.c[WD], P::load(param, e + j), gj);
		}
		const T s = fma_rn(gj, gj, mul_rn(T(__uint_as_float(tables[codes[j]])), scale));
		if (s > amax) {
			amax = s;
		}
	}
	*a = amax;
	for (u64 j = 0; j < n; j++) {
		const T p = P::load(param, e + j);
		T gj = mul_rn(k.c[SIGN], G::widen(grad[e + j]));
		if (k.c[WD] != T(0)) {
			gj = fma_rn(k.c[WD], p, gj);
		}
		const T s = fma_rn(gj, gj, mul_rn(T(__uint_as_float(tables[codes[j]])), scale));
		P::store(param, e + j, sub_rn(p, div_rn(mul_rn(k.c[LR], gj), add_rn(sqrt_rn(s), k.c[EPS]))), key, idx0 + j);
		const T x = amax > T(0) ? div_rn(s, amax) : T(0);
		// The number of thresholds below x: an 8-step binary search.
		unsigned c = 0;
#pragma unroll
		for (unsigned step = 128; step > 0; step >>= 1) {
			if (T(__uint_as_float(tables[256 + c + step - 1])) < x) {
				c += step;
			}
		}
		codes[j] = (unsigned char)c;
	}
}

// rule_unit runs one unit of a rule of row or block work: a row of n
// elements at e (gradient j at grad[g0+j], state at s0) or a block of n
// elements at e (scale at s0, codes at b1). Not inlined: each combination
// of types has one copy, called from both of its kernels (by value and in
// device memory).
template <typename T, typename P, typename G>
__device__ __noinline__ void rule_unit(u64 work, u64 rule, typename P::raw *param, const typename G::raw *grad, u64 e,
                                       u64 g0, u64 n, T *s0, unsigned char *b1, const unsigned *tables, const Coef<T> k,
                                       u64 key, u64 idx0) {
	if (work == WORK_ROW) {
		switch (rule) {
		case RULE_ADAGRAD_ROWWISE:
			rowwise_row<T, P, G>(param, grad, e, g0, n, s0, k, key, idx0);
			break;
		}
		return;
	}
	switch (rule) {
	case RULE_ADAGRAD_8BIT:
		adagrad_8bit_block<T, P, G>(param, grad, e, n, s0, b1, tables, k, key, idx0);
		break;
	}
}

template <typename T> __device__ __forceinline__ Coef<T> load_coef(const T *coef, unsigned r) {
	Coef<T> k;
#pragma unroll
	for (int i = 0; i < MAX_COEFS; i++) {
		k.c[i] = coef[MAX_COEFS * r + i];
	}
	return k;
}

// update_unit updates unit u: the range table is meta and coef (in device
// memory or in parameter space). UNITS: the table may hold ranges of row or
// block work; without it every range is of element work, and the kernel
// holds no call (its registers are the element code's alone).
template <typename T, typename P, typename G, bool UNITS>
__device__ __forceinline__ void update_unit(typename P::raw *__restrict__ param, const typename G::raw *__restrict__ grad,
                                            T *__restrict__ state, unsigned char *__restrict__ bytes,
                                            const unsigned *__restrict__ tables, const u64 *meta, const T *coef,
                                            unsigned nranges, u64 u) {
	// The last range whose first unit is <= u.
	unsigned lo = 0, hi = nranges;
	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;
		if (meta[META_WORDS * mid] <= u) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	const u64 *m = meta + META_WORDS * lo;
	const u64 off = m[1], end = off + m[2], rule = m[4] & 0xffffffffull, work = m[4] >> 32, key = m[7];
	const Coef<T> k = load_coef(coef, lo);
	if (UNITS && work != WORK_ELEMENT) {
		// Unit i of m[3] elements (a row, or a block, the last short), its
		// state i, and for blocks their codes.
		const u64 i = u - m[0], e = off + i * m[3];
		rule_unit<T, P, G>(work, rule, param, grad, e, e, min(m[3], end - e), state + m[5] + i,
		                   work == WORK_BLOCK ? bytes + m[6] + i * m[3] : nullptr, tables, k, key, i * m[3]);
		return;
	}
	const u64 e = off + 4 * (u - m[0]); // first element of the unit
	const States<T> st = states_at(state, off, m[5], m[6]);
	if (e + 4 <= end && e % 4 == 0 && st.aligned(e)) {
		Quad<T> p = P::load4(param, e), a = {}, b = {};
		st.load4(e, a, b);
		const Quad<T> g = G::load4(grad + e);
#pragma unroll
		for (int j = 0; j < 4; j++) {
			rule_dense(rule, p.v[j], g.v[j], a.v[j], b.v[j], k);
		}
		st.store4(e, a, b);
		P::store4(param, e, p, key, e - off);
	} else {
		for (u64 i = e; i < end && i < e + 4; i++) {
			T p = P::load(param, i), a, b;
			st.load(i, a, b);
			rule_dense(rule, p, G::widen(grad[i]), a, b, k);
			st.store(i, a, b);
			P::store(param, i, p, key, i - off);
		}
	}
}

template <typename T, typename P, typename G, bool UNITS>
__device__ __forceinline__ void update(typename P::raw *__restrict__ param, const typename G::raw *__restrict__ grad,
                                       T *__restrict__ state, unsigned char *__restrict__ bytes,
                                       const unsigned *__restrict__ tables, const u64 *meta, const T *coef,
                                       unsigned nranges, u64 units) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		update_unit<T, P, G, UNITS>(param, grad, state, bytes, tables, meta, coef, nranges, u);
	}
}

// InlineTable is a range table passed by value: meta for nranges ranges,
// then their coefficients, as internal/launch.Table encodes them (sized
// for float64 coefficients; float32 ones take less).
#define INLINE_RANGES 16
struct InlineTable {
	u64 w[INLINE_RANGES * (META_WORDS + MAX_COEFS)];
};

// UPDATE_KERNELS defines, for parameters accessed by P, computed in T, and
// gradients loaded by G: update_NAME (table in device memory) and
// update_NAME_inline (table by value) for steps whose ranges are all of
// element work, and update_units_NAME (table in device memory) for steps
// with ranges of row or block work too.
#define UPDATE_KERNELS(NAME, T, P, G)                                                                                  \
	extern "C" __global__ void update_##NAME(P::raw *param, const G::raw *grad, T *state, unsigned char *bytes,       \
	                                         const unsigned *tables, const u64 *meta, const T *coef, unsigned nranges, \
	                                         u64 units) {                                                              \
		update<T, P, G, false>(param, grad, state, bytes, tables, meta, coef, nranges, units);                         \
	}                                                                                                                  \
	extern "C" __global__ void update_##NAME##_inline(P::raw *param, const G::raw *grad, T *state,                    \
	                                                  unsigned char *bytes, const unsigned *tables,                    \
	                                                  const InlineTable table, unsigned nranges, u64 units) {         \
		update<T, P, G, false>(param, grad, state, bytes, tables, table.w,                                             \
		                       reinterpret_cast<const T *>(table.w + META_WORDS * nranges), nranges, units);           \
	}                                                                                                                  \
	extern "C" __global__ void update_units_##NAME(P::raw *param, const G::raw *grad, T *state, unsigned char *bytes, \
	                                               const unsigned *tables, const u64 *meta, const T *coef,            \
	                                               unsigned nranges, u64 units) {                                     \
		update<T, P, G, true>(param, grad, state, bytes, tables, meta, coef, nranges, units);                          \
	}

UPDATE_KERNELS(f32, float, SameParam<float>, SameGrad<float>)
UPDATE_KERNELS(f64, double, SameParam<double>, SameGrad<double>)
UPDATE_KERNELS(f32_bf16, float, SameParam<float>, BF16Grad)
UPDATE_KERNELS(f32_f16, float, SameParam<float>, F16Grad)
UPDATE_KERNELS(bf16_f32, float, HalfParam<BF16Round>, SameGrad<float>)
UPDATE_KERNELS(bf16_bf16, float, HalfParam<BF16Round>, BF16Grad)
UPDATE_KERNELS(f16_f32, float, HalfParam<F16Round>, SameGrad<float>)
UPDATE_KERNELS(f16_f16, float, HalfParam<F16Round>, F16Grad)

// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient (of
// the compute type), duplicates already summed on the host and rows
// strictly increasing, so no two threads touch one element. For element
// work each thread takes 4 elements of one row; for row work one whole row
// (per_row is 1). The state of element off+j is at state[soff0+j] (per
// row: state[soff0+row]). rows and values (and a gather's rows and dst)
// may be page-locked host memory mapped into the device, for small steps:
// they are read and written with plain global loads and stores, never
// through the read-only cache (__ldg).
template <typename T, typename P>
__device__ void update_rows(typename P::raw *__restrict__ param, T *__restrict__ state, const u64 *rows,
                            const T *values, u64 off, u64 width, u64 per_row, u64 units, u64 rule, u64 work, u64 soff0,
                            u64 soff1, u64 key, Coef<T> k) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	const States<T> st = states_at(state, off, soff0, soff1);
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		if (work == WORK_ROW) {
			const u64 row = rows[u];
			rule_unit<T, P, SameGrad<T>>(work, rule, param, values, off + row * width, u * width, width,
			                             state + soff0 + row, nullptr, nullptr, k, key, row * width);
			continue;
		}
		const u64 i = u / per_row, j = 4 * (u % per_row);
		const u64 e = off + rows[i] * width + j, v = i * width + j;
		if (j + 4 <= width && e % 4 == 0 && v % 4 == 0 && st.aligned(e)) {
			Quad<T> p = P::load4(param, e), a = {}, b = {};
			st.load4(e, a, b);
			const Quad<T> g = load4(values + v);
#pragma unroll
			for (int q = 0; q < 4; q++) {
				rule_rows(rule, p.v[q], g.v[q], a.v[q], b.v[q], k);
			}
			st.store4(e, a, b);
			P::store4(param, e, p, key, e - off);
		} else {
			for (u64 q = 0; q < 4 && j + q < width; q++) {
				T p = P::load(param, e + q), a, b;
				st.load(e + q, a, b);
				rule_rows(rule, p, values[v + q], a, b, k);
				st.store(e + q, a, b);
				P::store(param, e + q, p, key, e + q - off);
			}
		}
	}
}

// ROWS_KERNEL defines update_rows_NAME for parameters accessed by P,
// computed in T.
#define ROWS_KERNEL(NAME, T, P)                                                                                        \
	extern "C" __global__ void update_rows_##NAME(P::raw *param, T *state, const u64 *rows, const T *values, u64 off,   \
	                                              u64 width, u64 per_row, u64 units, u64 rule, u64 work, u64 soff0,    \
	                                              u64 soff1, u64 key, T c0, T c1, T c2, T c3, T c4, T c5) {            \
		update_rows<T, P>(param, state, rows, values, off, width, per_row, units, rule, work, soff0, soff1, key,       \
		                  Coef<T>{{c0, c1, c2, c3, c4, c5}});                                                          \
	}

ROWS_KERNEL(f32, float, SameParam<float>)
ROWS_KERNEL(f64, double, SameParam<double>)
ROWS_KERNEL(bf16, float, HalfParam<BF16Round>)
ROWS_KERNEL(f16, float, HalfParam<F16Round>)

// Gather (device.RowReader): dst[i*width + w] = src[off + rows[i]*width + w],
// so that a sparse model reads back only the rows it needs, in one copy.
template <typename T>
__device__ void gather_rows(T *dst, const T *__restrict__ src, const u64 *rows, u64 off, u64 width, u64 total) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 k = (u64)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
		const u64 i = k / width;
		dst[k] = src[off + rows[i] * width + (k - i * width)];
	}
}

extern "C" __global__ void gather_rows_f32(float *dst, const float *src, const u64 *rows, u64 off, u64 width, u64 total) {
	gather_rows<float>(dst, src, rows, off, width, total);
}

extern "C" __global__ void gather_rows_f64(double *dst, const double *src, const u64 *rows, u64 off, u64 width,
                                           u64 total) {
	gather_rows<double>(dst, src, rows, off, width, total);
}

extern "C" __global__ void gather_rows_u16(unsigned short *dst, const unsigned short *src, const u64 *rows, u64 off,
                                           u64 width, u64 total) {
	gather_rows<unsigned short>(dst, src, rows, off, width, total);
}
