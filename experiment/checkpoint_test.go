package experiment_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/suggest/pbt"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
)

// A pbt experiment whose trials (a test workload; tune itself never runs
// a shell) print what their checkpoint directory holds and, in generation
// 0, leave their own name there, or delete the directory when x < 0.5.
const checkpointExperiment = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ckpt}
spec:
  maxTrialCount: 10
  parallelTrialCount: 5
  maxFailedTrialCount: 10
  objective: {type: maximize, objectiveMetricName: q}
  algorithm:
    algorithmName: pbt
    algorithmSettings:
      - {name: suggestion_trial_dir, value: /var/log/katib/checkpoints/}
      - {name: n_population, value: "5"}
      - {name: truncation_threshold, value: "0.2"}
      - {name: random_state, value: "2"}
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
      - {name: gen, reference: pbt.suggestion.katib.kubeflow.org/generation}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                command:
                  - /bin/sh
                  - -c
                  - |
                    echo "holds: $(cat "$TUNE_CHECKPOINT_DIR/owner" 2>/dev/null)"
                    if [ "$0" = 0 ]; then
                      case "$1" in 0.[0-4]*) rmdir "$TUNE_CHECKPOINT_DIR" ;; *) echo "$TUNE_TRIAL" > "$TUNE_CHECKPOINT_DIR/owner" ;; esac
                    fi
                    echo "q=$1"
                  - ${trialParameters.gen}
                  - ${trialParameters.x}
`

// TestCheckpointDirectories runs a generation and the next with the local
// executor: each trial's checkpoint directory is the re-rooted
// suggestion_trial_dir inside its own directory, in TUNE_CHECKPOINT_DIR; a
// child's starts as a copy of its parent's; a parent whose directory is
// gone gives a warning naming it and the child an empty directory.
func TestCheckpointDirectories(t *testing.T) {
	exp, err := experiment.Parse([]byte(checkpointExperiment), "ckpt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Validate(); err != nil {
		t.Fatal(err)
	}
	sg, err := algorithms.New("pbt", exp.Settings())
	if err != nil {
		t.Fatal(err)
	}
	ex, err := local.New(local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	var warnings []string
	r := &experiment.Runner{Store: st, Suggester: sg, Executor: ex, TrialRoot: t.TempDir(), FlushInterval: 10e6,
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				warnings = append(warnings, ev.Message)
			}
		}}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "ckpt", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	byName := map[string]trial.Trial{}
	for _, tr := range st.trials["ckpt"] {
		byName[tr.Name] = tr
	}
	if len(byName) != 10 {
		t.Fatalf("%d trials, want 10", len(byName))
	}
	children, gone := 0, 0
	for _, tr := range byName {
		if tr.State != trial.Succeeded {
			t.Errorf("trial %s: %s %s", tr.Name, tr.State, tr.Message)
		}
		out, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
		if err != nil {
			t.Fatal(err)
		}
		dir := experiment.CheckpointDir(tr.Dir, "/var/log/katib/checkpoints/")
		if want := filepath.Join(tr.Dir, "var", "log", "katib", "checkpoints"); dir != want {
			t.Fatalf("CheckpointDir = %s, want %s", dir, want)
		}
		parent := tr.Parameters[pbt.Parent]
		if parent == "" {
			if !strings.Contains(string(out), "holds: \n") {
				t.Errorf("generation-0 trial %s started with a checkpoint: %q", tr.Name, out)
			}
			continue
		}
		children++
		px, _ := strconv.ParseFloat(byName[parent].Parameters["x"], 64)
		want := "holds: " + parent + "\n"
		if px < 0.5 {
			gone++
			want = "holds: \n"
			if !strings.Contains(strings.Join(warnings, "\n"), "trial "+tr.Name+": its parent "+parent+" has no checkpoint directory") {
				t.Errorf("no warning for %s, whose parent %s has no checkpoint directory: %q", tr.Name, parent, warnings)
			}
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("trial %s (parent %s, x=%v): printed %q, want %q", tr.Name, parent, px, out, want)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("trial %s has no checkpoint directory: %v", tr.Name, err)
		}
	}
	if children != 5 || gone == 0 || gone == children {
		t.Errorf("%d children, %d of whose parents deleted their directory; want 5, and some of each", children, gone)
	}
}
