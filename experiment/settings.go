package experiment

import "github.com/tune-hpo/tune/suggest"

// earlyStoppingAlgorithms lists the names Katib accepts in
// spec.earlyStopping.algorithmName.
var earlyStoppingAlgorithms = []string{"medianstop"}

// collectorKinds lists the metrics collector kinds Katib accepts in
// spec.metricsCollectorSpec.collector.kind.
var collectorKinds = []string{"StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push"}

// checkFunc checks one setting value, returning a lowercase reason.
type checkFunc = suggest.ValueCheck

// intAtLeast accepts integers ≥ lo.
var intAtLeast = suggest.IntAtLeast

// earlyStoppingSettings are medianstop's settings.
var earlyStoppingSettings = map[string]map[string]checkFunc{
	"medianstop": {
		"min_trials_required": intAtLeast(1),
		"start_step":          intAtLeast(1),
	},
}
