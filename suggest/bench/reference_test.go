package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
	"github.com/tune-hpo/tune/suggest/random"
)

// refDriver evaluates the reference script's functions (by name) at the
// points given as JSON on stdin, one [function, assignment] pair a line,
// and prints their values, one a line.
const refDriver = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("ref", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

class Trial:
    def __init__(self, a):
        self.a = a
    def suggest_float(self, name, lo, hi, log=False):
        return float(self.a[name])
    def suggest_int(self, name, lo, hi):
        return int(self.a[name])
    def suggest_categorical(self, name, choices):
        return self.a[name]

for line in sys.stdin:
    name, a = json.loads(line)
    if name in ref.TRIAL_FUNCTIONS:
        v = ref.TRIAL_FUNCTIONS[name][0](Trial(a))
    else:
        f, bounds, _ = ref.FUNCTIONS[name]
        v = f([float(a["x%d" % (i + 1)]) for i in range(len(bounds))])
    print(repr(v))
`

// TestReferenceFunctions checks that the reference script's copies of the
// test functions (reference/optuna_tpe.py, for Optuna) give the values the
// Go definitions give, at 200 random points of each function it has, and
// that it has them all.
func TestReferenceFunctions(t *testing.T) {
	py := testutil.Python3(t)
	r := rand.New(rand.NewPCG(4, 2))
	var in strings.Builder
	var want []float64
	var names []string
	for _, fn := range functions() {
		prior, err := random.NewPrior(fn.space)
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			a := prior.Sample(r)
			v, err := fn.eval(a)
			if err != nil {
				t.Fatal(err)
			}
			line, _ := json.Marshal([]any{fn.name, a})
			in.Write(line)
			in.WriteByte('\n')
			want = append(want, v)
			names = append(names, fn.name)
		}
	}
	cmd := exec.Command(py, "-c", refDriver, filepath.Join("reference", "optuna_tpe.py"))
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("reference script: %v\n%s", err, stderr)
	}
	got := strings.Fields(string(out))
	if len(got) != len(want) {
		t.Fatalf("reference script gave %d values for %d points", len(got), len(want))
	}
	for i, s := range got {
		var v float64
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("value %q: %v", s, err)
		}
		if math.Abs(v-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s: reference %v, Go %v", names[i], v, want[i])
		}
	}
}

// TestCompareParallel checks reference/compare.py's --parallel form on runs
// whose regrets are known: at 4 exactly 1.5 times the sequential ones (z 0),
// at 8 a hundred times (every parallel run worse than every scaled one).
func TestCompareParallel(t *testing.T) {
	py := testutil.Python3(t)
	var raw strings.Builder
	enc := json.NewEncoder(&raw)
	for s := range 20 {
		v := float64(s + 1)
		for _, r := range []rawRecord{
			{Function: "f", Algorithm: "bo", Parallelism: 1, Seed: s, Budget: 100, Regret: v},
			{Function: "f", Algorithm: "bo", Parallelism: 4, Seed: s, Budget: 100, Regret: 1.5 * v},
			{Function: "f", Algorithm: "bo", Parallelism: 8, Seed: s, Budget: 100, Regret: 100 * v},
			{Function: "f", Algorithm: "other", Parallelism: 4, Seed: s, Budget: 100, Regret: v},
		} {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	if err := os.WriteFile(file, []byte(raw.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join("reference", "compare.py"), "--parallel", "1.5", "bo", file).CombinedOutput()
	if err != nil {
		t.Fatalf("compare.py: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"| f | 100 | 4 | 10.5 | 15.8 | 1.5 | +0.00 | 0.500 |",
		"| f | 100 | 8 | 10.5 | 1.05e+03 | 100 | +5.41 | 0.000 |",
	}
	if len(lines) != 2+len(want) || lines[2] != want[0] || lines[3] != want[1] {
		t.Errorf("compare.py --parallel 1.5 bo printed\n%s\nwant its rows\n%s", out, strings.Join(want, "\n"))
	}
}
