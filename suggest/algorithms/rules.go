package algorithms

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
)

// gridRules: a grid needs a step for every double parameter.
func gridRules(e Experiment, _ map[string]string) []Problem {
	var out []Problem
	for i, p := range e.Space {
		if p.Type == suggest.Double && p.Step == 0 {
			out = append(out, Problem{Where: InParameterStep, Index: i, Msg: "is required for a double parameter with the grid algorithm"})
		}
	}
	return out
}

// cmaesRules: CMA-ES needs at least two numeric parameters.
func cmaesRules(e Experiment, _ map[string]string) []Problem {
	n := 0
	for _, p := range e.Space {
		if p.Type == suggest.Double || p.Type == suggest.Int {
			n++
		}
	}
	if n < 2 {
		return []Problem{{Where: InParameters, Msg: fmt.Sprintf("cmaes needs at least two double or int parameters, got %d", n)}}
	}
	return nil
}

// ashaRules: the resource is an int or double parameter.
func ashaRules(e Experiment, settings map[string]string) []Problem {
	if rn, ok := settings["resource_name"]; ok && !slices.ContainsFunc(e.Space, func(p suggest.Param) bool {
		return p.Name == rn && (p.Type == suggest.Int || p.Type == suggest.Double)
	}) {
		return []Problem{{Where: InSettings, Msg: fmt.Sprintf("resource_name %q is not an int or double parameter in spec.parameters", rn)}}
	}
	return nil
}

// hyperbandRules are the cross-field rules of Katib's hyperband service:
// the resource is a parameter, and the parallel trial count holds the
// largest bracket's first rung.
func hyperbandRules(e Experiment, settings map[string]string) []Problem {
	var out []Problem
	if rn, ok := settings["resource_name"]; ok && !slices.ContainsFunc(e.Space, func(p suggest.Param) bool { return p.Name == rn }) {
		out = append(out, Problem{Where: InSettings, Msg: fmt.Sprintf("resource_name %q is not a parameter in spec.parameters", rn)})
	}
	rl, err := strconv.ParseFloat(settings["r_l"], 64)
	if err != nil || rl <= 0 {
		return out
	}
	eta := 3.0
	if e, err := strconv.ParseFloat(settings["eta"], 64); err == nil && math.Trunc(e) > 0 {
		eta = math.Trunc(e)
	}
	if eta <= 1 {
		return out
	}
	smax := math.Trunc(math.Log(rl) / math.Log(eta))
	need := int(math.Ceil(math.Pow(eta, smax)))
	if p := e.ParallelTrialCount; p != nil && *p < need {
		out = append(out, Problem{Where: InParallelTrialCount, Msg: fmt.Sprintf("hyperband with r_l=%v and eta=%v needs at least %d, got %d", rl, eta, need, *p)})
	}
	return out
}
