package experiment_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
)

// curveExperiment is a random search over the synthetic learning curve of
// testdata/curve (bin), 20 epochs per trial, maximising accuracy.
func curveExperiment(t *testing.T, bin, earlyStopping string) *experiment.Experiment {
	t.Helper()
	y := `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: curve
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: random
    algorithmSettings: [{name: random_state, value: "11"}]
  parallelTrialCount: 3
  maxTrialCount: 24
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "1", distribution: logUniform}}
    - {name: momentum, parameterType: double, feasibleSpace: {min: "0.5", max: "0.99"}}
` + earlyStopping + `
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: lr, reference: lr}
      - {name: momentum, reference: momentum}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                command: [` + strconv.Quote(bin) + `]
                args: ["--lr=${trialParameters.lr}", "--momentum=${trialParameters.momentum}", "--epochs=20", "--epoch-delay=25ms"]
`
	exp, err := experiment.Parse([]byte(y), "curve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// runCurve runs exp with the local executor and returns the best final
// accuracy of the trials that ran to the end, the epochs run in all (the
// accuracy values reported), and the trials.
func runCurve(t *testing.T, exp *experiment.Experiment) (best float64, epochs int, trials []trial.Trial) {
	t.Helper()
	st := newMemStore()
	sg, err := algorithms.New(exp.Spec.Algorithm.AlgorithmName, exp.Settings())
	if err != nil {
		t.Fatal(err)
	}
	ex, err := local.New(local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &experiment.Runner{Store: st, Suggester: sg, Executor: ex, TrialRoot: t.TempDir(), FlushInterval: 10e6}
	if _, err := r.Run(t.Context(), &experiment.Record{Name: "curve", Spec: *exp}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range st.trials["curve"] {
		for _, l := range st.logs[tr.Name] {
			if l.Metric == "accuracy" {
				epochs++
			}
		}
		if tr.State == trial.Succeeded {
			best = max(best, tr.Metrics["accuracy"].Latest)
		}
	}
	return best, epochs, st.trials["curve"]
}

// TestMedianStopSavings runs the same random search over a synthetic
// learning curve with and without the median stopping rule: with it, the
// best accuracy found is the same within 0.01 while markedly fewer epochs
// are run, and the stopped trials are EarlyStopped, counted in the budget,
// with their metrics so far.
func TestMedianStopSavings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 48 short trials")
	}
	bin := filepath.Join(t.TempDir(), "curve")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/curve").CombinedOutput(); err != nil {
		t.Fatalf("go build curve: %v\n%s", err, out)
	}
	fullBest, fullEpochs, _ := runCurve(t, curveExperiment(t, bin, ""))
	stopBest, stopEpochs, trials := runCurve(t, curveExperiment(t, bin, "  earlyStopping:\n    algorithmName: medianstop\n    algorithmSettings: [{name: min_trials_required, value: \"3\"}, {name: start_step, value: \"4\"}]"))
	saving := 1 - float64(stopEpochs)/float64(fullEpochs)
	t.Logf("best accuracy %.4f without early stopping, %.4f with; epochs %d and %d: %.0f%% saved", fullBest, stopBest, fullEpochs, stopEpochs, 100*saving)
	if fullBest-stopBest > 0.01 {
		t.Errorf("best accuracy with median stop %.4f, more than 0.01 below the full run's %.4f", stopBest, fullBest)
	}
	if saving < 0.10 {
		t.Errorf("median stop saved %.0f%% of the epochs, want at least 10%%", 100*saving)
	}
	stopped := 0
	for _, tr := range trials {
		if tr.State != trial.EarlyStopped {
			continue
		}
		stopped++
		if tr.Reason != experiment.ReasonTrialEarlyStopped || tr.Metrics["accuracy"].Count == 0 {
			t.Errorf("%s: reason %s, metrics %+v; want %s with its metrics so far", tr.Name, tr.Reason, tr.Metrics, experiment.ReasonTrialEarlyStopped)
		}
	}
	if stopped == 0 || len(trials) != 24 {
		t.Errorf("%d trials, %d early stopped; want 24 with some stopped (the budget counts them)", len(trials), stopped)
	}
}
