package bayes

import (
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// hartmann6 is the 6-dimensional Hartmann function on [0,1]⁶; its minimum
// is −3.32237.
func hartmann6(x []float64) float64 {
	alpha := []float64{1.0, 1.2, 3.0, 3.2}
	a := [][]float64{{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}}
	p := [][]float64{{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991}, {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}}
	var s float64
	for i := range 4 {
		var e float64
		for j := range 6 {
			e += a[i][j] * math.Pow(x[j]-p[i][j]*1e-4, 2)
		}
		s += alpha[i] * math.Exp(-e)
	}
	return -s
}

// TestMeasureBatchStrategies compares the batch strategies on Branin and
// Hartmann-6 over 8 seeds. The default strategy was chosen with
// tune bench suggest (suggest/bench) at parallelism 4 instead; see the package
// documentation. It takes about 25 s and runs only when BAYES_MEASURE is
// set: BAYES_MEASURE=1 go test ./suggest/bayes -run Measure -v
func TestMeasureBatchStrategies(t *testing.T) {
	if os.Getenv("BAYES_MEASURE") == "" {
		t.Skip("set BAYES_MEASURE=1 to run")
	}
	const seeds = 8
	space := make(suggest.Space, 6)
	for i := range space {
		space[i] = suggest.Param{Name: "x" + strconv.Itoa(i), Type: suggest.Double, Min: 0, Max: 1}
	}
	hartmann := func(a suggest.Assignment) float64 {
		x := make([]float64, 6)
		for i := range x {
			x[i], _ = strconv.ParseFloat(a["x"+strconv.Itoa(i)], 64)
		}
		return hartmann6(x)
	}
	for _, batch := range []int{1, 4} {
		for _, st := range []BatchStrategy{KrigingBeliever, ConstantLiarMin, ConstantLiarMean, ConstantLiarMax} {
			if batch == 1 && st != ConstantLiarMin {
				continue // no fantasies in sequential runs
			}
			settings := map[string]string{"batch_strategy": string(st)}
			var gapB, gapH float64
			ok := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				b := braninBest(t, settings, seed, 40, batch) - 0.397887
				gapB += b
				if b < 0.05 {
					ok++
				}
				s, err := New(settings)
				if err != nil {
					t.Fatal(err)
				}
				best := math.Inf(1)
				for _, o := range suggesttest.Run(t, s, space, suggest.Minimize, seed, 60, batch, hartmann) {
					best = min(best, o.Value)
				}
				gapH += best + 3.32237
			}
			t.Logf("batch %d %-20s Branin/40 mean gap %.4f (%d/%d within 0.05), Hartmann-6/60 mean gap %.4f",
				batch, st, gapB/seeds, ok, seeds, gapH/seeds)
		}
	}
}
