package experiment

import (
	"strconv"
	"strings"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest"
	suggestalgorithms "github.com/tune-hpo/tune/suggest/algorithms"
)

// Space returns the search space of spec.parameters, in order. Min, Max and
// Step are parsed; Values holds discrete and categorical lists as written;
// an empty distribution is [suggest.Uniform]. Space is meaningful only for
// an experiment that passed [Experiment.Validate]: unparsable numbers read as
// zero.
func (e *Experiment) Space() suggest.Space {
	return spaceOf(e.Spec.Parameters)
}

// spaceOf returns params as a search space; see [Experiment.Space].
func spaceOf(params []ParameterSpec) suggest.Space {
	space := make(suggest.Space, 0, len(params))
	for _, p := range params {
		fs := p.FeasibleSpace
		sp := suggest.Param{
			Name:         p.Name,
			Type:         suggest.ParamType(p.ParameterType),
			Distribution: suggest.Distribution(fs.Distribution),
		}
		if sp.Distribution == "" {
			sp.Distribution = suggest.Uniform
		}
		switch sp.Type {
		case suggest.Double, suggest.Int:
			sp.Min = parseFloat(fs.Min)
			sp.Max = parseFloat(fs.Max)
			sp.Step = parseFloat(fs.Step)
		default:
			sp.Values = append([]string(nil), fs.List...)
		}
		space = append(space, sp)
	}
	return space
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

// Goal returns the objective's direction: [suggest.Maximize] for maximize,
// [suggest.Minimize] otherwise.
func (e *Experiment) Goal() suggest.Goal {
	if o := e.Spec.Objective; o != nil && o.Type == "maximize" {
		return suggest.Maximize
	}
	return suggest.Minimize
}

// MetricNames returns the objective metric's name followed by the additional
// metrics' names.
func (e *Experiment) MetricNames() []string {
	o := e.Spec.Objective
	if o == nil {
		return nil
	}
	names := make([]string, 0, 1+len(o.AdditionalMetricNames))
	if o.ObjectiveMetricName != "" {
		names = append(names, o.ObjectiveMetricName)
	}
	return append(names, o.AdditionalMetricNames...)
}

// Strategies returns each metric's strategy by metric name, from
// objective.metricStrategies. After [Experiment.Default] every metric of
// [Experiment.MetricNames] has one.
func (e *Experiment) Strategies() map[string]metrics.Strategy {
	out := map[string]metrics.Strategy{}
	if o := e.Spec.Objective; o != nil {
		for _, ms := range o.MetricStrategies {
			out[ms.Name] = metrics.Strategy(ms.Value)
		}
	}
	return out
}

// Seed returns the algorithm's random_state setting, and false when it is
// absent or not a non-negative integer.
func (e *Experiment) Seed() (uint64, bool) {
	v, ok := e.Settings()["random_state"]
	if !ok {
		return 0, false
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	return seed, true
}

// Settings returns spec.algorithm.algorithmSettings by name. The map is
// empty, not nil, when there are none; the caller owns it.
func (e *Experiment) Settings() map[string]string {
	out := map[string]string{}
	if a := e.Spec.Algorithm; a != nil {
		for _, s := range a.AlgorithmSettings {
			out[s.Name] = s.Value
		}
	}
	return out
}

// AlgorithmInput returns what the algorithm registry reads of the
// experiment, for [suggestalgorithms.NewFor] and
// [suggestalgorithms.Choose]: its settings in order, its parameters'
// names, types and steps, its budget and parallelism, and whether it has
// a nasConfig.
func (e *Experiment) AlgorithmInput() suggestalgorithms.Experiment {
	return algorithmInput(&e.Spec)
}

// SuggestRequest returns what the experiment's suggester is asked with:
// its space, goal, seed and settings, with no history and N zero, for the
// caller to set.
func (e *Experiment) SuggestRequest() suggest.Request {
	seed, _ := e.Seed()
	return suggest.Request{Space: e.Space(), Goal: e.Goal(), Seed: seed, Settings: e.Settings(), NAS: e.NAS()}
}

// NAS returns spec.nasConfig as the NAS algorithms read it, nil when the
// experiment has none. Like [Experiment.Space], it is meaningful only for
// an experiment that passed [Experiment.Validate].
func (e *Experiment) NAS() *suggest.NASConfig {
	n := e.Spec.NasConfig
	if n == nil {
		return nil
	}
	out := &suggest.NASConfig{}
	if n.GraphConfig.NumLayers != nil {
		out.NumLayers = int(*n.GraphConfig.NumLayers)
	}
	for _, v := range n.GraphConfig.InputSizes {
		out.InputSizes = append(out.InputSizes, int(v))
	}
	for _, v := range n.GraphConfig.OutputSizes {
		out.OutputSizes = append(out.OutputSizes, int(v))
	}
	for _, op := range n.Operations {
		out.Operations = append(out.Operations, suggest.NASOperation{Type: op.OperationType, Parameters: spaceOf(op.Parameters)})
	}
	return out
}

// Outputs returns the values the experiment's algorithm adds to each
// assignment besides its parameters ([suggestalgorithms.Algorithm.Outputs]).
func (e *Experiment) Outputs() []suggestalgorithms.Output {
	if e.Spec.Algorithm == nil {
		return nil
	}
	a, _ := suggestalgorithms.Lookup(e.Spec.Algorithm.AlgorithmName)
	return a.Outputs
}

// MetricsFormats returns the metrics filter's regular expressions, or
// [DefaultMetricsFormat] alone when none are given. In each, the first
// capture group is the metric name and the second its value.
func (e *Experiment) MetricsFormats() []string {
	if mc := e.Spec.MetricsCollectorSpec; mc != nil && mc.Source != nil && mc.Source.Filter != nil && len(mc.Source.Filter.MetricsFormat) > 0 {
		return append([]string(nil), mc.Source.Filter.MetricsFormat...)
	}
	return []string{DefaultMetricsFormat}
}

// CollectorKind returns spec.metricsCollectorSpec.collector.kind; after
// [Experiment.Default] it is never empty (StdOut by default).
func (e *Experiment) CollectorKind() collect.Kind {
	if mc := e.Spec.MetricsCollectorSpec; mc != nil && mc.Collector != nil {
		return collect.Kind(mc.Collector.Kind)
	}
	return ""
}
