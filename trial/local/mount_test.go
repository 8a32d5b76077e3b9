package local

import (
	"os"
	"testing"

	"github.com/tune-hpo/tune/internal/testutil"
)

// TestMain makes the test binary its own mount helper: an Executor whose
// Options.MountHelper is the test binary starts it as the helper, and
// RunMountHelper then does not return.
func TestMain(m *testing.M) {
	RunMountHelper()
	code := m.Run()
	testutil.CleanupContainers()
	os.Exit(code)
}
