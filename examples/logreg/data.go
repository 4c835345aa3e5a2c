package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
)

// dataset is what a run trains and tests on.
type dataset struct {
	train, test []example
	features    int
	source      []string // where the samples came from, for the report
	heldOut     bool     // the test set is a held-out part of the data, not a -test file
}

// loadData generates the data or reads the -data and -test files, and
// splits off the held-out test set when there is no -test file.
func loadData(c config) (*dataset, error) {
	if c.train == "" {
		all := generate(c.samples, c.features, c.perSample, 1)
		if c.writeData != "" {
			if err := writeFile(c.writeData, all); err != nil {
				return nil, err
			}
		}
		d := &dataset{features: c.features, heldOut: true, source: []string{
			fmt.Sprintf("%d generated samples of %d features, %d per sample, whose frequencies", c.samples, c.features, c.perSample),
			"follow a power law (a few features in most samples, most in very few);",
			"labels drawn from a hidden logistic model",
		}}
		d.train, d.test = holdOut(all, 1)
		return d, nil
	}
	all, features, err := readFile(c.train)
	if err != nil {
		return nil, err
	}
	d := &dataset{features: features, source: []string{fmt.Sprintf("%s: %d samples, %d features", c.train, len(all), features)}}
	if c.test == "" {
		d.heldOut = true
		if _, err := splitSizes(len(all), true, c.batch); err != nil {
			return nil, fmt.Errorf("%s: %w", c.train, err)
		}
		d.train, d.test = holdOut(all, 1)
		return d, nil
	}
	if _, err := splitSizes(len(all), false, c.batch); err != nil {
		return nil, fmt.Errorf("%s: %w", c.train, err)
	}
	// Shuffled too: the validation split is its last fifth.
	d.train = shuffled(all, 1)
	test, testFeatures, err := readFile(c.test)
	if err != nil {
		return nil, err
	}
	d.test, d.features = test, max(features, testFeatures)
	d.source = append(d.source, fmt.Sprintf("%s: %d test samples, %d features", c.test, len(test), testFeatures))
	return d, nil
}

func readFile(path string) ([]example, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	d, n, err := readLIBSVM(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return d, n, nil
}

func writeFile(path string, data []example) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeLIBSVM(f, data); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// holdOut shuffles data with a fixed seed and splits off its last fifth,
// held out for testing or validating. Real LIBSVM files are often sorted by
// label: in file order, the held-out part would hold one class only.
func holdOut(data []example, seed uint64) (rest, held []example) {
	s := shuffled(data, seed)
	cut := len(s) - len(s)/5
	return s[:cut], s[cut:]
}

// shuffled returns the samples in an order drawn from seed.
func shuffled(data []example, seed uint64) []example {
	s := slices.Clone(data)
	rand.New(rand.NewPCG(seed, 17)).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// splitSizes checks that n samples can be split: a held-out test fifth
// when heldOut (no -test file), a validation fifth of the rest, and at
// least a batch left to tune on. It returns the training samples.
func splitSizes(n int, heldOut bool, batch int) (train int, err error) {
	train = n
	if heldOut {
		train = n - n/5
	}
	if (heldOut && n/5 < 1) || train/5 < 1 || train-train/5 < batch {
		what := "a validation fifth"
		if heldOut {
			what = "a test fifth, a validation fifth of the rest"
		}
		return 0, fmt.Errorf("%d samples: too few to hold out %s and train on a batch of %d", n, what, batch)
	}
	return train, nil
}
