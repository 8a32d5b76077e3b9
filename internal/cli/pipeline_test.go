package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
)

var (
	mlpBinOnce sync.Once
	mlpBinPath string
	mlpBinErr  error
)

// mlpBinary returns the path of examples/mlp, built (without -race: it is
// not under test) on the first call.
func mlpBinary(t *testing.T) string {
	t.Helper()
	mlpBinOnce.Do(func() {
		bin := filepath.Join(binDir, "mlp")
		if mlpBinErr = testutil.Build(map[string]string{bin: "github.com/tune-hpo/tune/examples/mlp"}, false); mlpBinErr == nil {
			mlpBinPath = bin
		}
	})
	if mlpBinErr != nil {
		t.Fatal(mlpBinErr)
	}
	return mlpBinPath
}

// pipelineExample returns examples/<example>/experiment.yaml written to
// dir with its steps running the built mlp program instead of `go run`,
// its budget cut to max trials and the replacements in edits applied.
func pipelineExample(t *testing.T, dir, example string, max int, edits map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", example, "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(src)
	if _, ok := edits["- go\n                  - run\n                  - ./examples/mlp"]; !ok {
		edits["command: [go, run, ./examples/mlp]"] = "command: [" + strconv.Quote(mlpBinary(t)) + "]"
	}
	y, n, ok := strings.Cut(y, "maxTrialCount: ")
	if !ok {
		t.Fatal("the example sets no maxTrialCount")
	}
	_, n, _ = strings.Cut(n, "\n")
	y += "maxTrialCount: " + strconv.Itoa(max) + "\n" + n
	for old, repl := range edits {
		if !strings.Contains(y, old) {
			t.Fatalf("the example no longer contains %q", old)
		}
		y = strings.ReplaceAll(y, old, repl)
	}
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPipelineExampleLocally runs examples/pipeline (prepare -> train ->
// evaluate, a parameter and file artifacts between the steps) on the local
// executor: each trial's metrics are the ones its own evaluate step wrote
// to its re-rooted /mlpipeline-metrics.json, and tune logs --step prints a
// step's own log.
func TestPipelineExampleLocally(t *testing.T) {
	dir := t.TempDir()
	file := pipelineExample(t, dir, "pipeline", 3, map[string]string{})
	trials := runPipelineExample(t, dir, file, "pipeline-mlp", 3)
	for _, tr := range trials {
		// The train step got this trial's parameters, and its log is
		// printed by --step.
		want, err := os.ReadFile(filepath.Join(tr.Dir, "steps", tr.Name+".train", "stdout.log"))
		if err != nil {
			t.Fatal(err)
		}
		if r := tune(t, dir, "logs", "pipeline-mlp", tr.Name, "--step", "train"); r.code != 0 || r.stdout != string(want) || !strings.Contains(r.stdout, "epoch=12 ") {
			t.Errorf("logs --step train: exit %d, %q; want the step's 12 epochs, exactly %q", r.code, r.stdout, want)
		}
	}
	if r := tune(t, dir, "logs", "pipeline-mlp", "1", "--step", "tran"); r.code != 2 || !strings.Contains(r.stderr, "pipeline-mlp-0001.train") {
		t.Errorf("logs --step tran: exit %d, %q; want a usage error listing the steps", r.code, r.stderr)
	}
}

// TestKFPv1ExampleLocally runs examples/kfp-pipeline, a Kubeflow
// Pipelines v1 compiled pipeline, on the local executor.
func TestKFPv1ExampleLocally(t *testing.T) {
	dir := t.TempDir()
	runPipelineExample(t, dir, pipelineExample(t, dir, "kfp-pipeline", 3, map[string]string{}), "kfp-train", 3)
}

// TestKFPv2ExampleLocally runs examples/kfp-v2-pipeline, a Kubeflow
// Pipelines v2 pipeline compiled to an Argo Workflow, on the local
// executor: every trial's metrics are the ones its evaluate step wrote to
// its system.Metrics artifact, in the run's artifact volume.
func TestKFPv2ExampleLocally(t *testing.T) {
	dir := t.TempDir()
	file := pipelineExample(t, dir, "kfp-v2-pipeline", 2, map[string]string{
		"maxFailedTrialCount: 2": "maxFailedTrialCount: 1",
		// The SDK writes the command as a YAML list.
		"- go\n                  - run\n                  - ./examples/mlp": "- " + strconv.Quote(mlpBinary(t)),
	})
	if r := tune(t, dir, "run", file); r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	trials := getTrials(t, dir, "kfp-v2-train")
	if len(trials) != 2 {
		t.Fatalf("%d trials, want 2", len(trials))
	}
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			t.Fatalf("%s: %s %s: %s", tr.Name, tr.Status, tr.Reason, tr.Message)
		}
		b, err := os.ReadFile(filepath.Join(tr.Dir, "volumes", "artifacts", "evaluate.metrics"))
		if err != nil {
			t.Fatal(err)
		}
		var flat map[string]float64
		if err := json.Unmarshal(b, &flat); err != nil {
			t.Fatal(err)
		}
		if tr.Metrics["test-accuracy"] != flat["test-accuracy"] || tr.Metrics["test-loss"] != flat["test-loss"] || len(flat) != 2 {
			t.Errorf("%s: metrics %v; its evaluate step's Metrics artifact holds %s", tr.Name, tr.Metrics, b)
		}
		// The train task has a retry policy, so its step is an attempt,
		// train(0): --step train finds it.
		if r := tune(t, dir, "logs", "kfp-v2-train", tr.Name, "--step", "train"); r.code != 0 || !strings.Contains(r.stdout, "epoch="+tr.Parameters["epochs"]+" ") {
			t.Errorf("logs --step train: exit %d, %q %s; want the training log up to epoch %s", r.code, r.stdout, r.stderr, tr.Parameters["epochs"])
		}
	}
}

// runPipelineExample runs the experiment file, whose trials end with an
// evaluate step writing Kubeflow Pipelines' metrics file, and checks that
// every trial Succeeded with the metrics its own evaluate step wrote.
func runPipelineExample(t *testing.T, dir, file, name string, max int) []jsonTrial {
	t.Helper()
	if r := tune(t, dir, "run", file); r.code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	trials := getTrials(t, dir, name)
	if len(trials) != max {
		t.Fatalf("%d trials, want %d", len(trials), max)
	}
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			t.Fatalf("%s: %s %s: %s", tr.Name, tr.Status, tr.Reason, tr.Message)
		}
		// What the trial's own evaluate step wrote, read from its step
		// directory: the file Argo would upload as mlpipeline-metrics.
		evalDir := filepath.Join(tr.Dir, "steps", tr.Name+".evaluate")
		b, err := os.ReadFile(filepath.Join(evalDir, "fs", "mlpipeline-metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Metrics []struct {
				Name        string  `json:"name"`
				NumberValue float64 `json:"numberValue"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Metrics) != 2 || tr.Metrics["test-accuracy"] != doc.Metrics[0].NumberValue || tr.Metrics["test-loss"] != doc.Metrics[1].NumberValue {
			t.Errorf("%s: metrics %v; its evaluate step wrote %s", tr.Name, tr.Metrics, b)
		}
	}
	return trials
}

// TestPipelineFailingStep: a step that fails fails its trial, the message
// naming the step, its exit code and its standard error, and the steps
// after it do not run.
func TestPipelineFailingStep(t *testing.T) {
	dir := t.TempDir()
	file := pipelineExample(t, dir, "pipeline", 2, map[string]string{
		"maxFailedTrialCount: 3": "maxFailedTrialCount: 2",
		// The evaluate step is told the wrong number of rows: mlp exits 1.
		"--expect-rows={{inputs.parameters.test-rows}}": "--expect-rows=7",
	})
	if r := tune(t, dir, "run", file); r.code != 1 {
		t.Fatalf("tune run: exit %d, want 1 (experiment failed)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, tr := range getTrials(t, dir, "pipeline-mlp") {
		// describe lists the steps as they ended: evaluate failed with
		// mlp's exit code, the others succeeded.
		r := tune(t, dir, "describe", "pipeline-mlp", tr.Name, "-o", "json")
		var d struct {
			Steps []struct {
				Name, Template, Phase string
				ExitCode              *int
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("describe -o json: %v\n%s", err, r.stdout)
		}
		var got []string
		for _, st := range d.Steps {
			code := -1
			if st.ExitCode != nil {
				code = *st.ExitCode
			}
			got = append(got, fmt.Sprintf("%s %s %s %d", st.Name, st.Template, st.Phase, code))
		}
		want := []string{tr.Name + ".prepare prepare Succeeded 0", tr.Name + ".train train Succeeded 0", tr.Name + ".evaluate evaluate Failed 1"}
		if !slices.Equal(got, want) {
			t.Errorf("describe steps %q, want %q", got, want)
		}
		if r := tune(t, dir, "describe", "pipeline-mlp", tr.Name); !strings.Contains(r.stdout, "Steps (tune logs pipeline-mlp") {
			t.Errorf("describe lacks the steps:\n%s", r.stdout)
		}
		if tr.Status != "Failed" || !strings.Contains(tr.Message, "evaluate") || !strings.Contains(tr.Message, "exit code 1") || !strings.Contains(tr.Message, "want 7") {
			t.Errorf("%s: %s %s: %q; want Failed naming the evaluate step, exit code 1 and its stderr", tr.Name, tr.Status, tr.Reason, tr.Message)
		}
	}
}
