package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
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
