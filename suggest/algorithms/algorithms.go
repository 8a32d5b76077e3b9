// Package algorithms maps Katib's algorithm names to tune's search
// algorithms. It is the one registry of them: an explicit switch, used by the
// command line and by the benchmark program.
package algorithms

import (
	"errors"
	"fmt"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/asha"
	"github.com/tune-hpo/tune/suggest/bayes"
	"github.com/tune-hpo/tune/suggest/cmaes"
	"github.com/tune-hpo/tune/suggest/grid"
	"github.com/tune-hpo/tune/suggest/hyperband"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/suggest/sobol"
	"github.com/tune-hpo/tune/suggest/tpe"
)

// ErrNotImplemented is returned by [New] for a Katib algorithm name that tune
// knows but does not implement yet.
var ErrNotImplemented = errors.New("not implemented yet")

// Implemented lists the algorithm names [New] accepts.
func Implemented() []string {
	return []string{"asha", "bayesianoptimization", "cmaes", "grid", "hyperband", "multivariate-tpe", "random", "sobol", "tpe"}
}

// New returns the algorithm named name (Katib's algorithmName) configured
// by settings (Katib's algorithmSettings). Invalid settings are an error
// from the algorithm; an unknown or unimplemented name wraps
// [ErrNotImplemented].
func New(name string, settings map[string]string) (suggest.Suggester, error) {
	switch name {
	case "random":
		return random.New(settings)
	case "grid":
		return grid.New(settings)
	case "bayesianoptimization":
		return bayes.New(settings)
	case "cmaes":
		return cmaes.New(settings)
	case "sobol":
		return sobol.New(settings)
	case "tpe":
		return tpe.New(settings, false)
	case "multivariate-tpe":
		return tpe.New(settings, true)
	case "asha":
		return asha.New(settings)
	case "hyperband":
		return hyperband.New(settings)
	}
	return nil, fmt.Errorf("algorithm %q: %w (implemented: %v)", name, ErrNotImplemented, Implemented())
}
