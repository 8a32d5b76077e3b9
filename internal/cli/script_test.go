package cli_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the user flows in testdata/script/*.txtar. Their tune
// command runs tune in-process in the script's current directory; trialprog
// is on the PATH tune and its trials see. A failing tune fails the line
// unless it is negated (! tune ...); the exit code is printed to stderr
// as "exit N" when it is not 0, for the script to check.
func TestScripts(t *testing.T) {
	// Absolute: the scripts run in parallel, and an in-process tune changes
	// the working directory while it runs.
	dir, err := filepath.Abs(filepath.Join("testdata", "script"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                dir,
		RequireUniqueNames: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"tune": scriptTune,
		},
	})
}

// scriptTune is the tune command of the scripts.
func scriptTune(ts *testscript.TestScript, neg bool, args []string) {
	env := append(cleanEnv(),
		"PATH="+filepath.Dir(trialBin)+string(filepath.ListSeparator)+ts.Getenv("PATH"),
		"XDG_CONFIG_HOME="+ts.MkAbs("xdg"))
	r, err := runTune(ts.MkAbs("."), env, args...)
	ts.Check(err)
	fmt.Fprint(ts.Stdout(), r.stdout)
	fmt.Fprint(ts.Stderr(), r.stderr)
	if r.code != 0 {
		fmt.Fprintf(ts.Stderr(), "exit %d\n", r.code)
	}
	switch {
	case r.code != 0 && !neg:
		ts.Fatalf("tune %v: exit %d", args, r.code)
	case r.code == 0 && neg:
		ts.Fatalf("tune %v: unexpected success", args)
	}
}
