//go:build !unix

package local

import (
	"context"
	"errors"
	"io"

	"github.com/tune-hpo/tune/trial"
)

var errUnsupported = errors.New("the local executor is not supported on this operating system")

func (e *Executor) start(context.Context, int, string, *plan, []string, io.Writer, io.Writer, *tailBuffer) (trial.Result, error) {
	return trial.Result{}, errUnsupported
}

func newRecord(int) (*processRecord, error)   { return nil, errUnsupported }
func liveMembers(*processRecord) (int, error) { return 0, errUnsupported }
func termGroup(int) error                     { return errUnsupported }
func killGroup(int) error                     { return errUnsupported }
