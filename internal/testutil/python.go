package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// RequirePythonEnv names the variable that, set to 1, makes [Python3] fail
// a test instead of skipping it (.ci/run sets it after .ci/python).
const RequirePythonEnv = "TUNE_REQUIRE_PYTHON"

// Python3 returns the path of python3, which the stand-ins of Katib's trial
// programs (examples/nas, the PBT and Push examples) need. Without one it
// skips tb, or fails it when $TUNE_REQUIRE_PYTHON is 1.
func Python3(tb testing.TB) string {
	tb.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv(RequirePythonEnv) == "1" {
			tb.Fatalf("python3 is not installed and $%s=1: %v", RequirePythonEnv, err)
		}
		tb.Skip("python3 is not installed")
	}
	return py
}
