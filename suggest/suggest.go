package suggest

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// ErrExhausted is returned by a [Suggester] that has no new assignment left
// to propose, such as a grid whose every point has been tried.
var ErrExhausted = errors.New("suggest: search space exhausted")

// ErrWait is returned by a [Suggester] that has nothing more to propose
// until some pending trial finishes, such as Hyperband before a rung is
// complete. It may come with assignments (fewer than asked): those are to
// be run, and Suggest is to be called again after the next trial finishes.
// Unlike [ErrExhausted] it does not mean the search is over.
var ErrWait = errors.New("suggest: waiting for pending trials")

// Suggester proposes new parameter assignments.
//
// Suggest is stateless: every call receives the whole history of the
// experiment, so an interrupted experiment resumes by reloading the history
// and calling again. Implementations must be deterministic for a given
// Request (Seed, Settings, History and N).
//
// Suggest returns at most req.N assignments. When it has fewer than req.N left
// it returns those; when it has none it returns [ErrExhausted].
type Suggester interface {
	Suggest(ctx context.Context, req Request) ([]Assignment, error)
}

// LengthOnly is implemented by a [Suggester] whose suggestions depend on
// [Request.History] only through its length, as a sequence's do (random,
// sobol): its caller may then pass observations that hold nothing (no
// name, no assignment), and need keep nothing of a finished trial.
type LengthOnly interface {
	Suggester
	// HistoryLengthOnly reports whether the suggestions depend on the
	// history only through its length.
	HistoryLengthOnly() bool
}

// Goal says whether the objective is minimised or maximised.
type Goal int

const (
	// Minimize means lower objective values are better.
	Minimize Goal = iota
	// Maximize means higher objective values are better.
	Maximize
)

// Better reports whether a is strictly better than b under g. NaN is never
// better than anything, and anything that is not NaN is better than NaN.
func (g Goal) Better(a, b float64) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case g == Maximize:
		return a > b
	default:
		return a < b
	}
}

// Request is the input of [Suggester.Suggest].
type Request struct {
	// Space is the search space, in the order the experiment declares it.
	Space Space
	// Goal is the direction of the objective.
	Goal Goal
	// History holds every trial created so far, in creation order, including
	// pending, running and failed ones.
	History []Observation
	// N is how many new assignments are wanted; N ≥ 1.
	N int
	// Seed seeds any randomness (Katib's random_state setting). Equal seeds and
	// equal histories give equal suggestions.
	Seed uint64
	// Settings are the algorithm's settings (Katib's algorithmSettings), by
	// name, with defaults not applied. Implementations validate them in their
	// constructor and may ignore them here.
	Settings map[string]string
	// NAS is the architecture search space (Katib's nasConfig) of an
	// experiment that has one instead of parameters; nil otherwise.
	NAS *NASConfig
}

// Status is the state of an observed trial as a suggester sees it.
type Status int

const (
	// Pending means the trial has been created and has no result yet
	// (it is waiting or running).
	Pending Status = iota
	// Completed means the trial finished and reported its objective.
	Completed
	// Failed means the trial ended without an objective value (failed,
	// killed, early-stopped without metric, or metrics unavailable).
	Failed
	// Abandoned means the trial was stopped before it finished for a reason
	// that says nothing about its assignment: the runner was interrupted or
	// died while it ran. It carries no information about the objective and
	// does not count as tried: an algorithm that enumerates a finite space
	// suggests its assignment again, model-based ones leave it out of the
	// model. It still occupies its position in the history, so sequence
	// algorithms (random, sobol) move on rather than repeat a point.
	Abandoned
)

// Observation is one trial of the history.
type Observation struct {
	// Name is the trial's name; "" when the caller has none. An algorithm
	// may put it in an assignment to refer to the trial (pbt's parent).
	Name string
	// Assignment is the trial's parameter assignment.
	Assignment Assignment
	// Status says whether Value is meaningful.
	Status Status
	// Value is the objective value chosen by the metric strategy; NaN unless
	// Status is Completed.
	Value float64
}

// CheckRequest returns ctx's error, or an error naming algorithm when req
// asks for fewer than one assignment: the checks every Suggest starts with.
func CheckRequest(ctx context.Context, algorithm string, req Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.N < 1 {
		return fmt.Errorf("%s: n is %d, want at least 1", algorithm, req.N)
	}
	return nil
}

// PickSeed returns the seed an algorithm uses: its own random_state setting
// when it has one (ok), otherwise req.Seed.
func (req Request) PickSeed(setting uint64, ok bool) uint64 {
	if ok {
		return setting
	}
	return req.Seed
}
