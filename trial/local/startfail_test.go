//go:build unix

package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// startFailEnv marks a run of the test binary that has no file descriptor
// left to give (see TestStartWithoutFileDescriptors).
const startFailEnv = "TUNE_LOCAL_TEST_NO_FDS"

// TestStartWithoutFileDescriptors starts a trial in a process that has run
// out of file descriptors: Run must return an error wrapping EMFILE (tune's
// environment failed, which the runner does not charge to the trial), not a
// Failed trial with reason StartError. It runs in a child process, whose
// limit it lowers, so that no other test is starved.
func TestStartWithoutFileDescriptors(t *testing.T) {
	if os.Getenv(startFailEnv) == "1" {
		os.Exit(startWithoutFDs(t))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartWithoutFileDescriptors$")
	// The child exits without its test's cleanups: its temporary
	// directories go under this test's, removed when it ends.
	cmd.Env = append(os.Environ(), startFailEnv+"=1", "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("EMFILE error returned")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// startWithoutFDs lowers this process's file limit to its lowest free file
// descriptor and runs a trial; it reports on stdout and returns the exit
// code.
func startWithoutFDs(t *testing.T) int {
	e := newExecutor(t, Options{})
	spec := helperSpec(t, container("training", helperCommand(t, "exit"), "0", "0"))
	free, err := syscall.Dup(0)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	syscall.Close(free)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println(err)
		return 1
	}
	lim.Cur = uint64(free)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println(err)
		return 1
	}
	res, err := e.Run(t.Context(), spec, nil, nil)
	if !errors.Is(err, syscall.EMFILE) {
		fmt.Printf("Run = %+v, %v; want an error wrapping EMFILE\n", res, err)
		return 1
	}
	fmt.Println("EMFILE error returned:", err)
	return 0
}
