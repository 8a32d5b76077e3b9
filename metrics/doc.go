// Package metrics turns a trial's output into metric values, following the
// conventions of Kubeflow Katib's metrics collectors.
//
// # The observation log
//
// Each value a trial reports is a [Log]: the metric's name, a finite number
// (or, for a value a custom text format matched that is not a number, the
// text: [Log.Text]), the step when known (-1 otherwise) and the time it was reported, in UTC.
// A trial's logs, in order, are its observation log, which the caller
// persists. A [Recorder] collects the logs of one running trial: it keeps a
// running [Summary] per metric and holds the logs not yet persisted until
// the caller drains them with [Recorder.Drain]. It bounds the observation
// log per metric: beyond the bound, a metric's logs are thinned to evenly
// spaced ones plus those of its smallest, largest and latest values, while
// the summaries still cover every value.
//
// # Strategies
//
// A metric is usually reported many times, once per epoch say, but a trial
// has one value per metric. The metric's [Strategy] picks it, with Katib's
// names: [Min] (the smallest value reported), [Max] (the largest) or
// [Latest] (the last). Metrics without a configured strategy use Latest,
// as [Recorder.Value] does. [Summary] keeps all three, so the strategy can
// be applied at any time without keeping every value.
//
// # The text format
//
// Trials usually print their metrics as text, to standard output or a file.
// A [TextParser] reads such lines with Katib's metricsFormat regular
// expressions: each has a capture group for the name and one for the value,
// and [DefaultFilter], the default, matches name=value pairs:
//
//	epoch 1: loss=0.23 accuracy=0.91
//	2024-05-01T12:00:00Z val-loss = -1.5e-2
//
// A line may hold several pairs; only the metrics of interest (the
// objective and additional metrics) are kept. A line that starts with an
// RFC 3339 timestamp gives its logs that time. Values that are not finite
// numbers are reported back to the caller instead of being recorded, except
// that a custom format's value that is text, not a number, is recorded as
// text, as Katib keeps it (DARTS's Best-Genotype=Genotype(...)).
//
// # Other sources
//
// A [JSONParser] reads the JSON lines of Katib's File collector (string or
// number values, a timestamp, a step), [ParsePipelineMetrics] the metrics
// document of a Kubeflow Pipelines v1 component, and [ScrapePrometheus] a
// trial's Prometheus endpoint, with Prometheus' own text parser. Package
// push serves the endpoint of Katib's Push collector, where trials send
// their metrics themselves. All of them give [Log] values, and report what
// is not a finite number instead of recording it.
//
// A [LineWriter] sits between a process's output and the parser: it is an
// io.Writer that cuts the byte stream into lines, with memory bounded
// however long a line is, so that a trial printing megabytes without a
// newline cannot exhaust the collector.
//
// # Collectors
//
// A [Collector] reads one trial's metrics from a source other than its
// output while the trial runs; package metrics/collect builds them, one per
// trial, for Katib's collector kinds.
package metrics
