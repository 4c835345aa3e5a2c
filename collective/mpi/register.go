//go:build mpi

package mpi

import "github.com/adagrad-go/adagrad/collective"

func init() {
	collective.Register("mpi", func() (collective.Comm, error) { return Open(Options{}) })
}
