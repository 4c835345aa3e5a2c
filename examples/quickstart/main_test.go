package main

import (
	"io"
	"testing"

	"github.com/adagrad-go/adagrad/cpu"
)

func TestLossFalls(t *testing.T) {
	dev := cpu.New()
	defer dev.Close()
	first, last, err := fit(dev, 300, 0.5, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first/100) {
		t.Errorf("loss went from %v to %v; want it to fall a hundredfold", first, last)
	}
}
