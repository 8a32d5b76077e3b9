//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tune-hpo/tune/experiment"
)

// dartsCPUAssignment is what Katib's DARTS service assigns for Katib's
// darts-cpu.yaml, from its code (pkg/suggestion/v1beta1/nas/darts/
// service.py: json.dumps of the settings dict over its defaults and of the
// search-space list, double quotes replaced by single ones; str() of
// numLayers).
var dartsCPUAssignment = map[string]string{
	"algorithm-settings": "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}",
	"search-space":       "['max_pooling_3x3']",
	"num-layers":         "1",
}

// dartsGenotype is the Best-Genotype line a DARTS trial with these
// arguments prints, as Katib's darts-cnn-cifar10 trial prints it (spaces
// removed): each of num_nodes nodes keeps two edges, here each with the
// first operation of the search space.
func dartsGenotype(args []string) (string, error) {
	var settings map[string]any
	var space []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--algorithm-settings="); ok {
			if err := json.Unmarshal([]byte(strings.ReplaceAll(v, "'", `"`)), &settings); err != nil {
				return "", fmt.Errorf("--algorithm-settings %q: %w", v, err)
			}
		}
		if v, ok := strings.CutPrefix(a, "--search-space="); ok {
			if err := json.Unmarshal([]byte(strings.ReplaceAll(v, "'", `"`)), &space); err != nil {
				return "", fmt.Errorf("--search-space %q: %w", v, err)
			}
		}
	}
	nodes, err := strconv.Atoi(fmt.Sprint(settings["num_nodes"]))
	if err != nil || len(space) == 0 {
		return "", fmt.Errorf("num_nodes %v, search space %v", settings["num_nodes"], space)
	}
	var cell []string
	for n := range nodes {
		cell = append(cell, fmt.Sprintf("[('%s',%d),('%s',%d)]", space[0], n, space[0], n+1))
	}
	c := "[" + strings.Join(cell, ",") + "]"
	concat := fmt.Sprintf("range(2,%d)", 2+nodes)
	return fmt.Sprintf("Genotype(normal=%s,normal_concat=%s,reduce=%s,reduce_concat=%s)", c, concat, c, concat), nil
}

// TestDartsCPUExample runs Katib's darts-cpu.yaml, its pod template held
// for the fake kubelet (an annotation) in the test's namespace, as a Job
// trial: the pod's command is what Katib's shell would run (the
// template's quotes gone, Katib's strings byte for byte), and the trial
// succeeds with the Best-Genotype its log reports, a text value.
func TestDartsCPUExample(t *testing.T) {
	c := newCluster(t)
	ns := c.namespace(t)
	var mu sync.Mutex
	var commands [][]string
	var genotype string
	c.onHeldPods(t, ns, "app.kubernetes.io/managed-by=tune", false, "DARTS kubelet", func(ctx context.Context, pod *corev1.Pod) error {
		var main *corev1.Container
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == "training-container" {
				main = &pod.Spec.Containers[i]
			}
		}
		if main == nil {
			return fmt.Errorf("no training-container in %v", pod.Spec.Containers)
		}
		cmd := append(append([]string{}, main.Command...), main.Args...)
		g, err := dartsGenotype(cmd)
		if err != nil {
			return err
		}
		mu.Lock()
		commands, genotype = append(commands, cmd), g
		mu.Unlock()
		log := ">>> Algorithm settings\nnum_epochs\t\t1\n>>> All Primitives\n['max_pooling_3x3', 'none']\n\nFinal best Prec@1 = 10.0000%\n\nBest-Genotype=" + g + "\n"
		if err := c.serveLog(ctx, pod, "", log, "Best-Genotype="); err != nil {
			return err
		}
		return c.release(ctx, pod)
	})

	src, err := os.ReadFile("../../../experiment/testdata/katib/darts-cpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(src)
	for old, new := range map[string]string{
		"  namespace: kubeflow\n":              "  namespace: " + ns + "\n",
		"        template:\n          spec:\n": "        template:\n          metadata:\n            annotations: {tune.test/hold: \"true\"}\n          spec:\n",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("darts-cpu.yaml has no %q", old)
		}
		y = strings.Replace(y, old, new, 1)
	}
	dir := t.TempDir()
	file := writeExperiment(t, dir, y)
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 0 || !strings.Contains(out, "1 succeeded") {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))

	mu.Lock()
	defer mu.Unlock()
	want := []string{"python3", "run_trial.py",
		"--algorithm-settings=" + dartsCPUAssignment["algorithm-settings"],
		"--search-space=" + dartsCPUAssignment["search-space"],
		"--num-layers=" + dartsCPUAssignment["num-layers"]}
	if len(commands) != 1 || strings.Join(commands[0], "\x00") != strings.Join(want, "\x00") {
		t.Errorf("trial pods ran %q, want one running %q", commands, want)
	}
	code, js, errOut := runTune(t, dir, "get", "trials", "darts-cpu", "-o", "json")
	if code != 0 {
		t.Fatalf("get trials: exit %d: %s", code, errOut)
	}
	var ts []struct {
		Name       string            `json:"name"`
		Status     string            `json:"status"`
		Parameters map[string]string `json:"parameters"`
		Texts      map[string]string `json:"texts"`
	}
	if err := json.Unmarshal([]byte(js), &ts); err != nil || len(ts) != 1 {
		t.Fatalf("get trials -o json: %v, %d trials\n%s", err, len(ts), js)
	}
	if ts[0].Status != "Succeeded" || ts[0].Texts["Best-Genotype"] != genotype || genotype == "" {
		t.Errorf("trial %s with Best-Genotype %q; want Succeeded with %q from its pod's log", ts[0].Status, ts[0].Texts["Best-Genotype"], genotype)
	}
	if fmt.Sprint(ts[0].Parameters) != fmt.Sprint(dartsCPUAssignment) {
		t.Errorf("stored parameters %v, want %v", ts[0].Parameters, dartsCPUAssignment)
	}
}

// enasOp is one concrete operation of a nasConfig: its operationType and
// a value, as the file writes it, for each of the type's parameters.
type enasOp struct {
	typ    string
	params map[string]string
}

// enasOps numbers the concrete operations of nas as Katib's
// Operation.py does: each operationType in order, the cartesian product
// of its parameters' values, the last parameter varying fastest; a
// categorical parameter takes its list, an int one min to max by step
// (1 when none). Written here apart from suggest/enas.
func enasOps(nas *experiment.NasConfig) ([]enasOp, error) {
	var out []enasOp
	for _, op := range nas.Operations {
		var values [][]string
		for _, p := range op.Parameters {
			var vs []string
			switch p.ParameterType {
			case "categorical":
				vs = p.FeasibleSpace.List
			case "int":
				lo, err1 := strconv.Atoi(p.FeasibleSpace.Min)
				hi, err2 := strconv.Atoi(p.FeasibleSpace.Max)
				step, err3 := 1, error(nil)
				if p.FeasibleSpace.Step != "" {
					step, err3 = strconv.Atoi(p.FeasibleSpace.Step)
				}
				if err := errors.Join(err1, err2, err3); err != nil || step < 1 {
					return nil, fmt.Errorf("%s's %s: %+v: %v", op.OperationType, p.Name, p.FeasibleSpace, err)
				}
				for v := lo; v <= hi; v += step {
					vs = append(vs, strconv.Itoa(v))
				}
			default:
				return nil, fmt.Errorf("%s's %s: parameter type %s", op.OperationType, p.Name, p.ParameterType)
			}
			values = append(values, vs)
		}
		n := 1
		for _, vs := range values {
			n *= len(vs)
		}
		for i := range n {
			params := map[string]string{}
			for k := len(values) - 1; k >= 0; k-- {
				params[op.Parameters[k].Name] = values[k][i%len(values[k])]
				i /= len(values[k])
			}
			out = append(out, enasOp{op.OperationType, params})
		}
	}
	return out, nil
}

// enasNNConfig is the part of an nn_config the test reads.
type enasNNConfig struct {
	NumLayers   int     `json:"num_layers"`
	InputSizes  []int32 `json:"input_sizes"`
	OutputSizes []int32 `json:"output_sizes"`
	Embedding   map[string]struct {
		ID     int            `json:"opt_id"`
		Type   string         `json:"opt_type"`
		Params map[string]any `json:"opt_params"`
	} `json:"embedding"`
}

// enasTrialArgs reads --architecture and --nn_config from a trial's argv
// as Katib's RunTrial.py does: single quotes replaced by double ones,
// then JSON.
func enasTrialArgs(argv []string) (arch [][]int, nn enasNNConfig, err error) {
	archArg, nnArg := flagValue(argv, "--architecture", ""), flagValue(argv, "--nn_config", "")
	if err := json.Unmarshal([]byte(strings.ReplaceAll(archArg, "'", `"`)), &arch); err != nil {
		return nil, nn, fmt.Errorf("--architecture %q: %w", archArg, err)
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(nnArg, "'", `"`)), &nn); err != nil {
		return nil, nn, fmt.Errorf("--nn_config %q: %w", nnArg, err)
	}
	return arch, nn, nil
}

// enasAccuracy is the Validation-Accuracy the test's ENAS trial reports
// for an architecture over numOps operations: the mean over the layers of
// 0.1 + 0.8·op/numOps, less 0.02 for each skip connection, at least 0. It
// stays below the example's goal (0.99), so that no trial ends the
// experiment early.
func enasAccuracy(arch [][]int, numOps int) float64 {
	var sum float64
	for _, layer := range arch {
		s := 0.1 + 0.8*float64(layer[0])/float64(numOps)
		for _, skip := range layer[1:] {
			s -= 0.02 * float64(skip)
		}
		sum += s
	}
	return max(0, sum/float64(len(arch)))
}

// checkENASArgs checks an ENAS trial's arguments against the nasConfig
// they came from: the architecture has a layer per graphConfig layer, each
// an operation of ops and one skip bit (0 or 1) per earlier layer; the
// nn_config repeats graphConfig's sizes and describes exactly the
// operations the architecture uses, as ops numbers them.
func checkENASArgs(arch [][]int, nn enasNNConfig, g experiment.GraphConfig, ops []enasOp) error {
	if len(arch) != int(*g.NumLayers) {
		return fmt.Errorf("architecture %v: %d layers, want %d", arch, len(arch), *g.NumLayers)
	}
	used := map[string]bool{}
	for l, layer := range arch {
		if len(layer) != l+1 || layer[0] < 0 || layer[0] >= len(ops) {
			return fmt.Errorf("architecture %v: layer %d is not an operation in [0, %d) and %d skip bits", arch, l, len(ops), l)
		}
		for _, skip := range layer[1:] {
			if skip != 0 && skip != 1 {
				return fmt.Errorf("architecture %v: layer %d: skip bit %d", arch, l, skip)
			}
		}
		used[strconv.Itoa(layer[0])] = true
	}
	if nn.NumLayers != int(*g.NumLayers) || fmt.Sprint(nn.InputSizes) != fmt.Sprint(g.InputSizes) || fmt.Sprint(nn.OutputSizes) != fmt.Sprint(g.OutputSizes) {
		return fmt.Errorf("nn_config has %d layers, input sizes %v, output sizes %v; graphConfig %d, %v, %v",
			nn.NumLayers, nn.InputSizes, nn.OutputSizes, *g.NumLayers, g.InputSizes, g.OutputSizes)
	}
	if len(nn.Embedding) != len(used) {
		return fmt.Errorf("nn_config's embedding has operations %v, want those of %v", slices.Sorted(maps.Keys(nn.Embedding)), arch)
	}
	for key, e := range nn.Embedding {
		id, err := strconv.Atoi(key)
		if err != nil || !used[key] || e.ID != id {
			return fmt.Errorf("nn_config's embedding: operation %q is %+v; architecture %v", key, e, arch)
		}
		params := map[string]string{}
		for k, v := range e.Params {
			params[k] = fmt.Sprint(v)
		}
		if want := ops[id]; e.Type != want.typ || !maps.Equal(params, want.params) {
			return fmt.Errorf("nn_config's operation %d is %s %v, want %s %v", id, e.Type, params, want.typ, want.params)
		}
	}
	return nil
}

// enasTrial is what TestENASCPUExample reads of a stored trial.
type enasTrial struct {
	jsonTrial
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished"`
}

// enasPod is what the test's kubelet saw of an ENAS trial pod.
type enasPod struct {
	argv     []string
	accuracy float64
}

// TestENASCPUExample runs Katib's enas-cpu.yaml (suggest/enas/testdata),
// its pod template held for the fake kubelet in the test's namespace, with
// 6 trials 2 at a time: each pod runs Katib's RunTrial.py command with the
// architecture and nn_config its trial was assigned, byte for byte (the
// template's quotes gone, as Katib's shell removes them), valid for the
// file's nasConfig; the kubelet reports, as the pod's log, the accuracy
// the test computes from those arguments, and that is the trial's
// Validation-Accuracy. Trials beyond the first two are created only after
// earlier ones finished, so the controller was asked again with finished
// trials in its history.
func TestENASCPUExample(t *testing.T) {
	const parallel, maxTrials = 2, 6
	src, err := os.ReadFile("../../../suggest/enas/testdata/enas-cpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	ns := c.namespace(t)
	y := string(src)
	for old, new := range map[string]string{
		"  namespace: kubeflow\n":              "  namespace: " + ns + "\n",
		"  parallelTrialCount: 2\n":            fmt.Sprintf("  parallelTrialCount: %d\n", parallel),
		"  maxTrialCount: 3\n":                 fmt.Sprintf("  maxTrialCount: %d\n", maxTrials),
		"        template:\n          spec:\n": "        template:\n          metadata:\n            annotations: {tune.test/hold: \"true\"}\n          spec:\n",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("enas-cpu.yaml has no %q", old)
		}
		y = strings.Replace(y, old, new, 1)
	}
	dir := t.TempDir()
	file := writeExperiment(t, dir, y)
	e, _, err := experiment.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	nas := e.Spec.NasConfig
	if nas == nil || nas.GraphConfig.NumLayers == nil {
		t.Fatalf("enas-cpu.yaml: nasConfig %+v", nas)
	}
	ops, err := enasOps(nas)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	pods := map[string]enasPod{} // by trial
	c.onHeldPods(t, ns, "app.kubernetes.io/managed-by=tune", false, "ENAS kubelet", func(ctx context.Context, pod *corev1.Pod) error {
		var argv []string
		for _, ct := range pod.Spec.Containers {
			if ct.Name == "training-container" {
				argv = append(append(argv, ct.Command...), ct.Args...)
			}
		}
		// A pod whose arguments do not parse is still completed (with no
		// metric, so its trial fails) rather than left running.
		log, want := "bad arguments\n", "bad arguments"
		arch, nn, err := enasTrialArgs(argv)
		if err == nil {
			err = checkENASArgs(arch, nn, nas.GraphConfig, ops)
		}
		if err == nil {
			acc := enasAccuracy(arch, len(ops))
			mu.Lock()
			pods[pod.Labels["katib.kubeflow.org/trial"]] = enasPod{argv, acc}
			mu.Unlock()
			// As Katib's trial prints: the arguments received, then the
			// accuracy after each epoch (num_epochs is 1).
			want = "Validation-Accuracy=" + strconv.FormatFloat(acc, 'g', -1, 64)
			log = ">>> arch received by trial\n" + strings.ReplaceAll(flagValue(argv, "--architecture", ""), "'", `"`) +
				"\n>>> nn_config received by trial\n" + strings.ReplaceAll(flagValue(argv, "--nn_config", ""), "'", `"`) +
				"\n\nTotal Epoch 1/1\n" + want + "\n"
		}
		if serr := c.serveLog(ctx, pod, "", log, want); serr != nil {
			return errors.Join(err, serr)
		}
		return errors.Join(err, c.release(ctx, pod))
	})

	start := time.Now()
	code, out, errOut := runTune(t, dir, "run", "--executor", "kubernetes", file)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d succeeded", maxTrials)) {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("tune run: %v\n%s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	code, js, errOut := runTune(t, dir, "get", "trials", "enas-cpu", "-o", "json")
	if code != 0 {
		t.Fatalf("get trials: exit %d: %s", code, errOut)
	}
	var ts []enasTrial
	if err := json.Unmarshal([]byte(js), &ts); err != nil || len(ts) != maxTrials {
		t.Fatalf("get trials -o json: %v, %d trials, want %d\n%s", err, len(ts), maxTrials, js)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pods) != maxTrials {
		t.Errorf("the kubelet saw pods of %d trials, want %d", len(pods), maxTrials)
	}
	for _, tr := range ts {
		p, ok := pods[tr.Name]
		if !ok {
			t.Errorf("trial %s: no pod seen", tr.Name)
			continue
		}
		want := []string{"python3", "-u", "RunTrial.py", "--num_epochs=1",
			"--architecture=" + tr.Parameters["architecture"], "--nn_config=" + tr.Parameters["nn_config"]}
		if len(tr.Parameters) != 2 || !slices.Equal(p.argv, want) {
			t.Errorf("trial %s: parameters %q; its pod ran %q, want %q", tr.Name, tr.Parameters, p.argv, want)
		}
		got, ok := tr.Metrics["Validation-Accuracy"]
		if tr.Status != "Succeeded" || !ok || got != p.accuracy {
			t.Errorf("trial %s: %s, Validation-Accuracy %v (%v), want Succeeded with %v from its pod's log", tr.Name, tr.Status, got, ok, p.accuracy)
		}
	}
	// Each trial after the first parallel ones is created only once that
	// many fewer trials are still running: with k trials created before
	// it, at least k−parallel+1 finished before it was created.
	slices.SortFunc(ts, func(a, b enasTrial) int { return a.Created.Compare(b.Created) })
	for k, tr := range ts {
		done := 0
		for _, o := range ts[:k] {
			if !o.Finished.IsZero() && !o.Finished.After(tr.Created) {
				done++
			}
		}
		if done < k-parallel+1 {
			t.Errorf("trial %s, created %s after %d others, with %d of them finished; want at least %d finished",
				tr.Name, tr.Created.Format(time.RFC3339Nano), k, done, k-parallel+1)
		}
	}
}
