//go:build unix

package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/trial"
)

// helperEnv marks a run of the test binary as a trial child process.
const helperEnv = "TUNE_LOCAL_TEST_HELPER"

// TestHelperProcess is not a test: it is the program the tests run as a
// trial, re-executing the test binary with -test.run=^TestHelperProcess$ -- MODE ARGS.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		os.Exit(2)
	}
	os.Exit(helper(args[1], args[2:]))
}

// helperReport is what the env mode writes.
type helperReport struct {
	Args []string
	Env  []string
	Dir  string
}

func helper(mode string, args []string) int {
	switch mode {
	case "argv": // FILE ARGS...: record ARGS
		return writeJSON(args[0], args[1:])
	case "env": // FILE ARGS...: record ARGS, environment and directory
		dir, _ := os.Getwd()
		return writeJSON(args[0], helperReport{Args: args[1:], Env: os.Environ(), Dir: dir})
	case "exit": // CODE LINES: LINES lines on stderr, then exit with CODE
		code, _ := strconv.Atoi(args[0])
		n, _ := strconv.Atoi(args[1])
		fmt.Println("out")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
		return code
	case "signal": // die of SIGKILL
		fmt.Fprintln(os.Stderr, "about to die")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
		return 1
	case "stream": // FILE: say ready, then wait for FILE to exist
		fmt.Println("ready")
		for range 1000 {
			if _, err := os.Stat(args[0]); err == nil {
				fmt.Println("done")
				return 0
			}
			time.Sleep(10 * time.Millisecond)
		}
		return 1
	case "sleep": // READYFILE [ignore-term]: sleep for 1000 s
		if len(args) > 1 && args[1] == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		if args[0] != "-" {
			os.WriteFile(args[0], nil, 0o644)
		}
		time.Sleep(1000 * time.Second)
		return 0
	case "spawn": // PIDFILE [exit]: start a grandchild sleeping 1000 s that ignores SIGTERM
		signal.Ignore(syscall.SIGTERM)
		exe, _ := os.Executable()
		cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "--", "sleep", "-", "ignore-term")
		cmd.Env = os.Environ()
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmp := args[0] + ".tmp"
		os.WriteFile(tmp, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
		os.Rename(tmp, args[0])
		if len(args) > 1 && args[1] == "exit" {
			return 0
		}
		time.Sleep(1000 * time.Second)
		return 0
	case "flaky": // COUNTFILE FAILS [AWAIT]: count this attempt; fail (exit 1) for the first FAILS attempts; first wait (up to 10 s) for the file AWAIT to exist and not be empty
		if len(args) > 2 {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if fi, err := os.Stat(args[2]); err == nil && fi.Size() > 0 {
					break
				}
			}
		}
		data, _ := os.ReadFile(args[0])
		n, _ := strconv.Atoi(string(data))
		n++
		os.WriteFile(args[0], []byte(strconv.Itoa(n)), 0o644)
		fails, _ := strconv.Atoi(args[1])
		fmt.Printf("out %d\n", n)
		fmt.Fprintf(os.Stderr, "attempt %d\n", n)
		if n <= fails {
			return 1
		}
		return 0
	case "pid": // FILE [ignore-term]: write the pid to FILE, then sleep for 1000 s
		if len(args) > 1 && args[1] == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		tmp := args[0] + ".tmp"
		os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644)
		os.Rename(tmp, args[0])
		time.Sleep(1000 * time.Second)
		return 0
	case "runner": // DIR PIDFILE [TARGET]: run a "spawn PIDFILE" trial in DIR with the executor, as tune would, mounting DIR/mnt at TARGET
		return runner(args[0], args[1], args[2:]...)
	case "ctrrunner": // RUNTIME IMAGE DIR: run a sleeping trial in a container, as tune would
		return ctrRunner(args[0], args[1], args[2])
	case "gpu": // DIR: hold the GPU in CUDA_VISIBLE_DEVICES for a while
		dir := args[0]
		gpu := os.Getenv("CUDA_VISIBLE_DEVICES")
		pid := strconv.Itoa(os.Getpid())
		os.WriteFile(filepath.Join(dir, "seen-"+pid), []byte(gpu), 0o644)
		lock := filepath.Join(dir, "gpu-"+gpu)
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "GPU %q already in use\n", gpu)
			return 3
		}
		f.Close()
		run := filepath.Join(dir, "run-"+pid)
		os.WriteFile(run, nil, 0o644)
		matches, _ := filepath.Glob(filepath.Join(dir, "run-*"))
		if len(matches) > 2 {
			fmt.Fprintf(os.Stderr, "%d trials at once\n", len(matches))
			return 4
		}
		time.Sleep(300 * time.Millisecond)
		os.Remove(run)
		os.Remove(lock)
		return 0
	}
	fmt.Fprintf(os.Stderr, "helper: unknown mode %q\n", mode)
	return 2
}

// runner runs, with an Executor, a trial whose process starts a grandchild
// (its pid written to pidFile) and sleeps: the role of a tune runner that
// the tests kill.
func runner(dir, pidFile string, target ...string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := Options{KillGrace: 200 * time.Millisecond}
	var mounts []trial.Mount
	if len(target) > 0 {
		opts.MountHelper = exe
		mounts = []trial.Mount{{Source: filepath.Join(dir, "mnt"), Target: target[0]}}
		if err := os.Mkdir(mounts[0].Source, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	e, err := New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spec := &trial.Spec{
		Name:             "exp-0001",
		Object:           jobObject(container("training", []any{exe, "-test.run=^TestHelperProcess$", "--", "spawn"}, pidFile)),
		PrimaryContainer: "training",
		Dir:              dir,
		Env:              []string{helperEnv + "=1"},
		Mounts:           mounts,
	}
	if len(mounts) > 0 {
		if ok, reason := e.MountsSupported(); !ok {
			fmt.Fprintln(os.Stderr, "mounts unsupported:", reason)
			return 1
		}
	}
	res, err := e.Run(context.Background(), spec, os.Stdout, os.Stderr)
	fmt.Fprintln(os.Stderr, res, err)
	return 1
}

func writeJSON(file string, v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		return 1
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return 1
	}
	return 0
}

// helperCommand is the command of a container that runs the helper in mode.
func helperCommand(t *testing.T, mode string) []any {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []any{exe, "-test.run=^TestHelperProcess$", "--", mode}
}

// container returns a container object.
func container(name string, command []any, args ...string) map[string]any {
	c := map[string]any{"name": name, "image": "python:3.12", "command": command}
	if len(args) > 0 {
		a := make([]any, len(args))
		for i, s := range args {
			a[i] = s
		}
		c["args"] = a
	}
	return c
}

// jobObject returns a batch/v1 Job trial spec with the given containers.
func jobObject(containers ...map[string]any) map[string]any {
	cs := make([]any, len(containers))
	for i, c := range containers {
		cs[i] = c
	}
	return map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": "exp-0001", "namespace": "ns"},
		"spec": map[string]any{
			"template": map[string]any{
				"spec": map[string]any{"containers": cs, "restartPolicy": "Never"},
			},
		},
	}
}

// helperSpec returns a spec running the helper as container "training".
func helperSpec(t *testing.T, c map[string]any) *trial.Spec {
	return &trial.Spec{
		Experiment:       "exp",
		Name:             "exp-0001",
		Object:           jobObject(c),
		PrimaryContainer: "training",
		Dir:              t.TempDir(),
		Env:              []string{helperEnv + "=1", "TUNE_TRIAL=exp-0001"},
	}
}

// processGone reports whether pid no longer runs (a zombie waiting for
// init to reap it counts as gone).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// startRunner starts the test binary as a tune runner (helper mode
// "runner" with args; see runner) writing its stderr to stderr, and
// returns it with a channel closed once it has exited and been waited for.
// The test's cleanup kills it and waits.
func startRunner(t *testing.T, stderr io.Writer, args ...string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^TestHelperProcess$", "--", "runner"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd, done
}

// runOutcome is what an Executor's Run returned.
type runOutcome struct {
	res trial.Result
	err error
}

// runAsync runs spec with e in a goroutine; what Run returns arrives on
// the channel.
func runAsync(ctx context.Context, e *Executor, spec *trial.Spec) <-chan runOutcome {
	done := make(chan runOutcome, 1)
	go func() {
		res, err := e.Run(ctx, spec, nil, nil)
		done <- runOutcome{res, err}
	}()
	return done
}

// awaitCancelled returns what arrives on done, stopping t when nothing has
// after 20 s: Run did not return after its context was cancelled.
func awaitCancelled(t *testing.T, done <-chan runOutcome) runOutcome {
	t.Helper()
	select {
	case o := <-done:
		return o
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
		return runOutcome{}
	}
}

// recordHeld reports whether dir holds a non-empty process record, one
// that says a process of the trial runs; an emptied record does not.
func recordHeld(t *testing.T, dir string) bool {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, ProcessRecordName))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size() > 0
}
