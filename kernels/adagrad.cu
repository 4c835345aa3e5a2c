// The update rules for CUDA (see device.Rule for the contract of each).
//
// Compiled at run time by NVRTC with --fmad=false, --prec-div=true and
// --prec-sqrt=true, never with --use_fast_math. Every operation is also
// written as its round-to-nearest intrinsic (__fmul_rn, __fadd_rn, ...),
// which the compiler never contracts, so the fused multiply-adds a rule
// states are the only ones in the code whatever the options.
//
// One launch covers every range of a step, whatever their rules, as in
// kernels/adagrad.cl: the ranges are cut into units of 4 elements; range r's
// record meta[8r..8r+7] holds its first unit, offset, length, row width,
// rule (RULE_* below, device.Rule's numbers), and the offsets of its state
// in state buffers 0 and 1; coef[6r..6r+5] its coefficients. Unit u of
// range r starts at element offset + 4*(u - first). Each thread takes one
// unit, as the OpenCL kernel's work-items do (the grid covers every unit;
// the loop only runs again if a launch ever had to be capped), finds its
// range by binary search, dispatches on the range's rule, and uses 16-byte
// vector loads where a unit is whole and 4-element aligned (the optimizer
// aligns every tensor and its state to 4).
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
// Adding a rule: its RULE_ number, its element functions (dense and
// row-sparse), and a case in rule_dense and rule_rows, or, for a rule with
// two per-element states, in rule_dense2 and rule_rows2 (the units of such
// a range go through unit2 and rows2, which load and store both states).

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

#define META_WORDS 8
#define MAX_COEFS 6

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

// The Adagrad family's coefficients: lr, eps, weight decay, sign.
#define LR 0
#define EPS 1
#define WD 2
#define SIGN 3

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

// two_states: the rule keeps two per-element states (buffers 0 and 1).
__device__ __forceinline__ bool two_states(u64 rule) { return rule == RULE_ADAGRAD_DA || rule == RULE_ADAGRAD_JAX; }

template <typename T> __device__ __forceinline__ void rule_dense2(u64 rule, T &p, T g, T &s0, T &s1, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD_DA:
		da_dense(p, g, s0, s1, k);
		break;
	case RULE_ADAGRAD_JAX:
		jax(p, g, s0, s1, k);
		break;
	}
}

template <typename T> __device__ __forceinline__ void rule_rows2(u64 rule, T &p, T g, T &s0, T &s1, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD_DA:
		da_rows(p, g, s0, s1, k);
		break;
	case RULE_ADAGRAD_JAX:
		jax(p, g, s0, s1, k);
		break;
	}
}

// rule_dense and rule_rows apply a rule to one element with per-element
// state s0 (s1 is the second state, for rules that keep one).
template <typename T>
__device__ __forceinline__ void rule_dense(u64 rule, T &p, T g, T &s0, T &s1, const Coef<T> &k) {
	switch (rule) {
	case RULE_ADAGRAD:
		adagrad_dense(p, g, s0, k);
		break;
	case RULE_ADAGRAD_EPS_INSIDE:
		eps_inside(p, g, s0, k);
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

// Gradient loaders: the parameters' own type, or, for float parameters,
// the raw bits of bfloat16 or binary16, widened exactly to float.
template <typename T> struct SameGrad {
	typedef T raw;
	static __device__ __forceinline__ T widen(T g) { return g; }
	static __device__ __forceinline__ Quad<T> load4(const T *p) { return ::load4(p); }
};

struct BF16Grad {
	typedef unsigned short raw;
	static __device__ __forceinline__ float widen(unsigned short h) { return __uint_as_float((unsigned)h << 16); }
	static __device__ __forceinline__ Quad<float> load4(const unsigned short *p) {
		uint2 v = *reinterpret_cast<const uint2 *>(p);
		return Quad<float>{{widen(v.x & 0xffff), widen(v.x >> 16), widen(v.y & 0xffff), widen(v.y >> 16)}};
	}
};

struct F16Grad {
	typedef unsigned short raw;
	static __device__ __forceinline__ float widen(unsigned short h) {
		float f;
		asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
		return f;
	}
	static __device__ __forceinline__ Quad<float> load4(const unsigned short *p) {
		uint2 v = *reinterpret_cast<const uint2 *>(p);
		return Quad<float>{{widen(v.x & 0xffff), widen(v.x >> 16), widen(v.y & 0xffff), widen(v.y >> 16)}};
	}
};

template <typename T> __device__ __forceinline__ Coef<T> load_coef(const T *coef, unsigned r) {
	Coef<T> k;
#pragma unroll
	for (int i = 0; i < MAX_COEFS; i++) {
		k.c[i] = coef[MAX_COEFS * r + i];
	}
	return k;
}

// unit2 updates the unit of elements [e, min(e+4, end)) of a two-state
// rule: 4-wide where the unit is whole and every buffer's part of it is
// 16-byte aligned, else element by element. s0[i] and s1[i] are the states
// of param[i].
template <typename T, typename G>
__device__ __forceinline__ void unit2(T *__restrict__ param, const typename G::raw *__restrict__ grad, T *s0, T *s1,
                                      u64 e, u64 end, u64 rule, const Coef<T> &k) {
	if (e + 4 <= end && e % 4 == 0 && (u64)(s0 + e) % 16 == 0 && (u64)(s1 + e) % 16 == 0) {
		Quad<T> p = load4(param + e), a = load4(s0 + e), b = load4(s1 + e);
		const Quad<T> g = G::load4(grad + e);
#pragma unroll
		for (int j = 0; j < 4; j++) {
			rule_dense2(rule, p.v[j], g.v[j], a.v[j], b.v[j], k);
		}
		store4(s0 + e, a);
		store4(s1 + e, b);
		store4(param + e, p);
		return;
	}
	for (u64 i = e; i < end && i < e + 4; i++) {
		T p = param[i], a = s0[i], b = s1[i];
		rule_dense2(rule, p, G::widen(grad[i]), a, b, k);
		s0[i] = a;
		s1[i] = b;
		param[i] = p;
	}
}

// update_unit updates unit u: the range table is meta and coef (in device
// memory or in parameter space).
template <typename T, typename G>
__device__ __forceinline__ void update_unit(T *__restrict__ param, const typename G::raw *__restrict__ grad,
                                            T *__restrict__ state0, T *__restrict__ state1, const u64 *meta,
                                            const T *coef, unsigned nranges, u64 u) {
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
	const u64 off = m[1], rule = m[4];
	const u64 e = off + 4 * (u - m[0]); // first element of the unit
	const u64 end = off + m[2];
	// s0[i] is the state of param[i]: the range's state starts at m[5].
	T *s0 = state0 + ((long long)m[5] - (long long)off);
	const Coef<T> k = load_coef(coef, lo);
	if (two_states(rule)) {
		unit2<T, G>(param, grad, s0, state1 + ((long long)m[6] - (long long)off), e, end, rule, k);
		return;
	}
	if (e + 4 <= end && e % 4 == 0 && (u64)(s0 + e) % 16 == 0) {
		Quad<T> p = load4(param + e), s = load4(s0 + e);
		const Quad<T> g = G::load4(grad + e);
#pragma unroll
		for (int j = 0; j < 4; j++) {
			T unused = T(0);
			rule_dense(rule, p.v[j], g.v[j], s.v[j], unused, k);
		}
		store4(s0 + e, s);
		store4(param + e, p);
	} else {
		for (u64 i = e; i < end && i < e + 4; i++) {
			T p = param[i], s = s0[i], t = T(0);
			rule_dense(rule, p, G::widen(grad[i]), s, t, k);
			s0[i] = s;
			param[i] = p;
		}
	}
}

template <typename T, typename G>
__device__ __forceinline__ void update(T *__restrict__ param, const typename G::raw *__restrict__ grad,
                                       T *__restrict__ state0, T *__restrict__ state1, const u64 *meta, const T *coef,
                                       unsigned nranges, u64 units) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		update_unit<T, G>(param, grad, state0, state1, meta, coef, nranges, u);
	}
}

// InlineTable is a range table passed by value: meta for nranges ranges,
// then their coefficients, as internal/launch.Table encodes them (sized
// for float64 coefficients; float32 ones take less).
#define INLINE_RANGES 16
struct InlineTable {
	u64 w[INLINE_RANGES * (META_WORDS + MAX_COEFS)];
};

// UPDATE_KERNELS defines update_NAME (table in device memory) and
// update_NAME_inline (table by value) for parameters of type T and
// gradients loaded by G.
#define UPDATE_KERNELS(NAME, T, G)                                                                                     \
	extern "C" __global__ void update_##NAME(T *param, const G::raw *grad, T *state0, T *state1, const u64 *meta,      \
	                                         const T *coef, unsigned nranges, u64 units) {                            \
		update<T, G>(param, grad, state0, state1, meta, coef, nranges, units);                                         \
	}                                                                                                                  \
	extern "C" __global__ void update_##NAME##_inline(T *param, const G::raw *grad, T *state0, T *state1,             \
	                                                  const InlineTable table, unsigned nranges, u64 units) {         \
		update<T, G>(param, grad, state0, state1, table.w,                                                             \
		             reinterpret_cast<const T *>(table.w + META_WORDS * nranges), nranges, units);                     \
	}

UPDATE_KERNELS(f32, float, SameGrad<float>)
UPDATE_KERNELS(f64, double, SameGrad<double>)
UPDATE_KERNELS(f32_bf16, float, BF16Grad)
UPDATE_KERNELS(f32_f16, float, F16Grad)

// rows2 is unit2 for the n <= 4 elements [e, e+n) of a touched row whose
// gradient starts at values[v].
template <typename T>
__device__ __forceinline__ void rows2(T *__restrict__ param, T *s0, T *s1, const T *values, u64 e, u64 v, u64 n,
                                      u64 rule, const Coef<T> &k) {
	if (n == 4 && e % 4 == 0 && v % 4 == 0 && (u64)(s0 + e) % 16 == 0 && (u64)(s1 + e) % 16 == 0) {
		Quad<T> p = load4(param + e), a = load4(s0 + e), b = load4(s1 + e);
		const Quad<T> g = load4(values + v);
#pragma unroll
		for (int q = 0; q < 4; q++) {
			rule_rows2(rule, p.v[q], g.v[q], a.v[q], b.v[q], k);
		}
		store4(s0 + e, a);
		store4(s1 + e, b);
		store4(param + e, p);
		return;
	}
	for (u64 q = 0; q < n; q++) {
		T p = param[e + q], a = s0[e + q], b = s1[e + q];
		rule_rows2(rule, p, values[v + q], a, b, k);
		s0[e + q] = a;
		s1[e + q] = b;
		param[e + q] = p;
	}
}

// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient,
// duplicates already summed on the host and rows strictly increasing, so no
// two threads touch one element. Each thread takes 4 elements of one row.
// The state of element off+j is at state0[soff0+j]. rows and values (and a
// gather's rows and dst) may be page-locked host memory mapped into the
// device, for small steps: they are read and written with plain global
// loads and stores, never through the read-only cache (__ldg).
template <typename T>
__device__ void update_rows(T *__restrict__ param, T *__restrict__ state0, T *__restrict__ state1, const u64 *rows,
                            const T *values, u64 off, u64 width, u64 per_row, u64 units, u64 rule, u64 soff0, u64 soff1,
                            Coef<T> k) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	T *s0 = state0 + ((long long)soff0 - (long long)off);
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		const u64 i = u / per_row, j = 4 * (u % per_row);
		const u64 e = off + rows[i] * width + j, v = i * width + j;
		if (two_states(rule)) {
			rows2<T>(param, s0, state1 + ((long long)soff1 - (long long)off), values, e, v, min(width - j, (u64)4), rule,
			         k);
			continue;
		}
		if (j + 4 <= width && e % 4 == 0 && v % 4 == 0 && (u64)(s0 + e) % 16 == 0) {
			Quad<T> p = load4(param + e), s = load4(s0 + e);
			const Quad<T> g = load4(values + v);
#pragma unroll
			for (int q = 0; q < 4; q++) {
				T unused = T(0);
				rule_rows(rule, p.v[q], g.v[q], s.v[q], unused, k);
			}
			store4(s0 + e, s);
			store4(param + e, p);
		} else {
			for (u64 q = 0; q < 4 && j + q < width; q++) {
				T p = param[e + q], s = s0[e + q], t = T(0);
				rule_rows(rule, p, values[v + q], s, t, k);
				s0[e + q] = s;
				param[e + q] = p;
			}
		}
	}
}

extern "C" __global__ void update_rows_f32(float *param, float *state0, float *state1, const u64 *rows, const float *values,
                                           u64 off, u64 width, u64 per_row, u64 units, u64 rule, u64 soff0, u64 soff1,
                                           float c0, float c1, float c2, float c3, float c4, float c5) {
	update_rows<float>(param, state0, state1, rows, values, off, width, per_row, units, rule, soff0, soff1,
	                   Coef<float>{{c0, c1, c2, c3, c4, c5}});
}

extern "C" __global__ void update_rows_f64(double *param, double *state0, double *state1, const u64 *rows,
                                           const double *values, u64 off, u64 width, u64 per_row, u64 units, u64 rule,
                                           u64 soff0, u64 soff1, double c0, double c1, double c2, double c3, double c4,
                                           double c5) {
	update_rows<double>(param, state0, state1, rows, values, off, width, per_row, units, rule, soff0, soff1,
	                    Coef<double>{{c0, c1, c2, c3, c4, c5}});
}

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
