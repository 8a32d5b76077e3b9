package experiment_test

import (
	"errors"
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
		want := `spec.algorithm.algorithmName "` + name + `": not supported yet (supported: asha, bayesianoptimization, cmaes, grid, hyperband, multivariate-tpe, pbt, random, sobol, tpe)`
		if !errors.Is(err, experiment.ErrUnsupported) || err.Error() != want {
			t.Errorf("CheckRunnable(%s) = %v, want %q wrapping ErrUnsupported", name, err, want)
		}
	}
	if refused != 2 {
		t.Errorf("%d algorithms refused, want 2 (enas, darts)", refused)
	}
}
