package device_test

import (
	"errors"
	"fmt"
	"log"

	_ "github.com/adagrad-go/adagrad/cpu" // registers "cpu"; import cuda and opencl too, built with their tags
	"github.com/adagrad-go/adagrad/device"
)

// Open a device by spec: "auto" picks the first CUDA device, else the
// first OpenCL GPU, else the CPU; "" reads $ADAGRAD_DEVICE first. What the
// backend supports is data, read before use.
func ExampleOpen() {
	dev, err := device.Open("cpu") // or "auto", "cuda:1", "opencl:0:1", ""
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	caps := dev.Capabilities()
	fmt.Println("float64:", caps.HasDType(device.Float64))
	fmt.Println("row-sparse Adagrad on float32:", caps.Supports(device.Adagrad, device.Float32, true))

	// A backend that is not linked in says so; the error also lists the
	// registered ones.
	_, err = device.Open("tpu")
	fmt.Println(errors.Is(err, device.ErrUnknownBackend))
	// Output:
	// float64: true
	// row-sparse Adagrad on float32: true
	// true
}
