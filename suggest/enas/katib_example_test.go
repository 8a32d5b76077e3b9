package enas_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/suggest/enas"
)

// TestKatibENASExample: Katib's examples/v1beta1/nas/enas-cpu.yaml,
// unchanged (testdata/enas-cpu.yaml, from kubeflow/katib 33c8ff4), parses
// and validates; the registry builds its suggester; the suggestions
// render into the trial's command line where its trialParameters put
// them, in the form Katib's trial program (RunTrial.py) reads: with ' replaced
// by ", both are JSON of the shapes it expects.
func TestKatibENASExample(t *testing.T) {
	data, err := os.ReadFile("testdata/enas-cpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Parse(data, "enas-cpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := algorithms.New(e.Spec.Algorithm.AlgorithmName, e.Settings())
	if err != nil {
		t.Fatal(err)
	}
	req := e.SuggestRequest()
	req.N = 3
	as, err := s.Suggest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := enas.Expand(req.NAS)
	if len(ops) != 106 { // 30 convolutions, 60 separable, 12 depthwise, 4 reductions
		t.Fatalf("%d operations, want 106", len(ops))
	}
	for i, a := range append(as, e.SampleAssignment()) {
		obj, err := e.Render("enas-cpu-trial", a)
		if err != nil {
			t.Fatal(err)
		}
		spec := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		var args []string
		for _, v := range spec["containers"].([]any)[0].(map[string]any)["command"].([]any) {
			args = append(args, v.(string))
		}
		arch := flag(t, args, "--architecture=")
		cfg := flag(t, args, "--nn_config=")
		var arc [][]int
		if err := json.Unmarshal([]byte(strings.ReplaceAll(arch, "'", `"`)), &arc); err != nil {
			t.Fatalf("trial %d: architecture %s: %v", i, arch, err)
		}
		var nn struct {
			NumLayers   int   `json:"num_layers"`
			InputSizes  []int `json:"input_sizes"`
			OutputSizes []int `json:"output_sizes"`
			Embedding   map[string]struct {
				ID     int            `json:"opt_id"`
				Type   string         `json:"opt_type"`
				Params map[string]any `json:"opt_params"` // pool_size is a number
			} `json:"embedding"`
		}
		if err := json.Unmarshal([]byte(strings.ReplaceAll(cfg, "'", `"`)), &nn); err != nil {
			t.Fatalf("trial %d: nn_config %s: %v", i, cfg, err)
		}
		if i == len(as) { // the sample: only its shape is the example's
			continue
		}
		if len(arc) != 1 || len(arc[0]) != 1 || nn.NumLayers != 1 || !slices.Equal(nn.InputSizes, []int{32, 32, 3}) || !slices.Equal(nn.OutputSizes, []int{10}) {
			t.Errorf("trial %d: architecture %s, nn_config %s: want one layer, sizes [32 32 3] → [10]", i, arch, cfg)
		}
		if op, ok := nn.Embedding[strings.Trim(arch, "[]")]; !ok || op.Type != ops[arc[0][0]].Type {
			t.Errorf("trial %d: nn_config %s does not describe operation %s", i, cfg, arch)
		}
	}
}

// flag returns the value of the argument with prefix, which the example
// writes as prefix"${trialParameters.…}". Katib runs the command through a
// shell, which removes the double quotes; where tune passes them on, the
// program sees them and strips them as a shell would.
func flag(t *testing.T, args []string, prefix string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, prefix); ok {
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	t.Fatalf("no %s argument in %q", prefix, args)
	return ""
}
