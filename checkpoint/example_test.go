package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/adagrad-go/adagrad/checkpoint"
	"github.com/adagrad-go/adagrad/cpu"
	"github.com/adagrad-go/adagrad/optim"
)

// newModel returns an optimizer of one tensor, one step in.
func newModel(dev *cpu.Backend) *optim.Adagrad {
	opt, err := optim.New(dev, []optim.Param{{Name: "w", Init: []float32{1, 2, 3}}}, optim.LR(0.1))
	if err != nil {
		log.Fatal(err)
	}
	return opt
}

// Save an optimizer's state, then restore it into another optimizer of the
// same tensors.
func ExampleSave() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.safetensors")

	dev := cpu.New()
	defer dev.Close()
	opt := newModel(dev)
	if err := opt.SetGrad("w", []float32{0.5, -1, 2}); err != nil {
		log.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		log.Fatal(err)
	}
	st, err := opt.State()
	if err != nil {
		log.Fatal(err)
	}
	if err := checkpoint.Save(path, st, map[string]string{"note": "after one step"}); err != nil {
		log.Fatal(err)
	}

	restored, meta, err := checkpoint.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	other := newModel(dev)
	if err := other.LoadState(restored); err != nil {
		log.Fatal(err)
	}
	w := make([]float32, 3)
	if err := other.Read("w", w); err != nil {
		log.Fatal(err)
	}
	fmt.Println(meta["note"], w)
	// Output: after one step [0.9 2.1 2.9]
}

// Save a state in three parts, as three processes that each own a slice of
// every tensor would, and load it whole.
func ExampleSaveSharded() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	manifest := filepath.Join(dir, "run.json")

	dev := cpu.New()
	defer dev.Close()
	st, err := newModel(dev).State()
	if err != nil {
		log.Fatal(err)
	}
	parts, err := checkpoint.Split(st, 3)
	if err != nil {
		log.Fatal(err)
	}
	m := checkpoint.Manifest{Tensors: parts[0].Layout()}
	for _, p := range parts { // each rank saves its own part...
		sf, err := checkpoint.SaveShard(manifest, p)
		if err != nil {
			log.Fatal(err)
		}
		m.Shards = append(m.Shards, sf)
	}
	if err := checkpoint.SaveManifest(manifest, m); err != nil { // ...and one the manifest, last
		log.Fatal(err)
	}

	whole, _, err := checkpoint.LoadSharded(manifest)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(m.Shards), "parts:", whole.Tensors[0].Param)
	// Output: 3 parts: [1 2 3]
}
