// Package testutil builds and runs programs for the module's end-to-end
// tests (internal/cli, test/k8s/e2e): go build into a folder, then runs
// with the exit code and output captured. It is imported only by tests.
package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"testing"
)

// Build runs go build -o BIN PKG for each BIN → PKG of bins, in the order
// of BIN, with -race when race is set. It stops at the first failure,
// whose error holds go build's output.
func Build(bins map[string]string, race bool) error {
	names := make([]string, 0, len(bins))
	for bin := range bins {
		names = append(names, bin)
	}
	sort.Strings(names)
	for _, bin := range names {
		args := []string{"build", "-o", bin}
		if race {
			args = append(args, "-race")
		}
		if out, err := exec.Command("go", append(args, bins[bin])...).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", bins[bin], err, out)
		}
	}
	return nil
}

// Run runs cmd, which must not have been started and whose Stdout and
// Stderr must be unset, and returns its exit code and what it wrote to
// each. An exit code other than 0 is a result, not a failure (a command
// killed by a signal has exit code -1); a command that cannot start stops
// tb.
func Run(tb testing.TB, cmd *exec.Cmd) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("%v: %v", cmd.Args, err)
	}
	return code, out.String(), errOut.String()
}
