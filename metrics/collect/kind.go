package collect

// Kind is a metrics collector kind, with Katib's names: the value of an
// experiment's spec.metricsCollectorSpec.collector.kind.
type Kind string

// The collector kinds Katib accepts.
const (
	// StdOut parses the trial's output (the primary container's log).
	StdOut Kind = "StdOut"
	// File follows a file of text or JSON lines the trial writes.
	File Kind = "File"
	// TensorFlowEvent follows the TensorFlow event files the trial writes
	// under a directory.
	TensorFlowEvent Kind = "TensorFlowEvent"
	// PrometheusMetric scrapes the Prometheus endpoint the trial serves.
	PrometheusMetric Kind = "PrometheusMetric"
	// Custom is a sidecar container Katib injects into the trial's pod;
	// tune cannot run one.
	Custom Kind = "Custom"
	// Push serves an endpoint the trial sends its metrics to.
	Push Kind = "Push"
)

// Kinds returns the collector kinds Katib accepts, in Katib's order:
// StdOut, File, TensorFlowEvent, PrometheusMetric, Custom, Push.
func Kinds() []Kind {
	return []Kind{StdOut, File, TensorFlowEvent, PrometheusMetric, Custom, Push}
}

// Supported reports whether tune can collect with kind k: every kind
// Katib accepts but Custom.
func (k Kind) Supported() bool {
	switch k {
	case StdOut, File, TensorFlowEvent, PrometheusMetric, Push:
		return true
	}
	return false
}

// OnHost reports whether a collector of kind k reads what a trial leaves on
// the machine running tune (files, loopback endpoints), so that it needs
// an executor whose trials run there.
func (k Kind) OnHost() bool {
	switch k {
	case File, TensorFlowEvent, PrometheusMetric, Push:
		return true
	}
	return false
}

// ReadsOutput reports whether the trial's metrics are in its output
// (StdOut, or no kind, which means StdOut), which the runner parses as it
// streams, so that there is no [metrics.Collector] to build.
func (k Kind) ReadsOutput() bool {
	return k == "" || k == StdOut
}
