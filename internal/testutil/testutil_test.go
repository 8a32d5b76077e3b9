package testutil_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
)

func TestBuildAndRun(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "exit")
	if err := testutil.Build(map[string]string{bin: "./testdata/exit"}, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdout, stderr string
		code           int
	}{
		{"out", "err", 0},
		{"", "usage", 2},
		{"partial", "", 3},
	} {
		code, stdout, stderr := testutil.Run(t, exec.Command(bin, tc.stdout, tc.stderr, fmt.Sprint(tc.code)))
		if code != tc.code || stdout != tc.stdout || stderr != tc.stderr {
			t.Errorf("Run(%q, %q, %d) = %d, %q, %q", tc.stdout, tc.stderr, tc.code, code, stdout, stderr)
		}
	}
}

func TestBuildFails(t *testing.T) {
	err := testutil.Build(map[string]string{filepath.Join(t.TempDir(), "x"): "./testdata/no-such-package"}, false)
	if err == nil || !strings.Contains(err.Error(), "go build ./testdata/no-such-package") || !strings.Contains(err.Error(), "no-such-package") {
		t.Errorf("Build of a missing package: %v; want go build's error and output", err)
	}
}

// fakeTB records Fatalf, which ends the goroutine as testing.T's does.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRunCannotStart(t *testing.T) {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testutil.Run(f, exec.Command(filepath.Join(t.TempDir(), "missing")))
		f.fatal = "Run returned"
	}()
	<-done
	if !strings.Contains(f.fatal, "missing") || !strings.Contains(f.fatal, "no such file") {
		t.Errorf("Run of a missing program: fatal %q; want the command and the error", f.fatal)
	}
}
