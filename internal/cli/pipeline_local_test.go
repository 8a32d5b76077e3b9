package cli_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pipelineExperiment is a three-step pipeline trial (prepare → train →
// evaluate) passing a parameter and a directory artifact, tuned by random
// search on this machine. train fails when x > 2.5; evaluate prints the
// loss (x-1)^2 read back from train's model file.
const pipelineExperiment = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: pipe}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "3"}]
  parallelTrialCount: 2
  maxTrialCount: 8
  maxFailedTrialCount: 8
  parameters:
  - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "3"}}
  trialTemplate:
    primaryContainerName: main
    primaryPodLabels: {role: evaluate}
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
    trialParameters: [{name: x, reference: x}]
    trialSpec:
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: pipeline
        arguments: {parameters: [{name: x, value: "${trialParameters.x}"}]}
        templates:
        - name: pipeline
          dag:
            tasks:
            - {name: prepare, template: prepare, arguments: {parameters: [{name: x, value: "{{workflow.parameters.x}}"}]}}
            - name: train
              template: train
              depends: prepare
              arguments:
                parameters: [{name: x, value: "{{tasks.prepare.outputs.parameters.x}}"}]
                artifacts: [{name: data, from: "{{tasks.prepare.outputs.artifacts.data}}"}]
            - name: evaluate
              template: evaluate
              depends: train
              arguments:
                artifacts: [{name: model, from: "{{tasks.train.outputs.artifacts.model}}"}]
        - name: prepare
          inputs: {parameters: [{name: x}]}
          outputs:
            parameters: [{name: x, valueFrom: {path: /out/x}}]
            artifacts: [{name: data, path: /out/data}]
          container:
            image: busybox
            command: [sh, -c, 'mkdir -p /out/data && printf %s "$0" > /out/x && echo 1 > /out/data/offset']
            args: ['{{inputs.parameters.x}}']
        - name: train
          inputs:
            parameters: [{name: x}]
            artifacts: [{name: data, path: /in/data}]
          outputs:
            artifacts: [{name: model, path: /model.txt}]
          container:
            image: busybox
            command: [sh, -c]
            args:
            - |
              if awk "BEGIN{exit !($0 > 2.5)}"; then echo "x=$0 diverged" >&2; exit 3; fi
              awk -v x="$0" -v o="$(cat /in/data/offset)" 'BEGIN{printf "%.10f\n", (x-o)*(x-o)}' > /model.txt
            - '{{inputs.parameters.x}}'
        - name: evaluate
          metadata: {labels: {role: evaluate}}
          inputs:
            artifacts: [{name: model, path: /in/model.txt}]
          container:
            image: busybox
            command: [sh, -c, 'echo "loss=$(cat /in/model.txt)"']
`

func TestPipelineTrialsLocally(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pipe.yaml"), []byte(pipelineExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "validate", "pipe.yaml"); r.code != 0 {
		t.Fatalf("validate: exit %d: %s", r.code, r.stderr)
	}
	r := tune(t, dir, "run", "pipe.yaml")
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	trials := getTrials(t, dir, "pipe")
	if len(trials) != 8 {
		t.Fatalf("%d trials, want 8", len(trials))
	}
	var failed, succeeded int
	for _, tr := range trials {
		x, err := strconv.ParseFloat(tr.Parameters["x"], 64)
		if err != nil {
			t.Fatalf("%s: x %q", tr.Name, tr.Parameters["x"])
		}
		if x > 2.5 {
			failed++
			want := "step train (template train) failed: exit code 3: x=" + tr.Parameters["x"] + " diverged"
			if tr.Status != "Failed" || tr.Message != want || tr.ExitCode == nil || *tr.ExitCode != 3 {
				t.Errorf("%s (x=%v): %s %q exit %v, want Failed %q exit 3", tr.Name, x, tr.Status, tr.Message, tr.ExitCode, want)
			}
			continue
		}
		succeeded++
		want := (x - 1) * (x - 1)
		if tr.Status != "Succeeded" || math.Abs(tr.Metrics["loss"]-want) > 1e-9 {
			t.Errorf("%s (x=%v): %s loss %v, want Succeeded loss %v", tr.Name, x, tr.Status, tr.Metrics["loss"], want)
		}
		// One directory per step, with its logs.
		trialDir := tr.Dir
		if !filepath.IsAbs(trialDir) {
			trialDir = filepath.Join(dir, trialDir)
		}
		steps, err := os.ReadDir(filepath.Join(trialDir, "steps"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range steps {
			names = append(names, s.Name())
		}
		if want := []string{tr.Name + ".evaluate", tr.Name + ".prepare", tr.Name + ".train"}; !slices.Equal(names, want) {
			t.Errorf("%s: step directories %q, want %q", tr.Name, names, want)
		}
		if data, _ := os.ReadFile(filepath.Join(trialDir, "steps", tr.Name+".evaluate", "stdout.log")); !strings.HasPrefix(string(data), "loss=") {
			t.Errorf("%s: evaluate's stdout.log %q", tr.Name, data)
		}
	}
	// The seed gives both kinds; without them the test proves little.
	if failed == 0 || succeeded == 0 {
		t.Errorf("%d failed and %d succeeded trials: want some of each", failed, succeeded)
	}
}

func TestValidateRefusesOutsideTheLocalSubset(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(pipelineExperiment, "        - name: evaluate\n          metadata:", "        - name: notify\n          resource: {action: create, manifest: \"kind: ConfigMap\"}\n        - name: evaluate\n          metadata:", 1)
	text = strings.Replace(text, "        entrypoint: pipeline\n", "        entrypoint: pipeline\n        volumes: [{name: secret, secret: {secretName: s}}]\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "pipe.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tune(t, dir, "validate", "pipe.yaml")
	if r.code != 2 {
		t.Fatalf("validate: exit %d, want 2: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		`template "notify": resource: resource templates are not run locally (a step that creates Kubernetes objects needs a cluster): use --executor kubernetes`,
		`spec.volumes[0] (secret): only emptyDir volumes are run locally`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("validate's error lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := tune(t, dir, "validate", "--executor", "kubernetes", "pipe.yaml"); r.code != 0 {
		t.Errorf("validate --executor kubernetes: exit %d: %s", r.code, r.stderr)
	}
	// run refuses it before anything is written.
	if r := tune(t, dir, "run", "pipe.yaml"); r.code != 2 || !strings.Contains(r.stderr, `template "notify"`) {
		t.Errorf("run: exit %d: %s", r.code, r.stderr)
	}
}
