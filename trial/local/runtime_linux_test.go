//go:build linux

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/trial"
)

// needRuntime returns the test setup of rt (see
// [testutil.NeedContainers]: a busybox image imported without a registry,
// podman's configuration and storage in a temporary directory) with its
// configuration set in the environment for the test, or skips the test.
func needRuntime(t *testing.T, rt Runtime) *testutil.ContainerSetup {
	t.Helper()
	s := testutil.NeedContainers(t, string(rt))
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return s
}

// containerExists reports whether the runtime knows a container name.
func containerExists(t *testing.T, s *testutil.ContainerSetup, name string) bool {
	t.Helper()
	ok, err := s.Exists(name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// containerRuntimes are the runtimes the end-to-end tests run with.
var containerRuntimes = []Runtime{RuntimePodman, RuntimeDocker}

// imageContainer is a container of the test image running sh -c script
// with args.
func imageContainer(image, script string, args ...string) map[string]any {
	c := container("training", []any{"/bin/sh", "-c", script, "sh"}, args...)
	c["image"] = image
	return c
}

// TestContainerRun runs a trial in a container end to end: the parameter
// reaches the program byte for byte as an argument (no shell between), the
// container's env and the runner's variables are there and tune's own
// environment is not, variables that clash with the client's environment
// (PATH, HOME) and values with line breaks arrive intact, the working
// directory, the trial's directory (at the same path) and the spec's
// mounts are there, and the container is removed afterwards.
func TestContainerRun(t *testing.T) {
	for _, rt := range containerRuntimes {
		t.Run(string(rt), func(t *testing.T) {
			s := needRuntime(t, rt)
			t.Setenv("TUNE_TEST_HOST_ONLY", "leak")
			data := t.TempDir()
			if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("mounted data\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			param := `0.01; echo pwned $(id) 'q' "dq" \ *`
			script := `printf 'lr=%s\n' "$1"; printf '%s' "$1" > "$TUNE_TRIAL_DIR/param"; env > "$TUNE_TRIAL_DIR/env"; pwd > "$TUNE_TRIAL_DIR/pwd"; cat /var/log/katib/in.txt > "$TUNE_TRIAL_DIR/copied"; printf '%s' "$MULTI" > "$TUNE_TRIAL_DIR/multi"`
			c := imageContainer(s.Image, script, param)
			c["workingDir"] = "/tmp"
			c["env"] = []any{
				map[string]any{"name": "PATH", "value": "/bin:/opt/custom"},
				map[string]any{"name": "HOME", "value": "/tmp/home"},
				map[string]any{"name": "MULTI", "value": "line1\nline2 $x"},
				map[string]any{"name": "LR", "value": "$(TUNE_TRIAL)-lr"},
			}
			spec := helperSpec(t, c)
			spec.Owner = "/stores/test.db"
			spec.Env = []string{"TUNE_TRIAL=exp-0001", "TUNE_TRIAL_DIR=" + spec.Dir}
			spec.Mounts = []trial.Mount{{Source: data, Target: "/var/log/katib"}}
			e, err := New(Options{Runtime: rt})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Check(spec); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			res, err := e.Run(context.Background(), spec, &stdout, &stderr)
			if err != nil || res.State != trial.Succeeded {
				t.Fatalf("Run = %+v, %v; stderr:\n%s", res, err, stderr.String())
			}
			if got, want := stdout.String(), "lr="+param+"\n"; got != want {
				t.Errorf("stdout = %q, want %q", got, want)
			}
			name := containerName(e.mustPlan(t, spec), 1)
			if want := "tune: " + string(rt) + " container " + name + ", image " + s.Image; !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr = %q, want it to name the container and image (%q)", stderr.String(), want)
			}
			read := func(f string) string {
				b, err := os.ReadFile(filepath.Join(spec.Dir, f))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			if got := read("param"); got != param {
				t.Errorf("parameter inside = %q, want %q", got, param)
			}
			if got := read("pwd"); got != "/tmp\n" {
				t.Errorf("working directory = %q, want /tmp", got)
			}
			if got := read("copied"); got != "mounted data\n" {
				t.Errorf("mounted file = %q", got)
			}
			if got := read("multi"); got != "line1\nline2 $x" {
				t.Errorf("MULTI = %q", got)
			}
			env := read("env")
			for _, want := range []string{"PATH=/bin:/opt/custom", "HOME=/tmp/home", "LR=exp-0001-lr", "TUNE_TRIAL=exp-0001", "TUNE_TRIAL_DIR=" + spec.Dir} {
				if !slices.Contains(strings.Split(env, "\n"), want) {
					t.Errorf("env inside lacks %s:\n%s", want, env)
				}
			}
			if strings.Contains(env, "TUNE_TEST_HOST_ONLY") {
				t.Errorf("tune's own environment leaked into the container:\n%s", env)
			}
			if got, err := s.Labelled(labelTrial + "=" + spec.Name); err != nil || len(got) != 0 {
				t.Errorf("containers left: %v, %v", got, err)
			}
			if recordHeld(t, spec.Dir) {
				t.Error("process record left")
			}
		})
	}
}

// mustPlan plans spec or fails t.
func (e *Executor) mustPlan(t *testing.T, spec *trial.Spec) *plan {
	t.Helper()
	p, err := e.plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestContainerExitCode checks that a failing program's exit code and
// stderr tail make the result, and that a missing image is the trial's
// failure (the runtime's message in it), not the executor's.
func TestContainerExitCode(t *testing.T) {
	for _, rt := range containerRuntimes {
		t.Run(string(rt), func(t *testing.T) {
			s := needRuntime(t, rt)
			e, err := New(Options{Runtime: rt})
			if err != nil {
				t.Fatal(err)
			}
			spec := helperSpec(t, imageContainer(s.Image, `echo "bad input $1" >&2; exit 7`, "x"))
			res, err := e.Run(context.Background(), spec, nil, nil)
			if err != nil || res.State != trial.Failed || res.ExitCode == nil || *res.ExitCode != 7 || !strings.Contains(res.Message, "bad input x") {
				t.Errorf("Run = %+v (exit %v), %v; want Failed, exit code 7, the stderr tail", res, res.ExitCode, err)
			}
			c := imageContainer("localhost/tune-test-no-such-image:1", "true")
			c["imagePullPolicy"] = "Never"
			res, err = e.Run(context.Background(), helperSpec(t, c), nil, nil)
			if err != nil || res.State != trial.Failed || !strings.Contains(res.Message, "tune-test-no-such-image") {
				t.Errorf("Run with a missing image = %+v, %v; want Failed naming the image", res, err)
			}
		})
	}
}

// TestContainerCancel cancels trials in containers: one that exits on
// SIGTERM (which reaches it through the client's signal proxy and the
// init process) and one that ignores it (removed after the kill grace).
// Either way the result is Killed and no container is left.
func TestContainerCancel(t *testing.T) {
	for _, rt := range containerRuntimes {
		for _, tc := range []struct {
			name, trap string
		}{
			{"exits", `trap 'echo term > "$TUNE_TRIAL_DIR/term"; exit 3' TERM`},
			{"ignores", `trap '' TERM`},
		} {
			t.Run(string(rt)+"/"+tc.name, func(t *testing.T) {
				s := needRuntime(t, rt)
				e, err := New(Options{Runtime: rt, KillGrace: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				spec := helperSpec(t, imageContainer(s.Image, tc.trap+`; : > "$TUNE_TRIAL_DIR/ready"; while :; do sleep 0.1; done`))
				spec.Env = []string{"TUNE_TRIAL_DIR=" + spec.Dir}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := runAsync(ctx, e, spec)
				ready := filepath.Join(spec.Dir, "ready")
				if !waitFor(2*time.Minute, func() bool { _, err := os.Stat(ready); return err == nil }) {
					cancel()
					t.Fatalf("the trial never started: %+v", awaitCancelled(t, done))
				}
				name := containerName(e.mustPlan(t, spec), 1)
				if !containerExists(t, s, name) {
					t.Fatalf("container %s not found while the trial runs", name)
				}
				cancel()
				var o runOutcome
				select {
				case o = <-done:
				case <-time.After(2 * time.Minute):
					t.Fatal("Run did not return after cancel")
				}
				if o.err != nil || o.res.State != trial.Killed {
					t.Errorf("Run = %+v, %v; want Killed", o.res, o.err)
				}
				if containerExists(t, s, name) {
					t.Errorf("container %s left after cancel", name)
				}
				_, err = os.Stat(filepath.Join(spec.Dir, "term"))
				if got := err == nil; got != (tc.name == "exits") {
					t.Errorf("the program saw SIGTERM: %v, want %v", got, tc.name == "exits")
				}
			})
		}
	}
}

// ctrRunner runs, with a container runtime, a trial that sleeps: the role
// of a tune runner that TestContainerRecover kills.
func ctrRunner(rt, image, dir string) int {
	e, err := New(Options{Runtime: Runtime(rt), KillGrace: 200 * time.Millisecond})
	if err != nil {
		return 1
	}
	spec := &trial.Spec{
		Name:   "exp-0001",
		Object: jobObject(imageContainer(image, `: > "$TUNE_TRIAL_DIR/ready"; exec sleep 1000`)),
		Dir:    dir,
		Owner:  "store-a",
		Env:    []string{"TUNE_TRIAL_DIR=" + dir},
	}
	_, _ = e.Run(context.Background(), spec, os.Stdout, os.Stderr)
	return 1
}

// TestContainerRecover kills a runner with SIGKILL while its trial runs in
// a container: the client dies with it (parent-death signal) but the
// container lives on, as it does when tune crashes; Recover then finds the
// container through the process record, stops and removes it. A second
// Recover finds nothing left.
func TestContainerRecover(t *testing.T) {
	for _, rt := range containerRuntimes {
		t.Run(string(rt), func(t *testing.T) {
			s := needRuntime(t, rt)
			dir := t.TempDir()
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "--", "ctrrunner", string(rt), s.Image, dir)
			cmd.Env = append(os.Environ(), helperEnv+"=1")
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

			ready := filepath.Join(dir, "ready")
			if !waitFor(2*time.Minute, func() bool { _, err := os.Stat(ready); return err == nil }) {
				t.Fatalf("the trial never started; runner's stderr:\n%s", stderr.String())
			}
			rec := readRecordJSON(t, dir)
			if rec.Container == nil || rec.Container.Runtime != rt || !strings.HasPrefix(rec.Container.Name, "tune-exp-0001-") {
				t.Fatalf("process record = %+v, want the container named", rec)
			}
			name := rec.Container.Name
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			if !waitFor(time.Minute, func() bool { return processGone(rec.PGID) }) {
				t.Fatalf("the client %d outlived its runner", rec.PGID)
			}
			if !containerExists(t, s, name) {
				t.Fatalf("container %s is gone with its client: nothing left to recover", name)
			}

			e, err := New(Options{Runtime: rt, KillGrace: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			spec := &trial.Spec{Name: "exp-0001", Dir: dir, Owner: "store-a"}
			msg, err := e.Recover(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if want := "its " + string(rt) + " container " + name + " was still there and was stopped and removed"; !strings.Contains(msg, want) {
				t.Errorf("Recover = %q, want it to say %q", msg, want)
			}
			if containerExists(t, s, name) {
				t.Errorf("container %s left after Recover", name)
			}
			if _, err := os.Stat(filepath.Join(dir, ProcessRecordName)); !os.IsNotExist(err) {
				t.Errorf("process record left: %v", err)
			}
			// A record naming a container that is gone: said so, no error.
			writeRecord(t, dir, rec)
			msg, err = e.Recover(context.Background(), spec)
			if err != nil || !strings.Contains(msg, "container "+name+" was already gone") {
				t.Errorf("second Recover = %q, %v; want the container said to be gone", msg, err)
			}
		})
	}
}

// readRecordJSON reads the process record in dir.
func readRecordJSON(t *testing.T, dir string) processRecord {
	t.Helper()
	var rec processRecord
	b, err := os.ReadFile(filepath.Join(dir, ProcessRecordName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestWorkflowInContainers runs a two-step Workflow with a container
// runtime: each step runs in the image (busybox, not the host's tools),
// the declared paths are mounted at their own paths (the first step
// writes them through a path its script builds, which re-rooting on the
// host could not catch), and the parameter and the file artifact reach
// the second step, whose output becomes the trial's metric.
func TestWorkflowInContainers(t *testing.T) {
	s := needRuntime(t, RuntimePodman)
	spec := workflowSpec(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  entrypoint: main
  arguments:
    parameters: [{name: x, value: "7"}]
  templates:
    - name: main
      dag:
        tasks:
          - {name: produce, template: produce}
          - name: consume
            template: consume
            dependencies: [produce]
            arguments:
              parameters: [{name: count, value: "{{tasks.produce.outputs.parameters.count}}"}]
              artifacts: [{name: data, from: "{{tasks.produce.outputs.artifacts.data}}"}]
    - name: produce
      container:
        image: `+s.Image+`
        command: [/bin/sh, -c, 'd=/tm; d=${d}p; test -x /bin/busybox && ! test -e /etc/os-release && echo in-image > $d/where; echo "$1" > $d/n; echo "$1$1" > $d/data', sh, "{{workflow.parameters.x}}"]
      outputs:
        parameters: [{name: count, valueFrom: {path: /tmp/n}}]
        artifacts: [{name: where, path: /tmp/where}, {name: data, path: /tmp/data}]
    - name: consume
      inputs:
        parameters: [{name: count}]
        artifacts: [{name: data, path: /in/data}]
      container:
        image: `+s.Image+`
        command: [/bin/sh, -c, 'echo "loss=$(( $1 + $(cat /in/data) ))"', sh, "{{inputs.parameters.count}}"]
      outputs:
        parameters: [{name: loss, valueFrom: {path: /in/data}}]
`)
	e, err := New(Options{Runtime: RuntimePodman})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Check(spec); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	res, err := e.Run(context.Background(), spec, &stdout, &stderr)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v; stderr:\n%s", res, err, stderr.String())
	}
	// produce wrote /tmp/where only inside its image; /tmp/n gave the
	// parameter 7, /tmp/data the artifact 77; consume printed 7+77.
	where, err := os.ReadFile(filepath.Join(spec.Dir, "steps", "exp-0001.produce", "fs", "tmp", "where"))
	if err != nil || string(where) != "in-image\n" {
		t.Errorf("produce's /tmp/where = %q, %v; want in-image (the step ran in the busybox image, its /tmp mounted from its step directory)", where, err)
	}
	log, err := os.ReadFile(filepath.Join(spec.Dir, "steps", "exp-0001.consume", "stdout.log"))
	if err != nil || string(log) != "loss=84\n" {
		t.Errorf("consume's log = %q, %v; want loss=84", log, err)
	}
	if !strings.Contains(stdout.String(), "count=7\n") || !strings.Contains(stdout.String(), "loss=77\n") {
		t.Errorf("trial output %q; want the numeric outputs count=7 and loss=77", stdout.String())
	}
	if left, err := s.Labelled("io.tune.trial=exp-0001"); err != nil || len(left) != 0 {
		t.Errorf("containers left: %v, %v", left, err)
	}
}
