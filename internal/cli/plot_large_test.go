package cli_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

var plotLarge = flag.Int("plot-large", 0, "TestPlotLargeStore: time tune plot of each kind on a store of this many trials (e.g. 5000); skipped when 0")

// TestPlotLargeStore measures tune plot end to end (store read included)
// on a store of -plot-large trials: a real run's experiment, its trials
// copied with new random parameters, each with a 10-step loss curve. It
// only measures; run it alone:
//
//	go test ./internal/cli -run TestPlotLargeStore -plot-large 5000 -v
func TestPlotLargeStore(t *testing.T) {
	if *plotLarge <= 0 {
		t.Skip("set -plot-large N to measure tune plot on N trials")
	}
	dir := t.TempDir()
	runPlotExperiment(t, dir, "big", "loss", 21, 3, 100)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(dir, ".tune", "tune.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := st.Trials(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Now()
	for i := len(trials) + 1; i <= *plotLarge; i++ {
		tr := trials[0]
		tr.Seq, tr.Name = i, fmt.Sprintf("big-%04d", i)
		x, y := -2+6*r.Float64(), -5+6*r.Float64()
		loss := (x-1)*(x-1) + (y+2)*(y+2)
		tr.Parameters = map[string]string{"x": strconv.FormatFloat(x, 'g', -1, 64), "y": strconv.FormatFloat(y, 'g', -1, 64),
			"lr": strconv.FormatFloat(1e-4*float64(r.IntN(1000)+1), 'g', -1, 64), "opt": []string{"adam", "sgd"}[r.IntN(2)], "epochs": "10"}
		var logs []metrics.Log
		var sum metrics.Summary
		for e := 1; e <= 10; e++ {
			v := loss + float64(10-e)
			logs = append(logs, metrics.Log{Metric: "loss", Value: v, Step: -1, Time: time.Now().UTC()})
			sum.Add(v)
		}
		tr.Metrics = map[string]metrics.Summary{"loss": sum}
		tr.State = trial.Succeeded
		if i%7 == 0 {
			tr.State = trial.Failed
			tr.Metrics = nil
		}
		if err := st.SaveTrial(ctx, "big", &tr, logs, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	t.Logf("wrote %d trials in %v", *plotLarge, time.Since(start).Round(time.Millisecond))
	for _, kind := range []string{"history", "parallel", "slice", "contour", "curves", "edf"} {
		for _, ext := range []string{"png", "svg"} {
			args := []string{"plot", "big", "--kind", kind, "-o", kind + "." + ext}
			if kind == "contour" {
				args = append(args, "--params", "x,lr")
			}
			start := time.Now()
			res := tune(t, dir, args...)
			if res.code != 0 {
				t.Fatalf("tune %v: exit %d: %s", args, res.code, res.stderr)
			}
			t.Logf("tune plot --kind %s -o %s.%s: %v", kind, kind, ext, time.Since(start).Round(time.Millisecond))
		}
	}
}
