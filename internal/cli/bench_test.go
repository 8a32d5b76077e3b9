package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSuggest runs tune bench suggest as a user would: a quick run
// prints the regret table of the functions and algorithms asked for and
// writes the raw regrets; a wrong flag, function or algorithm is a usage
// error (exit 2) naming it; -h lists the flags and exits 0.
func TestBenchSuggest(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.jsonl")
	r := tune(t, dir, "bench", "suggest", "-quick", "-functions", "decoy", "-algorithms", "random", "-raw", raw)
	if r.code != 0 {
		t.Fatalf("tune bench suggest: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"`tune bench suggest -quick -functions decoy -algorithms random -raw ", "| decoy (4D) | 10 |", "| decoy (4D) | 20 |", "## Parallelism 2", "Right category"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	// 2 seeds × 2 budgets × 2 parallelisms.
	if lines := strings.Count(string(data), `"function":"decoy"`); lines != 8 {
		t.Errorf("raw file has %d records of decoy, want 8:\n%s", lines, data)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-functions", "nope"}, `unknown function "nope"`},
		{[]string{"-algorithms", "radnom"}, "radnom"},
		{[]string{"-seeds", "0"}, "-seeds 0"},
		{[]string{"--budget", "5"}, "budget"},
	} {
		r := tune(t, dir, append([]string{"bench", "suggest"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tune bench suggest %q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := tune(t, dir, "bench", "suggest", "-h"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "-functions") {
		t.Errorf("tune bench suggest -h: exit %d, output %q; want 0 and the flags", r.code, r.stdout+r.stderr)
	}
}
