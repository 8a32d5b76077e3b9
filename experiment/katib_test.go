package experiment_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/experiment"
)

// sharedExamples is the project's shared copy of Katib's examples.
const sharedExamples = "../../shared/katib-examples"

func TestKatibExamples(t *testing.T) {
	dirs := map[string]string{"testdata": "testdata/katib", "shared": sharedExamples}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				t.Skipf("%s does not exist; the copies in testdata/katib are checked instead", dir)
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if len(files) < 12 {
				t.Fatalf("found %d example files in %s, want at least 12", len(files), dir)
			}
			for _, f := range files {
				t.Run(filepath.Base(f), func(t *testing.T) {
					e, _, err := experiment.Load(f)
					if err != nil {
						t.Fatalf("Load: %v", err)
					}
					if err := e.Validate(); err != nil {
						t.Errorf("Validate after Load: %v", err)
					}
					if len(e.Space()) == 0 && e.Spec.NasConfig == nil {
						t.Error("empty search space")
					}
				})
			}
		})
	}
}
