// Package collect builds the metrics collectors of an experiment's trials,
// one [metrics.Collector] per trial, for the collector kinds of Katib that
// read somewhere other than the trial's output: File (a file of text or
// JSON lines), TensorFlowEvent (event files under a directory),
// PrometheusMetric (an endpoint the trial serves) and Push (an endpoint the
// trial reports to). It owns the typed set of collector kinds ([Kind],
// [Kinds]) and what each needs from the trial: [Collectors.ForTrial]
// returns the environment variables ([EnvMetricsPath], [EnvMetricsPort],
// the Push endpoint's URL and token) and the mounts the trial must be given,
// and leaves applying them to the trial's spec to the caller. It reads
// only what trials leave on this machine and never parses a trial's output
// (the StdOut kind, which the runner parses as it streams); it knows
// nothing of experiments, whose runner turns a metricsCollectorSpec into a
// [Config].
package collect
