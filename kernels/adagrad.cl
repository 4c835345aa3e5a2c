// The update rules for OpenCL (see device.Rule for the contract of each).
//
// Built once per parameter and gradient dtype: -DREAL=float or
// -DREAL=double is the compute type; half-precision parameters add
// -DPARAM_BF16 or -DPARAM_F16 (computed in float, stored as 16-bit codes),
// half-precision gradients -DGRAD_BF16 or -DGRAD_F16. Always with
// -cl-fp32-correctly-rounded-divide-sqrt, never with -cl-mad-enable or
// -cl-fast-relaxed-math. FP_CONTRACT OFF keeps the compiler from fusing
// anything; the fused multiply-adds a rule states are explicit fma() calls,
// which OpenCL C requires to be correctly rounded.
//
// One launch covers every range of a step, whatever their rules. Range r's
// record meta[8r..8r+7] holds its first unit, offset, length, row width
// (for block work the block length), rule | work<<32 (RULE_* and WORK_*
// below: device.Rule's numbers and device.Work's), the offsets of its
// states 0 and 1 in the state buffer of each state's type (NO_STATE for a
// state the rule does not keep), and its stochastic-rounding key;
// coef[6r..6r+5] its coefficients. Each work-item
// takes one unit (and strides on if the launch is smaller than the work),
// finds its range by binary search, and runs the unit of its rule's work
// (kernel update where every range is of element work, update_units
// otherwise):
//   - WORK_ELEMENT: 4 elements from offset + 4*(u - first), 4-wide vector
//     loads where the unit is whole and 4-element aligned (the optimizer
//     aligns every tensor and its state to 4), each element through
//     rule_dense (rule_rows for row-sparse updates);
//   - WORK_ROW: row u - first, through rule_row;
//   - WORK_BLOCK: block u - first, through rule_block.
//
// States live in two buffers by type (device.StateSpec.Buffer): state
// holds every state of the compute type, bytes every 8-bit one, each at
// its range's offset. tables holds Adagrad8Bit's code table (256 float
// bits) and thresholds (255 float bits), device.Code8Bit and
// device.Thresholds8Bit as the host uploads them.
//
// Adding a rule of element work: its RULE_ number, its element functions
// (dense and row-sparse), and a case in rule_dense and rule_rows (which
// hand every element rule both of its states, s0 and s1: a rule of one
// state ignores s1, and the kernels neither load nor store a state the
// range's rule does not keep). A rule of row or block work: its unit
// function and a case in rule_row or rule_block.

#pragma OPENCL FP_CONTRACT OFF

#ifndef REAL
#define REAL float
#endif

#if defined(ADAGRAD_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

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
#define NO_STATE 0xffffffffffffffffUL

#define CAT(a, b) a##b
#define VEC(t, n) CAT(t, n)
#define REAL4 VEC(REAL, 4)

// Gradients are REAL, or, for float parameters built with -DGRAD_BF16 or
// -DGRAD_F16, the raw bits of bfloat16 or binary16, widened exactly.
#if defined(GRAD_BF16)
#define GRAD_T ushort
static inline float load_grad(global const ushort *g, ulong i) { return as_float((uint)g[i] << 16); }
static inline float4 load_grad4(global const ushort *g, ulong i) {
	return as_float4(convert_uint4(vload4(0, g + i)) << 16);
}
#elif defined(GRAD_F16)
#define GRAD_T half
static inline float load_grad(global const half *g, ulong i) { return vload_half(i, g); }
static inline float4 load_grad4(global const half *g, ulong i) { return vload_half4(0, g + i); }
#else
#define GRAD_T REAL
static inline REAL load_grad(global const REAL *g, ulong i) { return g[i]; }
static inline REAL4 load_grad4(global const REAL *g, ulong i) { return *(global const REAL4 *)(g + i); }
#endif

// Parameters are REAL, or, built with -DPARAM_BF16 or -DPARAM_F16, the
// codes of half values: widened exactly, computed in float, and written
// back rounded stochastically (device.RoundBF16, device.RoundF16) with the
// random bits of the range's key and the element's index in its range
// (device.StochasticBits).
#if defined(PARAM_BF16) || defined(PARAM_F16)
#define PARAM_T ushort

// SplitMix64's finalizer (device.Mix64).
static inline ulong mix64(ulong z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

static inline uint stochastic_bits(ulong key, ulong i) { return (uint)(mix64(key + (i + 1) * 0x9e3779b97f4a7c15UL) >> 32); }

#if defined(PARAM_BF16)
static inline float widen_param(ushort c) { return as_float((uint)c << 16); }
static inline ushort round_param(float x, uint r) {
	uint b = as_uint(x);
	if ((b & 0x7f800000u) == 0x7f800000u) { // NaN and ±Inf: to nearest
		if (x != x) {
			return (ushort)(b >> 16) | 0x40;
		}
		return (ushort)(b >> 16);
	}
	return (ushort)((b + (r >> 16)) >> 16);
}
#else
static inline float widen_param(ushort c) { return vload_half(0, (const half *)&c); }
static inline ushort round_param(float x, uint r) {
	uint b = as_uint(x);
	ushort sign = (ushort)(b >> 16) & 0x8000;
	uint a = b & 0x7fffffffu;
	if (a < 0x38800000u || a > 0x7f800000u) { // binary16's subnormals, NaN: to nearest
		ushort c;
		vstore_half_rte(x, 0, (half *)&c);
		return c;
	}
	a += r >> 19;
	int e = (int)(a >> 23) - 127;
	if (e > 15) {
		return sign | 0x7c00;
	}
	return sign | (ushort)((e + 15) << 10) | (ushort)((a >> 13) & 0x3ff);
}
#endif

static inline float load_param(global const ushort *p, ulong i) { return widen_param(p[i]); }
static inline float4 load_param4(global const ushort *p, ulong i) {
	ushort4 c = vload4(0, p + i);
	return (float4)(widen_param(c.x), widen_param(c.y), widen_param(c.z), widen_param(c.w));
}
// store_param writes element i, index idx of its range under key.
static inline void store_param(global ushort *p, ulong i, float v, ulong key, ulong idx) {
	p[i] = round_param(v, stochastic_bits(key, idx));
}
static inline void store_param4(global ushort *p, ulong i, float4 v, ulong key, ulong idx) {
	vstore4((ushort4)(round_param(v.x, stochastic_bits(key, idx)), round_param(v.y, stochastic_bits(key, idx + 1)),
	                  round_param(v.z, stochastic_bits(key, idx + 2)), round_param(v.w, stochastic_bits(key, idx + 3))),
	        0, p + i);
}
#else
#define PARAM_T REAL
static inline REAL load_param(global const REAL *p, ulong i) { return p[i]; }
static inline REAL4 load_param4(global const REAL *p, ulong i) { return *(global const REAL4 *)(p + i); }
static inline void store_param(global REAL *p, ulong i, REAL v, ulong key, ulong idx) { p[i] = v; }
static inline void store_param4(global REAL *p, ulong i, REAL4 v, ulong key, ulong idx) { *(global REAL4 *)(p + i) = v; }
#endif

// The Adagrad family's coefficients: lr, eps, weight decay, sign, and
// AdagradRowwise's decoupled flag.
#define LR 0
#define EPS 1
#define WD 2
#define SIGN 3
#define DECOUPLED 4

// Each element rule's arithmetic, written once for REAL and once for REAL4
// by the macros below (OpenCL C has no templates): the 4-wide forms
// compute each lane exactly as the scalar one.
#define ADAGRAD_DENSE(T)                                                                                               \
	static inline void adagrad_dense_##T(T *p, T g, T *s, const REAL *k) {                                            \
		T gi = k[SIGN] * g;                                                                                            \
		if (k[WD] != (REAL)0) {                                                                                        \
			gi = fma((T)(k[WD]), *p, gi);                                                                              \
		}                                                                                                              \
		*s = fma(gi, gi, *s);                                                                                          \
		T stdv = sqrt(*s) + k[EPS];                                                                                    \
		*p = *p - (k[LR] * gi) / stdv;                                                                                 \
	}

// PyTorch's sparse path: the square rounded, then added; the division
// before the scaling by the learning rate.
#define ADAGRAD_ROWS(T)                                                                                                \
	static inline void adagrad_rows_##T(T *p, T g, T *s, const REAL *k) {                                             \
		T gi = k[SIGN] * g;                                                                                            \
		*s = *s + gi * gi;                                                                                             \
		T stdv = sqrt(*s) + k[EPS];                                                                                    \
		*p = *p - k[LR] * (gi / stdv);                                                                                 \
	}

// Keras 3: the square rounded, then added; ε inside the root.
#define EPS_INSIDE(T)                                                                                                  \
	static inline void eps_inside_##T(T *p, T g, T *s, const REAL *k) {                                               \
		T gi = k[SIGN] * g;                                                                                            \
		if (k[WD] != (REAL)0) {                                                                                        \
			gi = fma((T)(k[WD]), *p, gi);                                                                              \
		}                                                                                                              \
		*s = *s + gi * gi;                                                                                             \
		T stdv = sqrt(*s + k[EPS]);                                                                                    \
		*p = *p - (k[LR] * gi) / stdv;                                                                                 \
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
// x: NaN stays NaN), lane by lane for vectors.
#define SGN_TF(T, v) (((v) > (T)0) ? (T)1 : (((v) < (T)0) ? (T)-1 : (T)0))
#define MAX0_TF(T, x) (((x) < (T)0) ? (T)0 : (x))

// The gradient of the ε and no-ε rules: the sign, then the weight decay.
#define DECAYED(T, p, g, wd, sign)                                                                                     \
	T gi = k[sign] * g;                                                                                                \
	if (k[wd] != (REAL)0) {                                                                                            \
		gi = fma((T)(k[wd]), *p, gi);                                                                                  \
	}

// TensorFlow's ApplyAdagradV2: the square rounded, then added; lr·g before
// the division.
#define ADAGRAD_TF(T)                                                                                                  \
	static inline void adagrad_tf_##T(T *p, T g, T *s, const REAL *k) {                                               \
		DECAYED(T, p, g, WD, SIGN)                                                                                     \
		*s = *s + gi * gi;                                                                                             \
		*p = *p - (k[LR] * gi) / (sqrt(*s) + k[EPS]);                                                                  \
	}

// TensorFlow's ApplyAdagrad: (g·lr)·rsqrt(sum), rsqrt as 1/sqrt.
#define NO_EPS(T)                                                                                                      \
	static inline void no_eps_##T(T *p, T g, T *s, const REAL *k) {                                                   \
		DECAYED(T, p, g, NE_WD, NE_SIGN)                                                                               \
		*s = *s + gi * gi;                                                                                             \
		*p = *p - (gi * k[NE_LR]) * ((T)1 / sqrt(*s));                                                                 \
	}

// Optax: a zero (or NaN) sum gives a zero step.
#define OPTAX(T)                                                                                                       \
	static inline void optax_##T(T *p, T g, T *s, const REAL *k) {                                                    \
		DECAYED(T, p, g, WD, SIGN)                                                                                     \
		*s = gi * gi + *s;                                                                                             \
		T r = (*s > (T)0) ? (T)1 / sqrt(*s + k[EPS]) : (T)0;                                                           \
		*p = *p - k[LR] * (r * gi);                                                                                    \
	}

// GloVe: the step over the accumulator before it, then the fused square.
#define GLOVE(T)                                                                                                       \
	static inline void glove_##T(T *p, T g, T *s, const REAL *k) {                                                    \
		DECAYED(T, p, g, NE_WD, NE_SIGN)                                                                               \
		T t = k[NE_LR] * gi;                                                                                           \
		T old = *s;                                                                                                    \
		*p = *p - t / sqrt(old);                                                                                       \
		*s = fma(t, t, old);                                                                                           \
	}

// TensorFlow's ApplyProximalAdagrad.
#define PROXIMAL(T)                                                                                                    \
	static inline void proximal_##T(T *p, T g, T *s, const REAL *k) {                                                 \
		T gi = k[REG_SIGN] * g;                                                                                        \
		*s = *s + gi * gi;                                                                                             \
		T eta = k[REG_LR] * ((T)1 / sqrt(*s));                                                                         \
		T v = *p - gi * eta;                                                                                           \
		T denom = (T)1 + k[REG_L2] * eta;                                                                              \
		if (k[REG_L1] > (REAL)0) {                                                                                     \
			v = SGN_TF(T, v) * MAX0_TF(T, fabs(v) - eta * k[REG_L1]);                                                  \
		}                                                                                                              \
		*p = v / denom;                                                                                                \
	}

// TensorFlow's ApplyAdagradDA (dense; the step cast to float) and
// SparseApplyAdagradDA (rows): s0 the gradient accumulator, s1 the squared.
#define DA(T)                                                                                                          \
	static inline void da_dense_##T(T *p, T g, T *a, T *q, const REAL *k) {                                           \
		T gi = k[REG_SIGN] * g;                                                                                        \
		*a = *a + gi;                                                                                                  \
		*q = *q + gi * gi;                                                                                             \
		REAL step = (REAL)(float)k[REG_STEP];                                                                          \
		REAL l2_step = k[REG_L2] * (step * k[REG_LR]);                                                                 \
		T denom = l2_step + sqrt(*q);                                                                                  \
		if (k[REG_L1] > (REAL)0) {                                                                                     \
			REAL l1_step = step * k[REG_L1];                                                                           \
			*p = (-k[REG_LR] * SGN_TF(T, *a)) * MAX0_TF(T, fabs(*a) - l1_step) / denom;                                \
		} else {                                                                                                       \
			*p = -(k[REG_LR] * *a) / denom;                                                                            \
		}                                                                                                              \
	}                                                                                                                  \
	static inline void da_rows_##T(T *p, T g, T *a, T *q, const REAL *k) {                                            \
		T gi = k[REG_SIGN] * g;                                                                                        \
		*a = *a + gi;                                                                                                  \
		*q = *q + gi * gi;                                                                                             \
		REAL step = k[REG_STEP];                                                                                       \
		REAL step_lr = step * k[REG_LR];                                                                               \
		T denom = k[REG_L2] + sqrt(*q) / step_lr;                                                                      \
		if (k[REG_L1] > (REAL)0) {                                                                                     \
			*p = -SGN_TF(T, *a) * MAX0_TF(T, fabs(*a) / step - k[REG_L1]) / denom;                                     \
		} else {                                                                                                       \
			*p = -(*a / step) / denom;                                                                                 \
		}                                                                                                              \
	}

// JAX's example_libraries adagrad: s0 is g_sq, s1 the momentum.
#define JAX(T)                                                                                                         \
	static inline void jax_##T(T *p, T g, T *q, T *m, const REAL *k) {                                                \
		T gi = k[JAX_SIGN] * g;                                                                                        \
		*q = *q + gi * gi;                                                                                             \
		T r = (*q > (T)0) ? (T)1 / sqrt(*q) : (T)0;                                                                    \
		*m = k[JAX_ONE_MINUS] * (gi * r) + k[JAX_MOM] * *m;                                                            \
		*p = *p - k[JAX_LR] * *m;                                                                                      \
	}

// The family's one-state rules whose dense and row-sparse forms are one.
#define SAME_FORMS(T)                                                                                                  \
	case RULE_ADAGRAD_TF:                                                                                              \
		adagrad_tf_##T(p, g, s0, k);                                                                                   \
		break;                                                                                                         \
	case RULE_ADAGRAD_NO_EPS:                                                                                          \
		no_eps_##T(p, g, s0, k);                                                                                       \
		break;                                                                                                         \
	case RULE_ADAGRAD_OPTAX:                                                                                           \
		optax_##T(p, g, s0, k);                                                                                        \
		break;                                                                                                         \
	case RULE_ADAGRAD_GLOVE:                                                                                           \
		glove_##T(p, g, s0, k);                                                                                        \
		break;                                                                                                         \
	case RULE_PROXIMAL_ADAGRAD:                                                                                        \
		proximal_##T(p, g, s0, k);                                                                                     \
		break;

// rule_dense_T and rule_rows_T apply an element rule to one element (or
// four) with states s0 and s1 (s1 for rules that keep two).
#define RULES(T)                                                                                                       \
	ADAGRAD_DENSE(T)                                                                                                   \
	ADAGRAD_ROWS(T)                                                                                                    \
	EPS_INSIDE(T)                                                                                                      \
	ADAGRAD_TF(T)                                                                                                      \
	NO_EPS(T)                                                                                                          \
	OPTAX(T)                                                                                                           \
	GLOVE(T)                                                                                                           \
	PROXIMAL(T)                                                                                                        \
	DA(T)                                                                                                              \
	JAX(T)                                                                                                             \
	static inline void rule_dense_##T(ulong rule, T *p, T g, T *s0, T *s1, const REAL *k) {                           \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD:                                                                                             \
			adagrad_dense_##T(p, g, s0, k);                                                                            \
			break;                                                                                                     \
		case RULE_ADAGRAD_EPS_INSIDE:                                                                                  \
			eps_inside_##T(p, g, s0, k);                                                                               \
			break;                                                                                                     \
		case RULE_ADAGRAD_DA:                                                                                          \
			da_dense_##T(p, g, s0, s1, k);                                                                             \
			break;                                                                                                     \
		case RULE_ADAGRAD_JAX:                                                                                         \
			jax_##T(p, g, s0, s1, k);                                                                                  \
			break;                                                                                                     \
			SAME_FORMS(T)                                                                                              \
		}                                                                                                              \
	}                                                                                                                  \
	static inline void rule_rows_##T(ulong rule, T *p, T g, T *s0, T *s1, const REAL *k) {                            \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD:                                                                                             \
			adagrad_rows_##T(p, g, s0, k);                                                                             \
			break;                                                                                                     \
		case RULE_ADAGRAD_EPS_INSIDE:                                                                                  \
			eps_inside_##T(p, g, s0, k);                                                                               \
			break;                                                                                                     \
		case RULE_ADAGRAD_DA:                                                                                          \
			da_rows_##T(p, g, s0, s1, k);                                                                              \
			break;                                                                                                     \
		case RULE_ADAGRAD_JAX:                                                                                         \
			jax_##T(p, g, s0, s1, k);                                                                                  \
			break;                                                                                                     \
			SAME_FORMS(T)                                                                                              \
		}                                                                                                              \
	}

typedef REAL real1;
typedef REAL4 real4;
RULES(real1)
RULES(real4)

// ROWWISE_ROW defines device.AdagradRowwise on one row of width elements
// at e with accumulator m, its gradients loaded by LOADG(grad, i): the
// row's squares in 8 lanes (element j into lane j%8, each left to right),
// the lanes summed in a fixed tree, then the step. Parameter element e+j
// is index idx0+j of its range (for stochastic rounding).
#define ROWWISE_ROW(NAME, GT, LOADG)                                                                                   \
	static inline void NAME(global PARAM_T *param, GT grad, ulong e, ulong g0, ulong width, global REAL *m,           \
	                        const REAL *k, ulong key, ulong idx0) {                                                    \
		const REAL sign = k[SIGN], wd = k[WD];                                                                         \
		const int l2 = wd != (REAL)0 && k[DECOUPLED] == (REAL)0;                                                       \
		REAL a[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                                          \
		for (ulong j = 0; j < width; j++) {                                                                            \
			REAL gj = sign * LOADG(grad, g0 + j);                                                                      \
			if (l2) {                                                                                                  \
				gj = fma(wd, load_param(param, e + j), gj);                                                            \
			}                                                                                                          \
			a[j % 8] = fma(gj, gj, a[j % 8]);                                                                          \
		}                                                                                                              \
		REAL sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));                                  \
		REAL mean = sum / (REAL)width;                                                                                 \
		REAL mi = *m + mean;                                                                                           \
		*m = mi;                                                                                                       \
		REAL mult = k[LR] / (sqrt(mi) + k[EPS]);                                                                       \
		REAL corr = 1;                                                                                                 \
		if (l2) {                                                                                                      \
			corr = 1 - mult * wd;                                                                                      \
		} else if (wd != (REAL)0) {                                                                                    \
			corr = 1 - k[LR] * wd;                                                                                     \
		}                                                                                                              \
		for (ulong j = 0; j < width; j++) {                                                                            \
			REAL step = mult * (sign * LOADG(grad, g0 + j));                                                           \
			store_param(param, e + j, fma(corr, load_param(param, e + j), -step), key, idx0 + j);                      \
		}                                                                                                              \
	}

#define LOAD_VALUE(v, i) ((v)[i])
ROWWISE_ROW(rowwise_dense, global const GRAD_T *, load_grad)
ROWWISE_ROW(rowwise_values, global const REAL *, LOAD_VALUE)

// adagrad_8bit_block is device.Adagrad8Bit on one block of n elements at
// e: scale at *a, codes at codes[0..n). A first pass finds the block's
// new largest accumulator; a second computes each element again (the same
// operations on the same inputs: the same bits) and writes it: no
// per-element scratch.
static inline void adagrad_8bit_block(global PARAM_T *param, global const GRAD_T *grad, ulong e, ulong n,
                                      global REAL *a, global uchar *codes, global const uint *tables, const REAL *k,
                                      ulong key, ulong idx0) {
	const REAL scale = *a;
	REAL amax = 0;
	for (ulong j = 0; j < n; j++) {
		REAL gj = k[SIGN] * load_grad(grad, e + j);
		if (k[WD] != (REAL)0) {
			gj = fma(k[WD], load_param(param, e + j), gj);
		}
		REAL s = fma(gj, gj, (REAL)as_float(tables[codes[j]]) * scale);
		if (s > amax) {
			amax = s;
		}
	}
	*a = amax;
	for (ulong j = 0; j < n; j++) {
		REAL p = load_param(param, e + j);
		REAL gj = k[SIGN] * load_grad(grad, e + j);
		if (k[WD] != (REAL)0) {
			gj = fma(k[WD], p, gj);
		}
		REAL s = fma(gj, gj, (REAL)as_float(tables[codes[j]]) * scale);
		store_param(param, e + j, p - (k[LR] * gj) / (sqrt(s) + k[EPS]), key, idx0 + j);
		REAL x = 0;
		if (amax > (REAL)0) {
			x = s / amax;
		}
		// The number of thresholds below x: an 8-step binary search.
		uint c = 0;
		for (uint step = 128; step > 0; step >>= 1) {
			if ((REAL)as_float(tables[256 + c + step - 1]) < x) {
				c += step;
			}
		}
		codes[j] = (uchar)c;
	}
}

// rule_row, rule_row_values (row-sparse) and rule_block run one unit of a
// rule of row or block work.
static inline void rule_row(ulong rule, global PARAM_T *param, global const GRAD_T *grad, ulong e, ulong width,
                            global REAL *s0, const REAL *k, ulong key, ulong idx0) {
	switch (rule) {
	case RULE_ADAGRAD_ROWWISE:
		rowwise_dense(param, grad, e, e, width, s0, k, key, idx0);
		break;
	}
}

static inline void rule_row_values(ulong rule, global PARAM_T *param, global const REAL *values, ulong e, ulong v,
                                   ulong width, global REAL *s0, const REAL *k, ulong key, ulong idx0) {
	switch (rule) {
	case RULE_ADAGRAD_ROWWISE:
		rowwise_values(param, values, e, v, width, s0, k, key, idx0);
		break;
	}
}

static inline void rule_block(ulong rule, global PARAM_T *param, global const GRAD_T *grad, ulong e, ulong n,
                              global REAL *s0, global uchar *b1, global const uint *tables, const REAL *k, ulong key,
                              ulong idx0) {
	switch (rule) {
	case RULE_ADAGRAD_8BIT:
		adagrad_8bit_block(param, grad, e, n, s0, b1, tables, k, key, idx0);
		break;
	}
}

// The two states of an element rule at one place: s0[i] and s1[i] (or
// four from i), each read and written only when the range's rule keeps it
// (has0, has1).
static inline void load_states4(global REAL *s0, global REAL *s1, int has0, int has1, ulong i, REAL4 *a, REAL4 *b) {
	*a = 0;
	*b = 0;
	if (has0) {
		*a = *(global REAL4 *)(s0 + i);
	}
	if (has1) {
		*b = *(global REAL4 *)(s1 + i);
	}
}

static inline void store_states4(global REAL *s0, global REAL *s1, int has0, int has1, ulong i, REAL4 a, REAL4 b) {
	if (has0) {
		*(global REAL4 *)(s0 + i) = a;
	}
	if (has1) {
		*(global REAL4 *)(s1 + i) = b;
	}
}

static inline void load_states(global REAL *s0, global REAL *s1, int has0, int has1, ulong i, REAL *a, REAL *b) {
	*a = has0 ? s0[i] : 0;
	*b = has1 ? s1[i] : 0;
}

static inline void store_states(global REAL *s0, global REAL *s1, int has0, int has1, ulong i, REAL a, REAL b) {
	if (has0) {
		s0[i] = a;
	}
	if (has1) {
		s1[i] = b;
	}
}

static inline void load_coef(REAL *k, global const REAL *coef, uint r) {
	for (int i = 0; i < MAX_COEFS; i++) {
		k[i] = coef[MAX_COEFS * r + i];
	}
}

// find_range returns the record of the last range whose first unit is at
// most u, and its index in *r.
static inline global const ulong *find_range(global const ulong *meta, uint nranges, ulong u, uint *r) {
	uint lo = 0, hi = nranges;
	while (hi - lo > 1) {
		uint mid = (lo + hi) / 2;
		if (meta[META_WORDS * mid] <= u) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	*r = lo;
	return meta + META_WORDS * lo;
}

// element_unit runs unit u of element work of the range of record m: 4
// elements, as one 4-wide vector where whole and aligned.
static inline void element_unit(global PARAM_T *param, global const GRAD_T *grad, global REAL *state,
                                global const ulong *m, const REAL *k, ulong u) {
	const ulong off = m[1], end = off + m[2], rule = m[4] & 0xffffffffUL, key = m[7];
	const ulong e = off + 4 * (u - m[0]);
	// s0[i] and s1[i] are the states of param[i] (their range's start at
	// m[5] and m[6]); a state the rule does not keep is neither read nor
	// written.
	const int has0 = m[5] != NO_STATE, has1 = m[6] != NO_STATE;
	global REAL *s0 = state + (has0 ? (long)m[5] - (long)off : 0);
	global REAL *s1 = state + (has1 ? (long)m[6] - (long)off : 0);
	if (e + 4 <= end && e % 4 == 0 && off % 4 == 0 && (!has0 || m[5] % 4 == 0) && (!has1 || m[6] % 4 == 0)) {
		REAL4 p = load_param4(param, e), a, b;
		load_states4(s0, s1, has0, has1, e, &a, &b);
		rule_dense_real4(rule, &p, load_grad4(grad, e), &a, &b, k);
		store_states4(s0, s1, has0, has1, e, a, b);
		store_param4(param, e, p, key, e - off);
	} else {
		for (ulong i = e; i < end && i < e + 4; i++) {
			REAL p = load_param(param, i), a, b;
			load_states(s0, s1, has0, has1, i, &a, &b);
			rule_dense_real1(rule, &p, load_grad(grad, i), &a, &b, k);
			store_states(s0, s1, has0, has1, i, a, b);
			store_param(param, i, p, key, i - off);
		}
	}
}

// update runs a step whose ranges are all of element work; update_units
// one with ranges of row or block work too (the host picks by the table),
// so that the element kernel keeps the shape the CPU OpenCL compilers
// vectorize across work-items.
kernel void update(global PARAM_T *restrict param, global const GRAD_T *restrict grad, global REAL *restrict state,
                   global uchar *restrict bytes, global const uint *restrict tables, global const ulong *restrict meta,
                   global const REAL *restrict coef, uint nranges, ulong units) {
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		uint r;
		global const ulong *m = find_range(meta, nranges, u, &r);
		REAL k[MAX_COEFS];
		load_coef(k, coef, r);
		element_unit(param, grad, state, m, k, u);
	}
}

kernel void update_units(global PARAM_T *restrict param, global const GRAD_T *restrict grad,
                         global REAL *restrict state, global uchar *restrict bytes, global const uint *restrict tables,
                         global const ulong *restrict meta, global const REAL *restrict coef, uint nranges,
                         ulong units) {
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		uint r;
		global const ulong *m = find_range(meta, nranges, u, &r);
		const ulong off = m[1], end = off + m[2], rule = m[4] & 0xffffffffUL, work = m[4] >> 32, key = m[7];
		REAL k[MAX_COEFS];
		load_coef(k, coef, r);
		if (work == WORK_ROW) {
			const ulong row = u - m[0];
			rule_row(rule, param, grad, off + row * m[3], m[3], state + m[5] + row, k, key, row * m[3]);
		} else if (work == WORK_BLOCK) {
			const ulong b = u - m[0], e = off + b * m[3];
			rule_block(rule, param, grad, e, min(m[3], end - e), state + m[5] + b, bytes + m[6] + b * m[3], tables, k,
			           key, b * m[3]);
		} else {
			element_unit(param, grad, state, m, k, u);
		}
	}
}

// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient (of
// the compute type), duplicates already summed on the host and rows
// strictly increasing, so no two work-items touch one element. For element
// work each work-item takes 4 elements of one row; for row work one whole
// row (units_per_row is 1). The state of element off+j is at
// state[soff0+j] (per row: state[soff0+row]).
kernel void update_rows(global PARAM_T *restrict param, global REAL *restrict state, global uchar *restrict bytes,
                        global const ulong *restrict rows, global const REAL *restrict values, ulong off, ulong width,
                        ulong units_per_row, ulong units, ulong rule, ulong work, ulong soff0, ulong soff1, ulong key,
                        REAL c0, REAL c1, REAL c2, REAL c3, REAL c4, REAL c5) {
	REAL k[MAX_COEFS] = {c0, c1, c2, c3, c4, c5};
	const int has0 = soff0 != NO_STATE, has1 = soff1 != NO_STATE;
	global REAL *s0 = state + (has0 ? (long)soff0 - (long)off : 0);
	global REAL *s1 = state + (has1 ? (long)soff1 - (long)off : 0);
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		if (work == WORK_ROW) {
			const ulong row = rows[u];
			rule_row_values(rule, param, values, off + row * width, u * width, width, state + soff0 + row, k, key, row * width);
			continue;
		}
		ulong i = u / units_per_row, j = 4 * (u % units_per_row);
		ulong e = off + rows[i] * width + j, v = i * width + j;
		if (j + 4 <= width && e % 4 == 0 && v % 4 == 0 && off % 4 == 0 && (!has0 || soff0 % 4 == 0) &&
		    (!has1 || soff1 % 4 == 0)) {
			REAL4 p = load_param4(param, e), a, b;
			load_states4(s0, s1, has0, has1, e, &a, &b);
			rule_rows_real4(rule, &p, *(global const REAL4 *)(values + v), &a, &b, k);
			store_states4(s0, s1, has0, has1, e, a, b);
			store_param4(param, e, p, key, e - off);
		} else {
			for (ulong q = 0; q < 4 && j + q < width; q++) {
				REAL p = load_param(param, e + q), a, b;
				load_states(s0, s1, has0, has1, e + q, &a, &b);
				rule_rows_real1(rule, &p, values[v + q], &a, &b, k);
				store_states(s0, s1, has0, has1, e + q, a, b);
				store_param(param, e + q, p, key, e + q - off);
			}
		}
	}
}

// Gather (device.RowReader): dst[i*width + w] = src[off + rows[i]*width + w],
// so that a sparse model reads back only the rows it needs, in one copy.
kernel void gather_rows(global PARAM_T *restrict dst, global const PARAM_T *restrict src,
                        global const ulong *restrict rows, ulong off, ulong width, ulong total) {
	for (ulong k = get_global_id(0); k < total; k += get_global_size(0)) {
		ulong i = k / width;
		dst[k] = src[off + rows[i] * width + (k - i * width)];
	}
}
