package experiment_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	suggestalgorithms "github.com/tune-hpo/tune/suggest/algorithms"
)

// TestValidateAuto: algorithmName auto is accepted with random_state;
// any other setting, or a nasConfig, is an error naming the field.
func TestValidateAuto(t *testing.T) {
	auto := func(settings ...experiment.AlgorithmSetting) func(e *experiment.Experiment) {
		return func(e *experiment.Experiment) {
			e.Spec.Algorithm = &experiment.AlgorithmSpec{AlgorithmName: "auto", AlgorithmSettings: settings}
		}
	}
	tests := map[string]struct {
		edit func(e *experiment.Experiment)
		want []string
	}{
		"no settings":  {edit: auto()},
		"random_state": {edit: auto(experiment.AlgorithmSetting{Name: "random_state", Value: "7"})},
		"another algorithm's setting": {edit: auto(experiment.AlgorithmSetting{Name: "random_state", Value: "7"}, experiment.AlgorithmSetting{Name: "n_initial_points", Value: "5"}),
			want: []string{`spec.algorithm.algorithmSettings[1]: auto: unknown setting "n_initial_points" (allowed: random_state): auto chooses the algorithm and passes on only random_state; to set n_initial_points, name the algorithm instead of auto`}},
		"misspelt random_state": {edit: auto(experiment.AlgorithmSetting{Name: "random_sate", Value: "7"}),
			want: []string{`spec.algorithm.algorithmSettings[0]: auto: unknown setting "random_sate" (allowed: random_state): auto chooses the algorithm and passes on only random_state; to set random_sate, name the algorithm instead of auto; did you mean "random_state"?`}},
		"bad random_state": {edit: auto(experiment.AlgorithmSetting{Name: "random_state", Value: "-1"}),
			want: []string{`spec.algorithm.algorithmSettings[0]: auto: setting random_state="-1": want a non-negative integer: strconv.ParseUint: parsing "-1": invalid syntax`}},
		"nasConfig": {edit: func(e *experiment.Experiment) {
			auto()(e)
			layers := int32(1)
			e.Spec.NasConfig = &experiment.NasConfig{GraphConfig: experiment.GraphConfig{NumLayers: &layers},
				Operations: []experiment.Operation{{OperationType: "convolution", Parameters: []experiment.ParameterSpec{{Name: "k", ParameterType: "categorical", FeasibleSpace: experiment.FeasibleSpace{List: []string{"3"}}}}}}}
			e.Spec.Parameters = nil
		}, want: []string{`spec.nasConfig: algorithm auto does not search a nasConfig (the NAS algorithms are enas, darts); use spec.parameters`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := mustLoad(t, "testdata/valid/quad.yaml")
			tc.edit(e)
			err := e.Validate()
			var got []string
			if ie, ok := errors.AsType[*experiment.InvalidError](err); ok {
				for _, fe := range ie.Errs {
					got = append(got, fe.Error())
				}
			} else if err != nil {
				t.Fatalf("Validate = %v, want nil or *InvalidError", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if tc.want == nil {
				if err := experiment.CheckRunnable(e); err != nil {
					t.Errorf("CheckRunnable = %v", err)
				}
			}
		})
	}
}

// TestAlgorithmInputChoice: what auto chooses reads the experiment's
// budget and parallelism as Katib's defaults leave them.
func TestAlgorithmInputChoice(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml") // maxTrialCount 10, parallelTrialCount defaulted to 3
	e.Spec.Algorithm.AlgorithmName = "auto"
	if got := suggestalgorithms.Choose(e.AlgorithmInput()).Algorithm; got != "bayesianoptimization" {
		t.Errorf("auto with 3 of 10 trials in parallel chose %s, want bayesianoptimization", got)
	}
	ten := int32(10)
	e.Spec.ParallelTrialCount = &ten
	if got := suggestalgorithms.Choose(e.AlgorithmInput()).Algorithm; got != "sobol" {
		t.Errorf("auto with 10 of 10 trials in parallel chose %s, want sobol", got)
	}
}
