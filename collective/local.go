package collective

import (
	"os"
	"strconv"
)

// localRankVars are the environment variables in which launchers tell a
// process its rank among the processes of the job on its machine: Open
// MPI's mpirun, MPICH's Hydra, Slurm's srun.
var localRankVars = []string{"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}

// LocalRank returns this process's rank among the processes of its job on
// this machine, as its launcher says it (Open MPI's
// OMPI_COMM_WORLD_LOCAL_RANK, MPICH's MPI_LOCALRANKID, Slurm's
// SLURM_LOCALID), and false outside a launcher. A program that runs one
// rank per GPU picks its GPU by it (see sharded.LocalDevice).
func LocalRank() (int, bool) {
	for _, v := range localRankVars {
		if s, ok := os.LookupEnv(v); ok {
			if r, err := strconv.Atoi(s); err == nil && r >= 0 {
				return r, true
			}
		}
	}
	return 0, false
}
