package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The store path shows which layer of configuration won: a read command on
// a store that does not exist names the path it tried.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("store: from-config.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	xdg := filepath.Join(dir, "xdg", "tune")
	if err := os.MkdirAll(xdg, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		env   []string
		args  []string
		xdg   string // content of $XDG_CONFIG_HOME/tune/config.yaml, if any
		wants string
	}{
		"default":                 {wants: ".tune/tune.db"},
		"env":                     {env: []string{"TUNE_STORE=from-env.db"}, wants: "from-env.db"},
		"config file":             {args: []string{"--config", cfg}, wants: "from-config.db"},
		"default config file":     {xdg: "store: from-xdg.db\n", wants: "from-xdg.db"},
		"env beats config file":   {env: []string{"TUNE_STORE=from-env.db"}, args: []string{"--config", cfg}, wants: "from-env.db"},
		"flag beats env and file": {env: []string{"TUNE_STORE=from-env.db"}, args: []string{"--config", cfg, "--store", "from-flag.db"}, wants: "from-flag.db"},
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(filepath.Join(xdg, "config.yaml"))
			if tc.xdg != "" {
				if err := os.WriteFile(filepath.Join(xdg, "config.yaml"), []byte(tc.xdg), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			r := tuneEnv(t, dir, os.Environ(), append(tc.args, "get", "experiments")...)
			if r.code != 1 || !strings.Contains(r.stderr, "store "+tc.wants+":") || !strings.Contains(r.stderr, "does not exist") {
				t.Errorf("exit %d, stderr %q; want 1 and the store %s", r.code, r.stderr, tc.wants)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"get", "trials"},
		{"get", "experiments", "-o", "xml"},
		{"run"},
		{"run", "--no-such-flag", "x.yaml"},
		{"run", filepath.Join(dir, "missing.yaml"), "--gpus", "0,,1"},
	} {
		if r := tune(t, dir, args...); r.code != 2 || r.stderr == "" {
			t.Errorf("tune %v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
	for _, cmd := range []string{"run", "validate", "compile"} {
		if r := tune(t, dir, cmd, filepath.Join(dir, "missing.yaml")); r.code != 2 || !strings.Contains(r.stderr, "missing.yaml") {
			t.Errorf("%s on a missing file: exit %d, stderr %q; want 2 naming the file", cmd, r.code, r.stderr)
		}
	}
}

// TestConfigUnknownKey: a config file key that is no flag of any command is
// a warning naming the key, the file and the nearest flag; the command
// still runs with the keys it knows, and keys of other commands' flags are
// not warned about.
func TestConfigUnknownKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("store: from-config.db\nmax-observation: 50\ngpus: none\nlogging:\n  level: debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tune(t, dir, "--config", cfg, "get", "experiments")
	for _, want := range []string{
		"tune: warning: config file " + cfg + `: unknown key "max-observation" (no command has such a flag), ignored; did you mean "max-observations"?` + "\n",
		"tune: warning: config file " + cfg + `: unknown key "logging.level" (no command has such a flag), ignored` + "\n",
		"store from-config.db:", // the known key still applies
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr, `"gpus"`) || strings.Contains(r.stderr, `"store"`) {
		t.Errorf("a known key was warned about: %q", r.stderr)
	}
	if strings.Count(r.stderr, "warning:") != 2 {
		t.Errorf("want exactly 2 warnings, got %q", r.stderr)
	}
}
