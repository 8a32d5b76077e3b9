package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNegativePodTimeout: a negative grace for trials whose pods do not
// run is a usage error naming the flag, before anything is stored.
func TestNegativePodTimeout(t *testing.T) {
	for _, flag := range []string{"--image-pull-timeout", "--container-create-timeout", "--crash-loop-timeout", "--node-lost-timeout", "--unschedulable-timeout"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			file := writeExperiment(t, dir, expParams{Name: "graces", Parallel: 1, Max: 1, MaxFailed: 1})
			r := tuneEnv(t, dir, append(cleanEnv(), "KUBECONFIG="+dir+"/absent"), "run", file, "--executor", "kubernetes", flag, "-1s", "--store", filepath.Join(dir, "tune.db"))
			if r.code != 2 || !strings.Contains(r.stderr, flag+" -1s: want a duration of 0 (forever) or more") {
				t.Errorf("exit %d, stderr %q; want a usage error naming %s", r.code, r.stderr, flag)
			}
			if _, err := os.Stat(filepath.Join(dir, "tune.db")); !os.IsNotExist(err) {
				t.Errorf("store written by a run refused for its flags: %v", err)
			}
		})
	}
}
