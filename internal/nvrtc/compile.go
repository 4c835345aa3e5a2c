//go:build cuda

package nvrtc

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorgonia.org/cu/nvrtc"
)

// Options are the NVRTC options of every kernel: IEEE division and square
// root, no contraction of multiply and add, no fast math. Results then
// agree bitwise with the CPU backend.
var Options = []string{"--fmad=false", "--prec-div=true", "--prec-sqrt=true", "--std=c++14"}

// Image is a compiled module: a CUBIN for the device's own architecture
// when this NVRTC knows it, else PTX for the newest architecture it knows
// (the driver compiles PTX for newer devices).
type Image struct {
	Data []byte
	PTX  bool // Data is PTX text rather than a CUBIN
	Arch int  // the architecture compiled for, 10*major+minor
}

// Version returns NVRTC's version as major*1000 + minor*10, as CUDA_VERSION
// counts.
func Version() (int, error) {
	major, minor, err := nvrtc.Version()
	if err != nil {
		return 0, fmt.Errorf("nvrtc: version: %w", err)
	}
	return major*1000 + minor*10, nil
}

// Target picks what to compile for a device of compute capability cc
// (10*major+minor): the device itself when supported, else the newest
// supported architecture older than it, as PTX.
func Target(cc int, supported []int) (arch int, ptx bool, err error) {
	if slices.Contains(supported, cc) {
		return cc, false, nil
	}
	arch = -1
	for _, a := range supported {
		if a <= cc && a > arch {
			arch = a
		}
	}
	if arch < 0 {
		return 0, false, fmt.Errorf("nvrtc: compute capability %d.%d is older than any this NVRTC supports (%v)", cc/10, cc%10, supported)
	}
	return arch, true, nil
}

// Compile compiles src (named name in messages) for arch, as a CUBIN or as
// PTX. A compiler error carries NVRTC's log.
func Compile(src, name string, arch int, ptx bool) (Image, error) {
	prog, err := nvrtc.CreateProgram(src, name)
	if err != nil {
		return Image{}, fmt.Errorf("nvrtc: create %s: %w", name, err)
	}
	defer prog.Destroy()
	target := fmt.Sprintf("--gpu-architecture=sm_%d", arch)
	if ptx {
		target = fmt.Sprintf("--gpu-architecture=compute_%d", arch)
	}
	opts := append(slices.Clone(Options), target)
	if err := prog.Compile(opts...); err != nil {
		log, _ := prog.GetLog()
		return Image{}, fmt.Errorf("nvrtc: compiling %s (%s): %w\n%s", name, strings.Join(opts, " "), err, log)
	}
	img := Image{PTX: ptx, Arch: arch}
	if ptx {
		text, err := prog.GetPTX()
		if err != nil {
			return Image{}, fmt.Errorf("nvrtc: %s: %w", name, err)
		}
		img.Data = []byte(strings.TrimRight(text, "\x00"))
	} else if img.Data, err = cubin(&prog); err != nil {
		return Image{}, err
	}
	if len(img.Data) == 0 {
		return Image{}, errors.New("nvrtc: empty output for " + name)
	}
	return img, nil
}
