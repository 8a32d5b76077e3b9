package cli_test

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/importance"
	"github.com/tune-hpo/tune/suggest"
)

// jsonImportance is the documented JSON shape of tune importance.
type jsonImportance struct {
	Experiment  string            `json:"experiment"`
	Metric      string            `json:"metric"`
	Method      string            `json:"method"`
	Trials      int               `json:"trials"`
	Trees       int               `json:"trees"`
	Seed        uint64            `json:"seed"`
	Constant    bool              `json:"constant"`
	Importances []importance.Term `json:"importances"`
	Notes       []string          `json:"notes"`
}

// importanceParams: x decides the loss ((x−1)² over [−2, 4], variance
// 7.2), y barely ((y+2)² over [−2.5, −1.5], variance 0.0056) and label,
// which trialprog ignores, not at all. Trials with x > 3.5 fail.
const importanceParams = `
    - name: x
      parameterType: double
      feasibleSpace: {min: "-2", max: "4"}
    - name: "y"
      parameterType: double
      feasibleSpace: {min: "-2.5", max: "-1.5"}
    - name: label
      parameterType: categorical
      feasibleSpace: {list: [red, green, blue]}`

func runImportanceExperiment(t *testing.T, dir string) {
	t.Helper()
	file := writeExperiment(t, dir, expParams{Name: "imp", Parallel: 4, Max: 40, MaxFailed: 40,
		Settings:    "      - {name: random_state, value: \"3\"}",
		Parameters:  importanceParams,
		TrialParams: "label",
		Extra:       `, "--label", "${trialParameters.label}", "--fail-above", "3.5", "--epochs", "1"`})
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

func TestImportanceEndToEnd(t *testing.T) {
	dir := t.TempDir()
	runImportanceExperiment(t, dir)

	// The forest's input, rebuilt from what tune get trials prints: the
	// succeeded trials, x and y on [0, 1], label as its category's index;
	// loss checked against trialprog's formula.
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: -2, Max: 4},
		{Name: "y", Type: suggest.Double, Min: -2.5, Max: -1.5},
		{Name: "label", Type: suggest.Categorical, Values: []string{"red", "green", "blue"}},
	}
	var xs [][]float64
	var ys []float64
	failed := 0
	// tune get trials lists best first; the forest gets creation order.
	trials := getTrials(t, dir, "imp")
	slices.SortFunc(trials, func(a, b jsonTrial) int { return strings.Compare(a.Name, b.Name) })
	for _, tr := range trials {
		x, _ := strconv.ParseFloat(tr.Parameters["x"], 64)
		if tr.Status != "Succeeded" {
			if x <= 3.5 {
				t.Errorf("%s: %s with x = %v", tr.Name, tr.Status, x)
			}
			failed++
			continue
		}
		y, _ := strconv.ParseFloat(tr.Parameters["y"], 64)
		want := (x-1)*(x-1) + (y+2)*(y+2)
		if got := tr.Metrics["loss"]; math.Abs(got-want) > 1e-9*max(1, want) {
			t.Fatalf("%s: loss %v, want %v", tr.Name, got, want)
		}
		xs = append(xs, []float64{(x + 2) / 6, y + 2.5, float64(slices.Index(space[2].Values, tr.Parameters["label"]))})
		ys = append(ys, want)
	}
	if failed == 0 || len(ys) < 20 {
		t.Fatalf("%d succeeded and %d failed trials; the test wants both", len(ys), failed)
	}

	r := tune(t, dir, "importance", "imp", "-o", "json", "--pairs", "--seed", "5")
	if r.code != 0 {
		t.Fatalf("tune importance: exit %d: %s", r.code, r.stderr)
	}
	var got jsonImportance
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got.Experiment != "imp" || got.Metric != "loss" || got.Method != "fanova" || got.Trials != len(ys) || got.Trees != 64 || got.Seed != 5 {
		t.Errorf("header %+v, want imp, loss, fanova, %d trials, 64 trees, seed 5", got, len(ys))
	}
	want, err := importance.Evaluate(space, xs, ys, importance.Options{Seed: 5, Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	if !termsClose(got.Importances, want.Terms) {
		t.Errorf("tune importance gave\n%+v\nthe forest on the trials as printed gives\n%+v", got.Importances, want.Terms)
	}
	// Analytically x carries 7.2 / (7.2 + 0.0056) of the variance, label
	// none.
	share := map[string]float64{}
	for _, term := range got.Importances {
		share[term.Name()] = term.Importance
	}
	if got.Importances[0].Name() != "x" || share["x"] < 0.95 {
		t.Errorf("x = %.3f, ranked %s first; want x first with ≈ 1", share["x"], got.Importances[0].Name())
	}
	if share["label"] > 0.01 || share["x × label"] > 0.02 || share["y × label"] > 0.01 {
		t.Errorf("label = %.4f, x × label = %.4f, y × label = %.4f; want ≈ 0 for a parameter the trial ignores", share["label"], share["x × label"], share["y × label"])
	}

	// The table: ranked rows, the summary on stderr.
	r = tune(t, dir, "importance", "imp", "--seed", "5")
	if r.code != 0 {
		t.Fatalf("tune importance: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PARAMETER") || !strings.HasPrefix(lines[1], "x ") || !strings.HasPrefix(lines[3], "label ") {
		t.Errorf("table:\n%s\nwant a header and x, y, label in that order", r.stdout)
	}
	if !strings.Contains(r.stderr, "fANOVA of loss over "+strconv.Itoa(len(ys))+" trials") {
		t.Errorf("stderr %q, want the method summary", r.stderr)
	}

	// Another metric: accuracy = 1/(1+loss) is decided by x too.
	r = tune(t, dir, "importance", "imp", "--metric", "accuracy", "-o", "json")
	var acc jsonImportance
	if err := json.Unmarshal([]byte(r.stdout), &acc); r.code != 0 || err != nil || acc.Metric != "accuracy" || acc.Importances[0].Name() != "x" {
		t.Errorf("--metric accuracy: exit %d, %v, %s", r.code, err, r.stdout)
	}
	// --params fits the forest on those parameters only.
	r = tune(t, dir, "importance", "imp", "--params", "y,label", "-o", "json")
	var sub jsonImportance
	if err := json.Unmarshal([]byte(r.stdout), &sub); r.code != 0 || err != nil || len(sub.Importances) != 2 || sub.Importances[0].Name() != "y" {
		t.Errorf("--params y,label: exit %d, %v, %s; want y then label", r.code, err, r.stdout)
	}
}

// termsClose reports whether two term lists name the same terms in the
// same order with importances equal up to rounding of the summation.
func termsClose(a, b []importance.Term) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i].Params, b[i].Params) || math.Abs(a[i].Importance-b[i].Importance) > 1e-9 || math.Abs(a[i].Std-b[i].Std) > 1e-9 {
			return false
		}
	}
	return true
}

func TestImportanceErrors(t *testing.T) {
	dir := t.TempDir()
	// One trial: too few for importance.
	file := writeExperiment(t, dir, expParams{Name: "one", Parallel: 1, Max: 1, MaxFailed: 1})
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run: exit %d: %s", r.code, r.stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"importance", "one"}, 1, "experiment one has 1 succeeded trial(s) with loss; importance needs at least 2"},
		{[]string{"importance", "nope"}, 1, `experiment "nope" not found`},
		{[]string{"importance"}, 2, "expected EXPERIMENT"},
		{[]string{"importance", "one", "--trees", "0"}, 2, "--trees 0: want 1 to 1024"},
		{[]string{"importance", "one", "-o", "csv"}, 2, "-o csv: this command prints one document, not a list"},
		{[]string{"importance", "one", "--metric", "acc"}, 2, `--metric "acc": not a metric of experiment one (allowed: loss, accuracy)`},
		{[]string{"importance", "one", "--params", "x,z"}, 2, `--params: "z" is not a parameter of experiment one (allowed: x, y)`},
	} {
		r := tune(t, dir, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("tune %v: exit %d, stderr %q; want exit %d and %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
}

// TestImportanceConstant: an objective that never varies has no importance
// to share: every term is 0, with a note, and no NaN reaches the output.
func TestImportanceConstant(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "flat", Parallel: 2, Max: 4, MaxFailed: 1,
		Parameters: `
    - name: x
      parameterType: discrete
      feasibleSpace: {list: ["1"]}
    - name: "y"
      parameterType: categorical
      feasibleSpace: {list: ["-2", "-2.0"]}`,
		Extra: `, "--epochs", "1"`})
	if r := tune(t, dir, "run", "-q", file); r.code != 0 {
		t.Fatalf("tune run: exit %d: %s", r.code, r.stderr)
	}
	r := tune(t, dir, "importance", "flat", "--pairs", "-o", "json")
	var got jsonImportance
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	if !got.Constant || got.Trials != 4 || len(got.Importances) != 3 || len(got.Notes) == 0 || !strings.Contains(got.Notes[0], "loss is the same in all 4 trials") {
		t.Errorf("got %+v, want constant over 4 trials, 3 terms, a note", got)
	}
	for _, term := range got.Importances {
		if term.Importance != 0 || term.Std != 0 || term.Variance != 0 {
			t.Errorf("%+v, want 0", term)
		}
	}
	r = tune(t, dir, "importance", "flat")
	if r.code != 0 || !strings.Contains(r.stderr, "tune: note: loss is the same in all 4 trials") || strings.Contains(r.stdout, "NaN") || !strings.Contains(r.stdout, "0.000") {
		t.Errorf("table: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}
