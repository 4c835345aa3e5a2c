package cpu_test

import (
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/device"
	"github.com/adagrad-go/adagrad/device/devicetest"
	"github.com/adagrad-go/adagrad/optim/optimtest"
)

func open() (device.Backend, error) { return cpu.New(), nil }

func TestConformance(t *testing.T) { devicetest.Run(t, open) }

func TestOptimizer(t *testing.T) { optimtest.Run(t, open) }

func BenchmarkAdagrad(b *testing.B) { devicetest.Bench(b, open) }

func BenchmarkSparse(b *testing.B) { devicetest.BenchSparse(b, open) }
