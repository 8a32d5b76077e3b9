package cli_test

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Two numeric parameters and a categorical one, passed to trialprog as
// --label (which it ignores): the loss is (x-1)²+(y+2)² whatever opt is.
const tableParams = quadraticParams + `
    - name: opt
      parameterType: categorical
      feasibleSpace: {list: [adam, sgd]}`

var (
	tableOnce sync.Once
	tableDir  string
	tableErr  string
)

// tableRun runs one experiment for the table and export tests, once: 10
// trials, those with x above 2.5 failing after no metric, the others
// succeeding with loss and accuracy.
func tableRun(t *testing.T) string {
	t.Helper()
	tableOnce.Do(func() {
		dir, err := os.MkdirTemp(binDir, "table-") // TestMain removes binDir
		if err != nil {
			tableErr = err.Error()
			return
		}
		tableDir = dir
		file := writeExperiment(t, dir, expParams{Name: "tab", Parallel: 3, Max: 10, MaxFailed: 10, Parameters: tableParams,
			TrialParams: "opt", Extra: `, "--label=${trialParameters.opt}", "--fail-above=2.5"`,
			Settings: "      - {name: random_state, value: \"11\"}"})
		if r := tune(t, dir, "run", file); r.code != 0 {
			tableErr = "tune run: " + r.stdout + r.stderr
		}
	})
	if tableErr != "" {
		t.Fatal(tableErr)
	}
	return tableDir
}

// cli runs tune in dir and fails the test unless it exits 0.
func cliOK(t *testing.T, dir string, args ...string) string {
	t.Helper()
	r := tune(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("tune %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return f
}

// byName indexes the stored trials (tune get trials -o json) by name.
func byName(trials []jsonTrial) map[string]jsonTrial {
	m := map[string]jsonTrial{}
	for _, tr := range trials {
		m[tr.Name] = tr
	}
	return m
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestGetTrialsCSVHoldsTheStoredValues(t *testing.T) {
	dir := tableRun(t)
	stored := byName(getTrials(t, dir, "tab"))
	recs, err := csv.NewReader(strings.NewReader(cliOK(t, dir, "get", "trials", "tab", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("csv header %v has no %s", header, name)
		}
		return i
	}
	if len(recs)-1 != 10 {
		t.Fatalf("csv has %d rows, want 10", len(recs)-1)
	}
	var succeeded, failed int
	for _, r := range recs[1:] {
		tr := stored[r[col("name")]]
		x, y := num(t, r[col("x")]), num(t, r[col("y")])
		if r[col("x")] != tr.Parameters["x"] || r[col("opt")] != tr.Parameters["opt"] {
			t.Errorf("%s: csv parameters %s %s, stored %v", tr.Name, r[col("x")], r[col("opt")], tr.Parameters)
		}
		if r[col("status")] != tr.Status || r[col("dir")] != tr.Dir {
			t.Errorf("%s: csv status/dir %s %s, stored %s %s", tr.Name, r[col("status")], r[col("dir")], tr.Status, tr.Dir)
		}
		switch {
		case x > 2.5:
			failed++
			if r[col("status")] != "Failed" || r[col("loss")] != "" || r[col("exit")] != "3" {
				t.Errorf("%s (x=%v): status %s loss %q exit %s, want Failed, no loss, exit 3", tr.Name, x, r[col("status")], r[col("loss")], r[col("exit")])
			}
		default:
			succeeded++
			want := (x-1)*(x-1) + (y+2)*(y+2)
			if got := num(t, r[col("loss")]); !near(got, want) || got != tr.Metrics["loss"] {
				t.Errorf("%s: csv loss %v, want (x-1)²+(y+2)² = %v (stored %v)", tr.Name, got, want, tr.Metrics["loss"])
			}
			if got := num(t, r[col("accuracy")]); !near(got, 1/(1+want)) {
				t.Errorf("%s: csv accuracy %v, want %v", tr.Name, got, 1/(1+want))
			}
		}
	}
	if succeeded == 0 || failed == 0 {
		t.Fatalf("%d succeeded, %d failed: the run should have both", succeeded, failed)
	}
}

func TestGetTrialsSortLimitStatus(t *testing.T) {
	dir := tableRun(t)
	trials := getTrials(t, dir, "tab")
	// Default: succeeded trials by loss (minimized), then the others in
	// creation order.
	var prevLoss float64 = math.Inf(-1)
	seenOther := false
	for _, tr := range trials {
		if tr.Status != "Succeeded" {
			seenOther = true
			continue
		}
		if seenOther || tr.Metrics["loss"] < prevLoss {
			t.Errorf("default order is not best first: %s (loss %v) after %v", tr.Name, tr.Metrics["loss"], prevLoss)
		}
		prevLoss = tr.Metrics["loss"]
	}

	xs := func(ts []jsonTrial) []float64 {
		var out []float64
		for _, tr := range ts {
			out = append(out, num(t, tr.Parameters["x"]))
		}
		return out
	}
	desc := xs(getTrials(t, dir, "tab", "--sort-by", "-x"))
	if len(desc) != 10 || !slices.IsSortedFunc(desc, func(a, b float64) int { return cmp.Compare(b, a) }) {
		t.Errorf("--sort-by -x: x = %v, want 10 descending", desc)
	}
	if asc := xs(getTrials(t, dir, "tab", "--sort-by", "x")); !slices.IsSorted(asc) || slices.Equal(asc, desc) {
		t.Errorf("--sort-by x: x = %v, want ascending", asc)
	}
	if d := xs(getTrials(t, dir, "tab", "--sort-by", "params.x", "--desc")); !slices.Equal(d, desc) {
		t.Errorf("--sort-by params.x --desc = %v, want %v", d, desc)
	}
	// By accuracy descending: the trials with one first, best accuracy
	// (lowest loss) first; failed ones (no accuracy) last.
	acc := getTrials(t, dir, "tab", "--sort-by", "-accuracy")
	for i := 1; i < len(acc); i++ {
		a, okA := acc[i-1].Metrics["accuracy"]
		b, okB := acc[i].Metrics["accuracy"]
		if okB && (!okA || a < b) {
			t.Errorf("--sort-by -accuracy: %s (%v) after %s (%v)", acc[i].Name, b, acc[i-1].Name, a)
		}
	}

	names := func(out string) []string { return lines(out) }
	limited := names(cliOK(t, dir, "get", "trials", "tab", "--limit", "3", "-o", "name"))
	if want := []string{trials[0].Name, trials[1].Name, trials[2].Name}; !slices.Equal(limited, want) {
		t.Errorf("--limit 3 -o name = %v, want the 3 best %v", limited, want)
	}
	var wantFailed []string
	for _, tr := range trials {
		if tr.Status == "Failed" {
			wantFailed = append(wantFailed, tr.Name)
		}
	}
	if got := names(cliOK(t, dir, "get", "trials", "tab", "--status", "failed", "-o", "name")); !slices.Equal(got, wantFailed) {
		t.Errorf("--status failed = %v, want %v", got, wantFailed)
	}
	if got := getTrials(t, dir, "tab", "--status", "FAILED,succeeded"); len(got) != 10 {
		t.Errorf("--status FAILED,succeeded: %d trials, want 10", len(got))
	}
	r := tune(t, dir, "get", "trials", "tab", "--status", "done")
	if r.code != 2 || !strings.Contains(r.stderr, `"done"`) || !strings.Contains(r.stderr, "EarlyStopped") {
		t.Errorf("--status done: exit %d, stderr %q; want 2 naming it and the states", r.code, r.stderr)
	}
}

func TestGetTrialsFilter(t *testing.T) {
	dir := tableRun(t)
	trials := getTrials(t, dir, "tab")
	var want []string
	for _, tr := range trials {
		x := num(t, tr.Parameters["x"])
		if x < 1.5 && tr.Parameters["opt"] != "sgd" {
			want = append(want, tr.Name)
		}
	}
	if len(want) == 0 || len(want) == len(trials) {
		t.Fatalf("the filter should keep some trials but not all; it keeps %v", want)
	}
	var got []string
	for _, tr := range getTrials(t, dir, "tab", "--filter", "x<1.5, opt!=sgd") {
		got = append(got, tr.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("--filter 'x<1.5, opt!=sgd' = %v, want %v", got, want)
	}
	want = nil
	for _, tr := range trials {
		if loss, ok := tr.Metrics["loss"]; ok && loss >= 3 {
			want = append(want, tr.Name)
		}
	}
	if len(want) == 0 {
		t.Fatal("no trial has loss >= 3: the filter test needs one")
	}
	got = nil
	for _, tr := range getTrials(t, dir, "tab", "--filter", "loss>=3") {
		got = append(got, tr.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("--filter loss>=3 = %v, want %v (failed trials have no loss)", got, want)
	}
	for _, tc := range []struct{ filter, want string }{
		{"z<1", `unknown column "z"`},
		{"x<1,accuracy", `term "accuracy"`},
		{"x<big", `"big"`},
	} {
		r := tune(t, dir, "get", "trials", "tab", "--filter", tc.filter)
		if r.code != 2 || !strings.Contains(r.stderr, "--filter") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("--filter %q: exit %d, stderr %q; want 2 saying %s", tc.filter, r.code, r.stderr, tc.want)
		}
	}
	if r := tune(t, dir, "get", "trials", "tab", "--filter", "z<1"); !strings.Contains(r.stderr, "loss") || !strings.Contains(r.stderr, "opt") {
		t.Errorf("unknown column error %q does not list the known columns", r.stderr)
	}
	if r := tune(t, dir, "get", "trials", "tab", "--sort-by", "speed"); r.code != 2 || !strings.Contains(r.stderr, "--sort-by") || !strings.Contains(r.stderr, "accuracy") {
		t.Errorf("--sort-by speed: exit %d, %q", r.code, r.stderr)
	}
}

func TestGetTrialsTableFormats(t *testing.T) {
	dir := tableRun(t)
	trials := getTrials(t, dir, "tab")
	best := trials[0]

	// The table rounds to 4 significant digits.
	out := lines(cliOK(t, dir, "get", "trials", "tab", "--columns", "name,loss,x,opt", "--no-headers"))
	if len(out) != 10 {
		t.Fatalf("--no-headers printed %d lines, want 10:\n%s", len(out), strings.Join(out, "\n"))
	}
	f := strings.Fields(out[0])
	wantRow := []string{best.Name, strconv.FormatFloat(best.Metrics["loss"], 'g', 4, 64),
		strconv.FormatFloat(num(t, best.Parameters["x"]), 'g', 4, 64), best.Parameters["opt"]}
	if !slices.Equal(f, wantRow) {
		t.Errorf("--columns name,loss,x,opt first row = %v, want %v", f, wantRow)
	}
	if r := tune(t, dir, "get", "trials", "tab", "--columns", "name,speed"); r.code != 2 || !strings.Contains(r.stderr, `"speed"`) || !strings.Contains(r.stderr, "duration") {
		t.Errorf("--columns name,speed: exit %d, %q", r.code, r.stderr)
	}

	wide := lines(cliOK(t, dir, "get", "trials", "tab", "-o", "wide"))
	for _, h := range []string{"CREATED", "STARTED", "FINISHED", "EXIT", "DIR"} {
		if !strings.Contains(wide[0], h) {
			t.Errorf("wide header %q lacks %s", wide[0], h)
		}
	}
	if !strings.HasSuffix(wide[1], best.Dir) {
		t.Errorf("wide row %q does not end with the trial dir %s", wide[1], best.Dir)
	}

	jp := cliOK(t, dir, "get", "trials", "tab", "--limit", "2", "-o", "jsonpath={.items[*].name}")
	if want := trials[0].Name + " " + trials[1].Name; jp != want {
		t.Errorf("jsonpath = %q, want %q", jp, want)
	}
	jp = cliOK(t, dir, "get", "trials", "tab", "--limit", "1", "-o", `jsonpath={range .items[*]}{.metrics.loss}{"\n"}{end}`)
	if got := num(t, strings.TrimSpace(jp)); got != best.Metrics["loss"] {
		t.Errorf("jsonpath loss = %v, want the full stored %v", got, best.Metrics["loss"])
	}
	cc := lines(cliOK(t, dir, "get", "trials", "tab", "-o", "custom-columns=TRIAL:.name,X:.parameters.x,LOSS:metrics.loss", "--sort-by", "name"))
	if f := strings.Fields(cc[0]); !slices.Equal(f, []string{"TRIAL", "X", "LOSS"}) {
		t.Errorf("custom-columns header %q", cc[0])
	}
	stored := byName(trials)
	for _, l := range cc[1:] {
		f := strings.Fields(l)
		tr := stored[f[0]]
		wantLoss := "<none>"
		if v, ok := tr.Metrics["loss"]; ok {
			wantLoss = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if f[1] != tr.Parameters["x"] || f[2] != wantLoss {
			t.Errorf("custom-columns row %v, want x %s loss %s", f, tr.Parameters["x"], wantLoss)
		}
	}
	if r := tune(t, dir, "get", "trials", "tab", "-o", "jsonpath={.items["); r.code != 2 || !strings.Contains(r.stderr, "jsonpath") {
		t.Errorf("bad jsonpath: exit %d, %q", r.code, r.stderr)
	}

	// best and get experiments take the same formats.
	if got := cliOK(t, dir, "best", "tab", "-o", "name"); got != best.Name+"\n" {
		t.Errorf("best -o name = %q, want %s", got, best.Name)
	}
	recs, err := csv.NewReader(strings.NewReader(cliOK(t, dir, "best", "tab", "-o", "csv"))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != best.Name || num(t, recs[1][slices.Index(recs[0], "loss")]) != best.Metrics["loss"] {
		t.Errorf("best -o csv = %v, %v; want %s with loss %v", recs, err, best.Name, best.Metrics["loss"])
	}
	if got := cliOK(t, dir, "get", "experiments", "-o", "name"); got != "tab\n" {
		t.Errorf("get experiments -o name = %q", got)
	}
	recs, err = csv.NewReader(strings.NewReader(cliOK(t, dir, "get", "experiments", "-o", "csv"))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][slices.Index(recs[0], "bestTrial")] != best.Name || recs[1][slices.Index(recs[0], "trials")] != "10" {
		t.Errorf("get experiments -o csv = %v, %v", recs, err)
	}
	if got := cliOK(t, dir, "get", "experiments", "-o", "jsonpath={.items[0].currentOptimalTrial.bestTrialName}"); got != best.Name {
		t.Errorf("get experiments jsonpath best = %q, want %s", got, best.Name)
	}
}

// TestExportCSVAndJSONL reads both exports back and checks every value
// against the stored trials and what trialprog printed.
func TestExportCSVAndJSONL(t *testing.T) {
	dir := tableRun(t)
	stored := byName(getTrials(t, dir, "tab"))

	check := func(format string, rows []map[string]any) {
		t.Helper()
		if len(rows) != 10 {
			t.Fatalf("%s: %d rows, want 10", format, len(rows))
		}
		for i, r := range rows {
			name, _ := r["trial"].(string)
			tr, ok := stored[name]
			if !ok || r["seq"] != float64(i+1) {
				t.Fatalf("%s row %d: trial %v seq %v, want trials in creation order", format, i, r["trial"], r["seq"])
			}
			// Numbers are numbers, and the stored ones.
			x, ok := r["x"].(float64)
			if !ok || strconv.FormatFloat(x, 'g', -1, 64) != tr.Parameters["x"] {
				t.Errorf("%s %s: x = %#v, want the number %s", format, name, r["x"], tr.Parameters["x"])
			}
			if r["opt"] != tr.Parameters["opt"] || r["status"] != tr.Status {
				t.Errorf("%s %s: opt %v status %v, stored %v %v", format, name, r["opt"], r["status"], tr.Parameters["opt"], tr.Status)
			}
			loss, ok := tr.Metrics["loss"]
			if !ok {
				if r["loss"] != nil || r["loss.count"] != float64(0) {
					t.Errorf("%s %s: no loss stored, export has %v (count %v)", format, name, r["loss"], r["loss.count"])
				}
				continue
			}
			// trialprog prints loss+2, loss+1, loss; loss's strategy is min.
			want := map[string]float64{"loss": loss, "loss.min": loss, "loss.max": loss + 2, "loss.latest": loss, "loss.count": 3, "accuracy": 1 / (1 + loss)}
			for k, w := range want {
				if got, ok := r[k].(float64); !ok || !near(got, w) {
					t.Errorf("%s %s: %s = %#v, want %v", format, name, k, r[k], w)
				}
			}
			if d, ok := r["duration_seconds"].(float64); !ok || d <= 0 {
				t.Errorf("%s %s: duration_seconds = %#v", format, name, r["duration_seconds"])
			}
		}
	}

	recs, err := csv.NewReader(strings.NewReader(cliOK(t, dir, "export", "tab"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, rec := range recs[1:] {
		m := map[string]any{}
		for i, h := range recs[0] {
			switch {
			case rec[i] == "":
				m[h] = nil
			case h == "trial" || h == "status" || h == "opt" || h == "reason":
				m[h] = rec[i]
			default:
				if f, err := strconv.ParseFloat(rec[i], 64); err == nil {
					m[h] = f
				} else {
					m[h] = rec[i]
				}
			}
		}
		rows = append(rows, m)
	}
	check("csv", rows)

	file := filepath.Join(t.TempDir(), "trials.jsonl")
	cliOK(t, dir, "export", "tab", "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows = nil
	for _, l := range lines(string(data)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("jsonl line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	check("jsonl", rows)
	if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
		t.Errorf("export left files beside its output: %v", ents)
	}

	r := tune(t, dir, "export", "tab", "--format", "xlsx")
	if r.code != 2 || !strings.Contains(r.stderr, "csv, jsonl or parquet") {
		t.Errorf("--format xlsx: exit %d, %q", r.code, r.stderr)
	}
	r = tune(t, dir, "export", "tab", "-o", filepath.Join(dir, "no", "such", "dir.csv"))
	if r.code == 0 || !strings.Contains(r.stderr, "dir.csv") {
		t.Errorf("export into a missing directory: exit %d, %q", r.code, r.stderr)
	}
}

func TestExportObservations(t *testing.T) {
	dir := tableRun(t)
	stored := byName(getTrials(t, dir, "tab"))
	out := cliOK(t, dir, "export", "tab", "--observations", "--format", "jsonl")
	values := map[string][]float64{}
	for _, l := range lines(out) {
		var o struct {
			Trial, Metric string
			Step          *int64
			Value         float64
			Time          string
		}
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatal(err)
		}
		if o.Metric == "loss" {
			values[o.Trial] = append(values[o.Trial], o.Value)
		}
		if o.Time == "" {
			t.Errorf("observation %s has no time", l)
		}
	}
	for name, tr := range stored {
		loss, ok := tr.Metrics["loss"]
		if !ok {
			if len(values[name]) != 0 {
				t.Errorf("%s: no loss stored, observations %v", name, values[name])
			}
			continue
		}
		got := values[name]
		if len(got) != 3 || !near(got[0], loss+2) || !near(got[1], loss+1) || !near(got[2], loss) {
			t.Errorf("%s: loss observations %v, want %v, %v, %v in order", name, got, loss+2, loss+1, loss)
		}
	}
}

func TestExportParquet(t *testing.T) {
	dir := tableRun(t)
	stored := byName(getTrials(t, dir, "tab"))
	file := filepath.Join(t.TempDir(), "trials.parquet")
	cliOK(t, dir, "export", "tab", "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("read back %s: %v", file, err)
	}
	if f.NumRows() != 10 {
		t.Fatalf("parquet has %d rows, want 10", f.NumRows())
	}
	names := map[int]string{}
	for i, path := range f.Schema().Columns() {
		names[i] = path[0]
	}
	rd := parquet.NewReader(f)
	defer rd.Close()
	seen := 0
	for {
		row := make(parquet.Row, 0)
		row, err := readRow(rd, row)
		if err != nil {
			break
		}
		vals := map[string]parquet.Value{}
		for _, v := range row {
			vals[names[v.Column()]] = v
		}
		name := string(vals["trial"].ByteArray())
		tr, ok := stored[name]
		if !ok {
			t.Fatalf("parquet row names trial %q", name)
		}
		seen++
		if x := vals["x"].Double(); strconv.FormatFloat(x, 'g', -1, 64) != tr.Parameters["x"] {
			t.Errorf("%s: parquet x %v, stored %s", name, x, tr.Parameters["x"])
		}
		if string(vals["opt"].ByteArray()) != tr.Parameters["opt"] {
			t.Errorf("%s: parquet opt %q, stored %s", name, vals["opt"].ByteArray(), tr.Parameters["opt"])
		}
		loss, ok := tr.Metrics["loss"]
		if lv := vals["loss"]; ok != !lv.IsNull() || ok && lv.Double() != loss {
			t.Errorf("%s: parquet loss %v (null %v), stored %v (%v)", name, lv, lv.IsNull(), loss, ok)
		}
		if ok && (vals["loss.max"].Double() != loss+2 && !near(vals["loss.max"].Double(), loss+2) || vals["loss.count"].Int64() != 3) {
			t.Errorf("%s: parquet loss.max %v count %v, want %v and 3", name, vals["loss.max"], vals["loss.count"], loss+2)
		}
		if vals["seq"].Int64() < 1 || vals["created"].IsNull() {
			t.Errorf("%s: seq %v created %v", name, vals["seq"], vals["created"])
		}
	}
	if seen != 10 {
		t.Errorf("read %d parquet rows, want 10", seen)
	}
}

func readRow(rd *parquet.Reader, row parquet.Row) (parquet.Row, error) {
	rows := []parquet.Row{row}
	n, err := rd.ReadRows(rows)
	if n == 1 {
		return rows[0], nil
	}
	if err == nil {
		err = os.ErrNotExist
	}
	return nil, err
}

// TestTableFormatsEscapeControlCharacters runs trials whose categorical
// values hold terminal control sequences: every text format of get
// trials, best and export on standard output shows them escaped, and
// jsonl stays JSON that decodes to the stored value.
func TestTableFormatsEscapeControlCharacters(t *testing.T) {
	dir := t.TempDir()
	y := `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: esc
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 1
  maxTrialCount: 2
  parameters:
    - name: label
      parameterType: categorical
      feasibleSpace: {list: ["a\e[2Jb", "c\u009bd\u007f"]}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: label, reference: label}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: main
                image: ignored-locally
                command: ["` + trialBin + `", "--label=${trialParameters.label}"]
`
	file := filepath.Join(dir, "esc.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cliOK(t, dir, "run", file)
	raw := func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f }
	for _, args := range [][]string{
		{"get", "trials", "esc", "-o", "wide"},
		{"get", "trials", "esc", "-o", "csv"},
		{"get", "trials", "esc", "--columns", "label", "--no-headers"},
		{"get", "trials", "esc", "-o", "jsonpath={.items[*].parameters.label}"},
		{"get", "trials", "esc", "-o", "custom-columns=L:.parameters.label"},
		{"get", "trials", "esc", "-o", "json"},
		{"get", "trials", "esc", "-o", "yaml"},
		{"best", "esc", "-o", "jsonpath={.parameters.label}"},
		{"export", "esc"},
		{"export", "esc", "--format", "jsonl"},
	} {
		out := cliOK(t, dir, args...)
		if i := strings.IndexFunc(out, raw); i >= 0 {
			t.Errorf("tune %v holds a raw control character at %d: %q", args, i, out)
		}
		if !strings.Contains(out, `a\x1b[2Jb`) && !strings.Contains(out, `a\u001b[2Jb`) && !strings.Contains(out, `a\e[2Jb`) {
			t.Errorf("tune %v does not show a\\x1b[2Jb escaped: %q", args, out)
		}
		if args[0] == "export" && len(args) > 2 {
			labels := map[string]bool{}
			for _, l := range lines(out) {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("jsonl %q: %v", l, err)
				}
				labels[m["label"].(string)] = true
			}
			if !labels["a\x1b[2Jb"] || !labels["c\u009bd\u007f"] {
				t.Errorf("jsonl labels %v, want the stored values", labels)
			}
		}
	}
}
