package experiment_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/experiment"
)

// ashaCurveExperiment (testdata/templates/curve.yaml) searches lr and
// momentum of testdata/curve; with ASHA, the epochs are its resource (1 to
// 27); without, every trial runs 27 epochs.
//
// algorithm is the algorithm block after algorithmName: (random search
// over 27 epochs when empty).
func ashaCurveExperiment(t *testing.T, bin, algorithm string, parallel, trials int) *experiment.Experiment {
	t.Helper()
	withResource := algorithm != ""
	if !withResource {
		algorithm = "random\n    algorithmSettings: [{name: random_state, value: \"11\"}]"
	}
	return parseFixture(t, "curve.yaml", map[string]any{"Algorithm": algorithm, "Parallel": parallel, "Trials": trials, "Bin": bin, "Resource": withResource})
}

// TestASHASavings compares ASHA (epochs from 1 to 27, η = 3, 60 trials)
// with random search running every one of 30 trials for 27 epochs: ASHA
// finds a best accuracy within 0.01 of random search's while running far
// fewer epochs in all.
func TestASHASavings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 90 short trials")
	}
	bin := filepath.Join(t.TempDir(), "curve")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/curve").CombinedOutput(); err != nil {
		t.Fatalf("go build curve: %v\n%s", err, out)
	}
	fullBest, fullEpochs, _ := runCurve(t, ashaCurveExperiment(t, bin, "", 4, 30))
	ashaBest, ashaEpochs, trials := runCurve(t, ashaCurveExperiment(t, bin, `asha
    algorithmSettings: [{name: resource_name, value: epochs}, {name: reduction_factor, value: "3"}, {name: random_state, value: "11"}]`, 4, 60))
	rungs := map[string]int{}
	for _, tr := range trials {
		rungs[tr.Parameters["epochs"]]++
	}
	saving := 1 - float64(ashaEpochs)/float64(fullEpochs)
	t.Logf("best accuracy %.4f with random search (30 trials × 27 epochs), %.4f with ASHA (60 trials, by epochs %v); epochs %d and %d: %.0f%% saved",
		fullBest, ashaBest, rungs, fullEpochs, ashaEpochs, 100*saving)
	if fullBest-ashaBest > 0.01 {
		t.Errorf("ASHA's best accuracy %.4f is more than 0.01 below random search's %.4f", ashaBest, fullBest)
	}
	if saving < 0.5 {
		t.Errorf("ASHA saved %.0f%% of the epochs, want at least 50%%", 100*saving)
	}
	if rungs["27"] == 0 || rungs["1"] <= rungs["3"] || rungs["3"] < rungs["9"] {
		t.Errorf("trials by epochs %v: want most at 1 and some promoted up to 27", rungs)
	}
}

// TestHyperbandSavings compares Hyperband (R = 27 epochs, η = 3: four
// brackets, 69 trials; Katib requires 27 in parallel) with random search
// running 30 trials of 27 epochs: the same best accuracy within 0.01, with
// far fewer epochs.
func TestHyperbandSavings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 99 short trials")
	}
	bin := filepath.Join(t.TempDir(), "curve")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/curve").CombinedOutput(); err != nil {
		t.Fatalf("go build curve: %v\n%s", err, out)
	}
	fullBest, fullEpochs, _ := runCurve(t, ashaCurveExperiment(t, bin, "", 4, 30))
	hbBest, hbEpochs, trials := runCurve(t, ashaCurveExperiment(t, bin, `hyperband
    algorithmSettings: [{name: resource_name, value: epochs}, {name: r_l, value: "27"}, {name: eta, value: "3"}, {name: random_state, value: "11"}]`, 27, 69))
	rungs := map[string]int{}
	for _, tr := range trials {
		rungs[tr.Parameters["epochs"]]++
	}
	saving := 1 - float64(hbEpochs)/float64(fullEpochs)
	t.Logf("best accuracy %.4f with random search (30 trials × 27 epochs), %.4f with Hyperband (%d trials, by epochs %v); epochs %d and %d: %.0f%% saved",
		fullBest, hbBest, len(trials), rungs, fullEpochs, hbEpochs, 100*saving)
	if len(trials) != 69 || rungs["1"] != 27 || rungs["27"] != 8 {
		t.Errorf("%d trials by epochs %v; want Hyperband's 69 (27 at 1 epoch, 8 at 27)", len(trials), rungs)
	}
	if fullBest-hbBest > 0.01 {
		t.Errorf("Hyperband's best accuracy %.4f is more than 0.01 below random search's %.4f", hbBest, fullBest)
	}
	if saving < 0.3 {
		t.Errorf("Hyperband saved %.0f%% of the epochs, want at least 30%%", 100*saving)
	}
}
