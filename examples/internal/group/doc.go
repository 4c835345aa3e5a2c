// Package group is what the examples share to run either as one process or
// as the ranks of an MPI job, through the same code:
//
//	go run ./examples/logreg                         # one process: the world of one
//	go build -tags mpi -o logreg ./examples/logreg
//	mpirun -np 3 ./logreg                            # three ranks, each its slice of every batch
//
// Open opens the world (collective.Open: MPI when built with -tags mpi and
// started by mpirun, else the world of one), sends the output of every
// rank but 0 to io.Discard, names the rank in errors, and, in a group of
// more than one, turns the launcher's SIGTERM (mpirun's way of ending a
// job when one rank fails) into an interrupt of the blocked collective
// calls, so that every rank says why it stopped. Device picks each rank's
// device (sharded.LocalDevice: one rank per GPU). Slices cuts a global
// batch as the ranks cut it. Paper counts, from the batches and the owners
// of the rows, the bytes each rank sends in a step; Report prints them
// beside what was measured.
package group
