package main

import (
	"math"
	"math/rand/v2"
	"slices"
)

// generate makes a sparse binary classification problem whose feature
// frequencies follow a power law, as words and ids in real sparse data do:
// a few features appear in most samples, most appear rarely. Labels come
// from a hidden logistic model, so the best possible log-loss is well
// below log 2. perSample must be at most features/2 (see
// config.validateGenerated).
func generate(samples, features, perSample int, seed uint64) []example {
	rng := rand.New(rand.NewPCG(seed, 99))
	truth := make([]float64, features)
	for i := range truth {
		truth[i] = 2 * rng.NormFloat64()
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(features-1))
	data := make([]example, samples)
	for s := range data {
		seen := map[int64]bool{}
		for len(seen) < perSample {
			seen[int64(zipf.Uint64())] = true
		}
		ex := &data[s]
		for f := range seen {
			ex.features = append(ex.features, f)
		}
		slices.Sort(ex.features)
		z := 0.0
		for _, f := range ex.features {
			ex.values = append(ex.values, 1)
			z += truth[f]
		}
		if rng.Float64() < 1/(1+math.Exp(-z/math.Sqrt(float64(perSample)))) {
			ex.label = 1
		}
	}
	return data
}
