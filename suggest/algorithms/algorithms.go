// Package algorithms is the one registry of search algorithms: every name
// Katib accepts in spec.algorithm.algorithmName and tune's additions (asha,
// and auto, which chooses one of the others per experiment: [Choose]),
// whether tune implements it, its settings and their checks, what it needs
// of the rest of the experiment, and its construction. Validation, tune run, tune compile and
// the benchmark program ask it; nothing else knows algorithm names.
//
// Adding an algorithm is a package under suggest (its New reading its
// settings with [suggest.ReadSettings]) and one entry in the registry.
package algorithms

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/asha"
	"github.com/tune-hpo/tune/suggest/bayes"
	"github.com/tune-hpo/tune/suggest/cmaes"
	"github.com/tune-hpo/tune/suggest/darts"
	"github.com/tune-hpo/tune/suggest/enas"
	"github.com/tune-hpo/tune/suggest/grid"
	"github.com/tune-hpo/tune/suggest/hyperband"
	"github.com/tune-hpo/tune/suggest/pbt"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/suggest/sobol"
	"github.com/tune-hpo/tune/suggest/tpe"
)

// ErrNotImplemented is returned by [New] for a Katib algorithm name that tune
// knows but does not implement yet.
var ErrNotImplemented = errors.New("not implemented yet")

// Algorithm is one entry of the registry.
type Algorithm struct {
	// Name is Katib's algorithmName.
	Name string
	// New builds the algorithm from its settings, rejecting unknown
	// settings and invalid values; nil when tune does not implement it.
	New func(settings map[string]string) (suggest.Suggester, error)
	// Settings are, for an algorithm without New, the settings Katib's
	// suggestion service accepts and how each value is checked.
	Settings map[string]suggest.ValueCheck
	// Required lists the settings the algorithm cannot do without.
	Required []string
	// NAS says the algorithm searches spec.nasConfig, which it requires.
	NAS bool
	// Outputs name the values the algorithm puts in each assignment
	// besides spec.parameters (an architecture, a trial's lineage), with
	// a sample value of each for rendering a trial before any is
	// suggested: trialTemplate.trialParameters may reference them as
	// they reference parameters.
	Outputs []Output
	// Rules checks what the algorithm needs of the experiment beyond its
	// settings, which it gets by name; nil when nothing.
	Rules func(e Experiment, settings map[string]string) []Problem
}

// registry holds every algorithm, in the order error messages list them.
var registry = []Algorithm{
	{Name: "random", New: build(random.New)},
	{Name: "grid", New: build(grid.New), Rules: gridRules},
	{Name: "bayesianoptimization", New: build(bayes.New)},
	{Name: "tpe", New: build(func(s map[string]string) (*tpe.Suggester, error) { return tpe.New(s, false) })},
	{Name: "multivariate-tpe", New: build(func(s map[string]string) (*tpe.Suggester, error) { return tpe.New(s, true) })},
	{Name: "cmaes", New: build(cmaes.New), Rules: cmaesRules},
	{Name: "sobol", New: build(sobol.New)},
	{Name: "hyperband", New: build(hyperband.New), Required: []string{"r_l", "resource_name"}, Rules: hyperbandRules},
	{Name: "enas", New: build(enas.New), NAS: true, Outputs: []Output{{enas.OutputArchitecture, enas.SampleArchitecture}, {enas.OutputNNConfig, enas.SampleNNConfig}}},
	{Name: "darts", New: build(darts.New), NAS: true, Outputs: dartsOutputs},
	{Name: "pbt", New: build(pbt.New), Outputs: []Output{{Name: pbt.Generation, Sample: "1"}, {Name: pbt.Parent, Sample: "parent-trial"}}},
	{Name: "asha", New: build(asha.New), Rules: ashaRules}, // tune's addition: asynchronous successive halving
	// auto, tune's addition, comes last: init adds it, as it builds the others.
}

func init() {
	registry = append(registry, Algorithm{Name: Auto, New: newAutoUnknown, Rules: autoRules})
}

// dartsOutputs are darts's assignment values, with samples rendered from
// Katib's defaults and a one-layer space of one operation.
var dartsOutputs = []Output{
	{Name: darts.AlgorithmSettings, Sample: "{'num_epochs': 50, 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}"},
	{Name: darts.SearchSpace, Sample: "['max_pooling_3x3']"},
	{Name: darts.NumLayers, Sample: "1"},
}

// Output is a value an algorithm adds to its assignments; see
// [Algorithm.Outputs].
type Output struct {
	Name, Sample string
}

// build adapts an algorithm package's New to [Algorithm.New], returning a
// nil Suggester with an error.
func build[S suggest.Suggester](f func(map[string]string) (S, error)) func(map[string]string) (suggest.Suggester, error) {
	return func(settings map[string]string) (suggest.Suggester, error) {
		s, err := f(settings)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Names lists every algorithm name Katib accepts, implemented or not, and
// tune's additions.
func Names() []string {
	out := make([]string, len(registry))
	for i, a := range registry {
		out[i] = a.Name
	}
	return out
}

// Implemented lists, sorted, the algorithm names [New] accepts.
func Implemented() []string {
	var out []string
	for _, a := range registry {
		if a.New != nil {
			out = append(out, a.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Lookup returns the algorithm named name, and whether there is one. Its
// Settings and Required are shared: callers must not modify them.
func Lookup(name string) (Algorithm, bool) {
	i := slices.IndexFunc(registry, func(a Algorithm) bool { return a.Name == name })
	if i < 0 {
		return Algorithm{}, false
	}
	return registry[i], true
}

// New returns the algorithm named name (Katib's algorithmName) configured
// by settings (Katib's algorithmSettings). Invalid settings are an error
// from the algorithm; an unknown or unimplemented name wraps
// [ErrNotImplemented].
func New(name string, settings map[string]string) (suggest.Suggester, error) {
	if a, ok := Lookup(name); ok && a.New != nil {
		return a.New(settings)
	}
	return nil, fmt.Errorf("algorithm %q: %w (implemented: %v)%s", name, ErrNotImplemented, Implemented(), didyoumean.Hint(name, Implemented()))
}

// Setting is one of spec.algorithm.algorithmSettings.
type Setting struct {
	Name, Value string
}

// Experiment is what [Check] reads of an experiment.
type Experiment struct {
	// Settings are spec.algorithm.algorithmSettings, in order.
	Settings []Setting
	// Space is spec.parameters, in order: names, types and steps are read;
	// a Step of 0 means none is given.
	Space suggest.Space
	// ParallelTrialCount is spec.parallelTrialCount, nil when not given.
	ParallelTrialCount *int
	// MaxTrialCount is spec.maxTrialCount, nil when not given.
	MaxTrialCount *int
	// NasConfig says whether spec.nasConfig is given.
	NasConfig bool
	// Chosen is, for [Auto], the algorithm auto chose when the experiment
	// was created (its stored status.algorithm); [Choose] keeps it. Empty
	// for a new experiment.
	Chosen string
}

// Where says which part of the experiment a [Problem] is about.
type Where int

// The parts of an experiment a [Problem] can be about.
const (
	InName               Where = iota // the algorithm's name
	InSettings                        // the settings as a whole
	InSetting                         // Settings[Index]
	InSettingName                     // Settings[Index].Name
	InSettingValue                    // Settings[Index].Value
	InParameters                      // the search space as a whole
	InParameterStep                   // Space[Index].Step
	InParallelTrialCount              // the parallel trial count
	InNasConfig                       // spec.nasConfig
)

// Problem is one thing [Check] finds wrong.
type Problem struct {
	Where Where
	Index int    // into Settings or Space, for the Where values that name one
	Msg   string // lowercase, without the path
}

// Check returns every problem with algorithm name and its settings in e,
// in a stable order, or nil. An empty or unknown name is the only problem
// reported for it. Settings with an empty or repeated name are left to the
// caller, except that an implemented algorithm is given the last value of
// each name and may report an empty one.
func Check(name string, e Experiment) []Problem {
	if name == "" {
		return []Problem{{Where: InName, Msg: fmt.Sprintf("is required (one of %s)", strings.Join(Names(), ", "))}}
	}
	a, ok := Lookup(name)
	if !ok {
		return []Problem{{Where: InName, Msg: fmt.Sprintf("unknown algorithm %q (allowed: %s)%s", name, strings.Join(Names(), ", "), didyoumean.Hint(name, Names()))}}
	}
	set := make(map[string]string, len(e.Settings))
	for _, st := range e.Settings {
		set[st.Name] = st.Value
	}
	var out []Problem
	if a.New != nil {
		_, err := a.New(set)
		out = constructorProblems(e.Settings, err)
	} else {
		out = tableProblems(a, e.Settings)
	}
	for _, req := range a.Required {
		if _, ok := set[req]; !ok {
			out = append(out, Problem{Where: InSettings, Msg: fmt.Sprintf("setting %q is required for algorithm %s", req, a.Name)})
		}
	}
	if a.Rules != nil {
		out = append(out, a.Rules(e, set)...)
	}
	if a.NAS && !e.NasConfig {
		out = append(out, Problem{Where: InNasConfig, Msg: fmt.Sprintf("is required for algorithm %s", a.Name)})
	}
	return out
}

// constructorProblems turns the error of an algorithm's New into problems,
// one per joined error, each at the first setting of the name its
// [*suggest.SettingError] gives.
func constructorProblems(settings []Setting, err error) []Problem {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		p := Problem{Where: InSettings, Msg: e.Error()}
		var se *suggest.SettingError
		if errors.As(e, &se) && se.Name != "" {
			if i := slices.IndexFunc(settings, func(s Setting) bool { return s.Name == se.Name }); i >= 0 {
				p.Where, p.Index = InSetting, i
			}
		}
		out = append(out, p)
	}
	return out
}

// tableProblems checks settings against a.Settings, skipping empty and
// repeated names.
func tableProblems(a Algorithm, settings []Setting) []Problem {
	var out []Problem
	seen := map[string]bool{}
	for i, st := range settings {
		if st.Name == "" || seen[st.Name] {
			continue
		}
		seen[st.Name] = true
		check, ok := a.Settings[st.Name]
		if !ok {
			allowed := "none"
			if len(a.Settings) > 0 {
				allowed = strings.Join(slices.Sorted(maps.Keys(a.Settings)), ", ")
			}
			out = append(out, Problem{Where: InSettingName, Index: i, Msg: fmt.Sprintf("unknown setting %q for algorithm %s (allowed: %s)%s", st.Name, a.Name, allowed, didyoumean.Hint(st.Name, slices.Sorted(maps.Keys(a.Settings))))})
			continue
		}
		if err := check(st.Value); err != nil {
			out = append(out, Problem{Where: InSettingValue, Index: i, Msg: fmt.Sprintf("%s: %v", st.Name, err)})
		}
	}
	return out
}
