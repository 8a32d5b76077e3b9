package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/internal/cli"
)

// complete runs tune's hidden __complete command as a shell's completion
// script does and returns the completions (name, or name\tdescription)
// and the directive line.
func complete(t *testing.T, dir string, args ...string) (names []string, directive string) {
	t.Helper()
	r := tune(t, dir, append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("tune __complete %q: exit %d: %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

// TestCompletionFromStore: experiment arguments complete with the names of
// the experiments a real run stored (filtered by what is typed, described
// by phase and trial count, never with file names), on every command that
// takes one, and trial arguments with that experiment's trials.
func TestCompletionFromStore(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"alpha", "alps", "beta"} {
		file := writeExperiment(t, dir, expParams{Name: name, Parallel: 1, Max: 2, MaxFailed: 1})
		if r := tune(t, dir, "run", file); r.code != 0 {
			t.Fatalf("tune run %s: exit %d\n%s", name, r.code, r.stderr)
		}
	}
	const noFiles = ":4" // cobra.ShellCompDirectiveNoFileComp
	for _, args := range [][]string{
		{"get", "trials", "al"},
		{"best", "al"},
		{"resume", "al"},
		{"delete", "experiment", "al"},
	} {
		names, dir := complete(t, dir, args...)
		want := []string{"alpha\tSucceeded, 2 trials", "alps\tSucceeded, 2 trials"}
		if diff := cmp.Diff(want, names); diff != "" || dir != noFiles {
			t.Errorf("complete %q: directive %s (want %s), names (-want +got):\n%s", args, dir, noFiles, diff)
		}
	}
	if names, _ := complete(t, dir, "get", "trials", ""); len(names) != 3 {
		t.Errorf("complete get trials '' = %q, want the 3 experiments", names)
	}
	if names, d := complete(t, dir, "get", "trials", "alpha", ""); len(names) != 0 || d != noFiles {
		t.Errorf("complete get trials alpha '' = %q %s, want nothing: one argument only", names, d)
	}
	// Another store, named by flag, has none of them.
	if names, _ := complete(t, dir, "--store", filepath.Join(dir, "other.db"), "best", ""); len(names) != 0 {
		t.Errorf("completion on a missing store = %q, want nothing", names)
	}
	// Commands complete too, as cobra does.
	if names, _ := complete(t, dir, "val"); len(names) != 1 || !strings.HasPrefix(names[0], "validate\t") {
		t.Errorf("complete val = %q, want validate", names)
	}

	// Trial arguments: the experiment's trials not yet given.
	trials := trialsOf(t, dir, "alpha")
	var all []string
	for _, tr := range trials {
		all = append(all, tr.Name)
	}
	r := completeTrialArgs(t, dir, "trialargs", "alpha", all[0], "")
	if diff := cmp.Diff([]string{all[1] + "\tSucceeded", ":4"}, r); diff != "" {
		t.Errorf("trial completion (-want +got):\n%s", diff)
	}
	if r := completeTrialArgs(t, dir, "trialargs", "b"); r[0] != "beta\tSucceeded, 2 trials" {
		t.Errorf("trial completion's first argument = %q, want the experiment beta", r)
	}
}

// completeTrialArgs runs __complete through cli.MainWithTrialCompletion
// in dir and returns its output lines.
func completeTrialArgs(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	env := append(cleanEnv(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	processState.Lock()
	defer processState.Unlock()
	restore, err := enterProcessState(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var out, errOut syncBuffer
	code := cli.MainWithTrialCompletion(context.Background(), append([]string{"__complete"}, args...), cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, errOut.String())
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}
