package algorithms_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
)

// minimal are the settings an algorithm needs to be built; nil for none.
var minimal = map[string]map[string]string{
	"hyperband": {"resource_name": "n", "r_l": "9"},
	"asha":      {"resource_name": "n"},
	"pbt":       {"suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "5", "truncation_threshold": "0.2"},
}

func TestRegistryNames(t *testing.T) {
	names := algorithms.Names()
	if len(names) == 0 || names[0] != "random" {
		t.Fatalf("Names() = %v, want Katib's list starting with random", names)
	}
	for _, name := range algorithms.Implemented() {
		if !slices.Contains(names, name) {
			t.Errorf("Implemented() lists %q, which Names() does not", name)
		}
	}
	for _, name := range names {
		a, ok := algorithms.Lookup(name)
		if !ok || a.Name != name {
			t.Fatalf("Lookup(%q) = %v, %v", name, a.Name, ok)
		}
		s, err := algorithms.New(name, minimal[name])
		switch implemented := slices.Contains(algorithms.Implemented(), name); {
		case !implemented && !errors.Is(err, algorithms.ErrNotImplemented):
			t.Errorf("New(%q) = %v, want ErrNotImplemented", name, err)
		case !implemented && a.Settings == nil:
			t.Errorf("%q is not implemented and has no Katib settings table to check", name)
		case implemented && (err != nil || s == nil):
			t.Errorf("New(%q, %v) = %v, %v; want a suggester", name, minimal[name], s, err)
		}
	}
	if _, ok := algorithms.Lookup("nope"); ok {
		t.Error(`Lookup("nope") found an algorithm`)
	}
}

func TestNewReturnsNilOnError(t *testing.T) {
	s, err := algorithms.New("random", map[string]string{"x": "1"})
	if err == nil || s != nil {
		t.Errorf("New(random, x=1) = %#v, %v; want nil and an error", s, err)
	}
}

func settings(kv ...string) []algorithms.Setting {
	var out []algorithms.Setting
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, algorithms.Setting{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestCheck(t *testing.T) {
	two := suggest.Space{
		{Name: "n", Type: suggest.Int, Min: 1, Max: 9},
		{Name: "x", Type: suggest.Double, Min: 0, Max: 1},
	}
	parallel := func(n int) *int { return &n }
	for _, tc := range []struct {
		name string
		alg  string
		in   algorithms.Experiment
		want []algorithms.Problem
	}{
		{"valid", "bayesianoptimization", algorithms.Experiment{Settings: settings("random_state", "1"), Space: two}, nil},
		{"no name", "", algorithms.Experiment{}, []algorithms.Problem{{Where: algorithms.InName, Msg: "is required (one of random, grid, bayesianoptimization"}}},
		{"unknown name", "nope", algorithms.Experiment{}, []algorithms.Problem{{Where: algorithms.InName, Msg: `unknown algorithm "nope" (allowed: random, grid`}}},
		{"unknown setting, implemented", "random", algorithms.Experiment{Settings: settings("random_state", "1", "zz", "1"), Space: two},
			[]algorithms.Problem{{Where: algorithms.InSetting, Index: 1, Msg: `random: unknown setting "zz" (allowed: random_state)`}}},
		{"unknown setting, pbt", "pbt", algorithms.Experiment{Settings: settings("zz", "1", "suggestion_trial_dir", "d", "n_population", "5", "truncation_threshold", "0.2"), Space: two},
			[]algorithms.Problem{{Where: algorithms.InSetting, Index: 0, Msg: `pbt: unknown setting "zz" (allowed: suggestion_trial_dir, n_population,`}}},
		{"enas settings", "enas", algorithms.Experiment{Settings: settings("zz", "1", "controller_temperature", "None", "controller_learning_rate", "2"), NasConfig: true},
			[]algorithms.Problem{
				{Where: algorithms.InSetting, Index: 2, Msg: `enas: setting controller_learning_rate="2": want a number in (0, 1]`},
				{Where: algorithms.InSetting, Index: 0, Msg: `enas: unknown setting "zz" (allowed: controller_hidden_size, controller_temperature,`},
			}},
		{"enas without nasConfig", "enas", algorithms.Experiment{},
			[]algorithms.Problem{{Where: algorithms.InNasConfig, Msg: "is required for algorithm enas"}}},
		{"bad value, darts", "darts", algorithms.Experiment{Settings: settings("num_epochs", "0", "num_epochs", "x"), NasConfig: true},
			[]algorithms.Problem{{Where: algorithms.InSetting, Index: 0, Msg: `darts: setting num_epochs="x": want a positive integer`}}},
		{"required missing", "pbt", algorithms.Experiment{Settings: settings("n_population", "5"), Space: two},
			[]algorithms.Problem{
				{Where: algorithms.InSettings, Msg: `pbt: setting "suggestion_trial_dir" is required`},
				{Where: algorithms.InSettings, Msg: `pbt: setting "truncation_threshold" is required`},
			}},
		{"nasConfig missing", "darts", algorithms.Experiment{},
			[]algorithms.Problem{{Where: algorithms.InNasConfig, Msg: "is required for algorithm darts"}}},
		{"grid step", "grid", algorithms.Experiment{Space: append(two, suggest.Param{Name: "y", Type: suggest.Double, Step: 0.5})},
			[]algorithms.Problem{{Where: algorithms.InParameterStep, Index: 1, Msg: "is required for a double parameter with the grid algorithm"}}},
		{"cmaes space", "cmaes", algorithms.Experiment{Space: two[:1]},
			[]algorithms.Problem{{Where: algorithms.InParameters, Msg: "cmaes needs at least two double or int parameters, got 1"}}},
		{"asha resource", "asha", algorithms.Experiment{Settings: settings("resource_name", "c"), Space: two},
			[]algorithms.Problem{{Where: algorithms.InSettings, Msg: `resource_name "c" is not an int or double parameter in spec.parameters`}}},
		{"hyperband", "hyperband", algorithms.Experiment{Settings: settings("resource_name", "m", "r_l", "9"), Space: two, ParallelTrialCount: parallel(2)},
			[]algorithms.Problem{
				{Where: algorithms.InSettings, Msg: `resource_name "m" is not a parameter in spec.parameters`},
				{Where: algorithms.InParallelTrialCount, Msg: "hyperband with r_l=9 and eta=3 needs at least 9, got 2"},
			}},
		{"hyperband required", "hyperband", algorithms.Experiment{Settings: settings("r_l", "x"), Space: two},
			[]algorithms.Problem{
				{Where: algorithms.InSetting, Index: 0, Msg: `hyperband: setting r_l="x": want a number ≥ 1`},
				{Where: algorithms.InSettings, Msg: `hyperband: setting "resource_name" is required`},
				{Where: algorithms.InSettings, Msg: `setting "resource_name" is required for algorithm hyperband`},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := algorithms.Check(tc.alg, tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("Check = %v, want %d problems", got, len(tc.want))
			}
			for i, p := range got {
				w := tc.want[i]
				if p.Where != w.Where || p.Index != w.Index || !strings.HasPrefix(p.Msg, w.Msg) {
					t.Errorf("problem %d = %+v, want %+v (message prefix)", i, p, w)
				}
			}
		})
	}
}
