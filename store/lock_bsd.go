//go:build unix && !linux

package store

// lockExperiment takes the lock as a flock of the holder file; see
// [Store.LockExperiment].
func lockExperiment(_, infoPath, name string) (*ExperimentLock, error) {
	return flockExperiment(infoPath, name)
}

// probeExperiment reports whether another open file description holds the
// flock lockExperiment takes.
func probeExperiment(_, infoPath, _ string) (bool, error) {
	return probeFlock(infoPath)
}
