//go:build unix

package local

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/trial"
)

// workflowSpec is a trial spec for the Workflow text, in a fresh trial
// directory.
func workflowSpec(t *testing.T, text string) *trial.Spec {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatal(err)
	}
	return &trial.Spec{Experiment: "exp", Name: "exp-0001", Object: obj, Dir: t.TempDir(), PrimaryContainer: "main"}
}

// syncBuffer is the tests' concurrency-safe buffer.
type syncBuffer = testutil.SyncBuffer

// kfpWorkflow is the Workflow of examples/kfp-pipeline/experiment.yaml,
// as KFP v1 compiles it, with sh standing in for the Python programs:
// prepare writes a batch count computed from epochs to its output file,
// train reads it and the learning rate and writes KFP's metrics file.
const kfpWorkflow = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: train-pipeline-
  annotations: {pipelines.kubeflow.org/kfp_sdk_version: 1.8.22}
  labels: {pipelines.kubeflow.org/kfp_sdk_version: 1.8.22}
spec:
  entrypoint: train-pipeline
  serviceAccountName: pipeline-runner
  arguments:
    parameters:
    - {name: lr, value: "0.25"}
    - {name: epochs, value: "6"}
  templates:
  - name: prepare-data
    container:
      image: python:3.11
      command: [sh, -c, 'mkdir -p "$(dirname "$1")" && echo $(( $0 * 10 )) > "$1" && echo prepared']
      args: ['{{inputs.parameters.epochs}}', /tmp/outputs/batches/data]
    inputs:
      parameters: [{name: epochs}]
    outputs:
      parameters:
      - name: prepare-data-batches
        valueFrom: {path: /tmp/outputs/batches/data}
      artifacts:
      - {name: prepare-data-batches, path: /tmp/outputs/batches/data}
    metadata:
      labels: {pipelines.kubeflow.org/pipeline-sdk-type: kfp}
  - name: train
    container:
      image: python:3.11
      command: [sh, -c]
      args:
      - |
        echo "training with lr=$1 batches=$2"
        echo "{\"metrics\": [{\"name\": \"accuracy\", \"numberValue\": $(awk "BEGIN{print 1-$1/$2}")}, {\"name\": \"loss\", \"numberValue\": $1}]}" > /mlpipeline-metrics.json
      - sh
      - '{{inputs.parameters.lr}}'
      - '{{inputs.parameters.prepare-data-batches}}'
    inputs:
      parameters: [{name: lr}, {name: prepare-data-batches}]
    outputs:
      artifacts:
      - {name: mlpipeline-metrics, path: /mlpipeline-metrics.json}
    metadata:
      labels: {pipelines.kubeflow.org/pipeline-sdk-type: kfp, role: train}
  - name: train-pipeline
    inputs:
      parameters: [{name: epochs}, {name: lr}]
    dag:
      tasks:
      - name: prepare-data
        template: prepare-data
        arguments:
          parameters: [{name: epochs, value: '{{inputs.parameters.epochs}}'}]
      - name: train
        template: train
        dependencies: [prepare-data]
        arguments:
          parameters:
          - {name: lr, value: '{{inputs.parameters.lr}}'}
          - {name: prepare-data-batches, value: '{{tasks.prepare-data.outputs.parameters.prepare-data-batches}}'}
`

func TestWorkflowKFPPipeline(t *testing.T) {
	e, err := New(Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	spec := workflowSpec(t, kfpWorkflow)
	spec.PrimaryPodLabels = map[string]string{"role": "train"}
	spec.SuccessCondition = `status.[@this].#(phase=="Succeeded")#`
	spec.FailureCondition = `status.[@this].#(phase=="Failed")#`
	if err := e.Check(spec); err != nil {
		t.Fatalf("Check: %v", err)
	}
	var stdout, stderr syncBuffer
	res, err := e.Run(t.Context(), spec, &stdout, &stderr)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v; stderr %q", res, err, stderr.String())
	}
	// Computed here: 6 epochs give 60 batches; accuracy = 1 - 0.25/60.
	acc := strconv.FormatFloat(1-0.25/60, 'g', -1, 64)
	got := stdout.String()
	want := "training with lr=0.25 batches=60\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("stdout starts %q, want the primary step's line %q", got, want)
	}
	if strings.Contains(got, "prepared") {
		t.Errorf("stdout %q has the output of a step that is not primary", got)
	}
	// The metrics, read from the metrics file as an output parameter, as
	// on the cluster, after the step's own output; accuracy parsed back
	// agrees to awk's printed precision.
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(got, want)), "\n")
	if len(lines) != 3 || lines[0] != "prepare-data-batches=60" || !strings.HasPrefix(lines[1], "accuracy=") || lines[2] != "loss=0.25" {
		t.Fatalf("output lines %q, want prepare-data-batches=60, accuracy=%s, loss=0.25", lines, acc)
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(lines[1], "accuracy="), 64)
	if err != nil || math.Abs(v-(1-0.25/60)) > 1e-5 {
		t.Errorf("accuracy %q, want %s", lines[1], acc)
	}
	// One directory per step, with its logs and outputs.
	steps, _ := os.ReadDir(filepath.Join(spec.Dir, "steps"))
	var names []string
	for _, s := range steps {
		names = append(names, s.Name())
	}
	if want := []string{"exp-0001.prepare-data", "exp-0001.train"}; !slices.Equal(names, want) {
		t.Errorf("step directories %q, want %q", names, want)
	}
	if data, _ := os.ReadFile(filepath.Join(spec.Dir, "steps", "exp-0001.prepare-data", "stdout.log")); string(data) != "prepared\n" {
		t.Errorf("prepare-data's stdout.log = %q", data)
	}
	// The declared paths were re-rooted under the step's directory, not
	// written at /tmp/outputs or /.
	if data, err := os.ReadFile(filepath.Join(spec.Dir, "steps", "exp-0001.prepare-data", "fs", "tmp", "outputs", "batches", "data")); err != nil || string(data) != "60\n" {
		t.Errorf("re-rooted output file: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(spec.Dir, "steps", "exp-0001.train", "fs", "mlpipeline-metrics.json")); err != nil {
		t.Errorf("re-rooted metrics file: %v", err)
	}
}

func TestWorkflowFailingStep(t *testing.T) {
	e, err := New(Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(kfpWorkflow, `echo "training with lr=$1 batches=$2"`, `echo "bad lr $1" >&2; exit 3`, 1)
	spec := workflowSpec(t, text)
	var stdout syncBuffer
	res, err := e.Run(t.Context(), spec, &stdout, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "step train (template train) failed: exit code 3: bad lr 0.25"
	if res.State != trial.Failed || res.Reason != "WorkflowFailed" || res.Message != want || res.ExitCode == nil || *res.ExitCode != 3 {
		t.Errorf("Run = %+v (exit %v), want Failed/WorkflowFailed %q exit 3", res, res.ExitCode, want)
	}
	if strings.Contains(stdout.String(), "=") {
		t.Errorf("a failed run wrote metrics: %q", stdout.String())
	}
}

func TestWorkflowOwnConditions(t *testing.T) {
	e, err := New(Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	spec := workflowSpec(t, kfpWorkflow)
	// The run succeeds, but the experiment's failure condition asks for a
	// train node whose output says too many batches.
	spec.SuccessCondition = `status.[@this].#(phase=="Succeeded")#`
	spec.FailureCondition = `status.nodes.@values.#(outputs.parameters.#(value=="60"))#`
	res, err := e.Run(t.Context(), spec, nil, nil)
	if err != nil || res.State != trial.Failed || res.Reason != "WorkflowFailed" {
		t.Errorf("Run = %+v, %v; want Failed by the failure condition", res, err)
	}
}

// parallelWorkflow has two steps that each wait for the other's file:
// the run ends only if they run at the same time.
func parallelWorkflow(dir string, gpus string) string {
	return fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: par}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: wait, arguments: {parameters: [{name: me, value: a}, {name: other, value: b}]}}
      - {name: b, template: wait, arguments: {parameters: [{name: me, value: b}, {name: other, value: a}]}}
  - name: wait
    inputs: {parameters: [{name: me}, {name: other}]}
    outputs: {parameters: [{name: gpu, valueFrom: {path: /out/gpu}}]}
    container:
      image: busybox
      command: [sh, -c, 'touch %[1]s/$0; while [ ! -e %[1]s/$1 ]; do sleep 0.01; done; printf "%%s" "$CUDA_VISIBLE_DEVICES" > /out/gpu']
      args: ['{{inputs.parameters.me}}', '{{inputs.parameters.other}}']
      resources: {limits: {nvidia.com/gpu: "%[2]s"}}
`, dir, gpus)
}

func TestWorkflowParallelStepsAndGPUs(t *testing.T) {
	e, err := New(Options{KillGrace: time.Second, GPUs: []string{"0", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	spec := workflowSpec(t, parallelWorkflow(t.TempDir(), "1"))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	res, err := e.Run(ctx, spec, nil, nil)
	if err != nil || res.State != trial.Succeeded {
		t.Fatalf("Run = %+v, %v; want the two steps to run together", res, err)
	}
	var gpus []string
	for _, s := range []string{"exp-0001_0_.a", "exp-0001_0_.b"} {
		data, err := os.ReadFile(filepath.Join(spec.Dir, "steps", s, "fs", "out", "gpu"))
		if err != nil {
			t.Fatal(err)
		}
		gpus = append(gpus, string(data))
	}
	slices.Sort(gpus)
	if !slices.Equal(gpus, []string{"0", "1"}) {
		t.Errorf("steps got GPUs %q, want one each of 0 and 1", gpus)
	}
}

func TestWorkflowKilledStopsEverySteps(t *testing.T) {
	e, err := New(Options{KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := fmt.Sprintf(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: k}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: hang, arguments: {parameters: [{name: id, value: a}]}}
      - {name: b, template: hang, arguments: {parameters: [{name: id, value: b}]}}
      - {name: c, template: hang, dependencies: [a], arguments: {parameters: [{name: id, value: c}]}}
  - name: hang
    inputs: {parameters: [{name: id}]}
    container:
      image: busybox
      command: [sh, -c, 'sleep 1000 & echo $! > %[1]s/$0.child; echo $$$$ > %[1]s/$0.pid; wait']
      args: ['{{inputs.parameters.id}}']
`, dir)
	spec := workflowSpec(t, text)
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, e, spec)
	var pids []int
	for _, f := range []string{"a.pid", "a.child", "b.pid", "b.child"} {
		var pid int
		if !waitFor(20*time.Second, func() bool {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil || !strings.HasSuffix(string(data), "\n") {
				return false
			}
			pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
			return err == nil
		}) {
			t.Fatalf("%s never written", f)
		}
		pids = append(pids, pid)
	}
	cancel()
	o := awaitCancelled(t, done)
	if o.err != nil || o.res.State != trial.Killed {
		t.Fatalf("Run = %+v, %v; want Killed", o.res, o.err)
	}
	// SIGKILL to a step's group is delivered when each process next runs:
	// on a loaded machine a grandchild may outlive Run's return briefly.
	for _, pid := range pids {
		if !waitFor(10*time.Second, func() bool { return processGone(pid) }) {
			t.Errorf("process %d still runs", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c.pid")); err == nil {
		t.Error("c started after the run was cancelled")
	}
	// $$$$ is $$ after Kubernetes' $(VAR) expansion.
	for _, s := range []string{"exp-0001.a", "exp-0001.b"} {
		if recordHeld(t, filepath.Join(spec.Dir, "steps", s)) {
			t.Errorf("step %s's process record left behind", s)
		}
	}
}

func TestWorkflowCheckListsProblems(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec := workflowSpec(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: bad}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: make, template: make-cm}
      - {name: train, template: train, dependencies: [make]}
  - name: make-cm
    resource: {action: create, manifest: "kind: ConfigMap"}
  - name: train
    container: {image: trainer, resources: {limits: {nvidia.com/gpu: "1"}}}
`)
	err = e.Check(spec)
	if err == nil {
		t.Fatal("Check accepted a resource template and a container without command")
	}
	for _, want := range []string{
		`template "make-cm": resource: resource templates are not run locally (a step that creates Kubernetes objects needs a cluster): use --executor kubernetes`,
		`template "train": container has no command`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error\n%v\nlacks %q", err, want)
		}
	}
	// The GPU request is the second problem of train: only the first of a
	// container's is reported, but every template is.
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("Check reported %d problems, want 2:\n%v", n, err)
	}
}
