package experiment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// parseSeeds returns the experiment files the fuzz target starts from: the
// package's valid, invalid and Katib examples, and the shared Katib
// examples when the checkout has them.
func parseSeeds(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, pattern := range []string{
		"testdata/valid/*.yaml",
		"testdata/invalid/*.yaml",
		"testdata/katib/*.yaml",
		"../../shared/katib-examples/*.yaml",
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, data)
		}
	}
	if len(seeds) == 0 {
		f.Fatal("no seed files")
	}
	return seeds
}

// FuzzParse feeds arbitrary bytes to [experiment.Parse]. It must not panic;
// it either fails with an [experiment.ErrInvalid] error whose every line is
// a non-empty message, or returns an experiment that validates again, whose
// name cannot lead a trial directory out of the data directory, whose
// search space is usable and which renders a sample trial.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("metadata: {name: ../../etc}\n"))
	f.Add([]byte("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"))
	f.Add([]byte("<<: {kind: Experiment}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := experiment.Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, experiment.ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			ie, ok := errors.AsType[*experiment.InvalidError](err)
			if !ok || len(ie.Errs) == 0 {
				t.Fatalf("error is %T with no field errors: %v", err, err)
			}
			for _, fe := range ie.Errs {
				if fe.Msg == "" {
					t.Fatalf("empty message in %q", err)
				}
				if fe.Line < 0 || fe.Column < 0 {
					t.Fatalf("negative position in %q", fe)
				}
			}
			return
		}
		checkParsed(t, e)
	})
}

// checkParsed asserts what must hold of every experiment Parse accepts.
func checkParsed(t *testing.T, e *experiment.Experiment) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Fatalf("Parse accepted an experiment that does not validate: %v", err)
	}
	name := e.Metadata.Name
	trialDir := filepath.Join(name, name+"-0001")
	if !filepath.IsLocal(trialDir) || strings.ContainsAny(name, `/\.`+"\x00") {
		t.Fatalf("metadata.name %q would put trial directories at %q", name, trialDir)
	}
	space := e.Space()
	if err := space.Validate(); err != nil {
		t.Fatalf("space of a valid experiment: %v", err)
	}
	a := make(suggest.Assignment, len(space))
	for _, p := range space {
		switch p.Type {
		case suggest.Categorical:
			a[p.Name] = p.Values[0]
		default:
			a[p.Name] = p.FromUnit(0.5)
		}
	}
	for _, o := range e.Outputs() { // what a NAS algorithm adds
		a[o.Name] = o.Sample
	}
	if _, err := metrics.NewTextParser(e.MetricsFormats(), e.MetricNames()); err != nil {
		t.Fatalf("metrics parser for a valid experiment: %v", err)
	}
	if tt := e.Spec.TrialTemplate; tt != nil && tt.TrialSpec != nil {
		if _, err := e.Render(name+"-0001", a); err != nil {
			t.Fatalf("Render of a valid experiment: %v", err)
		}
	}
}
