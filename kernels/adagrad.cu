// Fused Adagrad update for CUDA (see device.Update for the contract).
//
// Compiled at run time by NVRTC with --fmad=false, --prec-div=true and
// --prec-sqrt=true, never with --use_fast_math. Every operation is also
// written as its round-to-nearest intrinsic (__fmul_rn, __fadd_rn, ...),
// which the compiler never contracts, so the two fused multiply-adds of the
// contract are the only ones in the code whatever the options.
//
// One launch covers every range of a step, as in kernels/adagrad.cl: the
// ranges are cut into units of 4 elements; unit u of range r starts at
// element meta[3r+1] + 4*(u - meta[3r]) and the range has meta[3r+2]
// elements; coef[4r..4r+3] = lr, eps, weight decay, sign. Threads walk the
// units with a grid stride and use 16-byte vector loads where a unit is
// whole and 4-element aligned (the optimizer aligns every tensor to 4).

typedef unsigned long long u64;

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

template <typename T> struct Coef {
	T lr, eps, wd, sign;
};

// update is the contract for one element.
template <typename T> __device__ __forceinline__ void update(T &p, T g, T &s, const Coef<T> &c) {
	T gi = mul_rn(c.sign, g);
	if (c.wd != T(0)) {
		gi = fma_rn(c.wd, p, gi);
	}
	s = fma_rn(gi, gi, s);
	T stdv = add_rn(sqrt_rn(s), c.eps);
	p = sub_rn(p, div_rn(mul_rn(c.lr, gi), stdv));
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

template <typename T, typename G = SameGrad<T>>
__device__ void adagrad(T *__restrict__ param, const typename G::raw *__restrict__ grad, T *__restrict__ accum,
                        const u64 *__restrict__ meta, const T *__restrict__ coef, unsigned nranges, u64 units) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		// The last range whose first unit is <= u.
		unsigned lo = 0, hi = nranges;
		while (hi - lo > 1) {
			unsigned mid = (lo + hi) / 2;
			if (__ldg(&meta[3 * mid]) <= u) {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		const u64 e = __ldg(&meta[3 * lo + 1]) + 4 * (u - __ldg(&meta[3 * lo]));
		const u64 end = __ldg(&meta[3 * lo + 1]) + __ldg(&meta[3 * lo + 2]);
		const Coef<T> c = {__ldg(&coef[4 * lo]), __ldg(&coef[4 * lo + 1]), __ldg(&coef[4 * lo + 2]), __ldg(&coef[4 * lo + 3])};
		if (e + 4 <= end && e % 4 == 0) {
			Quad<T> p = load4(param + e), s = load4(accum + e);
			const Quad<T> g = G::load4(grad + e);
#pragma unroll
			for (int k = 0; k < 4; k++) {
				update(p.v[k], g.v[k], s.v[k], c);
			}
			store4(accum + e, s);
			store4(param + e, p);
		} else {
			for (u64 i = e; i < end && i < e + 4; i++) {
				T p = param[i], s = accum[i];
				update(p, G::widen(grad[i]), s, c);
				accum[i] = s;
				param[i] = p;
			}
		}
	}
}

extern "C" __global__ void adagrad_f32(float *param, const float *grad, float *accum, const u64 *meta, const float *coef,
                                       unsigned nranges, u64 units) {
	adagrad<float>(param, grad, accum, meta, coef, nranges, units);
}

extern "C" __global__ void adagrad_f64(double *param, const double *grad, double *accum, const u64 *meta, const double *coef,
                                       unsigned nranges, u64 units) {
	adagrad<double>(param, grad, accum, meta, coef, nranges, units);
}

extern "C" __global__ void adagrad_f32_bf16(float *param, const unsigned short *grad, float *accum, const u64 *meta,
                                            const float *coef, unsigned nranges, u64 units) {
	adagrad<float, BF16Grad>(param, grad, accum, meta, coef, nranges, units);
}

extern "C" __global__ void adagrad_f32_f16(float *param, const unsigned short *grad, float *accum, const u64 *meta,
                                           const float *coef, unsigned nranges, u64 units) {
	adagrad<float, F16Grad>(param, grad, accum, meta, coef, nranges, units);
}

// Row-sparse update (device.RowUpdate): rows[i] names a row of `width`
// elements of the tensor at `off`; values[i*width ..] is its gradient,
// duplicates already summed on the host and rows strictly increasing, so no
// two threads touch one element. Each thread takes 4 elements of one row.
template <typename T>
__device__ void adagrad_rows(T *__restrict__ param, T *__restrict__ accum, const u64 *__restrict__ rows,
                             const T *__restrict__ values, u64 off, u64 width, u64 per_row, u64 units, T lr, T eps,
                             T sign) {
	const Coef<T> c = {lr, eps, T(0), sign};
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 u = (u64)blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
		const u64 i = u / per_row, k = 4 * (u % per_row);
		const u64 e = off + __ldg(&rows[i]) * width + k, v = i * width + k;
		if (k + 4 <= width && e % 4 == 0 && v % 4 == 0) {
			Quad<T> p = load4(param + e), s = load4(accum + e);
			const Quad<T> g = load4(values + v);
#pragma unroll
			for (int j = 0; j < 4; j++) {
				update(p.v[j], g.v[j], s.v[j], c);
			}
			store4(accum + e, s);
			store4(param + e, p);
		} else {
			for (u64 j = 0; j < 4 && k + j < width; j++) {
				T p = param[e + j], s = accum[e + j];
				update(p, values[v + j], s, c);
				accum[e + j] = s;
				param[e + j] = p;
			}
		}
	}
}

extern "C" __global__ void adagrad_rows_f32(float *param, float *accum, const u64 *rows, const float *values, u64 off,
                                            u64 width, u64 per_row, u64 units, float lr, float eps, float sign) {
	adagrad_rows<float>(param, accum, rows, values, off, width, per_row, units, lr, eps, sign);
}

extern "C" __global__ void adagrad_rows_f64(double *param, double *accum, const u64 *rows, const double *values, u64 off,
                                            u64 width, u64 per_row, u64 units, double lr, double eps, double sign) {
	adagrad_rows<double>(param, accum, rows, values, off, width, per_row, units, lr, eps, sign);
}

// Gather (device.RowReader): dst[i*width + w] = src[off + rows[i]*width + w],
// so that a sparse model reads back only the rows it needs, in one copy.
template <typename T>
__device__ void gather_rows(T *__restrict__ dst, const T *__restrict__ src, const u64 *__restrict__ rows, u64 off,
                            u64 width, u64 total) {
	const u64 stride = (u64)gridDim.x * blockDim.x;
	for (u64 k = (u64)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
		const u64 i = k / width;
		dst[k] = src[off + __ldg(&rows[i]) * width + (k - i * width)];
	}
}

extern "C" __global__ void gather_rows_f32(float *dst, const float *src, const u64 *rows, u64 off, u64 width, u64 total) {
	gather_rows<float>(dst, src, rows, off, width, total);
}

extern "C" __global__ void gather_rows_f64(double *dst, const double *src, const u64 *rows, u64 off, u64 width,
                                           u64 total) {
	gather_rows<double>(dst, src, rows, off, width, total);
}
