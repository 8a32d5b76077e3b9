// Package darts is Katib's DARTS (Differentiable Architecture Search)
// suggestion: it runs no search of its own. Like Katib's suggestion-darts
// service, it hands the whole search to the trial, rendering the
// experiment's nasConfig and algorithmSettings as three strings the trial
// program parses (Katib's darts-cnn-cifar10 run_trial.py):
//
//   - "algorithm-settings": the settings over Katib's defaults, a Python
//     dict literal such as {'num_epochs': '1', 'w_lr': 0.025, …}
//   - "search-space": the candidate operations, such as
//     ['separable_convolution_3x3', 'skip_connection']
//   - "num-layers": graphConfig.numLayers, such as 1
//
// The strings are byte for byte what Katib's service emits: Python's
// json.dumps of the dict or list with every double quote replaced by a
// single one. Every assignment is the same; an experiment whose
// maxTrialCount exceeds 1 runs the same search that many times, as on
// Katib.
package darts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/internal/pyjson"
)

// The names of the values each assignment holds, which trialParameters
// reference.
const (
	AlgorithmSettings = "algorithm-settings"
	SearchSpace       = "search-space"
	NumLayers         = "num-layers"
)

// SkipConnection is the operation type that enters the search space by
// itself, without parameters.
const SkipConnection = "skip_connection"

// Setting is one of Katib's DARTS settings and its default, written as
// Python writes the default's value.
type Setting struct {
	Name, Default string
}

// Defaults are Katib's DARTS settings with their default values, in the
// order Katib's service lists them (pkg/suggestion/v1beta1/nas/darts/
// service.py, get_algorithm_settings): the order of the rendered dict.
var Defaults = []Setting{
	{"num_epochs", "50"},
	{"w_lr", "0.025"},
	{"w_lr_min", "0.001"},
	{"w_momentum", "0.9"},
	{"w_weight_decay", "0.0003"},
	{"w_grad_clip", "5.0"},
	{"alpha_lr", "0.0003"},
	{"alpha_weight_decay", "0.001"},
	{"batch_size", "128"},
	{"num_workers", "4"},
	{"init_channels", "16"},
	{"print_step", "50"},
	{"num_nodes", "4"},
	{"stem_multiplier", "3"},
}

// Suggester is the DARTS [suggest.Suggester]. It holds no mutable state
// and is safe for concurrent use.
type Suggester struct {
	settings map[string]string
}

var _ suggest.Suggester = (*Suggester)(nil)

// New returns a DARTS Suggester for Katib's algorithmSettings: the names of
// [Defaults], each checked as Katib's service checks it (num_epochs ≥ 1;
// the learning rates, momentum, weight decays and gradient clip ≥ 0;
// batch_size ≥ 1 or None; num_workers ≥ 0; init_channels, print_step,
// num_nodes and stem_multiplier ≥ 1). Unlike Katib, which passes unknown
// names on to the trial, an unknown name is an error: it is most often a
// misspelt one. A nil map means no settings.
func New(settings map[string]string) (*Suggester, error) {
	r := suggest.ReadSettings("darts", settings)
	r.Int("num_epochs", 1)
	for _, n := range []string{"w_lr", "w_lr_min", "w_momentum", "w_weight_decay", "w_grad_clip", "alpha_lr", "alpha_weight_decay"} {
		r.FloatAtLeast(n, 0)
	}
	r.Choice("batch_size", "a positive integer or None", func(v string) bool {
		if v == "None" {
			return true
		}
		n, err := strconv.Atoi(v)
		return err == nil && n >= 1
	})
	r.Int("num_workers", 0)
	for _, n := range []string{"init_channels", "print_step", "num_nodes", "stem_multiplier"} {
		r.Int(n, 1)
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	s := make(map[string]string, len(settings))
	for k, v := range settings {
		s[k] = v
	}
	return &Suggester{settings: s}, nil
}

// Suggest returns req.N copies of the assignment [Render] makes of req.NAS
// and the settings given to [New]. It never returns [suggest.ErrExhausted]:
// the experiment's trial count bounds the runs.
func (s *Suggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	if err := suggest.CheckRequest(ctx, "darts", req); err != nil {
		return nil, err
	}
	a, err := Render(req.NAS, s.settings)
	if err != nil {
		return nil, err
	}
	out := make([]suggest.Assignment, req.N)
	for i := range out {
		out[i] = suggest.Assignment{AlgorithmSettings: a[AlgorithmSettings], SearchSpace: a[SearchSpace], NumLayers: a[NumLayers]}
	}
	return out, nil
}

// Render returns the assignment Katib's DARTS service makes of nas and
// settings: [AlgorithmSettings], [SearchSpace] and [NumLayers], formatted
// as described in the package documentation. A setting's value is rendered
// as the string given, "None" as None; a setting not given has its default.
// The search space lists, for each operation in order, the operation type
// alone for [SkipConnection], and otherwise the type followed by
// "_{v}x{v}" for each value v in the list of the operation's first
// parameter (its filter size); an operation whose first parameter has no
// list adds nothing, as in Katib's service. It is an error for nas to be
// nil.
func Render(nas *suggest.NASConfig, settings map[string]string) (suggest.Assignment, error) {
	if nas == nil {
		return nil, errors.New("darts: the experiment has no spec.nasConfig")
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, d := range Defaults {
		if i > 0 {
			b.WriteString(", ")
		}
		writePyString(&b, d.Name)
		b.WriteString(": ")
		switch v, ok := settings[d.Name]; {
		case !ok:
			b.WriteString(d.Default)
		case v == "None":
			b.WriteString("null")
		default:
			writePyString(&b, v)
		}
	}
	b.WriteByte('}')
	algo := b.String()

	b.Reset()
	b.WriteByte('[')
	first := true
	item := func(s string) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		writePyString(&b, s)
	}
	for _, op := range nas.Operations {
		if op.Type == SkipConnection {
			item(op.Type)
			continue
		}
		if len(op.Parameters) == 0 {
			continue
		}
		for _, v := range op.Parameters[0].Values {
			item(op.Type + "_" + v + "x" + v)
		}
	}
	b.WriteByte(']')
	return suggest.Assignment{
		AlgorithmSettings: algo,
		SearchSpace:       b.String(),
		NumLayers:         fmt.Sprint(nas.NumLayers),
	}, nil
}

// writePyString writes s as Python's json.dumps writes a string, with
// Katib's service's replacement of every double quote by a single quote
// applied.
func writePyString(b *strings.Builder, s string) {
	var q strings.Builder
	pyjson.WriteString(&q, s)
	b.WriteString(strings.ReplaceAll(q.String(), `"`, "'"))
}
