// Fused Adagrad update for OpenCL (see device.Update for the contract).
//
// Built once per dtype with -DREAL=float or -DREAL=double (and for float
// parameters with half-precision gradients, -DGRAD_BF16 or -DGRAD_F16), and with
// -cl-fp32-correctly-rounded-divide-sqrt, never with -cl-mad-enable or
// -cl-fast-relaxed-math. FP_CONTRACT OFF keeps the compiler from fusing
// anything; the two fused multiply-adds of the contract are explicit fma()
// calls, which OpenCL C requires to be correctly rounded.
//
// One launch covers every range of a step. The ranges are cut into units
// of 4 elements; unit u of range r starts at element off[r] + 4*(u -
// first[r]). Each work-item takes one unit (and strides on if the launch
// is smaller than the work), finds its range by binary search, and uses
// 4-wide vector loads where the unit is whole and 4-element aligned in the
// arena (the optimizer aligns every tensor to 4 elements).

#pragma OPENCL FP_CONTRACT OFF

#ifndef REAL
#define REAL float
#endif

#if defined(ADAGRAD_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

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

// Range metadata: meta[3r] = first unit, meta[3r+1] = offset, meta[3r+2] =
// length (elements). Coefficients: coef[4r..4r+3] = lr, eps, weight decay,
// sign (1, or -1 to maximize), already rounded to REAL on the host.

static inline REAL adagrad1(REAL p, REAL g, global REAL *s, REAL lr, REAL eps, REAL wd, REAL sign) {
	REAL gi = sign * g;
	if (wd != (REAL)0) {
		gi = fma(wd, p, gi);
	}
	REAL si = fma(gi, gi, *s);
	*s = si;
	REAL stdv = sqrt(si) + eps;
	return p - (lr * gi) / stdv;
}

kernel void adagrad(global REAL *restrict param, global const GRAD_T *restrict grad, global REAL *restrict accum,
                    global const ulong *restrict meta, global const REAL *restrict coef, uint nranges, ulong units) {
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		// The last range whose first unit is <= u.
		uint lo = 0, hi = nranges;
		while (hi - lo > 1) {
			uint mid = (lo + hi) / 2;
			if (meta[3 * mid] <= u) {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		uint r = lo;
		ulong e = meta[3 * r + 1] + 4 * (u - meta[3 * r]);
		ulong end = meta[3 * r + 1] + meta[3 * r + 2];
		REAL lr = coef[4 * r], eps = coef[4 * r + 1], wd = coef[4 * r + 2], sign = coef[4 * r + 3];
		if (e + 4 <= end && e % 4 == 0) {
			global REAL4 *p4 = (global REAL4 *)(param + e);
			global REAL4 *s4 = (global REAL4 *)(accum + e);
			REAL4 p = *p4;
			REAL4 g = load_grad4(grad, e);
			REAL4 s = *s4;
			REAL4 gi = sign * g;
			if (wd != (REAL)0) {
				gi = fma((REAL4)(wd), p, gi);
			}
			s = fma(gi, gi, s);
			REAL4 stdv = sqrt(s) + eps;
			p = p - (lr * gi) / stdv;
			*s4 = s;
			*p4 = p;
		} else {
			for (ulong i = e; i < end && i < e + 4; i++) {
				param[i] = adagrad1(param[i], load_grad(grad, i), accum + i, lr, eps, wd, sign);
			}
		}
	}
}


// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient,
// duplicates already summed on the host and rows strictly increasing, so
// no two work-items touch one element. Each work-item takes 4 elements of
// one row.
kernel void adagrad_rows(global REAL *restrict param, global REAL *restrict accum,
                         global const ulong *restrict rows, global const REAL *restrict values, ulong off, ulong width,
                         ulong units_per_row, ulong units, REAL lr, REAL eps, REAL sign) {
	for (ulong u = get_global_id(0); u < units; u += get_global_size(0)) {
		ulong i = u / units_per_row, k = 4 * (u % units_per_row);
		ulong e = off + rows[i] * width + k, v = i * width + k;
		if (k + 4 <= width && e % 4 == 0 && v % 4 == 0) {
			global REAL4 *p4 = (global REAL4 *)(param + e);
			global REAL4 *s4 = (global REAL4 *)(accum + e);
			REAL4 p = *p4, s = *s4;
			REAL4 gi = sign * *(global const REAL4 *)(values + v);
			s = fma(gi, gi, s);
			REAL4 stdv = sqrt(s) + eps;
			p = p - (lr * gi) / stdv;
			*s4 = s;
			*p4 = p;
		} else {
			for (ulong j = 0; j < 4 && k + j < width; j++) {
				param[e + j] = adagrad1(param[e + j], values[v + j], accum + e + j, lr, eps, (REAL)0, sign);
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
