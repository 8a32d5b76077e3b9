package trial

import (
	"context"
	"errors"
)

// Preflighter is an optional interface of an [Executor] that can ask the
// system it runs trials on, before an experiment starts, whether it will
// be allowed to run a trial spec (a Kubernetes executor's permissions in
// the trials' namespace). The runner calls it once, with the same sample
// trial as [Checker], before anything is written.
//
// Preflight returns an error wrapping [ErrNotPermitted] when the trial
// would be refused, any other error when it could not find out but the
// trial cannot run either (the system cannot be reached), and warnings,
// with a nil error, for what it could not check but need not stop the
// experiment.
type Preflighter interface {
	Preflight(ctx context.Context, spec *Spec) (warnings []string, err error)
}

// ErrNotPermitted is wrapped by a [Preflighter]'s error when the system
// would refuse what a trial needs.
var ErrNotPermitted = errors.New("not permitted")
