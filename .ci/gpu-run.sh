#!/usr/bin/env bash
# run.sh of the GPU bundle that .ci/gpu-bundle builds: the adagrad GPU
# checks in one command, on a machine with an NVIDIA driver and no Go.
#
#   OUT=/some/dir bash run.sh [STEP ...]
#
# Steps, each under its own time limit (seconds), together 580 s, inside
# the device tool's 10 minutes a command:
#   gpu (10)           nvidia-smi sees a GPU
#   unpack (30)        the binaries and libraries, out of xz
#   devices (20)       every backend built in finds a device (bench -list -require)
#   nvrtc (75)         NVRTC compiles kernels/adagrad.cu for every architecture; PTX checks
#   cuda-tests (90)   the CUDA conformance suite and the backend's path tests
#   opencl-tests (60)  the OpenCL conformance suite and path tests (NVIDIA's OpenCL)
#   cuda-bench (110)   go test -bench: steps up to 2^28, per-call costs, transfers, sparse, logreg step
#   opencl-bench (45)  go test -bench: steps up to 2^28, sparse
#   bench (140)        examples/bench on cuda and opencl, with PyTorch where python3 imports it
# Naming steps runs only those (gpu and unpack always run first).
#
# Under $OUT (default: ./out beside this script), at most 8 files:
# status.txt (one line per step: name, exit status, seconds; a last line
# ALL with the first failed step's status, 0 when all passed), log.txt
# (everything printed), bench.csv and bench.png. The exit status is the first failed step's: non-zero when any
# step failed, timed out (124 or 137), found no device, or was not built.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)

# Internal commands, which step runs under timeout as processes of their
# own: --gotest BINARY ARGS... and --unpack DIR.
if [ "${1:-}" = "--gotest" ]; then
	# A test binary, failed when a test skipped for want of a device: a
	# backend that was built must find one.
	shift
	last=$(mktemp)
	"$@" 2>&1 | tee "$last"
	rc=${PIPESTATUS[0]}
	if grep -q -e 'no device of this backend here' -e 'no OpenCL device' "$last"; then
		echo "run.sh: a test skipped for want of a device: the step fails"
		[ "$rc" -ne 0 ] || rc=3
	fi
	rm -f "$last"
	exit "$rc"
fi
if [ "${1:-}" = "--unpack" ]; then
	# The binaries and libraries into DIR: xz, else Python's lzma (the GPU
	# image has python3).
	for f in "$here"/*.xz; do
		dst=$2/$(basename "${f%.xz}")
		if command -v xz >/dev/null; then
			xz -dc "$f" >"$dst" || exit 1
		else
			python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$f" "$dst" || exit 1
		fi
	done
	chmod +x "$2"/*.test "$2"/bench && ls -la "$2"
	exit
fi

out=${OUT:-$here/out}
mkdir -p "$out"
log=$out/log.txt
status=$out/status.txt
: >"$log"
: >"$status"
failed=0
bin=$(mktemp -d)

note() { echo "$*" | tee -a "$log"; }

# step NAME LIMIT COMMAND...: runs COMMAND with its output in the log,
# under LIMIT seconds, and records its exit status.
step() {
	local name=$1 limit=$2 rc start
	shift 2
	note "===== $name (limit ${limit}s) $(date -u +%T)"
	start=$(date +%s)
	timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	record "$name" "$rc" "$(($(date +%s) - start))"
}

record() { # record NAME RC SECONDS [WHY]
	echo "$1 $2 ${3}s${4:+ $4}" | tee -a "$status" >>"$log"
	if [ "$2" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=$2
	fi
}

finish() {
	echo "ALL $failed" >>"$status"
	note "===== status"
	cat "$status"
	rm -rf "$bin"
	exit "$failed"
}

want() { # want STEP: the step was asked for (or no step was named)
	[ "${#steps[@]}" -eq 0 ] && return 0
	local s
	for s in "${steps[@]}"; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}

steps=("$@")
cat "$here/MANIFEST" >>"$log" 2>/dev/null
step gpu 10 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
if ! grep -q '^gpu 0 ' "$status"; then
	note "run.sh: no NVIDIA GPU here (the -tags cuda binaries end at start without a driver)"
	finish
fi
step unpack 30 bash "$here/run.sh" --unpack "$bin"
grep -q '^unpack 0 ' "$status" || finish
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVIDIA's OpenCL through the ICD loader carried here: the image's ICD file
# names libnvidia-opencl.so.1; this folder says so whatever the image has.
icd=$(mktemp -d)
echo libnvidia-opencl.so.1 >"$icd/nvidia.icd"
export OCL_ICD_VENDORS=$icd
export ADAGRAD_BENCH_MAX_LOG2=28 PYTHONUNBUFFERED=1

opencl=yes
require=cuda,opencl
if [ ! -f "$bin/opencl.test" ]; then
	opencl=""
	require=cuda
fi
if want devices; then
	step devices 20 "$bin/bench" -list -require "$require"
fi
if want nvrtc; then
	step nvrtc 75 bash "$here/run.sh" --gotest "$bin/nvrtc.test" -test.v -test.timeout 70s
fi
if want cuda-tests; then
	step cuda-tests 90 bash "$here/run.sh" --gotest "$bin/cuda.test" -test.v -test.timeout 85s
fi
if want opencl-tests; then
	if [ -n "$opencl" ]; then
		step opencl-tests 60 bash "$here/run.sh" --gotest "$bin/opencl.test" -test.v -test.timeout 55s
	else
		record opencl-tests 127 0 "not built: $(grep '^not built: opencl' "$here/MANIFEST")"
	fi
fi
if want cuda-bench; then
	step cuda-bench 110 bash "$here/run.sh" --gotest "$bin/cuda.test" -test.v -test.run '^$' -test.bench . -test.benchtime 300ms -test.timeout 105s
fi
if want opencl-bench; then
	if [ -n "$opencl" ]; then
		step opencl-bench 45 bash "$here/run.sh" --gotest "$bin/opencl.test" -test.v -test.run '^$' -test.bench . -test.benchtime 200ms -test.timeout 40s
	else
		record opencl-bench 127 0 "not built"
	fi
fi
if want bench; then
	devices=cuda
	[ -n "$opencl" ] && devices=cuda,opencl
	step bench 140 "$bin/bench" -devices "$devices" -require "$require" -max 28 -time 200ms \
		-python python3 -csv "$out/bench.csv" -png "$out/bench.png"
fi
finish
