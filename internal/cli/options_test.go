package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
)

// execute runs the command tree with args and hooks, in-process, and
// returns its exit code and standard error.
func execute(t *testing.T, hooks commandHooks, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, hooks)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		return exitCode(err), errOut.String() + err.Error()
	}
	return exitOK, errOut.String()
}

// Flags, the environment and a config file reach tune run's options, each
// layer winning over the next; what none of them sets keeps its default.
func TestRunOptionsFromFlagsEnvAndConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("quiet: true\nretry-delay: 5s\ngpus: \"0,1\"\nstore: from-config.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TUNE_RETRY_DELAY", "2s")
	t.Setenv("TUNE_STORE", "from-env.db")
	var got *runOptions
	hooks := commandHooks{run: func(_ context.Context, o *runOptions) error { got = o; return nil }}
	code, stderr := execute(t, hooks, "run", "--config", cfg, "--gpus", "none", "exp.yaml")
	if code != 0 || got == nil {
		t.Fatalf("exit %d, stderr %q; run's hook not called", code, stderr)
	}
	if got.file != "exp.yaml" || got.gpus != "none" || !got.quiet || got.retryDelay != 2*time.Second || got.f.opts.storePath != "from-env.db" {
		t.Errorf("options file=%q gpus=%q quiet=%v retryDelay=%v store=%q; want exp.yaml, none (flag), true (file), 2s and from-env.db (env)",
			got.file, got.gpus, got.quiet, got.retryDelay, got.f.opts.storePath)
	}
	if got.executor != executorLocal || got.maxObservations != experiment.DefaultMaxObservations || got.pushAddress != "unix" || got.logLevel != "warn" {
		t.Errorf("defaults executor=%q maxObservations=%d pushAddress=%q logLevel=%q", got.executor, got.maxObservations, got.pushAddress, got.logLevel)
	}
}

// validate and best hand their hooks the file, the name and the output
// format; a usage error stops before the hook.
func TestValidateAndBestOptions(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var file string
	var best *getOptions
	hooks := commandHooks{
		validate: func(_ context.Context, o *validateOptions) error { file = o.file; return nil },
		best:     func(_ context.Context, o *getOptions) error { best = o; return nil },
	}
	if code, stderr := execute(t, hooks, "validate", "exp.yaml"); code != 0 || file != "exp.yaml" {
		t.Errorf("validate: exit %d (%s), file %q; want 0 and exp.yaml", code, stderr, file)
	}
	if code, stderr := execute(t, hooks, "best", "quad", "-o", "json", "--store", "s.db"); code != 0 || best == nil || best.name != "quad" || best.format != "json" || best.f.opts.storePath != "s.db" {
		t.Errorf("best: exit %d (%s), options %+v; want 0, quad, json, s.db", code, stderr, best)
	}
	best = nil
	if code, _ := execute(t, hooks, "best"); code != exitInvalid || best != nil {
		t.Errorf("best without a name: exit %d, hook called: %v; want %d and no call", code, best != nil, exitInvalid)
	}
}
