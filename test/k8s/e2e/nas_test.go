//go:build k8se2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
