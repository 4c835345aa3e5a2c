//go:build !amd64 || purego

package cpu

import "github.com/adagrad-go/adagrad/device"

// familyVector: no vector kernels on this architecture.
func familyVector(map[device.Rule]ruleKernel) {}
