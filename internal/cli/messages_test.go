package cli_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// TestUnimplementedAlgorithmRejectedByValidate: an algorithm Katib knows
// but tune does not implement (pbt here) is refused by tune validate with
// the message and the exit code tune run gives, before anything runs.
func TestUnimplementedAlgorithmRejectedByValidate(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "pop", Algorithm: "pbt", Parallel: 1, Max: 2, MaxFailed: 1,
		Settings: "      - {name: suggestion_trial_dir, value: /tmp/ckpt}\n      - {name: n_population, value: \"8\"}\n      - {name: truncation_threshold, value: \"0.2\"}"})
	const want = `spec.algorithm.algorithmName "pbt": not supported yet (supported: asha, bayesianoptimization, cmaes, grid, hyperband, multivariate-tpe, random, sobol, tpe)`
	v := tune(t, dir, "validate", file)
	if v.code != 2 || !strings.Contains(v.stderr, want) || v.stdout != "" {
		t.Errorf("tune validate: exit %d, stdout %q, stderr %q; want exit 2 and %q", v.code, v.stdout, v.stderr, want)
	}
	r := tune(t, dir, "run", file)
	if r.code != 2 || r.stderr != v.stderr {
		t.Errorf("tune run: exit %d, stderr %q; want exit 2 and validate's message %q", r.code, r.stderr, v.stderr)
	}
	// Nothing ran: the store holds no experiment.
	if g := tune(t, dir, "get", "experiments", "-o", "name"); strings.Contains(g.stdout, "pop") {
		t.Errorf("tune run stored the experiment: %q", g.stdout)
	}
	// An implemented algorithm with the same file still validates.
	file = writeExperiment(t, dir, expParams{Name: "ok", Algorithm: "random", Parallel: 1, Max: 2, MaxFailed: 1})
	if v := tune(t, dir, "validate", file); v.code != 0 {
		t.Errorf("tune validate (random): exit %d: %s", v.code, v.stderr)
	}
}

// TestVersion: tune version names the module, the Go toolchain that built
// the running binary and the platform, as text and as JSON.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	r := tune(t, dir, "version", "-o", "json")
	var v struct {
		Module, Version, GoVersion, Platform string
		Modified                             bool
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("tune version -o json: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if v.Module != "github.com/tune-hpo/tune" || v.GoVersion != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH || v.Version == "" {
		t.Errorf("tune version -o json = %+v", v)
	}
	r = tune(t, dir, "version")
	for _, want := range []string{"tune " + v.Version + "\n", "module: github.com/tune-hpo/tune\n", "go: " + runtime.Version() + " " + v.Platform + "\n", "commit: "} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("tune version: exit %d, output %q lacks %q", r.code, r.stdout, want)
		}
	}
	if r := tune(t, dir, "version", "-o", "xml"); r.code != 2 || !strings.Contains(r.stderr, "-o") {
		t.Errorf("tune version -o xml: exit %d, %q; want 2 naming -o", r.code, r.stderr)
	}
}
