package collective

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Driver opens the world of the process's launcher (mpirun for "mpi").
type Driver func() (Comm, error)

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available under name. Drivers call it from
// init; as database/sql's Register does, it panics when the driver is nil
// or the name is empty, "one" or taken: programming errors, found at
// start-up.
func Register(name string, d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	switch {
	case d == nil:
		panic(fmt.Sprintf("collective: Register %q: nil driver", name))
	case name == "" || name == "one":
		panic(fmt.Sprintf("collective: Register: invalid driver name %q", name))
	}
	if _, dup := drivers[name]; dup {
		panic(fmt.Sprintf("collective: Register called twice for driver %q", name))
	}
	drivers[name] = d
}

// Drivers returns the sorted names of the registered drivers ("one" is
// always there and not listed).
func Drivers() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open returns the world named: "one" for the world of one, a registered
// driver's name ("mpi"), or "" for the only registered driver, or the world
// of one when none is registered. So a program that imports
// collective/mpi and opens "" runs under mpirun when built with -tags mpi,
// and alone without it, through the same code.
func Open(name string) (Comm, error) {
	if name == "one" {
		return One(), nil
	}
	names := Drivers()
	if name == "" {
		switch len(names) {
		case 0:
			return One(), nil
		case 1:
			name = names[0]
		default:
			return nil, fmt.Errorf("%w: \"\" is ambiguous among %s", ErrUnknownDriver, strings.Join(names, ", "))
		}
	}
	driversMu.RLock()
	d, ok := drivers[name]
	driversMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (forgotten import or build tag?); registered: one %s", ErrUnknownDriver, name, strings.Join(names, " "))
	}
	return d()
}
