package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/internal/web"
	"github.com/tune-hpo/tune/store"
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

// Katib's darts-cpu.yaml runs unchanged with tune run, its trial the
// standard-library stand-in for Katib's DARTS trial (examples/nas/darts),
// which parses its arguments as Katib's does: the program receives
// Katib's strings byte for byte, the trial succeeds with its Best-Genotype
// (text, not a number) as the objective, and the read commands show it.
func TestDartsCPURuns(t *testing.T) {
	testutil.Python3(t)
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"../../experiment/testdata/katib/darts-cpu.yaml": "darts-cpu.yaml",
		"../../examples/nas/darts/run_trial.py":          "run_trial.py",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record := filepath.Join(dir, "received.json")
	r := tuneEnv(t, dir, append(cleanEnv(), "DARTS_RECORD="+record), "run", "darts-cpu.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "experiment darts-cpu Succeeded (ExperimentMaxTrialsReached): 1 trials, 1 succeeded") {
		t.Fatalf("tune run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// What the program received is what Katib's trial would receive.
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the trial recorded no arguments: %v", err)
	}
	var received map[string]string
	if err := json.Unmarshal(b, &received); err != nil {
		t.Fatal(err)
	}
	for k, want := range dartsCPUAssignment {
		if received[k] != want {
			t.Errorf("the trial received %s:\n %s\nwant\n %s", k, received[k], want)
		}
	}

	// The stored trial: its assignment, and its objective as text, the
	// last Best-Genotype line of its output. With num_nodes 1 and one
	// candidate operation, each cell has one node whose two edges (from
	// the two cell inputs) are max_pooling_3x3, concatenated from node 2.
	var trials []struct {
		Name       string            `json:"name"`
		Status     string            `json:"status"`
		Parameters map[string]string `json:"parameters"`
		Metrics    map[string]float64
		Texts      map[string]string `json:"texts"`
		Dir        string            `json:"dir"`
	}
	g := tune(t, dir, "get", "trials", "darts-cpu", "-o", "json")
	if err := json.Unmarshal([]byte(g.stdout), &trials); err != nil || len(trials) != 1 {
		t.Fatalf("get trials -o json: %v, %d trials\n%s", err, len(trials), g.stdout)
	}
	tr := trials[0]
	if tr.Status != "Succeeded" || len(tr.Metrics) != 0 {
		t.Errorf("trial %s, metrics %v; want Succeeded with no number", tr.Status, tr.Metrics)
	}
	if fmt.Sprint(tr.Parameters) != fmt.Sprint(dartsCPUAssignment) {
		t.Errorf("stored parameters %v, want %v", tr.Parameters, dartsCPUAssignment)
	}
	out, err := os.ReadFile(filepath.Join(tr.Dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	var printed string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Best-Genotype="); ok {
			printed = v
		}
	}
	genotype := tr.Texts["Best-Genotype"]
	if genotype == "" || genotype != printed {
		t.Errorf("stored Best-Genotype %q, want the printed %q", genotype, printed)
	}
	for _, cell := range []string{"normal", "reduce"} {
		for _, want := range []string{cell + "=[[('max_pooling_3x3',0),('max_pooling_3x3',1)]]", cell + "_concat=range(2,3)"} {
			if !strings.Contains(genotype, want) {
				t.Errorf("Best-Genotype %q lacks %q", genotype, want)
			}
		}
	}

	// Readable in tables (long values cut), whole in best and json.
	table := tune(t, dir, "get", "trials", "darts-cpu")
	for _, want := range []string{"algorithm-settings", "search-space", "num-layers", "['max_pooling_3x3']", "Genotype(normal=[[('max_pooling_3x3',0),", "…"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("get trials lacks %q:\n%s", want, table.stdout)
		}
	}
	if strings.Contains(table.stdout, "stem_multiplier") {
		t.Errorf("get trials prints the settings whole:\n%s", table.stdout)
	}
	best := tune(t, dir, "best", "darts-cpu")
	if best.code != 0 || !strings.Contains(best.stdout, "metrics.Best-Genotype       "+genotype) || !strings.Contains(best.stdout, dartsCPUAssignment["algorithm-settings"]) {
		t.Errorf("tune best: exit %d\n%s%s", best.code, best.stdout, best.stderr)
	}
	exp := tune(t, dir, "get", "experiments")
	if !strings.Contains(exp.stdout, "darts-cpu-0001 (Best-Genotype=Genotype(") {
		t.Errorf("get experiments does not show the best genotype:\n%s", exp.stdout)
	}
	// The other read commands cope: no number to plot or rank by.
	for _, args := range [][]string{
		{"describe", "darts-cpu", "darts-cpu-0001"},
		{"export", "darts-cpu"},
		{"export", "darts-cpu", "--observations"},
		{"compare", "darts-cpu", "darts-cpu"},
		{"importance", "darts-cpu"},
		{"plot", "darts-cpu", "--kind", "history", "-o", filepath.Join(dir, "p.svg")},
		{"plot", "darts-cpu", "--kind", "curves", "-o", filepath.Join(dir, "p.svg")},
	} {
		r := tune(t, dir, args...)
		if r.code > 1 && args[0] != "plot" || strings.Contains(r.stderr, "panic") {
			t.Errorf("tune %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	cmp := tune(t, dir, "compare", "darts-cpu", "darts-cpu", "-o", "json")
	var cv struct {
		Experiments []struct {
			BestTrial string   `json:"bestTrial"`
			BestValue *float64 `json:"bestValue"`
			BestText  string   `json:"bestText"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(cmp.stdout), &cv); err != nil || len(cv.Experiments) != 2 || cv.Experiments[0].BestTrial != "darts-cpu-0001" || cv.Experiments[0].BestText != genotype || cv.Experiments[0].BestValue != nil {
		t.Errorf("compare -o json: %v\n%s", err, cmp.stdout)
	}
	d := tune(t, dir, "describe", "darts-cpu", "darts-cpu-0001")
	if !strings.Contains(d.stdout, "search-space        ['max_pooling_3x3']") || !strings.Contains(d.stdout, "Best-Genotype (text): "+genotype) {
		t.Errorf("describe:\n%s", d.stdout)
	}
	ex := tune(t, dir, "export", "darts-cpu", "--format", "jsonl")
	var row map[string]any
	if err := json.Unmarshal([]byte(ex.stdout), &row); err != nil {
		t.Fatalf("export: %v\n%s", err, ex.stdout)
	}
	for k, want := range dartsCPUAssignment {
		if row[k] != want {
			t.Errorf("export %s = %v, want %s", k, row[k], want)
		}
	}
	if row["Best-Genotype.text"] != genotype || row["Best-Genotype"] != nil {
		t.Errorf("export Best-Genotype %v, .text %v; want null and the genotype", row["Best-Genotype"], row["Best-Genotype.text"])
	}
	obs := tune(t, dir, "export", "darts-cpu", "--observations")
	if !strings.Contains(obs.stdout, "darts-cpu-0001,Best-Genotype,,,") {
		t.Errorf("export --observations: the text log has a value or is missing:\n%s", obs.stdout)
	}

	// The dashboard's trial page: the DARTS values as parameters, the
	// genotype as the metric's text, and no curve point made of it.
	path := filepath.Join(dir, ".tune", "tune.db")
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(web.Handler(st, web.Options{TrialRoot: filepath.Dir(path)}))
	defer srv.Close()
	for _, page := range []string{"/api/experiments/darts-cpu", "/api/experiments/darts-cpu/curves?trial=darts-cpu-0001"} {
		resp, err := http.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %s", page, resp.Status)
		}
	}
	resp, err := http.Get(srv.URL + "/api/experiments/darts-cpu/trials/darts-cpu-0001")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var td web.TrialDetail
	if err := json.NewDecoder(resp.Body).Decode(&td); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range td.Params {
		params[p.Name] = p.Value
	}
	if fmt.Sprint(params) != fmt.Sprint(dartsCPUAssignment) || td.Metrics["Best-Genotype"].Text != genotype || len(td.Curves["Best-Genotype"]) != 0 {
		t.Errorf("dashboard trial: params %v, Best-Genotype %+v, curve %v", params, td.Metrics["Best-Genotype"], td.Curves["Best-Genotype"])
	}
}

// A text objective never reaches a goal: it is no number to compare. Two
// DARTS trials run under a goal a 0 would reach.
func TestTextObjectiveNeverReachesGoal(t *testing.T) {
	testutil.Python3(t)
	dir := t.TempDir()
	y, err := os.ReadFile("../../experiment/testdata/katib/darts-cpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(y), "  maxTrialCount: 1\n", "  maxTrialCount: 2\n", 1)
	s = strings.Replace(s, "    type: maximize\n", "    type: minimize\n    goal: 1\n", 1)
	py, err := os.ReadFile("../../examples/nas/darts/run_trial.py")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"darts.yaml": []byte(s), "run_trial.py": py} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := tune(t, dir, "run", "darts.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "Succeeded (ExperimentMaxTrialsReached): 2 trials, 2 succeeded") {
		t.Errorf("tune run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The best is the latest, as in Katib.
	if b := tune(t, dir, "best", "darts-cpu", "-o", "name"); strings.TrimSpace(b.stdout) != "darts-cpu-0002" {
		t.Errorf("best = %q, want darts-cpu-0002", b.stdout)
	}
}
