package pbt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

var space = suggest.Space{
	{Name: "lr", Type: suggest.Double, Min: 0.0001, Max: 0.02},
	{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
	{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam", "rmsprop"}},
}

func mustNew(t *testing.T, settings map[string]string) *Suggester {
	t.Helper()
	s, err := New(settings)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func settings(kv ...string) map[string]string {
	m := map[string]string{"suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "5", "truncation_threshold": "0.4"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestNewSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]string
		want     string // substring of the error; "" for none
	}{
		{"katib example", settings("n_population", "40", "truncation_threshold", "0.2"), ""},
		{"resample", settings("resample_probability", "0.25", "random_state", "3"), ""},
		{"bounds inclusive", settings("truncation_threshold", "1", "resample_probability", "0"), ""},
		{"population", settings("n_population", "4"), `n_population="4": want an integer ≥ 5`},
		{"population too large", settings("n_population", "10001"), `n_population 10001: want at most 10000`},
		{"truncation", settings("truncation_threshold", "1.5"), `truncation_threshold="1.5": want a number between 0 and 1`},
		{"resample range", settings("resample_probability", "-0.1"), `resample_probability="-0.1"`},
		{"unknown", settings("population", "5"), `unknown setting "population"`},
		{"missing dir", map[string]string{"n_population": "5", "truncation_threshold": "0.2"}, `"suggestion_trial_dir" is required`},
		{"missing population", map[string]string{"suggestion_trial_dir": "/c", "truncation_threshold": "0.2"}, `"n_population" is required`},
		{"missing truncation", map[string]string{"suggestion_trial_dir": "/c", "n_population": "5"}, `"truncation_threshold" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.settings)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New error = %v, want one containing %q", err, tc.want)
			case tc.want != "" && s != nil:
				t.Fatal("New returned a suggester with an error")
			}
		})
	}
}

// sim is an experiment's history as the runner keeps it.
type sim struct {
	t    testing.TB
	s    *Suggester
	hist []suggest.Observation
}

// ask asks for n trials and appends them as pending, named t1, t2, ….
func (m *sim) ask(n int) ([]suggest.Assignment, error) {
	m.t.Helper()
	as, err := m.s.Suggest(context.Background(), suggest.Request{Space: space, Goal: suggest.Maximize, History: slices.Clone(m.hist), N: n, Seed: 11})
	if err != nil && !errors.Is(err, suggest.ErrWait) {
		m.t.Fatalf("Suggest: %v", err)
	}
	for _, a := range as {
		m.hist = append(m.hist, suggest.Observation{Name: fmt.Sprintf("t%d", len(m.hist)+1), Assignment: a, Status: suggest.Pending, Value: math.NaN()})
	}
	return as, err
}

// finish completes pending trial i with value v (NaN: failed).
func (m *sim) finish(i int, v float64) {
	if math.IsNaN(v) {
		m.hist[i].Status = suggest.Failed
		return
	}
	m.hist[i].Status, m.hist[i].Value = suggest.Completed, v
}

func TestFirstGenerationAndWait(t *testing.T) {
	m := &sim{t: t, s: mustNew(t, settings())}
	as, err := m.ask(3)
	if err != nil || len(as) != 3 {
		t.Fatalf("first ask = %d, %v; want 3 and no error", len(as), err)
	}
	as, err = m.ask(4)
	if !errors.Is(err, suggest.ErrWait) || len(as) != 2 {
		t.Fatalf("second ask = %d, %v; want the 2 left of the population and ErrWait", len(as), err)
	}
	seen := map[string]bool{}
	for i, o := range m.hist {
		a := o.Assignment
		if a[Generation] != "0" || a[Parent] != "" {
			t.Errorf("trial %d: generation %q parent %q, want 0 and none", i, a[Generation], a[Parent])
		}
		if err := checkParams(a); err != nil {
			t.Errorf("trial %d: %v", i, err)
		}
		seen[a["lr"]] = true
	}
	if len(seen) != 5 {
		t.Errorf("%d distinct lr values in a population of 5", len(seen))
	}
	for i := range 4 {
		m.finish(i, float64(i))
	}
	if as, err := m.ask(2); !errors.Is(err, suggest.ErrWait) || len(as) != 0 {
		t.Fatalf("with one member running: %d, %v; want none and ErrWait", len(as), err)
	}
}

// checkParams checks that a's parameters are in space.
func checkParams(a suggest.Assignment) error {
	for _, p := range space {
		if err := p.Check(a[p.Name]); err != nil {
			return err
		}
	}
	return nil
}

// perturbed reports whether child's parameters are parent's perturbed as
// Katib perturbs them.
func perturbed(parent, child suggest.Assignment) bool {
	f := func(a suggest.Assignment, k string) float64 { v, _ := strconv.ParseFloat(a[k], 64); return v }
	lr, clr := f(parent, "lr"), f(child, "lr")
	okLR := slices.ContainsFunc([]float64{lr * 0.8, lr * 1.2, 0.0001, 0.02}, func(w float64) bool {
		return math.Abs(w-clr) < 1e-12 && w >= 0.0001-1e-12 && w <= 0.02+1e-12
	})
	l, cl := f(parent, "layers"), f(child, "layers")
	okLayers := cl != l && math.Abs(cl-l) <= math.Max(1, math.Ceil(0.2*l)) || (cl == l && (l == 1 || l == 8))
	vals := space[2].Values
	i, j := slices.Index(vals, parent["opt"]), slices.Index(vals, child["opt"])
	okOpt := j == (i+1)%3 || j == (i+2)%3
	return okLR && okLayers && okOpt
}

func TestExploitExplore(t *testing.T) {
	m := &sim{t: t, s: mustNew(t, settings())}
	m.ask(5)
	// Values 0..4: trials t1, t2 are the bottom 2 (⌊5·0.4⌋); t4, t5 the top 2.
	for i := range 5 {
		m.finish(i, float64(i))
	}
	next, err := m.ask(5)
	if err != nil || len(next) != 5 {
		t.Fatalf("generation 1 = %d, %v", len(next), err)
	}
	byName := map[string]suggest.Assignment{}
	for _, o := range m.hist[:5] {
		byName[o.Name] = o.Assignment
	}
	for i, a := range next {
		if a[Generation] != "1" {
			t.Errorf("member %d: generation %q, want 1", i, a[Generation])
		}
		parent := a[Parent]
		switch {
		case i < 2 && parent != "t4" && parent != "t5":
			t.Errorf("bottom member %d: parent %q, want a top trial (t4, t5)", i, parent)
		case i >= 2 && parent != fmt.Sprintf("t%d", i+1):
			t.Errorf("member %d: parent %q, want its own trial t%d", i, parent, i+1)
		}
		if p, ok := byName[parent]; !ok || !perturbed(p, a) {
			t.Errorf("member %d: %v is not its parent %s's %v perturbed", i, a, parent, p)
		}
		if err := checkParams(a); err != nil {
			t.Errorf("member %d: %v", i, err)
		}
	}
}

func TestMinimizeRanksLowFirst(t *testing.T) {
	s := mustNew(t, settings("truncation_threshold", "0.2"))
	var hist []suggest.Observation
	as, _ := s.Suggest(context.Background(), suggest.Request{Space: space, Goal: suggest.Minimize, N: 5, Seed: 2})
	for i, a := range as {
		hist = append(hist, suggest.Observation{Name: fmt.Sprintf("t%d", i+1), Assignment: a, Status: suggest.Completed, Value: float64(i)})
	}
	next, err := s.Suggest(context.Background(), suggest.Request{Space: space, Goal: suggest.Minimize, History: hist, N: 5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Minimising, t5 (value 4) is the one bottom member and t1 the one top.
	for i, a := range next {
		want := fmt.Sprintf("t%d", i+1)
		if i == 4 {
			want = "t1"
		}
		if a[Parent] != want {
			t.Errorf("member %d: parent %q, want %q", i, a[Parent], want)
		}
	}
}

func TestFailedMemberExploits(t *testing.T) {
	m := &sim{t: t, s: mustNew(t, settings("truncation_threshold", "0"))}
	m.ask(5)
	for i, v := range []float64{3, math.NaN(), 1, 5, 2} {
		m.finish(i, v)
	}
	next, _ := m.ask(5)
	for i, a := range next {
		want := fmt.Sprintf("t%d", i+1)
		if i == 1 {
			want = "t4" // the failed member takes the best one's checkpoint
		}
		if a[Parent] != want {
			t.Errorf("member %d: parent %q, want %q (threshold 0: only failed members exploit)", i, a[Parent], want)
		}
	}
}

func TestAllFailedStartsAfresh(t *testing.T) {
	m := &sim{t: t, s: mustNew(t, settings())}
	first, _ := m.ask(5)
	for i := range 5 {
		m.finish(i, math.NaN())
	}
	next, err := m.ask(5)
	if err != nil || len(next) != 5 {
		t.Fatalf("after a failed generation: %d, %v", len(next), err)
	}
	for i, a := range next {
		if a[Generation] != "1" || a[Parent] != "" {
			t.Errorf("member %d: generation %q parent %q, want 1 and none", i, a[Generation], a[Parent])
		}
		if a["lr"] == first[i]["lr"] {
			t.Errorf("member %d: lr %s repeats generation 0's", i, a["lr"])
		}
	}
}

func TestResample(t *testing.T) {
	for _, p := range []string{"0", "1"} {
		m := &sim{t: t, s: mustNew(t, settings("resample_probability", p, "truncation_threshold", "0"))}
		first, _ := m.ask(5)
		for i := range 5 {
			m.finish(i, float64(i))
		}
		next, _ := m.ask(5)
		same := 0
		for i, a := range next {
			for _, prm := range space {
				if a[prm.Name] == first[i][prm.Name] {
					same++
				}
			}
			if err := checkParams(a); err != nil {
				t.Error(err)
			}
		}
		switch {
		case p == "0" && same != 15:
			t.Errorf("resample_probability 0: %d of 15 values kept, want all", same)
		case p == "1" && same > 7:
			t.Errorf("resample_probability 1: %d of 15 values kept; resampling keeps few (lr never)", same)
		}
	}
}

// drive runs the population for trials trials, asking for batch at a time
// and finishing the oldest pending trial with f, and returns the history.
func drive(t testing.TB, s *Suggester, trials, batch int, f func(suggest.Assignment) float64) []suggest.Observation {
	m := &sim{t: t, s: s}
	for len(m.hist) < trials {
		pending := 0
		for _, o := range m.hist {
			if o.Status == suggest.Pending {
				pending++
			}
		}
		if pending < batch {
			m.ask(min(batch-pending, trials-len(m.hist)))
		}
		for i, o := range m.hist {
			if o.Status == suggest.Pending {
				m.finish(i, f(o.Assignment))
				break
			}
		}
	}
	return m.hist
}

func TestDeterministicAcrossBatching(t *testing.T) {
	f := func(a suggest.Assignment) float64 {
		v, _ := strconv.ParseFloat(a["lr"], 64)
		return -math.Abs(v - 0.01)
	}
	s := mustNew(t, settings())
	a := drive(t, s, 30, 2, f)
	b := drive(t, s, 30, 5, f)
	for i := range a {
		if a[i].Assignment.Key() != b[i].Assignment.Key() {
			t.Fatalf("trial %d: %v with batches of 2, %v with batches of 5", i, a[i].Assignment, b[i].Assignment)
		}
	}
	if g := a[29].Assignment[Generation]; g != "5" {
		t.Errorf("trial 30 in generation %s, want 5 (population 5)", g)
	}
	other := drive(t, mustNew(t, settings("random_state", "99")), 30, 5, f)
	if other[0].Assignment.Key() == a[0].Assignment.Key() {
		t.Error("random_state does not change the population")
	}
}

func TestAbandonedMemberRunsAgain(t *testing.T) {
	m := &sim{t: t, s: mustNew(t, settings())}
	m.ask(5)
	for i := range 5 {
		m.finish(i, float64(i))
	}
	gen1, _ := m.ask(3)
	m.finish(5, 1)
	// The runner stopped: t7 and t8 were abandoned. Resumed, the next
	// trials are those two members again, then the two not yet started.
	m.hist[6].Status, m.hist[7].Status = suggest.Abandoned, suggest.Abandoned
	again, err := m.ask(5)
	if !errors.Is(err, suggest.ErrWait) || len(again) != 4 {
		t.Fatalf("after resume: %d, %v; want 4 and ErrWait", len(again), err)
	}
	for i := range 2 {
		if again[i].Key() != gen1[i+1].Key() {
			t.Errorf("resumed trial %d = %v, want the abandoned %v", i, again[i], gen1[i+1])
		}
	}
	for _, a := range again {
		if a[Generation] != "1" {
			t.Errorf("resumed: generation %q, want 1", a[Generation])
		}
	}
}

func TestPerturb(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	intP := suggest.Param{Name: "n", Type: suggest.Int, Min: 1, Max: 8}
	cat := suggest.Param{Name: "c", Type: suggest.Categorical, Values: []string{"a", "b", "c"}}
	stepped := suggest.Param{Name: "s", Type: suggest.Double, Min: 0.0001, Max: 0.02, Step: 0.0001}
	for range 200 {
		if v := perturb(intP, "1", r); v != "2" && v != "1" {
			t.Fatalf("int 1 perturbed to %s, want 2 (up) or 1 (down, at the bound)", v)
		}
		if v := perturb(intP, "8", r); v != "6" && v != "8" { // 8·0.8 = 6.4
			t.Fatalf("int 8 perturbed to %s", v)
		}
		if v := perturb(cat, "a", r); v != "b" && v != "c" {
			t.Fatalf("categorical a perturbed to %s, want a neighbour (wrapping)", v)
		}
		v := perturb(stepped, "0.01", r)
		if v != "0.008" && v != "0.012" {
			t.Fatalf("stepped 0.01 perturbed to %s, want 0.008 or 0.012", v)
		}
		if v := perturb(stepped, "0.019", r); v != "0.0152" && v != "0.02" {
			t.Fatalf("stepped 0.019 perturbed to %s, want 0.0152 or the bound 0.02", v)
		}
	}
}

// BenchmarkSuggest1000 times one call after 1,000 trials (population 20,
// 50 generations), the replay included.
func BenchmarkSuggest1000(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: driving 1,000 trials takes seconds; suggest/algorithms' BenchmarkSuggest/alg=pbt runs small sizes")
	}
	s, err := New(settings("n_population", "20"))
	if err != nil {
		b.Fatal(err)
	}
	f := func(a suggest.Assignment) float64 {
		v, _ := strconv.ParseFloat(a["lr"], 64)
		return -math.Abs(v - 0.01)
	}
	hist := drive(b, s, 1000, 20, f)
	req := suggest.Request{Space: space, Goal: suggest.Maximize, History: hist, N: 4, Seed: 11}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Suggest(context.Background(), req); err != nil && !errors.Is(err, suggest.ErrWait) {
			b.Fatal(err)
		}
	}
}

// TestKeyer: the keyer's key is Assignment.Key for every assignment: one
// of the space with its lineage, one with a name swapped for another,
// with a value more or less, and in a space whose parameter is named
// like a lineage value.
func TestKeyer(t *testing.T) {
	full := suggest.Assignment{"lr": "0.01", "layers": "3", "opt": "adam", Generation: "2", Parent: "t-1"}
	swapped := suggest.Assignment{"lr": "0.01", "layers": "3", "optimizer": "adam", Generation: "2", Parent: "t-1"}
	more := suggest.Assignment{"lr": "0.01", "layers": "3", "opt": "adam", Generation: "2", Parent: "t-1", "x": ""}
	less := suggest.Assignment{"lr": "0.01", "layers": "3", "opt": "adam"}
	named := append(slices.Clone(space), suggest.Param{Name: Parent, Type: suggest.Categorical, Values: []string{"a"}})
	for _, sp := range []suggest.Space{space, named} {
		kr := newKeyer(sp)
		for _, a := range []suggest.Assignment{full, swapped, more, less, {}} {
			if got, want := kr.key(a), a.Key(); got != want {
				t.Errorf("space of %d: key(%v) = %q, want %q", len(sp), a, got, want)
			}
		}
	}
}
