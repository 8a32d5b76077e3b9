package cli_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
)

// TestRunInContainer runs a Job experiment with --runtime podman end to
// end: each trial runs in the test's busybox image (its /bin/sh is
// busybox, the host's is not), gets its parameters as arguments, and
// writes its metric with awk to the File collector's original path
// /var/log/katib/metrics.log, which is a bind mount of a directory under
// the trial's own directory. The stored metrics are checked against values
// computed here from the stored parameters, and no container is left.
func TestRunInContainer(t *testing.T) {
	s := testutil.NeedContainers(t, "podman")
	dir := t.TempDir()
	script := `awk -v x="$1" -v y="$2" 'BEGIN { printf "loss=%.12g\n", (x-1)*(x-1) + y*y }' > /var/log/katib/metrics.log; echo "sh=$(readlink /bin/sh) args=$#"`
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: ctr
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
    algorithmSettings:
      - {name: random_state, value: "3"}
  parallelTrialCount: 2
  maxTrialCount: 4
  maxFailedTrialCount: 1
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "2"}}
    - {name: "y", parameterType: int, feasibleSpace: {min: "-3", max: "3"}}
  metricsCollectorSpec:
    source:
      fileSystemPath: {path: /var/log/katib/metrics.log, kind: File, format: TEXT}
    collector:
      kind: File
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: %s
                imagePullPolicy: Never
                command: [/bin/sh, -c, %q, sh, "${trialParameters.x}", "${trialParameters.y}"]
`, s.Image, script)
	file := filepath.Join(dir, "ctr.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tuneEnv(t, dir, append(cleanEnv(), s.Env...), "run", "--runtime", "podman", "--gpus", "none", file)
	if r.code != 0 {
		t.Fatalf("tune run --runtime podman: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	trials := getTrials(t, dir, "ctr")
	if len(trials) != 4 {
		t.Fatalf("got %d trials, want 4", len(trials))
	}
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			t.Errorf("%s: %s (%s)", tr.Name, tr.Status, tr.Message)
			continue
		}
		x, err1 := strconv.ParseFloat(tr.Parameters["x"], 64)
		yv, err2 := strconv.ParseFloat(tr.Parameters["y"], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: parameters %v", tr.Name, tr.Parameters)
		}
		want := (x-1)*(x-1) + yv*yv
		if got := tr.Metrics["loss"]; math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s: loss = %v, want %v for %v", tr.Name, got, want, tr.Parameters)
		}
		out, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
		if err != nil || string(out) != "sh=busybox args=2\n" {
			t.Errorf("%s: stdout.log = %q, %v; want the image's busybox sh with 2 args", tr.Name, out, err)
		}
		errLog, err := os.ReadFile(filepath.Join(tr.Dir, "stderr.log"))
		if err != nil || !strings.Contains(string(errLog), "tune: podman container tune-"+tr.Name+"-") || !strings.Contains(string(errLog), "image "+s.Image) {
			t.Errorf("%s: stderr.log = %q, %v; want the container and image named", tr.Name, errLog, err)
		}
	}
	left, err := s.Labelled("io.tune.trial")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(left, func(n string) bool { return strings.HasPrefix(n, "tune-ctr-") }); i >= 0 {
		t.Errorf("containers left behind: %v", left)
	}
}

// TestRuntimeFlag checks --runtime's values: an unknown one and one that
// the Kubernetes executor cannot honour are usage errors, and completion
// offers the three.
func TestRuntimeFlag(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "rt", Parallel: 1, Max: 1, MaxFailed: 1})
	r := tune(t, dir, "run", "--runtime", "lxc", file)
	if r.code != 2 || !strings.Contains(r.stderr, `--runtime "lxc": want host, podman, docker`) {
		t.Errorf("--runtime lxc: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tune")); !os.IsNotExist(err) {
		t.Errorf("a refused --runtime created a store: %v", err)
	}
	// The environment sets it too, as every flag.
	r = tuneEnv(t, dir, append(cleanEnv(), "TUNE_RUNTIME=lxc"), "run", file)
	if r.code != 2 || !strings.Contains(r.stderr, `--runtime "lxc"`) {
		t.Errorf("TUNE_RUNTIME=lxc: exit %d, stderr %q", r.code, r.stderr)
	}
	r = tune(t, dir, "run", "--executor", "kubernetes", "--runtime", "podman", "--kubeconfig", filepath.Join(dir, "none"), file)
	if r.code != 2 || !strings.Contains(r.stderr, "--runtime podman is for --executor local") {
		t.Errorf("--executor kubernetes --runtime podman: exit %d, stderr %q", r.code, r.stderr)
	}
	// A Push collector's default Unix socket is out of a container's
	// reach: a warning says what to do. Without podman in PATH the run
	// stops before any trial, naming it.
	push := writeExperiment(t, dir, expParams{Name: "rtpush", Parallel: 1, Max: 1, MaxFailed: 1})
	b, err := os.ReadFile(push)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("  trialTemplate:\n"), []byte("  metricsCollectorSpec:\n    collector: {kind: Push}\n  trialTemplate:\n"), 1)
	if err := os.WriteFile(push, b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(), "PATH="+t.TempDir())
	r = tuneEnv(t, dir, env, "run", "--runtime", "podman", "--gpus", "none", push)
	if r.code == 0 || !strings.Contains(r.stderr, "cannot reach the Push collector's Unix socket: use --push-address 127.0.0.1:0") ||
		!strings.Contains(r.stderr, "container runtime podman") {
		t.Errorf("Push collector with --runtime podman and no podman: exit %d, stderr %q", r.code, r.stderr)
	}
	names, _ := complete(t, dir, "run", "--runtime", "")
	if !slices.Equal(names, []string{"host", "podman", "docker"}) {
		t.Errorf("completion of --runtime = %q", names)
	}
	names, _ = complete(t, dir, "resume", "--runtime", "")
	if !slices.Equal(names, []string{"host", "podman", "docker"}) {
		t.Errorf("completion of resume --runtime = %q", names)
	}
}
