//go:build unix

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/trial"
)

func intp(i int) *int { return &i }

func newExecutor(t *testing.T, opts Options) *Executor {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// checkResult compares got with want; when wantPrefix is set, got's
// Message must start with it and is otherwise not compared.
func checkResult(t *testing.T, got, want trial.Result, wantPrefix string) {
	t.Helper()
	if wantPrefix != "" {
		if !strings.HasPrefix(got.Message, wantPrefix) {
			t.Errorf("message = %q, want prefix %q", got.Message, wantPrefix)
		}
		got.Message = ""
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestRunResults(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts       Options
		mode       string
		args       []string
		command    []any  // instead of the helper's
		workingDir string // of the container
		want       trial.Result
		wantPrefix string // of the message, instead of all of it
		wantStdout string
	}{
		"success": {
			mode: "exit", args: []string{"0", "0"},
			want:       trial.Result{State: trial.Succeeded, ExitCode: intp(0)},
			wantStdout: "out\n",
		},
		"exit code": {
			mode: "exit", args: []string{"3", "2"},
			want: trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 3: line 1\nline 2", ExitCode: intp(3)},
		},
		"no stderr": {
			mode: "exit", args: []string{"7", "0"},
			want: trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 7", ExitCode: intp(7)},
		},
		"default stderr tail is 20 lines": {
			mode: "exit", args: []string{"1", "30"},
			want: trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 1: " + lines(11, 30), ExitCode: intp(1)},
		},
		"stderr tail option": {
			opts: Options{StderrTail: 2},
			mode: "exit", args: []string{"1", "5"},
			want: trial.Result{State: trial.Failed, Reason: "Error", Message: "exit code 1: line 4\nline 5", ExitCode: intp(1)},
		},
		"signal": {
			mode: "signal",
			want: trial.Result{State: trial.Failed, Reason: "Signal", Message: "killed by signal SIGKILL (killed): about to die", ExitCode: intp(137)},
		},
		"program not in PATH": {
			command:    []any{"no-such-program-for-tune-tests"},
			want:       trial.Result{State: trial.Failed, Reason: "StartError"},
			wantPrefix: `cannot start trial process: executable "no-such-program-for-tune-tests" not found in $PATH`,
		},
		"relative program missing": {
			command:    []any{"./bin/train"},
			want:       trial.Result{State: trial.Failed, Reason: "StartError"},
			wantPrefix: "cannot start trial process: stat ",
		},
		"missing working directory": {
			mode: "exit", args: []string{"0", "0"},
			workingDir: "/nonexistent/tune/dir",
			want:       trial.Result{State: trial.Failed, Reason: "StartError"},
			wantPrefix: "cannot start trial process: working directory: stat /nonexistent/tune/dir: no such file or directory",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			command := tc.command
			if command == nil {
				command = helperCommand(t, tc.mode)
			}
			c := container("training", command, tc.args...)
			if tc.workingDir != "" {
				c["workingDir"] = tc.workingDir
			}
			spec := helperSpec(t, c)
			var stdout, stderr bytes.Buffer
			got, err := newExecutor(t, tc.opts).Run(t.Context(), spec, &stdout, &stderr)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkResult(t, got, tc.want, tc.wantPrefix)
			if tc.wantStdout != "" && stdout.String() != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tc.wantStdout)
			}
		})
	}
}

func lines(from, to int) string {
	var ls []string
	for i := from; i <= to; i++ {
		ls = append(ls, "line "+strconv.Itoa(i))
	}
	return strings.Join(ls, "\n")
}

func TestRunStderrIsCopied(t *testing.T) {
	t.Parallel()
	spec := helperSpec(t, container("training", helperCommand(t, "exit"), "1", "3"))
	var stdout, stderr bytes.Buffer
	if _, err := newExecutor(t, Options{}).Run(t.Context(), spec, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got, want := stderr.String(), "line 1\nline 2\nline 3\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// signalWriter closes ready when it has seen "ready".
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func TestRunStreamsOutput(t *testing.T) {
	t.Parallel()
	release := filepath.Join(t.TempDir(), "release")
	spec := helperSpec(t, container("training", helperCommand(t, "stream"), release))
	w := &signalWriter{ready: make(chan struct{})}
	done := make(chan trial.Result, 1)
	go func() {
		res, err := newExecutor(t, Options{}).Run(t.Context(), spec, w, nil)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case <-w.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("output not copied while the trial runs")
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := <-done; res.State != trial.Succeeded {
		t.Errorf("result = %+v, want Succeeded", res)
	}
	if got := w.buf.String(); got != "ready\ndone\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestRunEnvironment(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	c := container("training", helperCommand(t, "env"),
		report, "$(ZOO)", "--trial=$(TUNE_TRIAL)", "$$(FOO)", "$(UNDEFINED)", "$(BASE)", "$(OVER)")
	c["workingDir"] = "sub"
	c["env"] = []any{
		map[string]any{"name": "FOO", "value": "bar"},
		map[string]any{"name": "ZOO", "value": "$(FOO)-1"},
		map[string]any{"name": "LATER", "value": "$(AFTER)"},
		map[string]any{"name": "AFTER", "value": "x"},
		map[string]any{"name": "REF", "value": "$(TUNE_TRIAL)/out"},
		map[string]any{"name": "FROMBASE", "value": "$(BASE)"},
		map[string]any{"name": "EMPTY"},
		map[string]any{"name": "OVER", "value": "container"},
		map[string]any{"name": "POD", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
		map[string]any{"name": "NS", "valueFrom": map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
	}
	spec := helperSpec(t, c)
	spec.Env = append(spec.Env, "OVER=runner")
	e := newExecutor(t, Options{Dir: base, Env: []string{"BASE=1", "FOO=base"}})
	res, err := e.Run(t.Context(), spec, nil, nil)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	var got helperReport
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := helperReport{
		// The base environment is not visible to $(VAR), as an image's is
		// not in Kubernetes.
		Args: []string{"bar-1", "--trial=exp-0001", "$(FOO)", "$(UNDEFINED)", "$(BASE)", "runner"},
		Env: []string{
			"AFTER=x", "BASE=1", "EMPTY=", "FOO=bar", "FROMBASE=$(BASE)", "LATER=$(AFTER)", "NS=ns",
			"OVER=runner", "POD=exp-0001", "REF=exp-0001/out", "TUNE_LOCAL_TEST_HELPER=1",
			"TUNE_TRIAL=exp-0001", "ZOO=bar-1",
		},
		Dir: filepath.Join(base, "sub"),
	}
	slices.Sort(got.Env)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("child saw (-want +got):\n%s", diff)
	}
}

func TestRunNoShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	victim := filepath.Join(dir, "x")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "argv.json")
	values := []string{
		"$(touch pwned); rm -rf x",
		"`id`",
		"$(id)",
		"; touch pwned2",
		"| touch pwned3",
		"&& touch pwned4",
		"a b\tc\nd",
		"'single' \"double\"",
		"*",
		"~",
		"$HOME ${HOME}",
		"--lr=0.01",
		"",
	}
	c := container("training", helperCommand(t, "argv"), append([]string{report}, values...)...)
	c["workingDir"] = dir
	spec := helperSpec(t, c)
	res, err := newExecutor(t, Options{}).Run(t.Context(), spec, nil, nil)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	var got []string
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("child argv (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"x"}, names); diff != "" {
		t.Errorf("files in the working directory (-want +got):\n%s", diff)
	}
}

func TestRunKill(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mode       string
		ignoreTerm bool
		grace      time.Duration
		minElapsed time.Duration
	}{
		"exits on SIGTERM": {mode: "sleep", grace: 10 * time.Second},
		"SIGKILL after grace": {
			mode: "sleep", ignoreTerm: true, grace: 300 * time.Millisecond, minElapsed: 300 * time.Millisecond,
		},
		"grandchild killed too": {mode: "spawn", grace: 300 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ready := filepath.Join(t.TempDir(), "ready")
			args := []string{ready}
			if tc.ignoreTerm {
				args = append(args, "ignore-term")
			}
			spec := helperSpec(t, container("training", helperCommand(t, tc.mode), args...))
			e := newExecutor(t, Options{KillGrace: tc.grace})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := runAsync(ctx, e, spec)
			if !waitFor(10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
				t.Fatal("trial never got ready")
			}
			start := time.Now()
			cancel()
			got := awaitCancelled(t, done)
			elapsed := time.Since(start)
			if got.err != nil {
				t.Fatalf("Run: %v", got.err)
			}
			want := trial.Result{State: trial.Killed, Reason: "Killed", Message: "stopped: context canceled"}
			if diff := cmp.Diff(want, got.res, cmpopts.IgnoreFields(trial.Result{}, "ExitCode")); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if elapsed < tc.minElapsed {
				t.Errorf("returned after %s, before the %s grace", elapsed, tc.minElapsed)
			}
			if tc.mode == "spawn" {
				data, err := os.ReadFile(ready)
				if err != nil {
					t.Fatal(err)
				}
				pid, err := strconv.Atoi(string(data))
				if err != nil {
					t.Fatal(err)
				}
				if !waitFor(5*time.Second, func() bool { return processGone(pid) }) {
					t.Errorf("grandchild %d still running", pid)
				}
				if recordHeld(t, spec.Dir) {
					t.Error("process record left behind after the trial was stopped")
				}
			}
		})
	}
}

func TestRunKillsLeftoversOnExit(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	spec := helperSpec(t, container("training", helperCommand(t, "spawn"), pidFile, "exit"))
	start := time.Now()
	res, err := newExecutor(t, Options{KillGrace: 2 * time.Minute}).Run(t.Context(), spec, nil, nil)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	// The grandchild holds stdout open; without the group kill Run would
	// wait out the WaitDelay, the two-minute KillGrace.
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("Run took %s", elapsed)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(data))
	if !waitFor(5*time.Second, func() bool { return processGone(pid) }) {
		t.Errorf("grandchild %d still running after the trial ended", pid)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	spec := helperSpec(t, container("training", helperCommand(t, "exit"), "0", "0"))
	got, err := newExecutor(t, Options{}).Run(ctx, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := trial.Result{State: trial.Killed, Reason: "Killed", Message: "stopped before start: context canceled"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func gpuContainer(t *testing.T, mode string, resources map[string]any, args ...string) map[string]any {
	c := container("training", helperCommand(t, mode), args...)
	if resources != nil {
		c["resources"] = resources
	}
	return c
}

func TestRunGPUEnv(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		gpus      []string
		resources map[string]any
		want      string // CUDA_VISIBLE_DEVICES, "<unset>" when absent
	}{
		"none configured, none asked: untouched": {want: "7"},
		"configured, none asked: hidden":         {gpus: []string{"0", "1"}, want: ""},
		"two asked": {
			gpus:      []string{"0", "1"},
			resources: map[string]any{"limits": map[string]any{"nvidia.com/gpu": 2}},
			want:      "0,1",
		},
		"requests only": {
			gpus:      []string{"3", "5"},
			resources: map[string]any{"requests": map[string]any{"nvidia.com/gpu": "1"}},
			want:      "3",
		},
		"zero asked": {
			gpus:      []string{"0"},
			resources: map[string]any{"limits": map[string]any{"nvidia.com/gpu": "0", "cpu": "2"}},
			want:      "",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(t.TempDir(), "report.json")
			spec := helperSpec(t, gpuContainer(t, "env", tc.resources, report))
			e := newExecutor(t, Options{GPUs: tc.gpus, Env: []string{"CUDA_VISIBLE_DEVICES=7"}})
			res, err := e.Run(t.Context(), spec, nil, nil)
			if err != nil || res.State != trial.Succeeded {
				t.Fatalf("Run = %+v, %v", res, err)
			}
			var got helperReport
			data, _ := os.ReadFile(report)
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			v, ok := getEnv(got.Env, "CUDA_VISIBLE_DEVICES")
			if !ok {
				v = "<unset>"
			}
			if v != tc.want {
				t.Errorf("CUDA_VISIBLE_DEVICES = %q, want %q", v, tc.want)
			}
		})
	}
}

func TestRunGPUAllocation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newExecutor(t, Options{GPUs: []string{"0", "1"}})
	resources := map[string]any{"limits": map[string]any{"nvidia.com/gpu": "1"}}
	var wg sync.WaitGroup
	results := make([]trial.Result, 3)
	var stderrs [3]bytes.Buffer
	for i := range results {
		wg.Go(func() {
			spec := helperSpec(t, gpuContainer(t, "gpu", resources, dir))
			res, err := e.Run(t.Context(), spec, nil, &stderrs[i])
			if err != nil {
				t.Errorf("Run: %v", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.State != trial.Succeeded {
			t.Errorf("trial %d: %+v (stderr %q)", i, res, stderrs[i].String())
		}
	}
	seen, _ := filepath.Glob(filepath.Join(dir, "seen-*"))
	if len(seen) != 3 {
		t.Fatalf("%d trials recorded their GPU, want 3", len(seen))
	}
	for _, f := range seen {
		data, _ := os.ReadFile(f)
		if v := string(data); v != "0" && v != "1" {
			t.Errorf("a trial saw CUDA_VISIBLE_DEVICES=%q", v)
		}
	}
}

func TestRunGPUWaitCancelled(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, Options{GPUs: []string{"0"}})
	ids, err := e.gpus.acquire(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.gpus.release(ids)
	resources := map[string]any{"limits": map[string]any{"nvidia.com/gpu": "1"}}
	spec := helperSpec(t, gpuContainer(t, "exit", resources, "0", "0"))
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	got, err := e.Run(ctx, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := trial.Result{State: trial.Killed, Reason: "Killed", Message: "stopped while waiting for a GPU: context deadline exceeded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}
