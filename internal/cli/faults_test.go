package cli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tune-hpo/tune/internal/cli"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRerunFinishedNeverSaysInterrupted re-runs a finished experiment
// in-process as cmd/tune does: the context is cancelled as soon as Main
// returns. Once every goroutine tune started has ended, stderr must not
// claim an interrupt (it did in about 1 run in 10).
func TestRerunFinishedNeverSaysInterrupted(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "done", Parallel: 1, Max: 1, MaxFailed: 1})
	args := []string{"run", "--gpus", "none", "--store", dir + "/tune.db", file}
	var out, errOut syncBuffer
	if code := cli.Main(t.Context(), args, cli.IOStreams{Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errOut.String())
	}
	for i := range 200 {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var out, errOut syncBuffer
			code := cli.Main(ctx, args, cli.IOStreams{Out: &out, ErrOut: &errOut})
			cancel()
			synctest.Wait() // every goroutine of the bubble has exited or blocks
			if code != 0 || !strings.Contains(errOut.String(), "nothing to do") {
				t.Fatalf("re-run %d: exit %d, stderr %q", i, code, errOut.String())
			}
			if strings.Contains(errOut.String(), "interrupted") {
				t.Fatalf("re-run %d of a finished experiment, not interrupted, printed: %q", i, errOut.String())
			}
		})
	}
}
