package cli_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/testutil"
)

// enasTrial is what the tests read of a stored ENAS trial.
type enasTrial struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
	Dir        string             `json:"dir"`
}

// enasSetup copies the files a test runs into a fresh directory: from is
// relative to this package, to to the directory.
func enasSetup(t *testing.T, files map[string]string) string {
	t.Helper()
	testutil.Python3(t)
	dir := t.TempDir()
	for src, dst := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func enasTrials(t *testing.T, dir, name string) []enasTrial {
	t.Helper()
	var trials []enasTrial
	g := tune(t, dir, "get", "trials", name, "-o", "json")
	if err := json.Unmarshal([]byte(g.stdout), &trials); err != nil {
		t.Fatalf("get trials -o json: %v\n%s%s", err, g.stdout, g.stderr)
	}
	return trials
}

// enasScore is the stand-in trial's rule (examples/nas/enas/RunTrial.py),
// written again from its documentation: the mean over layers of the
// operation's score, 0.1 more for filter_size 3, 0.05 more for stride 1,
// 0.1 more for a skip connection from the layer before, 0.05 less for
// any other, clipped to [0, 1].
func enasScore(t *testing.T, arch [][]int, ops map[int]enasOp) float64 {
	t.Helper()
	base := map[string]float64{"convolution": 0.6, "separable_convolution": 0.5, "depthwise_convolution": 0.4, "reduction": 0.2}
	var total float64
	for l, entries := range arch {
		op := ops[entries[0]]
		s, ok := base[op.Type]
		if !ok {
			s = 0.1
		}
		if op.Params["filter_size"] == "3" {
			s += 0.1
		}
		if op.Params["stride"] == "1" {
			s += 0.05
		}
		for j, skip := range entries[1:] {
			switch {
			case skip == 1 && j == l-1:
				s += 0.1
			case skip == 1:
				s -= 0.05
			}
		}
		total += s
	}
	return min(1, max(0, total/float64(len(arch))))
}

// enasOp is one concrete operation of a nasConfig.
type enasOp struct {
	Type   string
	Params map[string]string
}

// enasOps numbers the concrete operations of the experiment's nasConfig
// as Katib's Operation.py does (each operationType's parameters'
// cartesian product, the last varying fastest), for categorical and int
// parameters; written here independently of suggest/enas.
func enasOps(t *testing.T, path string) map[int]enasOp {
	t.Helper()
	e, _, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]enasOp{}
	for _, op := range e.Spec.NasConfig.Operations {
		var lists [][]string
		for _, p := range op.Parameters {
			var vals []string
			switch p.ParameterType {
			case "categorical":
				vals = p.FeasibleSpace.List
			case "int":
				lo, _ := strconv.Atoi(p.FeasibleSpace.Min)
				hi, _ := strconv.Atoi(p.FeasibleSpace.Max)
				for v := lo; v <= hi; v++ {
					vals = append(vals, strconv.Itoa(v))
				}
			default:
				t.Fatalf("parameter type %s", p.ParameterType)
			}
			lists = append(lists, vals)
		}
		var rec func(k int, params map[string]string)
		rec = func(k int, params map[string]string) {
			if k == len(lists) {
				out[len(out)] = enasOp{Type: op.OperationType, Params: params}
				return
			}
			for _, v := range lists[k] {
				next := map[string]string{op.Parameters[k].Name: v}
				for a, b := range params {
					next[a] = b
				}
				rec(k+1, next)
			}
		}
		rec(0, map[string]string{})
	}
	return out
}

// checkENASTrial checks a succeeded trial: its nn_config describes its
// architecture's operations as Katib numbers them, the program received
// both strings whole (it prints them as Katib's trial does), and the
// stored objective is the stand-in's score of that architecture.
func checkENASTrial(t *testing.T, tr enasTrial, ops map[int]enasOp, layers int) {
	t.Helper()
	if tr.Status != "Succeeded" {
		t.Fatalf("trial %s is %s", tr.Name, tr.Status)
	}
	var arch [][]int
	if err := json.Unmarshal([]byte(strings.ReplaceAll(tr.Parameters["architecture"], "'", `"`)), &arch); err != nil || len(arch) != layers {
		t.Fatalf("trial %s: architecture %q (%v): want %d layers", tr.Name, tr.Parameters["architecture"], err, layers)
	}
	var nn struct {
		NumLayers int `json:"num_layers"`
		Embedding map[string]struct {
			ID     int            `json:"opt_id"`
			Type   string         `json:"opt_type"`
			Params map[string]any `json:"opt_params"`
		} `json:"embedding"`
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(tr.Parameters["nn_config"], "'", `"`)), &nn); err != nil || nn.NumLayers != layers {
		t.Fatalf("trial %s: nn_config %q (%v)", tr.Name, tr.Parameters["nn_config"], err)
	}
	for l, entries := range arch {
		if len(entries) != l+1 {
			t.Fatalf("trial %s: layer %d has %d entries", tr.Name, l, len(entries))
		}
		e, ok := nn.Embedding[strconv.Itoa(entries[0])]
		want := ops[entries[0]]
		if !ok || e.ID != entries[0] || e.Type != want.Type || len(e.Params) != len(want.Params) {
			t.Fatalf("trial %s: nn_config's operation %d is %+v, want %+v", tr.Name, entries[0], e, want)
		}
		for k, v := range want.Params {
			if fmt.Sprint(e.Params[k]) != v {
				t.Errorf("trial %s: operation %d: %s = %v, want %s", tr.Name, entries[0], k, e.Params[k], v)
			}
		}
	}
	out, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{tr.Parameters["architecture"], tr.Parameters["nn_config"]} {
		if !strings.Contains(string(out), "\n"+strings.ReplaceAll(v, "'", `"`)+"\n") {
			t.Errorf("trial %s did not receive %s:\n%s", tr.Name, v, out)
		}
	}
	if got, want := tr.Metrics["Validation-Accuracy"], enasScore(t, arch, ops); math.Abs(got-want) > 1e-9 {
		t.Errorf("trial %s: Validation-Accuracy %v, want %v for %s", tr.Name, got, want, tr.Parameters["architecture"])
	}
}

// Katib's enas-cpu.yaml runs unchanged with tune run, its trial the
// standard-library stand-in for Katib's ENAS trial (examples/nas/enas),
// which parses its arguments as Katib's does.
func TestENASCPURuns(t *testing.T) {
	dir := enasSetup(t, map[string]string{
		"../../suggest/enas/testdata/enas-cpu.yaml": "enas-cpu.yaml",
		"../../examples/nas/enas/RunTrial.py":       "RunTrial.py",
	})
	r := tune(t, dir, "run", "enas-cpu.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "experiment enas-cpu Succeeded (ExperimentMaxTrialsReached): 3 trials, 3 succeeded") {
		t.Fatalf("tune run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	ops := enasOps(t, filepath.Join(dir, "enas-cpu.yaml"))
	if len(ops) != 106 {
		t.Fatalf("%d operations in enas-cpu.yaml, want 106", len(ops))
	}
	trials := enasTrials(t, dir, "enas-cpu")
	if len(trials) != 3 {
		t.Fatalf("%d trials, want 3", len(trials))
	}
	for _, tr := range trials {
		checkENASTrial(t, tr, ops, 1)
	}
}

// enasDeep is a 4-layer experiment over a few of enas-cpu.yaml's
// operations, one trial at a time.
const enasDeep = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: %s
spec:
  parallelTrialCount: 1
  resumePolicy: LongRunning  # raising maxTrialCount continues it
  maxTrialCount: %d
  objective:
    type: maximize
    objectiveMetricName: Validation-Accuracy
  algorithm:
    algorithmName: enas
    algorithmSettings:
      - {name: random_state, value: "7"}
      - {name: controller_learning_rate, value: "%s"}
      - {name: controller_train_steps, value: "5"}
      - {name: controller_hidden_size, value: "16"}
  nasConfig:
    graphConfig:
      numLayers: 4
      inputSizes: [32, 32, 3]
      outputSizes: [10]
    operations:
      - operationType: convolution
        parameters:
          - {name: filter_size, parameterType: categorical, feasibleSpace: {list: ["3", "5"]}}
          - {name: stride, parameterType: categorical, feasibleSpace: {list: ["1", "2"]}}
      - operationType: reduction
        parameters:
          - {name: reduction_type, parameterType: categorical, feasibleSpace: {list: [max_pooling, avg_pooling]}}
          - {name: pool_size, parameterType: int, feasibleSpace: {min: "2", max: "3", step: "1"}}
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - {name: neuralNetworkArchitecture, reference: architecture}
      - {name: neuralNetworkConfig, reference: nn_config}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: stand-in
                command: [python3, -u, RunTrial.py, --num_epochs=1, '--architecture="${trialParameters.neuralNetworkArchitecture}"', '--nn_config="${trialParameters.neuralNetworkConfig}"']
            restartPolicy: Never
`

// An ENAS experiment resumed after 12 trials continues as if it had never
// stopped: the controller is rebuilt from the stored trials, so trials 13
// to 24 are those of an uninterrupted run with the same random_state, and
// not those of a controller that learnt nothing (a learning rate of 1e-9).
func TestENASResumes(t *testing.T) {
	dir := enasSetup(t, map[string]string{"../../examples/nas/enas/RunTrial.py": "RunTrial.py"})
	write := func(file, name string, max int, lr string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(fmt.Sprintf(enasDeep, name, max, lr)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("whole.yaml", "whole", 24, "0.01")
	write("parts.yaml", "parts", 12, "0.01")
	write("frozen.yaml", "frozen", 24, "1e-9")
	for _, file := range []string{"whole.yaml", "parts.yaml", "frozen.yaml"} {
		if r := tune(t, dir, "run", file); r.code != 0 {
			t.Fatalf("tune run %s: exit %d\n%s\n%s", file, r.code, r.stdout, r.stderr)
		}
	}
	write("parts.yaml", "parts", 24, "0.01")
	if r := tune(t, dir, "run", "parts.yaml"); r.code != 0 || !strings.Contains(r.stdout, "24 trials, 24 succeeded") {
		t.Fatalf("tune run parts.yaml (resume): exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	ops := enasOps(t, filepath.Join(dir, "whole.yaml"))
	whole, parts, frozen := enasTrials(t, dir, "whole"), enasTrials(t, dir, "parts"), enasTrials(t, dir, "frozen")
	if len(whole) != 24 || len(parts) != 24 || len(frozen) != 24 {
		t.Fatalf("%d, %d and %d trials, want 24", len(whole), len(parts), len(frozen))
	}
	distinct, learnt := map[string]bool{}, 0
	for i := range whole {
		checkENASTrial(t, whole[i], ops, 4)
		checkENASTrial(t, parts[i], ops, 4)
		if whole[i].Parameters["architecture"] != parts[i].Parameters["architecture"] {
			t.Errorf("trial %d: %s uninterrupted, %s resumed", i+1, whole[i].Parameters["architecture"], parts[i].Parameters["architecture"])
		}
		distinct[whole[i].Parameters["architecture"]] = true
		if i >= 12 && whole[i].Parameters["architecture"] != frozen[i].Parameters["architecture"] {
			learnt++
		}
	}
	t.Logf("%d of trials 13–24 differ from those of a controller that learns nothing", learnt)
	if learnt < 3 {
		t.Errorf("only %d of trials 13–24 differ from those of a controller that learns nothing", learnt)
	}
	if len(distinct) < 12 {
		t.Errorf("%d distinct architectures in 24 trials", len(distinct))
	}
}
