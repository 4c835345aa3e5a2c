package checkpoint_test

import (
	"fmt"
	"log"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

// Continue in Go a run that PyTorch started: testdata/torch_adagrad.safetensors
// was written by examples/torch/adagrad_safetensors.py's save_adagrad from a
// torch.optim.Adagrad after two steps.
func ExampleImportTorchFile() {
	st, info, err := checkpoint.ImportTorchFile("testdata/torch_adagrad.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	dev := cpu.New()
	defer dev.Close()
	// An optimizer of the same names, shapes and dtypes; LoadState brings
	// in the values, the step counts and PyTorch's hyperparameters.
	opt, err := optim.New(dev, []optim.Param{
		{Name: "emb", Init: make([]float32, 6), Shape: []int{3, 2}},
		{Name: "bias", Init: make([]float32, 1)},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	if err := opt.LoadState(st); err != nil {
		log.Fatal(err)
	}
	for _, t := range opt.Tensors() {
		fmt.Printf("%s %v: step %d, lr %g, initial accumulator %g\n", t.Name, t.Shape, t.Step, t.Hyper.LR, t.Hyper.InitialAccumulatorValue)
	}
	fmt.Printf("checksum %q (PyTorch writes none)\n", info.Checksum)
	// Output:
	// emb [3 2]: step 2, lr 0.1, initial accumulator 0.1
	// bias [1]: step 2, lr 0.1, initial accumulator 0.1
	// checksum "" (PyTorch writes none)
}
