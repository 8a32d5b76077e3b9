package suggesttest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

func TestBranin(t *testing.T) {
	if got, want := suggesttest.BraninMinimum, 0.397887; math.Abs(got-want) > 1e-6 {
		t.Errorf("BraninMinimum = %v; want %v", got, want)
	}
	for _, x := range [][2]float64{{-math.Pi, 12.275}, {math.Pi, 2.275}, {3 * math.Pi, 2.475}} {
		if got := suggesttest.Branin(x[0], x[1]); math.Abs(got-suggesttest.BraninMinimum) > 1e-12 {
			t.Errorf("Branin(%v, %v) = %.15g; want the minimum %.15g", x[0], x[1], got, suggesttest.BraninMinimum)
		}
	}
	// (0, 0): 6² + 10·(1 − 1/(8π)) + 10.
	if got, want := suggesttest.Branin(0, 0), 56-suggesttest.BraninMinimum; math.Abs(got-want) > 1e-12 {
		t.Errorf("Branin(0, 0) = %v; want %v", got, want)
	}
	space := suggesttest.BraninSpace()
	if err := space.Validate(); err != nil {
		t.Fatal(err)
	}
	want := suggest.Space{
		{Name: "x1", Type: suggest.Double, Min: -5, Max: 10},
		{Name: "x2", Type: suggest.Double, Min: 0, Max: 15},
	}
	if diff := cmp.Diff(want, space); diff != "" {
		t.Errorf("BraninSpace (-want +got):\n%s", diff)
	}
}

func TestMixedSpace(t *testing.T) {
	space := suggesttest.MixedSpace()
	if err := space.Validate(); err != nil {
		t.Fatal(err)
	}
	types := map[suggest.ParamType]bool{}
	dists := map[suggest.ParamType]map[suggest.Distribution]bool{suggest.Double: {}, suggest.Int: {}}
	stepped := map[suggest.ParamType]bool{}
	for _, p := range space {
		types[p.Type] = true
		if p.Type == suggest.Double || p.Type == suggest.Int {
			d := p.Distribution
			if d == "" {
				d = suggest.Uniform
			}
			dists[p.Type][d] = true
			stepped[p.Type] = stepped[p.Type] || p.Step > 0
		}
	}
	for _, typ := range []suggest.ParamType{suggest.Double, suggest.Int, suggest.Discrete, suggest.Categorical} {
		if !types[typ] {
			t.Errorf("no %s parameter", typ)
		}
	}
	for _, d := range []suggest.Distribution{suggest.Uniform, suggest.LogUniform, suggest.Normal, suggest.LogNormal} {
		if !dists[suggest.Double][d] {
			t.Errorf("no %s double", d)
		}
	}
	if !dists[suggest.Int][suggest.Uniform] || !dists[suggest.Int][suggest.LogUniform] || !dists[suggest.Int][suggest.Normal] {
		t.Errorf("ints' distributions %v; want uniform, logUniform and normal", dists[suggest.Int])
	}
	if !stepped[suggest.Double] || !stepped[suggest.Int] {
		t.Errorf("stepped: %v; want a stepped double and a stepped int", stepped)
	}
	space[0].Name = "changed"
	if suggesttest.MixedSpace()[0].Name == "changed" {
		t.Error("MixedSpace returns a shared space")
	}
}

func TestCheckAssignment(t *testing.T) {
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.001, Max: 0.1},
		{Name: "m", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1},
		{Name: "n", Type: suggest.Int, Min: -4, Max: 8},
		{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
	}
	valid := func(name, value string) suggest.Assignment {
		a := suggest.Assignment{"lr": "0.01", "m": "0.7", "n": "3", "opt": "adam"}
		if value == "" {
			delete(a, name)
		} else {
			a[name] = value
		}
		return a
	}
	tests := map[string]struct {
		a       suggest.Assignment
		wantErr string // a substring; "" means valid
	}{
		"valid":            {a: valid("", "")},
		"negative int":     {a: valid("n", "-4")},
		"missing":          {a: valid("lr", ""), wantErr: "3 values for 4 parameters"},
		"extra":            {a: valid("x", "1"), wantErr: "5 values for 4 parameters"},
		"renamed":          {a: suggest.Assignment{"lr": "0.01", "m": "0.7", "n": "3", "optimizer": "adam"}, wantErr: "has no opt"},
		"out of range":     {a: valid("lr", "0.5"), wantErr: "outside"},
		"not a number":     {a: valid("lr", "fast"), wantErr: "not a number"},
		"off the step":     {a: valid("m", "0.75"), wantErr: "step"},
		"fractional int":   {a: valid("n", "3.5"), wantErr: "whole number"},
		"int as a float":   {a: valid("n", "3.0"), wantErr: "not written as an integer"},
		"int with a sign":  {a: valid("n", "+3"), wantErr: "not written as an integer"},
		"int exponent":     {a: valid("n", "3e0"), wantErr: "not written as an integer"},
		"not in the list":  {a: valid("opt", "Adam"), wantErr: "not one of"},
		"empty assignment": {a: suggest.Assignment{}, wantErr: "0 values for 4 parameters"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := suggesttest.CheckAssignment(space, tc.a)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("CheckAssignment(%v) = %v; want nil", tc.a, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("CheckAssignment(%v) = %v; want an error containing %q", tc.a, err, tc.wantErr)
			}
		})
	}
}

// recorder answers each request with N assignments x=0, 1, 2, … numbered
// after the history, and records the requests.
type recorder struct{ reqs []suggest.Request }

func (r *recorder) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	r.reqs = append(r.reqs, req)
	as := make([]suggest.Assignment, req.N)
	for i := range as {
		as[i] = suggest.Assignment{"x": strconv.Itoa(len(req.History) + i)}
	}
	return as, nil
}

func TestPending(t *testing.T) {
	as := []suggest.Assignment{{"x": "1"}, {"x": "2"}}
	obs := suggesttest.Pending(as)
	if len(obs) != len(as) {
		t.Fatalf("Pending returned %d observations for %d assignments", len(obs), len(as))
	}
	for i, o := range obs {
		if o.Status != suggest.Pending || !math.IsNaN(o.Value) || o.Assignment["x"] != as[i]["x"] {
			t.Errorf("observation %d = %+v; want %v pending with value NaN", i, o, as[i])
		}
	}
}

func TestCollect(t *testing.T) {
	space := suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 100}}
	r := &recorder{}
	got := suggesttest.Collect(t, r, 7, space, 10, 3, 1)
	for i, a := range got {
		if a["x"] != strconv.Itoa(i) {
			t.Errorf("assignment %d = %v; want x=%d", i, a, i)
		}
	}
	if len(got) != 10 {
		t.Fatalf("Collect returned %d assignments; want 10", len(got))
	}
	var ns, histories []int
	for _, req := range r.reqs {
		ns = append(ns, req.N)
		histories = append(histories, len(req.History))
		if req.Seed != 7 || len(req.Space) != 1 {
			t.Errorf("request %+v; want seed 7 and the space", req)
		}
		for _, o := range req.History {
			if o.Status != suggest.Pending {
				t.Errorf("history holds %+v; want pending trials", o)
			}
		}
	}
	if diff := cmp.Diff([]int{3, 1, 3, 1, 2}, ns); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 3, 4, 7, 8}, histories); diff != "" {
		t.Errorf("history lengths (-want +got):\n%s", diff)
	}
}

func TestRun(t *testing.T) {
	space := suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 100}}
	r := &recorder{}
	f := func(a suggest.Assignment) float64 { v, _ := strconv.ParseFloat(a["x"], 64); return v * v }
	history := suggesttest.Run(t, r, space, suggest.Maximize, 5, 7, 3, f)
	if len(history) != 7 {
		t.Fatalf("Run returned %d observations; want 7", len(history))
	}
	for i, o := range history {
		if o.Status != suggest.Completed || o.Value != float64(i*i) || o.Assignment["x"] != strconv.Itoa(i) {
			t.Errorf("observation %d = %+v; want x=%d completed with value %d", i, o, i, i*i)
		}
	}
	var ns []int
	for _, req := range r.reqs {
		ns = append(ns, req.N)
		if req.Goal != suggest.Maximize || req.Seed != 5 {
			t.Errorf("request %+v; want goal Maximize and seed 5", req)
		}
	}
	if diff := cmp.Diff([]int{3, 3, 1}, ns); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

// fakeTB records what a helper reports; Fatalf ends the goroutine, as
// testing.T's does.
type fakeTB struct {
	testing.TB
	fatal  string
	errors []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Context() context.Context { return context.Background() }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// report runs fn with a fakeTB in a goroutine of its own and returns what
// fn reported.
func report(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestCheckError(t *testing.T) {
	tests := map[string]struct {
		err        error
		want       []string
		wantFatal  string
		wantErrors []string
	}{
		"no error wanted":   {},
		"error wanted":      {err: errors.New(`bad "x": allowed: a, b`), want: []string{`"x"`, "allowed: a"}},
		"unwanted error":    {err: errors.New("boom"), wantFatal: "New(x): boom"},
		"missing error":     {want: []string{"x"}, wantFatal: "New(x) succeeded; want an error"},
		"empty want is nil": {want: []string{}},
		"strings missing": {
			err:        errors.New("bad x"),
			want:       []string{"x", "y", "z"},
			wantErrors: []string{`New(x) error "bad x" does not contain "y"`, `New(x) error "bad x" does not contain "z"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := report(func(tb testing.TB) { suggesttest.CheckError(tb, "New(x)", tc.err, tc.want) })
			if got.fatal != tc.wantFatal {
				t.Errorf("fatal %q; want %q", got.fatal, tc.wantFatal)
			}
			if diff := cmp.Diff(tc.wantErrors, got.errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// short answers every request with one assignment fewer than asked.
type short struct{}

func (short) Suggest(_ context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	return make([]suggest.Assignment, req.N-1), nil
}

// failing answers every request with an error.
type failing struct{}

func (failing) Suggest(context.Context, suggest.Request) ([]suggest.Assignment, error) {
	return nil, errors.New("no more")
}

func TestDriversStop(t *testing.T) {
	space := suggest.Space{{Name: "x", Type: suggest.Int, Min: 0, Max: 100}}
	f := func(suggest.Assignment) float64 { return 0 }
	tests := map[string]struct {
		fn   func(tb testing.TB)
		want string
	}{
		"Collect short": {fn: func(tb testing.TB) { suggesttest.Collect(tb, short{}, 1, space, 4, 2) }, want: "Suggest(N=2) returned 1 assignments"},
		"Run short":     {fn: func(tb testing.TB) { suggesttest.Run(tb, short{}, space, suggest.Minimize, 1, 4, 2, f) }, want: "Suggest(N=2) returned 1 assignments"},
		"Collect error": {fn: func(tb testing.TB) { suggesttest.Collect(tb, failing{}, 1, space, 4, 2) }, want: "Suggest after 0 assignments: no more"},
		"Run error":     {fn: func(tb testing.TB) { suggesttest.Run(tb, failing{}, space, suggest.Minimize, 1, 4, 2, f) }, want: "Suggest after 0 trials: no more"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := report(tc.fn); got.fatal != tc.want {
				t.Errorf("fatal %q; want %q", got.fatal, tc.want)
			}
		})
	}
}
