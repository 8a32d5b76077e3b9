package experiment_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/trial"
)

// dartsCPU is what Katib's DARTS service assigns for darts-cpu.yaml
// (pkg/suggestion/v1beta1/nas/darts/service.py: json.dumps of its settings
// dict and search-space list with double quotes replaced by single ones;
// str(numLayers)). See suggest/darts's TestRenderMatchesKatib.
var dartsCPU = map[string]string{
	"algorithm-settings": "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}",
	"search-space":       "['max_pooling_3x3']",
	"num-layers":         "1",
}

// Katib's darts-cpu.yaml, unchanged, goes from the file through
// SuggestRequest (its nasConfig as suggest.Request.NAS) and the registry's
// darts to the trial's argv: the assignment is Katib's byte for byte, and
// the argv is what Katib's sh -c gives the program (the template's double
// quotes around each placeholder removed).
func TestDartsCPUExample(t *testing.T) {
	e := mustLoad(t, "testdata/katib/darts-cpu.yaml")
	if err := experiment.CheckRunnable(e); err != nil {
		t.Fatalf("CheckRunnable: %v", err)
	}
	req := e.SuggestRequest()
	if req.NAS == nil || len(req.Space) != 0 {
		t.Fatalf("request NAS %v, space %v; want the nasConfig and no parameters", req.NAS, req.Space)
	}
	s, err := algorithms.New(e.Spec.Algorithm.AlgorithmName, req.Settings)
	if err != nil {
		t.Fatal(err)
	}
	req.N = 1
	as, err := s.Suggest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range dartsCPU {
		if as[0][k] != want {
			t.Errorf("%s:\n got %s\nwant %s", k, as[0][k], want)
		}
	}
	spec, err := e.TrialSpec("darts-cpu-0001", as[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := spec.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	want := []any{"python3", "run_trial.py",
		"--algorithm-settings=" + dartsCPU["algorithm-settings"],
		"--search-space=" + dartsCPU["search-space"],
		"--num-layers=" + dartsCPU["num-layers"]}
	got := c["command"].([]any)
	if len(got) != len(want) {
		t.Fatalf("command %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("command[%d] = %q, want %q", i, got[i], want[i])
		}
	}
	// Before any trial, the sample assignment renders too (tune compile).
	if _, err := e.TrialSpec("darts-cpu-0000", e.SampleAssignment(), t.TempDir()); err != nil {
		t.Errorf("TrialSpec of the sample assignment: %v", err)
	}
}

// Quotes around a placeholder stay where Katib's shell would not remove
// them: with a collector that does not wrap the command (Push), in a
// command that is already sh -c, and in strings outside command and args.
func TestRenderKeepsQuotesKatibKeeps(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		command    []any
		want       []any
	}{
		{"StdOut", "StdOut", []any{"p", `--x="${trialParameters.searchSpace}"`, `a"b"`}, []any{"p", "--x=['max_pooling_3x3']", `a"b"`}},
		{"Push", "Push", []any{"p", `--x="${trialParameters.searchSpace}"`}, []any{"p", `--x="['max_pooling_3x3']"`}},
		{"sh -c", "StdOut", []any{"sh", "-c", `p --x="${trialParameters.searchSpace}"`}, []any{"sh", "-c", `p --x="['max_pooling_3x3']"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustLoad(t, "testdata/katib/darts-cpu.yaml")
			e.Spec.MetricsCollectorSpec.Collector.Kind = tc.kind
			c := e.Spec.TrialTemplate.TrialSpec["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			c["command"] = tc.command
			c["env"] = []any{map[string]any{"name": "S", "value": `"${trialParameters.searchSpace}"`}}
			obj, err := e.Render("t-1", dartsCPU)
			if err != nil {
				t.Fatal(err)
			}
			rc := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			got := rc["command"].([]any)
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("command[%d] = %q, want %q", i, got[i], tc.want[i])
				}
			}
			if env := rc["env"].([]any)[0].(map[string]any)["value"]; env != `"['max_pooling_3x3']"` {
				t.Errorf("env value %q, want the quotes kept", env)
			}
		})
	}
}

// nasConfig is checked as Katib's NAS services check it, errors naming
// the field.
func TestValidateNasConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(e *experiment.Experiment)
		want []string // substrings of the error; none: valid
	}{
		{"darts-cpu as shipped", func(e *experiment.Experiment) {}, nil},
		{"darts skip_connection without parameters", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations = append(e.Spec.NasConfig.Operations, experiment.Operation{OperationType: "skip_connection"})
		}, nil},
		{"no operationType", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations[0].OperationType = ""
		}, []string{"spec.nasConfig.operations[0].operationType: is required"}},
		{"no parameters", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations[0].Parameters = nil
		}, []string{"spec.nasConfig.operations[0].parameters: must list at least one parameter"}},
		{"no list", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations[0].Parameters[0].FeasibleSpace.List = nil
		}, []string{"spec.nasConfig.operations[0].parameters[0].feasibleSpace.list: must list at least one value"}},
		{"no parameterType", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations[0].Parameters[0].ParameterType = ""
		}, []string{"spec.nasConfig.operations[0].parameters[0].parameterType: is required"}},
		{"double without step", func(e *experiment.Experiment) {
			p := &e.Spec.NasConfig.Operations[0].Parameters[0]
			p.ParameterType, p.FeasibleSpace.List, p.FeasibleSpace.Min, p.FeasibleSpace.Max = "double", nil, "1", "3"
		}, []string{"spec.nasConfig.operations[0].parameters[0].feasibleSpace.step: is required for a double parameter of an operation",
			"spec.nasConfig.operations[0].parameters[0].parameterType: darts reads the first parameter's list"}},
		{"numLayers", func(e *experiment.Experiment) {
			zero := int32(0)
			e.Spec.NasConfig.GraphConfig.NumLayers = &zero
		}, []string{"spec.nasConfig.graphConfig.numLayers: must be at least 1, got 0"}},
		{"sizes", func(e *experiment.Experiment) {
			e.Spec.NasConfig.GraphConfig.InputSizes = []int32{32, -1}
		}, []string{"spec.nasConfig.graphConfig.inputSizes[1]: must be positive, got -1"}},
		{"no operations", func(e *experiment.Experiment) {
			e.Spec.NasConfig.Operations = nil
		}, []string{"spec.nasConfig.operations: must list at least one operation"}},
		{"enas graphConfig", func(e *experiment.Experiment) {
			e.Spec.Algorithm = &experiment.AlgorithmSpec{AlgorithmName: "enas"}
		}, []string{"spec.nasConfig.graphConfig.inputSizes: is required for algorithm enas", "spec.nasConfig.graphConfig.outputSizes: is required for algorithm enas"}},
		{"not a NAS algorithm", func(e *experiment.Experiment) {
			e.Spec.Algorithm = &experiment.AlgorithmSpec{AlgorithmName: "random"}
		}, []string{"spec.nasConfig: algorithm random does not search a nasConfig (the NAS algorithms are enas, darts)"}},
		{"reference to nothing darts assigns", func(e *experiment.Experiment) {
			e.Spec.TrialTemplate.TrialParameters[2].Reference = "num_layers"
		}, []string{`spec.trialTemplate.trialParameters[2].reference: "num_layers" is not a value algorithm darts assigns (algorithm-settings, search-space, num-layers); did you mean "num-layers"?`}},
		{"parameters and nasConfig", func(e *experiment.Experiment) {
			e.Spec.Parameters = mustLoad(t, "testdata/katib/random.yaml").Spec.Parameters
		}, []string{"spec.nasConfig: only one of spec.parameters and spec.nasConfig may be given"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustLoad(t, "testdata/katib/darts-cpu.yaml")
			tc.edit(e)
			err := e.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// An objective reported as text (DARTS's Best-Genotype) ranks as Katib
// ranks it: when no succeeded trial has a number, the best is the last
// succeeded trial with text; a number, when any trial has one, wins.
func TestBestTrialTextObjective(t *testing.T) {
	txt := func(name string, state trial.State, text string) *trial.Trial {
		return &trial.Trial{Name: name, State: state, Metrics: map[string]metrics.Summary{"g": {Text: text}}}
	}
	trials := []*trial.Trial{
		txt("a", trial.Succeeded, "Genotype(a)"),
		txt("b", trial.Succeeded, "Genotype(b)"),
		txt("c", trial.Failed, "Genotype(c)"),
		{Name: "d", State: trial.Succeeded},
	}
	strategies := map[string]metrics.Strategy{"g": metrics.Max}
	best := experiment.BestTrial(trials, "g", suggest.Maximize, strategies)
	if best == nil || best.BestTrialName != "b" || best.Texts["g"] != "Genotype(b)" || len(best.Metrics) != 0 {
		t.Errorf("best %+v, want b with text Genotype(b) and no number", best)
	}
	flat := make([]trial.Trial, len(trials))
	for i, tr := range trials {
		flat[i] = *tr
	}
	experiment.RankTrials(flat, "g", suggest.Maximize, strategies)
	var order []string
	for _, tr := range flat {
		order = append(order, tr.Name)
	}
	if got := strings.Join(order, ","); got != "b,a,c,d" {
		t.Errorf("ranked %s, want b,a,c,d (text trials latest first, then the rest in order)", got)
	}
	withNumber := append(trials, &trial.Trial{Name: "e", State: trial.Succeeded, Metrics: map[string]metrics.Summary{"g": {Min: -5, Max: -5, Latest: -5, Count: 1}}})
	if best := experiment.BestTrial(withNumber, "g", suggest.Maximize, strategies); best == nil || best.BestTrialName != "e" || best.Metrics["g"] != -5 {
		t.Errorf("best with a number reported: %+v, want e with -5", best)
	}
	if tt := experiment.TrialTexts(trials[3]); tt != nil {
		t.Errorf("TrialTexts of a trial without text = %v, want nil", tt)
	}
}
