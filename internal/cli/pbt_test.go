package cli_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/trial/local"
)

// The lineage keys pbt adds to each trial's parameters.
const (
	pbtGeneration = "pbt.suggestion.katib.kubeflow.org/generation"
	pbtParent     = "pbt.suggestion.katib.kubeflow.org/parent"
)

var (
	pbtToyOnce sync.Once
	pbtToyBin  string
	pbtToyErr  error
)

// pbtToy returns the path of examples/pbt, the PBT paper's toy, built once.
func pbtToy(t *testing.T) string {
	t.Helper()
	pbtToyOnce.Do(func() {
		bin := filepath.Join(binDir, "pbttoy")
		if pbtToyErr = testutil.Build(map[string]string{bin: "github.com/tune-hpo/tune/examples/pbt"}, false); pbtToyErr == nil {
			pbtToyBin = bin
		}
	})
	if pbtToyErr != nil {
		t.Fatal(pbtToyErr)
	}
	return pbtToyBin
}

// toyExperiment is an experiment of the toy: pbt (population 5) or, when
// algorithm is "random", random search; each trial takes steps steps.
type toyExperiment struct {
	Name, Algorithm  string
	Max, Parallel    int
	Steps            int
	FailBelow        float64 // the toy's --fail-below
	Gate             string  // when set, generation-1 trials wait for this file
	Seed, Truncation string
	// AtKatibPath hides TUNE_CHECKPOINT_DIR from the toy, which then
	// finds its checkpoint only at Katib's path (a mount).
	AtKatibPath bool
}

func (x toyExperiment) write(t *testing.T, dir, bin string) string {
	t.Helper()
	settings := fmt.Sprintf(`
      - {name: suggestion_trial_dir, value: /var/log/katib/checkpoints/}
      - {name: n_population, value: "5"}
      - {name: truncation_threshold, value: "%s"}
      - {name: random_state, value: "%s"}`, x.Truncation, x.Seed)
	lineage := `
      - {name: generation, reference: pbt.suggestion.katib.kubeflow.org/generation}`
	checkpoint := "/var/log/katib/checkpoints/"
	if x.Algorithm == "random" {
		settings = fmt.Sprintf(`
      - {name: random_state, value: "%s"}`, x.Seed)
		lineage = `
      - {name: generation, reference: "${trialSpec.Name}"}` // never "1": no gate
		checkpoint = filepath.Join(dir, "${trialParameters.generation}") // a fresh one for each trial
	}
	// A test workload; tune itself never runs a shell. The shell waits
	// for the gate in generation 1, then becomes the toy.
	gate := x.Gate
	if gate == "" {
		gate = "-"
	}
	unset := ""
	if x.AtKatibPath {
		unset = "unset TUNE_CHECKPOINT_DIR; "
	}
	y := fmt.Sprintf(`apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  maxTrialCount: %d
  parallelTrialCount: %d
  maxFailedTrialCount: %d
  objective: {type: maximize, objectiveMetricName: q, additionalMetricNames: [steps]}
  algorithm:
    algorithmName: %s
    algorithmSettings:%s
  parameters:
    - {name: h0, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
    - {name: h1, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: h0, reference: h0}
      - {name: h1, reference: h1}%s
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
                  - '%sif [ "$0" = 1 ] && [ "$1" != - ]; then while [ ! -e "$1" ]; do sleep 0.05; done; fi; shift; exec "$@"'
                  - ${trialParameters.generation}
                  - %q
                  - %q
                  - --h0=${trialParameters.h0}
                  - --h1=${trialParameters.h1}
                  - --steps=%d
                  - --fail-below=%v
                  - --checkpoint=%s
`, x.Name, x.Max, x.Parallel, x.Max, x.Algorithm, settings, lineage, unset, gate, bin, x.Steps, x.FailBelow, checkpoint)
	file := filepath.Join(dir, x.Name+".yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// toyTrain is the toy's training, computed here independently: steps
// gradient steps of size 0.02 on the surrogate from theta.
func toyTrain(theta [2]float64, h0, h1 float64, steps int) [2]float64 {
	for range steps {
		theta[0] -= 0.02 * 2 * h0 * theta[0]
		theta[1] -= 0.02 * 2 * h1 * theta[1]
	}
	return theta
}

func toyQ(theta [2]float64) float64 { return 1.2 - (theta[0]*theta[0] + theta[1]*theta[1]) }

// replayLineage recomputes each succeeded trial's q and steps from the
// stored parameters alone, following each trial's parent back to
// generation 0, and fails the test where the stored metrics differ: they
// agree only when each trial started from its parent's checkpoint.
func replayLineage(t *testing.T, trials []jsonTrial, stepsPer int) map[string][2]float64 {
	t.Helper()
	byName := map[string]jsonTrial{}
	for _, tr := range trials {
		byName[tr.Name] = tr
	}
	memo := map[string][2]float64{}
	var theta func(name string, depth int) ([2]float64, int)
	theta = func(name string, depth int) ([2]float64, int) {
		tr, ok := byName[name]
		if !ok || depth > len(trials) {
			t.Fatalf("lineage: no trial %q", name)
		}
		start, n := [2]float64{0.9, 0.9}, 0
		if p := tr.Parameters[pbtParent]; p != "" {
			start, n = theta(p, depth+1)
		}
		h0, _ := strconv.ParseFloat(tr.Parameters["h0"], 64)
		h1, _ := strconv.ParseFloat(tr.Parameters["h1"], 64)
		th := toyTrain(start, h0, h1, stepsPer)
		memo[name] = th
		return th, n + stepsPer
	}
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			continue
		}
		th, steps := theta(tr.Name, 0)
		if q := toyQ(th); math.Abs(q-tr.Metrics["q"]) > 1e-9 || float64(steps) != tr.Metrics["steps"] {
			t.Errorf("trial %s (generation %s, parent %q): stored q=%v steps=%v, replay of its lineage gives q=%v steps=%d",
				tr.Name, tr.Parameters[pbtGeneration], tr.Parameters[pbtParent], tr.Metrics["q"], tr.Metrics["steps"], q, steps)
		}
	}
	return memo
}

func bestQ(trials []jsonTrial) (float64, string) {
	best, name := math.Inf(-1), ""
	for _, tr := range trials {
		if q, ok := tr.Metrics["q"]; ok && tr.Status == "Succeeded" && q > best {
			best, name = q, tr.Name
		}
	}
	return best, name
}

// byGeneration counts the trials of each generation that were not
// abandoned (state Killed by a stopped runner).
func byGeneration(trials []jsonTrial) map[string]int {
	out := map[string]int{}
	for _, tr := range trials {
		if tr.Status != "Killed" {
			out[tr.Parameters[pbtGeneration]]++
		}
	}
	return out
}

// TestPBTToyBeatsRandomSearch runs the PBT paper's toy (§4.1) with pbt
// (population 5, 6 generations of 4 steps: 120 steps in all) and with
// random search given the same 120 steps (5 trials of 24 steps, trained
// from scratch): pbt's best Q is higher. Every trial's Q is recomputed
// from its stored lineage, which proves each started from its parent's
// checkpoint at Katib's path.
func TestPBTToyBeatsRandomSearch(t *testing.T) {
	bin := pbtToy(t)
	dir := t.TempDir()
	x := toyExperiment{Name: "toy-pbt", Algorithm: "pbt", Max: 30, Parallel: 5, Steps: 4, FailBelow: -1, Seed: "3", Truncation: "0.4"}
	// Where this machine lets tune mount the checkpoint directory at
	// Katib's path, the toy finds it only there, as Katib's trials do.
	helper, err := os.Executable() // in-process runs' mount helper
	if err != nil {
		t.Fatal(err)
	}
	probe, err := local.New(local.Options{MountHelper: helper})
	if err != nil {
		t.Fatal(err)
	}
	ok, why := probe.MountsSupported()
	if _, err := os.Stat("/var/log/katib"); err == nil {
		ok, why = false, "/var/log/katib exists on this machine"
	}
	x.AtKatibPath = ok
	if !ok {
		t.Logf("the toy reads $TUNE_CHECKPOINT_DIR: no mount at /var/log/katib/checkpoints here (%s)", why)
	}
	pbtFile := x.write(t, dir, bin)
	rndFile := toyExperiment{Name: "toy-random", Algorithm: "random", Max: 5, Parallel: 5, Steps: 24, FailBelow: -1, Seed: "3"}.write(t, dir, bin)
	for _, f := range []string{pbtFile, rndFile} {
		if r := tune(t, dir, "run", "-q", f); r.code != 0 {
			t.Fatalf("tune run %s: exit %d\n%s\n%s", filepath.Base(f), r.code, r.stdout, r.stderr)
		}
	}
	pbtTrials := getTrials(t, dir, "toy-pbt")
	rndTrials := getTrials(t, dir, "toy-random")
	if len(pbtTrials) != 30 || len(rndTrials) != 5 {
		t.Fatalf("%d pbt trials and %d random ones, want 30 and 5", len(pbtTrials), len(rndTrials))
	}
	gens := byGeneration(pbtTrials)
	for g := range 6 {
		if gens[strconv.Itoa(g)] != 5 {
			t.Errorf("generation %d has %d trials, want 5 (by generation: %v)", g, gens[strconv.Itoa(g)], gens)
		}
	}
	replayLineage(t, pbtTrials, 4)
	for _, tr := range rndTrials {
		h0, _ := strconv.ParseFloat(tr.Parameters["h0"], 64)
		h1, _ := strconv.ParseFloat(tr.Parameters["h1"], 64)
		if q := toyQ(toyTrain([2]float64{0.9, 0.9}, h0, h1, 24)); math.Abs(q-tr.Metrics["q"]) > 1e-9 {
			t.Errorf("random trial %s: stored q=%v, computed %v", tr.Name, tr.Metrics["q"], q)
		}
	}
	pbtBest, pbtName := bestQ(pbtTrials)
	rndBest, rndName := bestQ(rndTrials)
	t.Logf("checkpoints found at Katib's path only: %v", x.AtKatibPath)
	t.Logf("best Q after 120 training steps in all: pbt %.4f (%s), random search %.4f (%s)", pbtBest, pbtName, rndBest, rndName)
	if !(pbtBest > rndBest+0.02) {
		t.Errorf("pbt's best Q %.4f does not beat random search's %.4f by 0.02", pbtBest, rndBest)
	}
}

// TestPBTResumeMidGeneration kills the runner (SIGKILL) while three trials
// of generation 1 run, then resumes the experiment: the abandoned members
// run again with the same parameters and parents, the generation is
// completed, and the whole population is the one an uninterrupted run
// with the same seed evolves.
func TestPBTResumeMidGeneration(t *testing.T) {
	bin := pbtToy(t)
	tuneBin := tuneBinary(t)
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	x := toyExperiment{Name: "toy-resume", Algorithm: "pbt", Max: 15, Parallel: 3, Steps: 4, FailBelow: -1, Gate: gate, Seed: "5", Truncation: "0.4"}
	file := x.write(t, dir, bin)

	cmd := exec.Command(tuneBin, "run", "-q", file)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Generation 1's first three trials (0006-0008) have started when
	// their directories exist; they wait at the gate.
	trialDir := filepath.Join(dir, ".tune", "tune.db.trials", "toy-resume")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n := 0
		for _, name := range []string{"toy-resume-0006", "toy-resume-0007", "toy-resume-0008"} {
			if _, err := os.Stat(filepath.Join(trialDir, name, "stdout.log")); err == nil {
				n++
			}
		}
		if n == 3 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("tune run ended before generation 1 started: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatal("generation 1 did not start")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	resumed := getTrials(t, dir, "toy-resume")

	// The same experiment, never interrupted.
	x.Name, x.Gate = "toy-straight", ""
	if r := tune(t, dir, "run", "-q", x.write(t, dir, bin)); r.code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", r.code, r.stderr)
	}
	straight := getTrials(t, dir, "toy-straight")

	abandoned := 0
	for _, tr := range resumed {
		if tr.Status == "Killed" {
			abandoned++
			if tr.Parameters[pbtGeneration] != "1" {
				t.Errorf("abandoned trial %s is in generation %s, want 1", tr.Name, tr.Parameters[pbtGeneration])
			}
		}
	}
	if abandoned != 3 {
		t.Errorf("%d trials abandoned by the killed runner, want 3", abandoned)
	}
	// Compare the populations, naming each parent by its parameters
	// (trial names differ between the experiments).
	lineage := func(trials []jsonTrial) []string {
		params := map[string]string{}
		for _, tr := range trials {
			params[tr.Name] = tr.Parameters["h0"] + "," + tr.Parameters["h1"]
		}
		var out []string
		for _, tr := range trials {
			if tr.Status == "Killed" {
				continue
			}
			out = append(out, fmt.Sprintf("g%s %s,%s from %s", tr.Parameters[pbtGeneration], tr.Parameters["h0"], tr.Parameters["h1"], params[tr.Parameters[pbtParent]]))
		}
		slices.Sort(out)
		return out
	}
	got, want := lineage(resumed), lineage(straight)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("resumed population differs from the uninterrupted one:\n got %v\nwant %v", got, want)
	}
	if g := byGeneration(resumed); len(resumed) != 18 || g["0"] != 5 || g["1"] != 5 || g["2"] != 5 {
		t.Errorf("%d trials, by generation %v; want 18 (15 and the 3 abandoned, which the budget does not count), 5 in each generation", len(resumed), g)
	}
	replayLineage(t, resumed, 4)
}

// TestPBTFailedMember runs the toy with members whose h0 is below 0.6
// failing: the population goes on to the trial budget, and a failed
// member's next trial continues from a top member of its generation.
func TestPBTFailedMember(t *testing.T) {
	bin := pbtToy(t)
	dir := t.TempDir()
	file := toyExperiment{Name: "toy-fail", Algorithm: "pbt", Max: 20, Parallel: 5, Steps: 4, FailBelow: 0.6, Seed: "3", Truncation: "0.2"}.write(t, dir, bin)
	r := tune(t, dir, "run", "-q", file)
	trials := getTrials(t, dir, "toy-fail", "--sort-by", "name")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s\n%+v", r.code, r.stdout, r.stderr, trials[0])
	}
	if len(trials) != 20 {
		t.Fatalf("%d trials, want 20", len(trials))
	}
	gen := func(tr jsonTrial) int { g, _ := strconv.Atoi(tr.Parameters[pbtGeneration]); return g }
	failed := 0
	for i, tr := range trials {
		h0, _ := strconv.ParseFloat(tr.Parameters["h0"], 64)
		if (tr.Status == "Failed") != (h0 < 0.6) {
			t.Errorf("trial %s with h0=%v is %s", tr.Name, h0, tr.Status)
		}
		if tr.Status != "Failed" || gen(tr) == 3 {
			continue
		}
		failed++
		// The member's next trial: the same position, one generation on.
		next := trials[i+5]
		if gen(next) != gen(tr)+1 {
			t.Fatalf("trial %s (generation %d) is not the next of %s (generation %d)", next.Name, gen(next), tr.Name, gen(tr))
		}
		var top jsonTrial
		for _, o := range trials {
			if gen(o) == gen(tr) && o.Status == "Succeeded" && (top.Name == "" || o.Metrics["q"] > top.Metrics["q"]) {
				top = o
			}
		}
		if next.Parameters[pbtParent] != top.Name {
			t.Errorf("failed %s's next trial %s continues from %q, want the best of generation %d, %s", tr.Name, next.Name, next.Parameters[pbtParent], gen(tr), top.Name)
		}
	}
	if failed == 0 {
		t.Fatal("no member failed before the last generation: the test checks nothing")
	}
	replayLineage(t, trials, 4)

	// The lineage sorts and filters like a parameter, by its short name.
	byGen := getTrials(t, dir, "toy-fail", "--sort-by", "-generation")
	for i, tr := range byGen {
		if want := 3 - i/5; gen(tr) != want {
			t.Errorf("--sort-by -generation: row %d is %s of generation %d, want %d", i, tr.Name, gen(tr), want)
		}
	}
	parent := trials[5].Parameters[pbtParent] // generation 1's first member's
	count := func(keep func(jsonTrial) bool) int {
		n := 0
		for _, tr := range trials {
			if keep(tr) {
				n++
			}
		}
		return n
	}
	for filter, want := range map[string]int{
		"generation=0":     count(func(tr jsonTrial) bool { return gen(tr) == 0 }),
		"generation>=2":    count(func(tr jsonTrial) bool { return gen(tr) >= 2 }),
		"parent=" + parent: count(func(tr jsonTrial) bool { return tr.Parameters[pbtParent] == parent }),
	} {
		if got := getTrials(t, dir, "toy-fail", "--filter", filter); len(got) != want || want == 0 {
			t.Errorf("--filter %s: %d trials, want %d (not 0)", filter, len(got), want)
		}
	}
}

// TestKatibSimplePBT runs Katib's simple-pbt.yaml (maxFailedTrialCount
// corrected) with its trial program's path pointed at a standard-library
// stand-in of Katib's image, which reads and writes its checkpoint only at
// Katib's path, /var/log/katib/checkpoints/. Then the same file with a
// population of 5 and 10 trials: each generation-1 trial resumes its
// parent's checkpoint (its epochs continue from the parent's 21 to 41).
func TestKatibSimplePBT(t *testing.T) {
	testutil.Python3(t)
	helper, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := local.New(local.Options{MountHelper: helper})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := probe.MountsSupported(); !ok {
		t.Skip(why)
	}
	if _, err := os.Stat("/var/log/katib"); err == nil {
		t.Skip("/var/log/katib exists on this machine: the trials' checkpoints could not be told from it")
	}
	src, err := os.ReadFile("testdata/pbt/simple-pbt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := filepath.Abs("testdata/pbt/pbt_trial.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "simple-pbt.yaml")
	y := strings.Replace(string(src), "/opt/pbt/pbt_test.py", prog, 1)
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "run", "-q", file); r.code != 0 || !strings.Contains(r.stdout, "2 trials, 2 succeeded") {
		t.Fatalf("tune run simple-pbt.yaml: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, tr := range getTrials(t, dir, "simple-pbt") {
		if _, ok := tr.Metrics["Validation-accuracy"]; !ok || tr.Parameters[pbtGeneration] != "0" {
			t.Errorf("trial %s: metrics %v, generation %q", tr.Name, tr.Metrics, tr.Parameters[pbtGeneration])
		}
		if _, err := os.Stat(filepath.Join(tr.Dir, "var", "log", "katib", "checkpoints", "training.ckpt")); err != nil {
			t.Errorf("trial %s: its checkpoint is not in its directory: %v", tr.Name, err)
		}
	}

	y = strings.NewReplacer("name: simple-pbt", "name: simple-pbt-5", "maxTrialCount: 2", "maxTrialCount: 10",
		"parallelTrialCount: 2", "parallelTrialCount: 5", "value: '40'", "value: '5'").Replace(y)
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tune(t, dir, "run", "-q", file); r.code != 0 || !strings.Contains(r.stdout, "10 trials, 10 succeeded") {
		t.Fatalf("tune run with a population of 5: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, tr := range getTrials(t, dir, "simple-pbt-5") {
		out, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
		if err != nil {
			t.Fatal(err)
		}
		want := "epoch 21:"
		if tr.Parameters[pbtGeneration] == "1" {
			want = "epoch 41:"
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("trial %s (generation %s, parent %q) printed %q, want %q", tr.Name, tr.Parameters[pbtGeneration], tr.Parameters[pbtParent], out, want)
		}
	}
}
