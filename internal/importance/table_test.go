package importance

import (
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// mixedTable is testdata/mixed.yaml (lr logUniform on [1e-4, 0.1], layers
// int 1 to 8, optimizer sgd or adam) with trials that count, trials that
// do not, and trials that cannot be placed in the space.
func mixedTable(t *testing.T) *results.Table {
	t.Helper()
	data, err := os.ReadFile("testdata/mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Parse(data, "mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(seq int, state trial.State, lr, layers, opt string, acc, loss float64) trial.Trial {
		tr := trial.Trial{Name: experiment.TrialName("mixed", seq), Seq: seq, State: state,
			Parameters: map[string]string{"lr": lr, "layers": layers, "optimizer": opt},
			Metrics:    map[string]metrics.Summary{}}
		if !math.IsNaN(acc) {
			tr.Metrics["accuracy"] = metrics.Summary{Count: 1, Min: acc, Max: acc, Latest: acc}
		}
		if !math.IsNaN(loss) {
			tr.Metrics["loss"] = metrics.Summary{Count: 1, Min: loss, Max: loss, Latest: loss}
		}
		return tr
	}
	nan := math.NaN()
	return results.New(&experiment.Record{Name: "mixed", Spec: *exp}, []trial.Trial{
		mk(1, trial.Succeeded, "0.001", "3", "adam", 0.7, 0.4),
		mk(2, trial.Failed, "0.01", "2", "sgd", 0.9, nan),        // not succeeded
		mk(3, trial.Succeeded, "0.01", "2", "rmsprop", 0.8, 0.3), // not in the space
		mk(4, trial.Succeeded, "0.1", "8", "sgd", 0.6, nan),
		mk(5, trial.Running, "0.01", "2", "sgd", 0.95, 0.1),  // not finished
		mk(6, trial.Succeeded, "fast", "2", "sgd", 0.5, 0.6), // not a number
		mk(7, trial.Succeeded, "0.0001", "1", "adam", 0.55, 0.7),
	})
}

func TestEncode(t *testing.T) {
	tab := mixedTable(t)
	in, err := Encode(tab, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// lr on its log scale: 0.001 is a third of the way from 1e-4 to 0.1.
	// layers: 8 values, each the centre of its eighth.
	if want := [][]float64{{1.0 / 3, 2.5 / 8, 1}, {1, 7.5 / 8, 0}, {0, 0.5 / 8, 1}}; !closeRows(in.X, want) {
		t.Errorf("X = %v, want %v", in.X, want)
	}
	if !reflect.DeepEqual(in.Y, []float64{0.7, 0.6, 0.55}) || in.Metric != "accuracy" || in.Skipped != 2 || len(in.Space) != 3 {
		t.Errorf("Y %v, metric %q, skipped %d, %d parameters; want [0.7 0.6 0.55], accuracy, 2, 3", in.Y, in.Metric, in.Skipped, len(in.Space))
	}

	// Another metric keeps the succeeded trials that reported it; asked
	// parameters keep the space's order.
	in, err = Encode(tab, "loss", []string{"optimizer", "lr"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Y, []float64{0.4, 0.7}) || len(in.Space) != 2 || in.Space[0].Name != "lr" || in.Space[1].Name != "optimizer" {
		t.Errorf("loss over lr, optimizer: Y %v, space %v", in.Y, in.Space)
	}
	if want := [][]float64{{1.0 / 3, 1}, {0, 1}}; !closeRows(in.X, want) {
		t.Errorf("X = %v, want %v", in.X, want)
	}
	if _, err := Encode(tab, "acc", nil); err == nil {
		t.Error("unknown metric: no error")
	}
	if _, err := Encode(tab, "", []string{"momentum"}); err == nil {
		t.Error("unknown parameter: no error")
	}
}

func closeRows(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-12 {
				return false
			}
		}
	}
	return true
}
