package experiment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest/algorithms"
)

// TestCheckRunnableAlgorithms: every algorithm of the registry without a
// constructor is refused as unsupported, naming it; every implemented one
// passes.
func TestCheckRunnableAlgorithms(t *testing.T) {
	refused := 0
	for _, name := range algorithms.Names() {
		e := mustLoad(t, "testdata/valid/quad.yaml")
		e.Spec.Algorithm.AlgorithmName = name
		a, _ := algorithms.Lookup(name)
		err := experiment.CheckRunnable(e)
		if a.New != nil {
			if err != nil {
				t.Errorf("CheckRunnable(%s) = %v, want nil", name, err)
			}
			continue
		}
		refused++
		want := `spec.algorithm.algorithmName "` + name + `": not supported yet (supported: ` + strings.Join(algorithms.Implemented(), ", ") + `)`
		if !errors.Is(err, experiment.ErrUnsupported) || err.Error() != want {
			t.Errorf("CheckRunnable(%s) = %v, want %q wrapping ErrUnsupported", name, err, want)
		}
	}
	if want := len(algorithms.Names()) - len(algorithms.Implemented()); refused != want {
		t.Errorf("%d algorithms refused, want %d (those without New)", refused, want)
	}
}
