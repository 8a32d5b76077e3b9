package enas_test

import (
	"math"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/enas"
)

func cat(name string, vals ...string) suggest.Param {
	return suggest.Param{Name: name, Type: suggest.Categorical, Values: vals}
}

// cpuNAS is the nasConfig of Katib's examples/v1beta1/nas/enas-cpu.yaml
// (testdata/enas-cpu.yaml), plus a fifth operation with a double and a
// non-ASCII, quoted categorical value.
func cpuNAS() *suggest.NASConfig {
	filter, nf, stride, dm := cat("filter_size", "3", "5", "7"), cat("num_filter", "32", "48", "64", "96", "128"), cat("stride", "1", "2"), cat("depth_multiplier", "1", "2")
	return &suggest.NASConfig{
		NumLayers: 4, InputSizes: []int{32, 32, 3}, OutputSizes: []int{10},
		Operations: []suggest.NASOperation{
			{Type: "convolution", Parameters: suggest.Space{filter, nf, stride}},
			{Type: "separable_convolution", Parameters: suggest.Space{filter, nf, stride, dm}},
			{Type: "depthwise_convolution", Parameters: suggest.Space{filter, stride, dm}},
			{Type: "reduction", Parameters: suggest.Space{cat("reduction_type", "max_pooling", "avg_pooling"), {Name: "pool_size", Type: suggest.Int, Min: 2, Max: 3, Step: 1}}},
			{Type: "dropout", Parameters: suggest.Space{{Name: "rate", Type: suggest.Double, Min: 0.1, Max: 0.3, Step: 0.1}, cat("name", `dé"q`)}},
		},
	}
}

func TestExpand(t *testing.T) {
	ops, err := enas.Expand(cpuNAS())
	if err != nil {
		t.Fatal(err)
	}
	// 3·5·2 + 3·5·2·2 + 3·2·2 + 2·2 + 3·1 operations.
	if len(ops) != 30+60+12+4+3 {
		t.Fatalf("%d operations, want 109", len(ops))
	}
	for i, op := range ops {
		if op.ID != i {
			t.Fatalf("operation %d has ID %d", i, op.ID)
		}
	}
	// The last parameter varies fastest: 3 = filter 3, num_filter 48 (1), stride 2 (1).
	want := map[int]enas.Operation{
		3:   {ID: 3, Type: "convolution", Params: []enas.OpParam{{"filter_size", "3"}, {"num_filter", "48"}, {"stride", "2"}}},
		30:  {ID: 30, Type: "separable_convolution", Params: []enas.OpParam{{"filter_size", "3"}, {"num_filter", "32"}, {"stride", "1"}, {"depth_multiplier", "1"}}},
		105: {ID: 105, Type: "reduction", Params: []enas.OpParam{{"reduction_type", "avg_pooling"}, {"pool_size", 3}}},
		108: {ID: 108, Type: "dropout", Params: []enas.OpParam{{"rate", 0.30000000000000004}, {"name", `dé"q`}}},
	}
	for id, w := range want {
		if got := ops[id]; got.Type != w.Type || len(got.Params) != len(w.Params) {
			t.Errorf("operation %d = %+v, want %+v", id, got, w)
		} else {
			for k := range w.Params {
				if got.Params[k] != w.Params[k] {
					t.Errorf("operation %d parameter %d = %#v, want %#v", id, k, got.Params[k], w.Params[k])
				}
			}
		}
	}
}

func TestExpandEdges(t *testing.T) {
	one := func(ps ...suggest.Param) *suggest.NASConfig {
		return &suggest.NASConfig{NumLayers: 1, Operations: []suggest.NASOperation{{Type: "op", Parameters: ps}}}
	}
	for _, tc := range []struct {
		name   string
		nas    *suggest.NASConfig
		n      int
		errSub string
	}{
		{"nil", nil, 0, "no nasConfig"},
		{"no operations", &suggest.NASConfig{NumLayers: 1}, 0, "no operations"},
		{"empty list", one(cat("a")), 0, "no operations"},
		{"int without step is step 1", one(suggest.Param{Name: "k", Type: suggest.Int, Min: 1, Max: 4}), 4, ""},
		{"int with step", one(suggest.Param{Name: "k", Type: suggest.Int, Min: 1, Max: 8, Step: 3}), 3, ""}, // 1 4 7
		{"double without step", one(suggest.Param{Name: "r", Type: suggest.Double, Min: 0, Max: 1}), 0, "step > 0"},
		{"double above max dropped", one(suggest.Param{Name: "r", Type: suggest.Double, Min: 0.1, Max: 0.3, Step: 0.1}), 3, ""},
		{"double exact", one(suggest.Param{Name: "r", Type: suggest.Double, Min: 0, Max: 1, Step: 0.25}), 5, ""},
		{"discrete taken as a list", one(suggest.Param{Name: "d", Type: suggest.Discrete, Values: []string{"1", "2"}}), 2, ""},
		{"name twice: last values, first place", one(cat("a", "1", "2"), cat("b", "x"), cat("a", "3", "4", "5")), 3, ""},
		{"too many", one(cat("a", strings.Split(strings.Repeat("v,", 200), ",")[:200]...), cat("b", strings.Split(strings.Repeat("v,", 100), ",")[:100]...)), 0, "more than 10000"},
		{"huge int range", one(suggest.Param{Name: "k", Type: suggest.Int, Min: 0, Max: 1e12}), 0, "more than 10000"},
		{"huge double range", one(suggest.Param{Name: "r", Type: suggest.Double, Min: 0, Max: 1e300, Step: 1e-300}), 0, "more than 10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := enas.Expand(tc.nas)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("Expand = %d operations, %v; want an error containing %q", len(ops), err, tc.errSub)
				}
				return
			}
			if err != nil || len(ops) != tc.n {
				t.Fatalf("Expand = %d operations, %v; want %d", len(ops), err, tc.n)
			}
		})
	}
	ops, _ := enas.Expand(one(cat("a", "1", "2"), cat("b", "x"), cat("a", "3", "4", "5")))
	if got := ops[2].Params; len(got) != 2 || got[0] != (enas.OpParam{"a", "5"}) || got[1] != (enas.OpParam{"b", "x"}) {
		t.Errorf("repeated name: operation 2 params %v, want [{a 5} {b x}]", got)
	}
}

// TestKatibJSON: the assignments are byte for byte what Katib's service
// writes. The expected strings were computed by a Python script that
// expands the operations as pkg/suggestion/v1beta1/nas/enas/Operation.py
// does (numpy.arange's values computed as numpy does) and builds
// organized_arc and nn_config as service.py's GetSuggestions does:
// json.dumps(...) with '"' replaced by "'".
func TestKatibJSON(t *testing.T) {
	nas := cpuNAS()
	ops, err := enas.Expand(nas)
	if err != nil {
		t.Fatal(err)
	}
	one := *nas
	one.NumLayers = 1
	for _, tc := range []struct {
		nas            *suggest.NASConfig
		arc            enas.Arc
		arch, nnConfig string
	}{
		{&one, enas.Arc{{3}}, "[[3]]",
			`{'num_layers': 1, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {'3': {'opt_id': 3, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', 'num_filter': '48', 'stride': '2'}}}}`},
		{nas, enas.Arc{{104}, {108, 1}, {104, 0, 1}, {3, 1, 1, 0}}, "[[104], [108, 1], [104, 0, 1], [3, 1, 1, 0]]",
			`{'num_layers': 4, 'input_sizes': [32, 32, 3], 'output_sizes': [10], 'embedding': {'104': {'opt_id': 104, 'opt_type': 'reduction', 'opt_params': {'reduction_type': 'avg_pooling', 'pool_size': 2}}, '108': {'opt_id': 108, 'opt_type': 'dropout', 'opt_params': {'rate': 0.30000000000000004, 'name': 'd\u00e9\'q'}}, '3': {'opt_id': 3, 'opt_type': 'convolution', 'opt_params': {'filter_size': '3', 'num_filter': '48', 'stride': '2'}}}}`},
	} {
		if got := tc.arc.String(); got != tc.arch {
			t.Errorf("architecture\n got %s\nwant %s", got, tc.arch)
		}
		if got := enas.NNConfig(tc.arc, tc.nas, ops); got != tc.nnConfig {
			t.Errorf("nn_config\n got %s\nwant %s", got, tc.nnConfig)
		}
		back, err := enas.ParseArc(tc.arch, tc.nas.NumLayers, len(ops))
		if err != nil || back.String() != tc.arch {
			t.Errorf("ParseArc(%s) = %v, %v", tc.arch, back, err)
		}
	}
}

// TestPythonFloats: doubles are written as Python's repr writes them.
func TestPythonFloats(t *testing.T) {
	for v, want := range map[float64]string{
		0.5: "0.5", 100: "100.0", 1e-5: "1e-05", 0.0001: "0.0001", 1e16: "1e+16", 1.5e300: "1.5e+300",
		123456789012345.0: "123456789012345.0", 0.30000000000000004: "0.30000000000000004", 0.3: "0.3", -2.5: "-2.5", 0: "0.0",
	} {
		step := math.Abs(v) // one value: Min
		if v == 0 {
			step = 1
		}
		nas := &suggest.NASConfig{NumLayers: 1, Operations: []suggest.NASOperation{{Type: "op", Parameters: suggest.Space{{Name: "r", Type: suggest.Double, Min: v, Max: v, Step: step}}}}}
		ops, err := enas.Expand(nas)
		if err != nil {
			t.Fatal(err)
		}
		got := enas.NNConfig(enas.Arc{{0}}, nas, ops)
		if !strings.Contains(got, "{'r': "+want+"}") {
			t.Errorf("%v: nn_config %s, want {'r': %s}", v, got, want)
		}
	}
}

func TestParseArcRejects(t *testing.T) {
	for _, s := range []string{"", "[[0]]", "[[0], [1]]", "[[0], [1, 2]]", "[[0], [10, 1]]", "[[-1], [0, 0]]", "[[0], [0, 1], [0]]", "{}", "[[0], [0, 1, 1]]"} {
		if a, err := enas.ParseArc(s, 2, 10); err == nil {
			t.Errorf("ParseArc(%q, 2 layers, 10 ops) = %v, want an error", s, a)
		}
	}
	if a, err := enas.ParseArc(`[[1],[0,1]]`, 2, 10); err != nil || a.String() != "[[1], [0, 1]]" {
		t.Errorf("ParseArc with double quotes and no spaces = %v, %v", a, err)
	}
}

// TestSamples: the registry's sample outputs are what NNConfig writes for
// the sample architecture over the space they describe.
func TestSamples(t *testing.T) {
	nas := &suggest.NASConfig{NumLayers: 2, InputSizes: []int{32, 32, 3}, OutputSizes: []int{10}, Operations: []suggest.NASOperation{
		{Type: "convolution", Parameters: suggest.Space{cat("filter_size", "3", "5"), cat("num_filter", "32"), cat("stride", "1")}},
	}}
	ops, err := enas.Expand(nas)
	if err != nil {
		t.Fatal(err)
	}
	arc, err := enas.ParseArc(enas.SampleArchitecture, 2, len(ops))
	if err != nil {
		t.Fatal(err)
	}
	if got := enas.NNConfig(arc, nas, ops); got != enas.SampleNNConfig {
		t.Errorf("NNConfig of the sample\n got %s\nwant %s", got, enas.SampleNNConfig)
	}
}
