package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tune-hpo/tune/internal/cli"
)

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

// TestRunOutputToClosedPipe runs tune as `tune run x.yaml 2>&1 | head -1`
// would: its output's reader goes away after the first line. tune must not
// die of SIGPIPE (exit 141, experiment left Running): the experiment ends
// Succeeded in the store and tune exits 0. With only stdout closed, the
// loss is said once on stderr.
func TestRunOutputToClosedPipe(t *testing.T) {
	for _, both := range []bool{true, false} {
		name := map[bool]string{true: "stdout and stderr", false: "stdout only"}[both]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeExperiment(t, dir, expParams{Name: "piped", Parallel: 1, Max: 4, MaxFailed: 1})
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := tuneProcess(t, dir, "run", "--gpus", "none", file)
			cmd.Env = append(cmd.Env, "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
			var errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = w, &errOut
			if both {
				cmd.Stderr = w
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if both {
				line, err := bufio.NewReader(r).ReadString('\n')
				if err != nil {
					t.Fatalf("first line: %q, %v", line, err)
				}
			}
			r.Close()
			err = cmd.Wait()
			if err != nil {
				t.Fatalf("tune run with its output's reader gone: %v (stderr %q)", err, errOut.String())
			}
			if got := getExperiment(t, dir, "piped"); got.Status != "Succeeded" {
				t.Errorf("experiment %s/%s in the store, want Succeeded", got.Status, got.Reason)
			}
			if !both {
				if n := strings.Count(errOut.String(), "cannot write to standard output"); n != 1 {
					t.Errorf("stderr says %d times that stdout failed, want once:\n%s", n, errOut.String())
				}
			}
		})
	}
}

// TestTerminalEscapesArePrintedEscaped runs trials whose categorical value
// and stderr hold terminal control sequences (ESC, an 8-bit CSI): tune run's
// progress and summary and tune get trials must show them escaped, never
// raw.
func TestTerminalEscapesArePrintedEscaped(t *testing.T) {
	dir := t.TempDir()
	y := `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: esc
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 1
  maxTrialCount: 2
  maxFailedTrialCount: 2
  parameters:
    - name: label
      parameterType: categorical
      feasibleSpace: {list: ["a\e[2Jb", "c\u009bd\u0007"]}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: label, reference: label}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: ignored-locally
                command: ["/bin/sh", "-c", "printf 'bad \\033]0;title\\007 %s\\n' \"$1\" >&2; exit 3", "sh", "${trialParameters.label}"]
`
	file := filepath.Join(dir, "esc.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	run := tune(t, dir, "run", "--gpus", "none", file)
	if run.code == 2 || !strings.Contains(run.stdout, "experiment esc") {
		t.Fatalf("run: exit %d: %s", run.code, run.stderr)
	}
	get := tune(t, dir, "get", "trials", "esc")
	if get.code != 0 {
		t.Fatalf("get trials: exit %d: %s", get.code, get.stderr)
	}
	for name, out := range map[string]string{"run stdout": run.stdout, "run stderr": run.stderr, "get trials": get.stdout} {
		if i := strings.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f }); i >= 0 {
			t.Errorf("%s holds a raw control character at %d: %q", name, i, out)
		}
	}
	for _, want := range []string{`a\x1b[2Jb`, `c\u009bd\x07`} {
		if !strings.Contains(run.stderr, want) || !strings.Contains(get.stdout, want) {
			t.Errorf("%s not shown escaped:\nrun: %s\nget: %s", want, run.stderr, get.stdout)
		}
	}
	if !strings.Contains(run.stderr, `bad \x1b]0;title\x07 a\x1b[2Jb`) {
		t.Errorf("the trial's stderr is not shown escaped in its failure:\n%s", run.stderr)
	}
}

// TestRunRefusesCollectorPathOverProject: a File collector path in the
// project's own directory would have each trial's copy of that directory
// mounted over it, hiding train.sh and the data; tune run refuses it with
// exit 2 before creating the store, naming the field and the way out.
func TestRunRefusesCollectorPathOverProject(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "over", Parallel: 1, Max: 1, MaxFailed: 1})
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	collector := "  metricsCollectorSpec:\n    source:\n      fileSystemPath: {path: " + filepath.Join(dir, "metrics.log") + ", kind: File}\n    collector: {kind: File}\n  trialTemplate:\n"
	b = bytes.Replace(b, []byte("  trialTemplate:\n"), []byte(collector), 1)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := tune(t, dir, "run", "--gpus", "none", file)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"spec.metricsCollectorSpec.source.fileSystemPath.path", "over.yaml", "$(TUNE_METRICS_PATH)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".tune")); err == nil {
		t.Errorf("a store was created for a refused experiment")
	}
}
