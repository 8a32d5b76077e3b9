//go:build !unix

package local

import (
	"context"
	"errors"
	"io"

	"github.com/tune-hpo/tune/trial"
)

var errUnsupported = errors.New("the local executor is not supported on this operating system")

func (e *Executor) start(context.Context, string, *plan, []string, io.Writer, io.Writer, *tailBuffer) (trial.Result, error) {
	return trial.Result{}, errUnsupported
}
