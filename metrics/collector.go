package metrics

import "context"

// A Collector reads one trial's metrics from a source other than the
// trial's output: a file the trial writes, an endpoint it serves or one it
// reports to. It is built for one trial with the functions it passes what
// it reads to; package metrics/collect holds the implementations.
type Collector interface {
	// Collect passes each value it reads, and each problem (an unreadable
	// file, a value that is not a number), to the functions the collector
	// was built with, until ctx is done; then it reads once more, so that
	// what the trial wrote just before it ended counts, and returns. It is
	// called once, on a goroutine of its own, while the trial's workload
	// runs.
	Collect(ctx context.Context)
}
