package experiment_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
)

// TestValidateDidYouMean: a misspelt algorithm, early-stopping rule,
// setting, collector kind or metric name is reported with the nearest name
// the field accepts; a name near none gets no suggestion.
func TestValidateDidYouMean(t *testing.T) {
	tests := map[string]struct {
		edit func(e *experiment.Experiment)
		want string
	}{
		"algorithm": {func(e *experiment.Experiment) { e.Spec.Algorithm.AlgorithmName = "radnom" },
			`spec.algorithm.algorithmName: unknown algorithm "radnom" (allowed: random, grid, bayesianoptimization, tpe, multivariate-tpe, cmaes, sobol, hyperband, enas, darts, pbt, asha, auto); did you mean "random"?`},
		"algorithm near none": {func(e *experiment.Experiment) { e.Spec.Algorithm.AlgorithmName = "anneal" },
			`spec.algorithm.algorithmName: unknown algorithm "anneal" (allowed: random, grid, bayesianoptimization, tpe, multivariate-tpe, cmaes, sobol, hyperband, enas, darts, pbt, asha, auto)`},
		"early stopping": {func(e *experiment.Experiment) {
			e.Spec.EarlyStopping = &experiment.EarlyStoppingSpec{AlgorithmName: "medianstopping"}
		}, `spec.earlyStopping.algorithmName: unknown early stopping algorithm "medianstopping" (allowed: medianstop); did you mean "medianstop"?`},
		"early stopping setting": {func(e *experiment.Experiment) {
			e.Spec.EarlyStopping = &experiment.EarlyStoppingSpec{AlgorithmName: "medianstop",
				AlgorithmSettings: []experiment.EarlyStoppingSetting{{Name: "min_trial_required", Value: "3"}}}
		}, `spec.earlyStopping.algorithmSettings[0].name: unknown setting "min_trial_required" for algorithm medianstop (allowed: min_trials_required, start_step); did you mean "min_trials_required"?`},
		"collector kind": {func(e *experiment.Experiment) {
			e.Spec.MetricsCollectorSpec = &experiment.MetricsCollectorSpec{Collector: &experiment.CollectorSpec{Kind: "Stdout"}}
		}, `spec.metricsCollectorSpec.collector.kind: unknown collector kind "Stdout" (allowed: StdOut, File, TensorFlowEvent, PrometheusMetric, Custom, Push); did you mean "StdOut"?`},
		"metric strategy": {func(e *experiment.Experiment) {
			e.Spec.Objective.AdditionalMetricNames = []string{"accuracy"}
			e.Spec.Objective.MetricStrategies = []experiment.MetricStrategy{{Name: "acuracy", Value: "max"}}
		}, `spec.objective.metricStrategies[0].name: "acuracy" is neither the objective metric nor an additional metric; did you mean "accuracy"?`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := mustLoad(t, "testdata/valid/quad.yaml")
			tc.edit(e)
			err := e.Validate()
			ie, ok := errors.AsType[*experiment.InvalidError](err)
			if !ok {
				t.Fatalf("Validate = %v, want *InvalidError", err)
			}
			var got []string
			for _, fe := range ie.Errs {
				got = append(got, fe.Error())
			}
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
