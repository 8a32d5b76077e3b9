//go:build !unix

package store

import "os"

// tryFlock is a no-op where flock(2) is not available: experiments are not
// protected against two concurrent runs there.
func tryFlock(*os.File) (bool, error) { return true, nil }

func unflock(*os.File) error { return nil }

// lockExperiment uses the holder file, which locks nothing here.
func lockExperiment(_, infoPath, name string) (*ExperimentLock, error) {
	return flockExperiment(infoPath, name)
}

// probeExperiment reports a holder: locks lock nothing here, so whether a
// runner is at work cannot be told, and it is not to be taken for gone.
func probeExperiment(_, _, _ string) (bool, error) { return true, nil }

func probeFlock(string) (bool, error) { return false, nil }
