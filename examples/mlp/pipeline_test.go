package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPipelineModes runs the three steps of examples/pipeline in order: the
// split covers the data set, the saved network scores on the test rows what
// the same weights score when evaluated directly, and the metrics file says
// what stdout says.
func TestPipelineModes(t *testing.T) {
	dir := t.TempDir()
	data, count := filepath.Join(dir, "data"), filepath.Join(dir, "out", "test-rows")
	code, stdout, stderr := trainRun(t, "--export-split", data, "--count-out", count)
	if code != 0 {
		t.Fatalf("--export-split: exit %d: %s", code, stderr)
	}
	train, err := loadData(filepath.Join(data, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := loadData(filepath.Join(data, "test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if len(train.X)+len(test.X) != 1797 || string(raw) != strconv.Itoa(len(test.X)) {
		t.Fatalf("split %d+%d rows, count file %q; want 1797 rows and the test count", len(train.X), len(test.X), raw)
	}
	if want := "train-rows=" + strconv.Itoa(len(train.X)); !strings.Contains(stdout, want) {
		t.Errorf("stdout %q lacks %q", stdout, want)
	}

	model := filepath.Join(dir, "model.json")
	if code, _, stderr := trainRun(t, "--data", filepath.Join(data, "train.csv"), "--epochs", "8", "--save-model", model); code != 0 {
		t.Fatalf("training: exit %d: %s", code, stderr)
	}
	m, sc, err := loadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	sc.apply(test)
	wantLoss, wantAcc := m.evaluate(test)
	if wantAcc < 0.9 {
		t.Errorf("test accuracy %v after 8 epochs, want > 0.9", wantAcc)
	}

	metricsFile := filepath.Join(dir, "mlpipeline-metrics.json")
	v2File := filepath.Join(dir, "metrics")
	code, stdout, stderr = trainRun(t, "--evaluate", model, "--data", filepath.Join(data, "test.csv"),
		"--expect-rows", string(raw), "--metrics-json", metricsFile, "--metrics-artifact", v2File)
	if code != 0 {
		t.Fatalf("--evaluate: exit %d: %s", code, stderr)
	}
	got := parseMetrics(t, stdout)[0]
	if math.Abs(got["test-accuracy"]-wantAcc) > 5e-5 || math.Abs(got["test-loss"]-wantLoss) > 1e-5*wantLoss {
		t.Errorf("stdout %v; want test-accuracy %v, test-loss %v", got, wantAcc, wantLoss)
	}
	var doc struct {
		Metrics []struct {
			Name        string  `json:"name"`
			NumberValue float64 `json:"numberValue"`
		} `json:"metrics"`
	}
	b, err := os.ReadFile(metricsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Metrics) != 2 || doc.Metrics[0].Name != "test-accuracy" || doc.Metrics[0].NumberValue != wantAcc ||
		doc.Metrics[1].Name != "test-loss" || doc.Metrics[1].NumberValue != wantLoss {
		t.Errorf("metrics file %s; want test-accuracy %v and test-loss %v", b, wantAcc, wantLoss)
	}

	var flat map[string]float64
	if b, err = os.ReadFile(v2File); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &flat); err != nil || len(flat) != 2 || flat["test-accuracy"] != wantAcc || flat["test-loss"] != wantLoss {
		t.Errorf("v2 metrics artifact %s (%v); want test-accuracy %v and test-loss %v", b, err, wantAcc, wantLoss)
	}

	// The row check fails the step, as a pipeline step must when its
	// input is not what the previous step said.
	if code, _, stderr := trainRun(t, "--evaluate", model, "--data", filepath.Join(data, "train.csv"), "--expect-rows", string(raw)); code != 1 || !strings.Contains(stderr, "want "+string(raw)) {
		t.Errorf("evaluate with the wrong data: exit %d, stderr %q; want 1 naming the expected count", code, stderr)
	}
}

func TestPipelineModeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--export-split", "d", "--evaluate", "m"}, "different modes"},
		{[]string{"--count-out", "c"}, "--count-out needs --export-split"},
		{[]string{"--metrics-json", "m"}, "--metrics-json needs --evaluate"},
		{[]string{"--metrics-artifact", "m"}, "--metrics-artifact needs --evaluate"},
		{[]string{"--evaluate", "m", "--expect-rows", "-1"}, "--expect-rows must be >= 0"},
	} {
		code, _, stderr := trainRun(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	code, _, stderr := trainRun(t, "--evaluate", filepath.Join(t.TempDir(), "none.json"))
	if code != 1 || !strings.Contains(stderr, "load model") {
		t.Errorf("missing model: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = trainRun(t, "--lr", "50", "--epochs", "3", "--save-model", filepath.Join(t.TempDir(), "m.json"))
	if code != 1 || !strings.Contains(stderr, "diverged: no model") {
		t.Errorf("diverged training with --save-model: exit %d, stderr %q; want 1", code, stderr)
	}
}
