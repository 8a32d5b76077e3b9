package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// katibFilter is Katib's default metrics regex (DefaultFilter), which tune's
// standard-output collector also uses.
var katibFilter = regexp.MustCompile(`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`)

// trainRun runs the command with args and returns its exit status, standard
// output and standard error.
func trainRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// parseMetrics parses every stdout line with katibFilter, failing the test
// on a value that does not parse as a number.
func parseMetrics(t *testing.T, stdout string) []map[string]float64 {
	t.Helper()
	var lines []map[string]float64
	for line := range strings.Lines(stdout) {
		m := map[string]float64{}
		for _, sub := range katibFilter.FindAllStringSubmatch(line, -1) {
			v, err := strconv.ParseFloat(sub[2], 64)
			if err != nil {
				t.Fatalf("line %q: metric %s: %v", line, sub[1], err)
			}
			m[sub[1]] = v
		}
		lines = append(lines, m)
	}
	return lines
}

func TestLearns(t *testing.T) {
	code, stdout, stderr := trainRun(t, "--lr=0.05", "--momentum=0.9", "--hidden=16", "--epochs=3")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := parseMetrics(t, stdout)
	if len(lines) != 3 {
		t.Fatalf("got %d metric lines, want 3:\n%s", len(lines), stdout)
	}
	for i, m := range lines {
		for _, name := range []string{"epoch", "train-loss", "loss", "accuracy"} {
			if _, ok := m[name]; !ok {
				t.Errorf("line %d lacks %s: %v", i+1, name, m)
			}
		}
	}
	first, last := lines[0], lines[len(lines)-1]
	// Ten balanced classes: the majority-class rate is about 0.10.
	if last["accuracy"] < 0.9 {
		t.Errorf("validation accuracy after 3 epochs = %v, want >= 0.9", last["accuracy"])
	}
	if last["loss"] >= first["loss"] {
		t.Errorf("validation loss did not fall: %v -> %v", first["loss"], last["loss"])
	}
}

func TestTuningMatters(t *testing.T) {
	accuracy := func(args ...string) float64 {
		t.Helper()
		code, stdout, stderr := trainRun(t, append([]string{"--epochs=3"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
		lines := parseMetrics(t, stdout)
		return lines[len(lines)-1]["accuracy"]
	}
	good := accuracy("--lr=0.05", "--hidden=16")
	for _, bad := range [][]string{
		{"--lr=0.0005", "--hidden=16"}, // too small a step
		{"--lr=5", "--hidden=16"},      // diverges
		{"--lr=0.05", "--hidden=2"},    // too narrow
	} {
		if got := accuracy(bad...); got > good-0.1 {
			t.Errorf("%v: accuracy %v, want well below %v", bad, got, good)
		}
	}
}

func TestDeterministic(t *testing.T) {
	args := []string{"--epochs=2", "--hidden=8", "--seed=7"}
	_, a, _ := trainRun(t, args...)
	_, b, _ := trainRun(t, args...)
	if a != b {
		t.Errorf("same seed, different output:\n%s\nvs\n%s", a, b)
	}
	_, c, _ := trainRun(t, "--epochs=2", "--hidden=8", "--seed=8")
	if a == c {
		t.Errorf("seeds 7 and 8 gave identical output:\n%s", a)
	}
}

func TestReportEvery(t *testing.T) {
	code, stdout, stderr := trainRun(t, "--epochs=5", "--hidden=4", "--report-every=2")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var epochs []float64
	for _, m := range parseMetrics(t, stdout) {
		epochs = append(epochs, m["epoch"])
	}
	if want := []float64{2, 4, 5}; !slices.Equal(epochs, want) {
		t.Errorf("reported epochs %v, want %v", epochs, want)
	}
}

func TestPatienceStopsAStalledRun(t *testing.T) {
	// A learning rate this large leaves the network at chance level without
	// overflowing: accuracy never improves on its first report.
	code, stdout, stderr := trainRun(t, "--lr=0.36", "--momentum=0.88", "--hidden=8", "--epochs=400", "--report-every=10", "--patience=30")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := parseMetrics(t, stdout)
	if len(lines) == 0 || len(lines) >= 40 || !strings.Contains(stderr, "stopping early") {
		t.Fatalf("%d reports and stderr %q: want an early stop", len(lines), stderr)
	}
	// Without patience the same run goes to the last epoch.
	_, full, _ := trainRun(t, "--lr=0.36", "--momentum=0.88", "--hidden=8", "--epochs=400", "--report-every=10")
	if n := len(parseMetrics(t, full)); n != 40 {
		t.Errorf("without --patience: %d reports, want 40", n)
	}
}

func TestDivergenceIsReportedNotFailed(t *testing.T) {
	code, stdout, stderr := trainRun(t, "--lr=1e6", "--epochs=50", "--hidden=8")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "diverged") {
		t.Errorf("stderr does not mention divergence:\n%s", stderr)
	}
	if strings.Contains(stdout, "NaN") || strings.Contains(stdout, "Inf") {
		t.Errorf("stdout has a non-finite value:\n%s", stdout)
	}
	lines := parseMetrics(t, stdout)
	if len(lines) == 0 || len(lines) == 50 {
		t.Fatalf("got %d lines, want an early stop:\n%s", len(lines), stdout)
	}
	if acc, ok := lines[len(lines)-1]["accuracy"]; !ok || acc > 0.5 {
		t.Errorf("last line %v: want a poor accuracy", lines[len(lines)-1])
	}
}

func TestBadFlags(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"zero lr":          {[]string{"--lr=0"}, "--lr must be > 0"},
		"negative lr":      {[]string{"--lr=-0.1"}, "--lr must be > 0"},
		"momentum one":     {[]string{"--momentum=1"}, "--momentum must be in [0, 1)"},
		"no hidden units":  {[]string{"--hidden=0"}, "--hidden must be >= 1"},
		"three layers":     {[]string{"--layers=3"}, "--layers must be 1 or 2"},
		"activation":       {[]string{"--activation=sigmoid"}, "--activation must be relu or tanh"},
		"no epochs":        {[]string{"--epochs=0"}, "--epochs must be >= 1"},
		"batch size":       {[]string{"--batch-size=0"}, "--batch-size must be >= 1"},
		"weight decay":     {[]string{"--weight-decay=-1"}, "--weight-decay must be >= 0"},
		"report every":     {[]string{"--report-every=0"}, "--report-every must be >= 1"},
		"patience":         {[]string{"--patience=-1"}, "--patience must be >= 0"},
		"unknown flag":     {[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		"not a number":     {[]string{"--lr=fast"}, `invalid value "fast" for flag -lr`},
		"stray argument":   {[]string{"extra"}, `unexpected arguments: ["extra"]`},
		"several problems": {[]string{"--lr=0", "--hidden=0"}, "--hidden must be >= 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := trainRun(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want empty", stdout)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestDataFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Two separable clusters, with a scikit-learn style first line.
	var b strings.Builder
	b.WriteString("40,2,low,high\n")
	for i := range 40 {
		c := i % 2
		x := float64(c)*4 + float64(i%5)*0.1
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64) + "," +
			strconv.FormatFloat(-x, 'f', -1, 64) + "," + strconv.Itoa(c) + "\n")
	}
	good := write("good.csv", b.String())

	code, stdout, stderr := trainRun(t, "--data="+good, "--epochs=20", "--hidden=4", "--lr=0.1")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "32 training and 8 validation rows, 2 features, 2 classes") {
		t.Errorf("unexpected data summary:\n%s", stderr)
	}
	lines := parseMetrics(t, stdout)
	if acc := lines[len(lines)-1]["accuracy"]; acc != 1 {
		t.Errorf("accuracy on separable data = %v, want 1", acc)
	}

	for name, tc := range map[string]struct{ path, want string }{
		"missing":   {filepath.Join(dir, "nope.csv"), "no such file"},
		"bad label": {write("label.csv", "1,2,0\n3,4,x\n"), "row 2: label"},
		"ragged":    {write("ragged.csv", "1,2,0\n3,4,1\n5,1\n"), "row 3: got 2 fields, want 3"},
		"one class": {write("one.csv", "1,2,0\n3,4,0\n"), "at least two classes"},
		"not gzip":  {write("plain.csv.gz", "1,2,0\n"), "gunzip"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := trainRun(t, "--data="+tc.path)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestEmbeddedData(t *testing.T) {
	d, err := loadData("")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.X) != 1797 || d.features() != 64 || d.classes != 10 {
		t.Fatalf("got %d rows, %d features, %d classes; want 1797, 64, 10",
			len(d.X), d.features(), d.classes)
	}
	tr, val := split(d)
	if len(tr.X)+len(val.X) != 1797 || len(val.X) < 350 || len(val.X) > 370 {
		t.Errorf("split %d/%d, want about 80/20 of 1797", len(tr.X), len(val.X))
	}
}
