// The update rules for OpenCL (see device.Rule for the contract of each).
//
// Built once per dtype with -DREAL=float or -DREAL=double (and for float
// parameters with half-precision gradients, -DGRAD_BF16 or -DGRAD_F16), and
// with -cl-fp32-correctly-rounded-divide-sqrt, never with -cl-mad-enable or
// -cl-fast-relaxed-math. FP_CONTRACT OFF keeps the compiler from fusing
// anything; the fused multiply-adds a rule states are explicit fma() calls,
// which OpenCL C requires to be correctly rounded.
//
// One launch covers every range of a step, whatever their rules. Range r's
// record meta[8r..8r+7] holds its first unit, offset, length, row width,
// rule (RULE_* below, device.Rule's numbers), and the offsets of its state
// in state buffers 0 and 1; coef[6r..6r+5] its coefficients. Ranges are cut
// into units of 4 elements; unit u of range r starts at element offset +
// 4*(u - first). Each work-item takes one unit (and strides on if the
// launch is smaller than the work), finds its range by binary search,
// dispatches on its rule, and uses 4-wide vector loads where the unit is
// whole and 4-element aligned (the optimizer aligns every tensor and its
// state to 4 elements).
//
// Adding a rule: its RULE_ number, its element functions (dense and
// row-sparse), and a case in rule_dense and rule_rows, or, for a rule with
// two per-element states, in rule_dense2 and rule_rows2 (the units of such
// a range go through unit2 and rows2, which load and store both states).

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

#define META_WORDS 8
#define MAX_COEFS 6

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

// The Adagrad family's coefficients: lr, eps, weight decay, sign.
#define LR 0
#define EPS 1
#define WD 2
#define SIGN 3

// Each rule's arithmetic, written once for REAL and once for REAL4 by the
// macros below (OpenCL C has no templates): the 4-wide forms compute each
// lane exactly as the scalar one.
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
	static inline void rule_dense_##T(ulong rule, T *p, T g, T *s0, const REAL *k) {                                  \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD:                                                                                             \
			adagrad_dense_##T(p, g, s0, k);                                                                            \
			break;                                                                                                     \
		case RULE_ADAGRAD_EPS_INSIDE:                                                                                  \
			eps_inside_##T(p, g, s0, k);                                                                               \
			break;                                                                                                     \
			SAME_FORMS(T)                                                                                              \
		}                                                                                                              \
	}                                                                                                                  \
	static inline void rule_rows_##T(ulong rule, T *p, T g, T *s0, const REAL *k) {                                   \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD:                                                                                             \
			adagrad_rows_##T(p, g, s0, k);                                                                             \
			break;                                                                                                     \
		case RULE_ADAGRAD_EPS_INSIDE:                                                                                  \
			eps_inside_##T(p, g, s0, k);                                                                               \
			break;                                                                                                     \
			SAME_FORMS(T)                                                                                              \
		}                                                                                                              \
	}                                                                                                                  \
	static inline void rule_dense2_##T(ulong rule, T *p, T g, T *s0, T *s1, const REAL *k) {                          \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD_DA:                                                                                          \
			da_dense_##T(p, g, s0, s1, k);                                                                             \
			break;                                                                                                     \
		case RULE_ADAGRAD_JAX:                                                                                         \
			jax_##T(p, g, s0, s1, k);                                                                                  \
			break;                                                                                                     \
		}                                                                                                              \
	}                                                                                                                  \
	static inline void rule_rows2_##T(ulong rule, T *p, T g, T *s0, T *s1, const REAL *k) {                           \
		switch (rule) {                                                                                                \
		case RULE_ADAGRAD_DA:                                                                                          \
			da_rows_##T(p, g, s0, s1, k);                                                                              \
			break;                                                                                                     \
		case RULE_ADAGRAD_JAX:                                                                                         \
			jax_##T(p, g, s0, s1, k);                                                                                  \
			break;                                                                                                     \
		}                                                                                                              \
	}

typedef REAL real1;
typedef REAL4 real4;
RULES(real1)
RULES(real4)

static inline void load_coef(REAL *k, global const REAL *coef, uint r) {
	for (int i = 0; i < MAX_COEFS; i++) {
		k[i] = coef[MAX_COEFS * r + i];
	}
}

// two_states: the rule keeps two per-element states (state buffers 0 and 1).
static inline bool two_states(ulong rule) { return rule == RULE_ADAGRAD_DA || rule == RULE_ADAGRAD_JAX; }

// unit2 updates the unit of elements [e, min(e+4, end)) of a two-state
// rule: 4-wide when whole is set (the unit whole and every buffer's part
// of it 4-element aligned), else element by element. s0[i] and s1[i] are
// the states of param[i].
static inline void unit2(global REAL *param, global const GRAD_T *grad, global REAL *s0, global REAL *s1, ulong e,
                         ulong end, ulong rule, const REAL *k, bool whole) {
	if (whole) {
		global REAL4 *p4 = (global REAL4 *)(param + e);
		global REAL4 *a4 = (global REAL4 *)(s0 + e);
		global REAL4 *b4 = (global REAL4 *)(s1 + e);
		REAL4 p = *p4, a = *a4, b = *b4;
		rule_dense2_real4(rule, &p, load_grad4(grad, e), &a, &b, k);
		*a4 = a;
		*b4 = b;
		*p4 = p;
		return;
	}
	for (ulong i = e; i < end && i < e + 4; i++) {
		REAL p = param[i], a = s0[i], b = s1[i];
		rule_dense2_real1(rule, &p, load_grad(grad, i), &a, &b, k);
		s0[i] = a;
		s1[i] = b;
		param[i] = p;
	}
}

// rows2 is unit2 for up to 4 elements [e, e+n) of a touched row whose
// gradient starts at values[v].
static inline void rows2(global REAL *param, global const REAL *values, global REAL *s0, global REAL *s1, ulong e,
                         ulong v, ulong n, ulong rule, const REAL *k, bool whole) {
	if (whole) {
		global REAL4 *p4 = (global REAL4 *)(param + e);
		global REAL4 *a4 = (global REAL4 *)(s0 + e);
		global REAL4 *b4 = (global REAL4 *)(s1 + e);
		REAL4 p = *p4, a = *a4, b = *b4;
		rule_rows2_real4(rule, &p, *(global const REAL4 *)(values + v), &a, &b, k);
		*a4 = a;
		*b4 = b;
		*p4 = p;
		return;
	}
	for (ulong q = 0; q < n; q++) {
		REAL p = param[e + q], a = s0[e + q], b = s1[e + q];
		rule_rows2_real1(rule, &p, values[v + q], &a, &b, k);
		s0[e + q] = a;
		s1[e + q] = b;
		param[e + q] = p;
	}
}

kernel void update(global REAL *restrict param, global const GRAD_T *restrict grad, global REAL *restrict state0,
                   global REAL *restrict state1, global const ulong *restrict meta, global const REAL *restrict coef,
                   uint nranges, ulong units) {
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		// The last range whose first unit is <= u.
		uint lo = 0, hi = nranges;
		while (hi - lo > 1) {
			uint mid = (lo + hi) / 2;
			if (meta[META_WORDS * mid] <= u) {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		global const ulong *m = meta + META_WORDS * lo;
		ulong off = m[1], rule = m[4];
		ulong e = off + 4 * (u - m[0]);
		ulong end = off + m[2];
		// s0[i] is the state of param[i]: the range's state starts at m[5].
		global REAL *s0 = state0 + ((long)m[5] - (long)off);
		REAL k[MAX_COEFS];
		load_coef(k, coef, lo);
		if (two_states(rule)) {
			bool whole = e + 4 <= end && e % 4 == 0 && m[5] % 4 == 0 && m[6] % 4 == 0 && off % 4 == 0;
			unit2(param, grad, s0, state1 + ((long)m[6] - (long)off), e, end, rule, k, whole);
			continue;
		}
		if (e + 4 <= end && e % 4 == 0 && m[5] % 4 == 0 && off % 4 == 0) {
			global REAL4 *p4 = (global REAL4 *)(param + e);
			global REAL4 *s4 = (global REAL4 *)(s0 + e);
			REAL4 p = *p4, s = *s4;
			rule_dense_real4(rule, &p, load_grad4(grad, e), &s, k);
			*s4 = s;
			*p4 = p;
		} else {
			for (ulong i = e; i < end && i < e + 4; i++) {
				REAL p = param[i], s = s0[i];
				rule_dense_real1(rule, &p, load_grad(grad, i), &s, k);
				s0[i] = s;
				param[i] = p;
			}
		}
	}
}

// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient,
// duplicates already summed on the host and rows strictly increasing, so
// no two work-items touch one element. Each work-item takes 4 elements of
// one row. The state of element off+j is at state0[soff0+j].
kernel void update_rows(global REAL *restrict param, global REAL *restrict state0, global REAL *restrict state1,
                        global const ulong *restrict rows, global const REAL *restrict values, ulong off, ulong width,
                        ulong units_per_row, ulong units, ulong rule, ulong soff0, ulong soff1, REAL c0, REAL c1,
                        REAL c2, REAL c3, REAL c4, REAL c5) {
	REAL k[MAX_COEFS] = {c0, c1, c2, c3, c4, c5};
	global REAL *s0 = state0 + ((long)soff0 - (long)off);
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		ulong i = u / units_per_row, j = 4 * (u % units_per_row);
		ulong e = off + rows[i] * width + j, v = i * width + j;
		if (two_states(rule)) {
			bool whole = j + 4 <= width && e % 4 == 0 && v % 4 == 0 && soff0 % 4 == 0 && soff1 % 4 == 0 && off % 4 == 0;
			rows2(param, values, s0, state1 + ((long)soff1 - (long)off), e, v, min(width - j, (ulong)4), rule, k, whole);
			continue;
		}
		if (j + 4 <= width && e % 4 == 0 && v % 4 == 0 && soff0 % 4 == 0 && off % 4 == 0) {
			global REAL4 *p4 = (global REAL4 *)(param + e);
			global REAL4 *s4 = (global REAL4 *)(s0 + e);
			REAL4 p = *p4, s = *s4;
			rule_rows_real4(rule, &p, *(global const REAL4 *)(values + v), &s, k);
			*s4 = s;
			*p4 = p;
		} else {
			for (ulong q = 0; q < 4 && j + q < width; q++) {
				REAL p = param[e + q], s = s0[e + q];
				rule_rows_real1(rule, &p, values[v + q], &s, k);
				s0[e + q] = s;
				param[e + q] = p;
			}
		}
	}
}

// Gather (device.RowReader): dst[i*width + w] = src[off + rows[i]*width + w],
// so that a sparse model reads back only the rows it needs, in one copy.
kernel void gather_rows(global REAL *restrict dst, global const REAL *restrict src, global const ulong *restrict rows,
                        ulong off, ulong width, ulong total) {
	for (ulong k = get_global_id(0); k < total; k += get_global_size(0)) {
		ulong i = k / width;
		dst[k] = src[off + rows[i] * width + (k - i * width)];
	}
}
