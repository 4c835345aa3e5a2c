// Package collectivetest is the conformance suite every collective.Comm
// implementation passes, in the manner of gonum's testblas: each check runs
// on every rank with that rank's Comm and compares what arrives with what
// every rank can compute on its own.
//
//	collectivetest.RunWorld(t, comms) // the ranks of one process (InProcess)
//	collectivetest.Run(t, world)      // this process's rank (under mpirun)
package collectivetest
