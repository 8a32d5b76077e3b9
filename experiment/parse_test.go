package experiment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
)

func readValid(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/valid/quad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParse(t *testing.T) {
	valid := readValid(t)
	tests := map[string]struct {
		src     string
		wantErr []string // substrings, each required
	}{
		"valid":                {src: valid},
		"leading separator":    {src: "---\n" + valid},
		"trailing separator":   {src: valid + "---\n"},
		"second document":      {src: valid + "---\nkind: Experiment\n", wantErr: []string{"x.yaml:42: a second YAML document"}},
		"empty":                {src: "# nothing\n", wantErr: []string{"x.yaml: empty document"}},
		"not a mapping":        {src: "- a\n", wantErr: []string{"x.yaml:1:1: expected a mapping"}},
		"broken":               {src: "apiVersion: [\n", wantErr: []string{"x.yaml:1: invalid YAML: did not find expected node content"}},
		"duplicate key":        {src: strings.Replace(valid, "kind: Experiment\n", "kind: Experiment\nkind: Experiment\n", 1), wantErr: []string{`x.yaml:3:1: kind: duplicate key "kind"`}},
		"bare number in value": {src: strings.Replace(valid, "algorithmName: random\n", "algorithmName: random\n    algorithmSettings:\n      - {name: random_state, value: 7}\n", 1)},
		"nan goal": {
			src:     strings.Replace(valid, "objectiveMetricName: loss\n", "objectiveMetricName: loss\n    goal: .nan\n", 1),
			wantErr: []string{"x.yaml:9:11: spec.objective.goal: .nan is not a finite number"},
		},
		"number in Job string field": {
			src:     strings.Replace(valid, "image: train", "image: 3", 1),
			wantErr: []string{`x.yaml:39:24: spec.trialTemplate.trialSpec.spec.template.spec.containers[0].image: expected a string, got the number 3`},
		},
		"json": {src: `{"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "j"}}`, wantErr: []string{"x.yaml:1:1: spec.objective: is required"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := experiment.Parse([]byte(tc.src), "x.yaml")
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if e == nil {
					t.Fatal("nil experiment")
				}
				return
			}
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !errors.Is(err, experiment.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestParseCoercesNumbers(t *testing.T) {
	src := strings.Replace(readValid(t), "algorithmName: random\n", "algorithmName: random\n    algorithmSettings:\n      - {name: random_state, value: 7}\n", 1)
	src = strings.Replace(src, "      parameterType: int\n      feasibleSpace:\n        min: \"1\"\n        max: \"4\"\n",
		"      parameterType: discrete\n      feasibleSpace:\n        list: [1, 2.50, 1e3]\n", 1)
	e, err := experiment.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs := e.Spec.Parameters[0].FeasibleSpace
	if fs.Min != "0.01" || fs.Max != "0.1" {
		t.Errorf("min, max = %q, %q; want 0.01, 0.1", fs.Min, fs.Max)
	}
	want := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.1, Distribution: suggest.Uniform},
		{Name: "layers", Type: suggest.Discrete, Values: []string{"1", "2.50", "1e3"}, Distribution: suggest.Uniform},
	}
	if diff := cmp.Diff(want, e.Space()); diff != "" {
		t.Errorf("Space (-want +got):\n%s", diff)
	}
	if seed, ok := e.Seed(); !ok || seed != 7 {
		t.Errorf("Seed = %d, %v; want 7, true", seed, ok)
	}
	if diff := cmp.Diff(map[string]string{"random_state": "7"}, e.Settings()); diff != "" {
		t.Errorf("Settings (-want +got):\n%s", diff)
	}
	// Integers in the trial spec stay integers, as in unstructured objects.
	src = strings.Replace(src, "restartPolicy: Never", "restartPolicy: Never\n            activeDeadlineSeconds: 60", 1)
	if e, err = experiment.Parse([]byte(src), "x.yaml"); err != nil {
		t.Fatal(err)
	}
	pod := e.Spec.TrialTemplate.TrialSpec["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	if got, ok := pod["activeDeadlineSeconds"].(int64); !ok || got != 60 {
		t.Errorf("activeDeadlineSeconds = %#v, want int64(60)", pod["activeDeadlineSeconds"])
	}
}

func TestAccessors(t *testing.T) {
	e := mustLoad(t, "testdata/katib/bayesian-optimization.yaml")
	if got := e.Goal(); got != suggest.Minimize {
		t.Errorf("Goal = %v, want Minimize", got)
	}
	e.Spec.Objective.Type = "maximize"
	if got := e.Goal(); got != suggest.Maximize {
		t.Errorf("Goal = %v, want Maximize", got)
	}
	e.Spec.Objective.AdditionalMetricNames = []string{"accuracy"}
	if diff := cmp.Diff([]string{"loss", "accuracy"}, e.MetricNames()); diff != "" {
		t.Errorf("MetricNames (-want +got):\n%s", diff)
	}
	if seed, ok := e.Seed(); !ok || seed != 10 {
		t.Errorf("Seed = %d, %v; want 10, true", seed, ok)
	}
	g := mustLoad(t, "testdata/katib/grid.yaml")
	if _, ok := g.Seed(); ok {
		t.Error("Seed reported for an experiment without random_state")
	}
	want := suggest.Param{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005, Distribution: suggest.Uniform}
	if diff := cmp.Diff(want, g.Space()[0]); diff != "" {
		t.Errorf("Space()[0] (-want +got):\n%s", diff)
	}
	if err := g.Space().Validate(); err != nil {
		t.Errorf("Space().Validate: %v", err)
	}
}

func TestValidateWithoutParse(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml")
	e.Spec.Parameters[0].FeasibleSpace.Min = "1"
	e.Spec.Algorithm.AlgorithmName = "anneal"
	err := e.Validate()
	ie, ok := errors.AsType[*experiment.InvalidError](err)
	if !ok {
		t.Fatalf("Validate = %v, want *InvalidError", err)
	}
	var got []string
	for _, fe := range ie.Errs {
		got = append(got, fe.Error())
	}
	want := []string{
		`spec.algorithm.algorithmName: unknown algorithm "anneal" (allowed: random, grid, bayesianoptimization, tpe, multivariate-tpe, cmaes, sobol, hyperband, enas, darts, pbt, asha, auto)`,
		`spec.parameters[0].feasibleSpace.min: min 1 is greater than max 0.1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if !errors.Is(err, experiment.ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) = false")
	}
	fe, ok := errors.AsType[*experiment.FieldError](err)
	if !ok || fe.Path != "spec.algorithm.algorithmName" {
		t.Errorf("errors.AsType[*FieldError] = %v, %v", fe, ok)
	}
}

// TestValidateJobWithoutParse: Validate decodes a batch/v1 Job trialSpec
// as the executors do (trial/manifest): every unknown field, matched with
// its case, is named with its path; a missing primary container is named.
func TestValidateJobWithoutParse(t *testing.T) {
	e := mustLoad(t, "testdata/valid/quad.yaml")
	pod := e.Spec.TrialTemplate.TrialSpec["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	c := pod["containers"].([]any)[0].(map[string]any)
	c["Image"] = "train"
	c["imagee"] = "train"
	err := e.Validate()
	want := `spec.trialTemplate.trialSpec: not a valid batch/v1 Job: unknown field "spec.template.spec.containers[0].Image"; unknown field "spec.template.spec.containers[0].imagee"`
	if err == nil || !errors.Is(err, experiment.ErrInvalid) || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}

	e = mustLoad(t, "testdata/valid/quad.yaml")
	e.Spec.TrialTemplate.PrimaryContainerName = "trainer"
	err = e.Validate()
	want = `spec.trialTemplate.primaryContainerName: "trainer" is not a container of the Job (containers: "main")`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := map[string]struct {
		fe   experiment.FieldError
		want string
	}{
		"all":     {experiment.FieldError{File: "exp.yaml", Line: 23, Column: 9, Path: "spec.x", Msg: "bad"}, "exp.yaml:23:9: spec.x: bad"},
		"no col":  {experiment.FieldError{File: "exp.yaml", Line: 23, Msg: "bad"}, "exp.yaml:23: bad"},
		"no file": {experiment.FieldError{Line: 2, Column: 1, Path: "kind", Msg: "bad"}, "line 2:1: kind: bad"},
		"no pos":  {experiment.FieldError{Path: "kind", Msg: "bad"}, "kind: bad"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.fe.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := experiment.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || errors.Is(err, experiment.ErrInvalid) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want a not-exist error that is not ErrInvalid", err)
	}
}

func TestLoadReturnsSource(t *testing.T) {
	e, src, err := experiment.Load("testdata/valid/quad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != readValid(t) || e.Metadata.Name != "quad" {
		t.Errorf("Load returned %q and name %q", src, e.Metadata.Name)
	}
}
