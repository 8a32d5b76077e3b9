package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
)

// TestDriverSmall runs both whole-process measurements at a small size, as
// CI does so that the driver keeps working: every case prints one
// benchstat line whose figures are numbers, and tune's store holds every
// trial of the overhead case Succeeded with the value its command printed.
func TestDriverSmall(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tune")
	if err := testutil.Build(map[string]string{bin: "github.com/tune-hpo/tune/cmd/tune"}, raceEnabled); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := overheadConfig{tune: bin, trials: []int{12}, parallel: []int{4}, commands: []string{"true", "echo"}, dir: dir}
	if err := overhead(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	lines := benchLines(t, out.String(), 2)
	for _, l := range lines {
		for _, unit := range []string{"tune-s", "xargs-s", "ratio", "tune-cpu-s", "rss-peak-MiB"} {
			if v, ok := l[unit]; !ok || v <= 0 {
				t.Errorf("%s = %v (present %v), want a positive number", unit, v, ok)
			}
		}
	}
	// The echo case's trials printed value=X: each Succeeded with it.
	db := filepath.Join(dir, "echo-12-4", "tune.db")
	got, err := exec.Command(bin, "--store", db, "get", "trials", "overhead", "-o", "csv").Output()
	if err != nil {
		t.Fatalf("tune get trials: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil || len(rows) != 13 || !slices.Equal(rows[0][:4], []string{"name", "status", "value", "x"}) {
		t.Fatalf("tune get trials -o csv: %v:\n%s\nwant a header (name,status,value,x,...) and 12 trials", err, got)
	}
	for _, r := range rows[1:] {
		if r[1] != "Succeeded" || r[2] != r[3] {
			t.Errorf("trial %s: %s with value %s for x %s; want Succeeded with value = x", r[0], r[1], r[2], r[3])
		}
	}

	out.Reset()
	if err := startup(context.Background(), bin, dir, 1, &out); err != nil {
		t.Fatal(err)
	}
	benchLines(t, out.String(), 4)
	if !strings.Contains(out.String(), "# package init:") || strings.Contains(out.String(), "over 0 packages") {
		t.Errorf("startup output lacks the package-init summary:\n%s", out.String())
	}
}

// benchLines parses the benchstat lines of out, of which there must be n,
// into unit → value maps.
func benchLines(t *testing.T, out string, n int) []map[string]float64 {
	t.Helper()
	var lines []map[string]float64
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			t.Fatalf("not a benchstat line: %q", line)
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				t.Fatalf("%q: value %q of %s is not a number", line, f[i], f[i+1])
			}
			m[f[i+1]] = v
		}
		lines = append(lines, m)
	}
	if len(lines) != n {
		t.Fatalf("%d benchmark lines, want %d:\n%s", len(lines), n, out)
	}
	return lines
}
