package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoundedFlagsRefused: --max-observations below the minimum (or 0)
// and a --push-address that is no address are usage errors, before
// anything is stored.
func TestBoundedFlagsRefused(t *testing.T) {
	dir := t.TempDir()
	file := writeExperiment(t, dir, expParams{Name: "flags", Parallel: 1, Max: 1, MaxFailed: 1})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-observations", "3"}, "--max-observations 3: want at least 8, or -1 for no cap"},
		{[]string{"--max-observations", "0"}, "--max-observations 0: want at least 8"},
		{[]string{"--push-address", "nowhere"}, `--push-address "nowhere": want unix, a TCP address such as 127.0.0.1:0, or unix:/path`},
	} {
		args := append([]string{"run", file, "--store", filepath.Join(dir, "tune.db")}, tc.args...)
		if r := tune(t, dir, args...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tune %q: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tune.db")); !os.IsNotExist(err) {
		t.Errorf("store written by a run refused for its flags: %v", err)
	}
}
