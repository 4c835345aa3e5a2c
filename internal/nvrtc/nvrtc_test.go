//go:build cuda

package nvrtc

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/kernels"
)

// TestKernelsCompile compiles every .cu in kernels/ on the CPU (no GPU, no
// driver) for every architecture from Volta on that this NVRTC supports,
// as PTX, and as CUBIN for the data-centre parts.
func TestKernelsCompile(t *testing.T) {
	names, err := fs.Glob(kernels.Files, "*.cu")
	if err != nil || len(names) == 0 {
		t.Fatalf("no .cu files in kernels/: %v", err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(kernels.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { compileAll(t, name, string(src)) })
	}
}

// compileAll compiles src for every architecture at once, on up to
// GOMAXPROCS goroutines (NVRTC is thread-safe, and the kernels of every
// parameter and gradient dtype take seconds per architecture).
func compileAll(t *testing.T, name, src string) {
	version, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	archs, err := SupportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NVRTC %d.%d supports %v", version/1000, version%1000/10, archs)
	var tried int
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	compile := func(arch int, ptx bool) {
		slots <- struct{}{}
		defer func() { <-slots }()
		img, err := Compile(src, name, arch, ptx)
		switch {
		case err != nil:
			t.Errorf("arch %d (PTX %v): %v", arch, ptx, err)
		case ptx && name == "adagrad.cu":
			checkAdagradPTX(t, arch, string(img.Data))
		case !ptx && !bytes.HasPrefix(img.Data, []byte("\x7fELF")):
			t.Errorf("sm_%d: CUBIN does not start with an ELF header", arch)
		}
	}
	for _, arch := range archs {
		if arch < 70 {
			continue
		}
		tried++
		wg.Go(func() { compile(arch, true) })
		if arch == 80 || arch == 90 {
			wg.Go(func() { compile(arch, false) })
		}
	}
	wg.Wait()
	if tried == 0 {
		t.Fatalf("NVRTC supports no architecture from Volta on: %v", archs)
	}
}

// checkAdagradPTX checks that the code keeps the numerics contract: IEEE
// division and square root, explicit fused multiply-adds, no
// approximations, no flush-to-zero, no contracted multiply-add forms. It
// also checks that the range tables passed by value stay in parameter space:
// no kernel uses local memory (a by-value table copied to each thread's
// stack would cost more than the table saves).
func checkAdagradPTX(t *testing.T, arch int, ptx string) {
	t.Helper()
	for _, want := range []string{
		".entry update_f32(", ".entry update_f64(", ".entry update_f32_bf16(", ".entry update_f32_f16(",
		".entry update_f32_inline(", ".entry update_f64_inline(", ".entry update_f32_bf16_inline(",
		".entry update_f32_f16_inline(", "ld.param.f32", "ld.param.f64",
		".entry update_bf16_f32(", ".entry update_bf16_bf16(", ".entry update_f16_f32(", ".entry update_f16_f16(",
		".entry update_bf16_f32_inline(", ".entry update_bf16_bf16_inline(", ".entry update_f16_f32_inline(",
		".entry update_f16_f16_inline(", ".entry update_units_f32(", ".entry update_units_f64(",
		".entry update_units_f32_bf16(", ".entry update_units_f32_f16(", ".entry update_units_bf16_f32(",
		".entry update_units_bf16_bf16(", ".entry update_units_f16_f32(", ".entry update_units_f16_f16(",
		".entry update_rows_f32(", ".entry update_rows_f64(", ".entry update_rows_bf16(", ".entry update_rows_f16(",
		"cvt.f32.f16", "cvt.rn.f16.f32",
		".entry gather_rows_f32(", ".entry gather_rows_f64(", ".entry gather_rows_u16(",
		"div.rn.f32", "sqrt.rn.f32", "fma.rn.f32",
		"div.rn.f64", "sqrt.rn.f64", "fma.rn.f64",
		"ld.global.v4.f32", "st.global.v4.f32", // the float4 path
	} {
		if !strings.Contains(ptx, want) {
			t.Errorf("compute_%d: PTX lacks %q", arch, want)
		}
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`\.approx`), regexp.MustCompile(`\.ftz`), regexp.MustCompile(`\bmad\.`),
		regexp.MustCompile(`\brcp\.`), regexp.MustCompile(`\brsqrt\.`),
	} {
		if loc := bad.FindStringIndex(ptx); loc != nil {
			t.Errorf("compute_%d: PTX holds %q, which breaks bitwise agreement", arch, ptx[loc[0]:loc[1]])
		}
	}
	if loc := regexp.MustCompile(`\.local\b|__local_depot`).FindStringIndex(ptx); loc != nil {
		t.Errorf("compute_%d: PTX uses local memory (%q): a by-value table copied per thread", arch, ptx[loc[0]:loc[1]])
	}
	// The kernels of float32 and float64 parameters' element work hold no
	// call (the row and block units are the update_units_* kernels', the
	// stochastic rounding the half parameters'), so that their registers,
	// and the plain step's speed, are the element code's alone.
	for _, entry := range []string{"update_f32", "update_f64", "update_f32_inline", "update_f64_inline",
		"update_f32_bf16", "update_f32_bf16_inline", "update_f32_f16", "update_f32_f16_inline"} {
		if body := entryBody(ptx, entry); regexp.MustCompile(`\bcall(\.uni)?\b`).MatchString(body) {
			t.Errorf("compute_%d: %s holds a call", arch, entry)
		}
	}
	// Row updates and gathers may read their row indices (and, for small
	// steps, their values and output) in mapped host memory: never through
	// the read-only cache.
	for _, entry := range []string{"update_rows_f32", "update_rows_f64", "update_rows_bf16", "update_rows_f16",
		"gather_rows_f32", "gather_rows_f64", "gather_rows_u16"} {
		if body := entryBody(ptx, entry); strings.Contains(body, "ld.global.nc.u64") || strings.HasPrefix(entry, "update") && strings.Contains(body, "ld.global.nc") {
			t.Errorf("compute_%d: %s reads rows or values with ld.global.nc", arch, entry)
		}
	}
}

// entryBody returns the PTX of one kernel, from its .entry to the next.
func entryBody(ptx, name string) string {
	start := strings.Index(ptx, ".entry "+name+"(")
	if start < 0 {
		return ""
	}
	body := ptx[start+1:]
	if end := strings.Index(body, ".entry "); end >= 0 {
		body = body[:end]
	}
	return body
}

func TestTarget(t *testing.T) {
	supported := []int{50, 60, 70, 80, 90}
	cases := []struct {
		cc   int
		arch int
		ptx  bool
		err  bool
	}{
		{90, 90, false, false},
		{86, 80, true, false},  // not supported itself: newest older, as PTX
		{100, 90, true, false}, // newer than NVRTC: PTX the driver can JIT
		{35, 0, false, true},
	}
	for _, c := range cases {
		arch, ptx, err := Target(c.cc, supported)
		if (err != nil) != c.err || arch != c.arch || ptx != c.ptx {
			t.Errorf("Target(%d) = %d, %v, %v; want %d, %v, error %v", c.cc, arch, ptx, err, c.arch, c.ptx, c.err)
		}
	}
}

func TestCompileError(t *testing.T) {
	_, err := Compile(`extern "C" __global__ void k() { undefined_name = 1; }`, "broken.cu", 70, true)
	if err == nil || !strings.Contains(err.Error(), "undefined_name") {
		t.Errorf("compile error without NVRTC's log: %v", err)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(CacheEnv, dir)
	first, cached, err := CompileCached(kernels.CUDA, "adagrad.cu", 80, true)
	if err != nil || cached {
		t.Fatalf("first compile: cached %v, err %v", cached, err)
	}
	second, cached, err := CompileCached(kernels.CUDA, "adagrad.cu", 80, true)
	if err != nil || !cached || !bytes.Equal(first.Data, second.Data) {
		t.Fatalf("second compile: cached %v, err %v, same %v", cached, err, bytes.Equal(first.Data, second.Data))
	}
	// Another source, architecture or output kind is another entry.
	if _, cached, _ := CompileCached(kernels.CUDA+"\n", "adagrad.cu", 80, true); cached {
		t.Errorf("an edited source hit the cache")
	}
	if _, cached, _ := CompileCached(kernels.CUDA, "adagrad.cu", 90, true); cached {
		t.Errorf("another architecture hit the cache")
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.ptx"))
	if len(entries) != 3 {
		t.Errorf("%d cache entries, want 3", len(entries))
	}
	if err := Forget(kernels.CUDA, 80, true); err != nil {
		t.Fatal(err)
	}
	if _, cached, _ := CompileCached(kernels.CUDA, "adagrad.cu", 80, true); cached {
		t.Errorf("a forgotten entry hit the cache")
	}
	t.Setenv(CacheEnv, "off")
	if CacheDir() != "" {
		t.Errorf("cache not off")
	}
	if _, cached, _ := CompileCached(kernels.CUDA, "adagrad.cu", 80, true); cached {
		t.Errorf("cache off, yet hit")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}
