package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/internal/cli"
)

// runTuneCtx is runTune with ctx: cancelling it is what tune's first
// SIGINT or SIGTERM does.
func runTuneCtx(t *testing.T, ctx context.Context, dir string, args ...string) result {
	t.Helper()
	env := append(cleanEnv(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	processState.Lock()
	defer processState.Unlock()
	restore, err := enterProcessState(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := restore(); err != nil {
			t.Error(err)
		}
	}()
	var out, errOut syncBuffer
	code := cli.Main(ctx, args, cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestExitCodesAsReadme: each row of the README's exit code table is what
// real invocations of that kind return, and the table has no other row.
func TestExitCodesAsReadme(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(data)
	i := strings.Index(section, "\n### Exit codes\n")
	if i < 0 {
		t.Fatal("README.md has no section ### Exit codes")
	}
	section = section[i+1:]
	if j := strings.Index(section[4:], "\n#"); j >= 0 {
		section = section[:j+4]
	}
	var documented []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| (.+) \|$`).FindAllStringSubmatch(section, -1) {
		code, _ := strconv.Atoi(m[1])
		documented = append(documented, code)
	}

	dir := t.TempDir()
	ok := writeExperiment(t, dir, expParams{Name: "fine", Parallel: 1, Max: 2, MaxFailed: 1, ResumePolicy: "LongRunning"})
	failing := writeExperiment(t, dir, expParams{Name: "failing", Parallel: 1, Max: 3, MaxFailed: 1, Extra: `, "--exit", "3"`})
	slow := writeExperiment(t, dir, expParams{Name: "slow", Parallel: 1, Max: 2, MaxFailed: 1, Extra: `, "--sleep", "60s"`})
	anneal := writeExperiment(t, dir, expParams{Name: "anneal", Algorithm: "anneal", Parallel: 1, Max: 2, MaxFailed: 1})
	garbage := filepath.Join(dir, "garbage.yaml")
	if err := os.WriteFile(garbage, []byte("kind: Experiment\nspec: [1, 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type invocation struct {
		what string
		run  func() result
	}
	args := func(a ...string) func() result { return func() result { return tune(t, dir, a...) } }
	cases := map[int][]invocation{
		0: {
			{"run, experiment Succeeded", args("run", ok)},
			{"resume, experiment Succeeded", args("resume", "fine", "--max-trial-count", "3")},
			{"get trials", args("get", "trials", "fine")},
			{"version", args("version")},
		},
		1: {
			{"run, experiment Failed", args("run", failing)},
			{"no such experiment", args("get", "trials", "nosuch")},
			{"store cannot be opened", args("--store", filepath.Join(dir, "none.db"), "get", "experiments")},
		},
		2: {
			{"unknown command", args("rn", ok)},
			{"unknown flag", args("run", "--no-such-flag", ok)},
			{"wrong argument count", args("best")},
			{"missing file", args("validate", filepath.Join(dir, "missing.yaml"))},
			{"invalid file", args("validate", garbage)},
			{"algorithm tune cannot run", args("run", anneal)},
		},
		130: {
			{"run interrupted", func() result {
				ctx, cancel := context.WithCancel(context.Background())
				// Interrupt once the trial runs: its directory has its log.
				go func() {
					defer cancel()
					deadline := time.Now().Add(30 * time.Second)
					for time.Now().Before(deadline) {
						if m, _ := filepath.Glob(filepath.Join(dir, ".tune", "tune.db.trials", "slow", "slow-*", "stderr.log")); len(m) > 0 {
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				}()
				return runTuneCtx(t, ctx, dir, "run", slow)
			}},
		},
	}
	for _, code := range documented {
		if len(cases[code]) == 0 {
			t.Errorf("README documents exit code %d, which this test does not check", code)
		}
	}
	for code, invs := range cases {
		if !slices.Contains(documented, code) {
			t.Errorf("exit code %d is not in the README's table", code)
		}
		for _, inv := range invs {
			if r := inv.run(); r.code != code {
				t.Errorf("%s: exit %d, want %d as the README says\nstdout: %s\nstderr: %s", inv.what, r.code, code, r.stdout, r.stderr)
			}
		}
	}
	if r := tune(t, dir, "get", "experiments", "-o", "json"); !strings.Contains(r.stdout, `"Stopped"`) {
		t.Errorf("the interrupted experiment is not Stopped: %s", r.stdout)
	}
}
