package web_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// genTrial is what fillStore stored for one trial, for tests to compare
// the dashboard's numbers with.
type genTrial struct {
	name      string
	state     trial.State
	lr        float64
	layers    int
	optimizer string
	// acc is the accuracy values reported, in order; loss the loss values.
	acc, loss []float64
}

// objective is the trial's accuracy by its strategy (max: the spec
// maximises it), and whether it counts for ranking.
func (g genTrial) objective() (float64, bool) {
	if g.state != trial.Succeeded || len(g.acc) == 0 {
		return math.NaN(), false
	}
	m := math.Inf(-1)
	for _, v := range g.acc {
		m = max(m, v)
	}
	return m, true
}

func summaryOf(vs []float64) metrics.Summary {
	s := metrics.Summary{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range vs {
		s.Add(v)
	}
	return s
}

// fillStore writes experiment "mixed" (testdata/mixed.yaml) with n trials
// into a new store at path through store.SaveTrial, as the runner does:
// mostly succeeded trials with 1–5 reported steps, every 10th failed,
// every 25th early stopped, the last one running. It returns the trials as
// stored and the trial root (each trial's directory holds stdout.log and
// stderr.log).
func fillStore(t testing.TB, path string, n int) []genTrial {
	t.Helper()
	ctx := context.Background()
	src, err := os.ReadFile("testdata/mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.Replace(string(src), "MAXTRIALS", strconv.Itoa(n), 1))
	exp, err := experiment.Parse(src, "mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp.Default()
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	status := experiment.Status{Phase: experiment.Running, Created: t0, Started: t0}
	rec := &experiment.Record{Name: "mixed", Source: src, SourcePath: "mixed.yaml", Spec: *exp, Status: status}
	if err := st.CreateExperiment(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]genTrial, n)
	root := filepath.Dir(path)
	for i := range n {
		seq := i + 1
		g := genTrial{name: experiment.TrialName("mixed", seq), state: trial.Succeeded,
			lr: math.Exp(math.Log(1e-4) + rng.Float64()*math.Log(1e3)), layers: 1 + rng.IntN(8),
			optimizer: []string{"sgd", "adam"}[rng.IntN(2)]}
		switch {
		case seq == n:
			g.state = trial.Running
		case seq%10 == 0:
			g.state = trial.Failed
		case seq%25 == 0:
			g.state = trial.EarlyStopped
		}
		steps := 1 + rng.IntN(5)
		base := 1 - math.Abs(math.Log10(g.lr)+2.5)/3 - 0.02*float64(g.layers)
		var logs []metrics.Log
		for s := range steps {
			a := base - 0.05*float64(steps-s) + 0.01*rng.Float64()
			l := 1 - a + 0.1*rng.Float64()
			g.acc, g.loss = append(g.acc, a), append(g.loss, l)
			at := t0.Add(time.Duration(seq)*time.Second + time.Duration(s)*100*time.Millisecond)
			logs = append(logs, metrics.Log{Metric: "accuracy", Value: a, Step: int64(s + 1), Time: at},
				metrics.Log{Metric: "loss", Value: l, Step: int64(s + 1), Time: at})
		}
		dir := filepath.Join(root, "trials", g.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var stdout strings.Builder
		for s := range steps {
			stdout.WriteString("epoch " + strconv.Itoa(s+1) + ": accuracy=" + strconv.FormatFloat(g.acc[s], 'g', -1, 64) + "\n")
		}
		if err := os.WriteFile(filepath.Join(dir, "stdout.log"), []byte(stdout.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stderr.log"), []byte("warning: trial "+g.name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tr := &trial.Trial{Name: g.name, Seq: seq, State: g.state,
			Parameters: map[string]string{"lr": strconv.FormatFloat(g.lr, 'g', -1, 64), "layers": strconv.Itoa(g.layers), "optimizer": g.optimizer},
			Metrics:    map[string]metrics.Summary{"accuracy": summaryOf(g.acc), "loss": summaryOf(g.loss)},
			Dir:        filepath.Join("trials", g.name), Created: t0.Add(time.Duration(seq) * time.Second),
			Started: t0.Add(time.Duration(seq) * time.Second)}
		if g.state.Final() {
			tr.Finished = tr.Started.Add(time.Duration(steps) * 100 * time.Millisecond)
		}
		if g.state == trial.Failed {
			code := 3
			tr.ExitCode, tr.Reason, tr.Message = &code, "TrialFailed", "exit status 3"
		}
		out[i] = g
		var stp *experiment.Status
		if seq == n {
			status.SetCounts(n, func(i int) trial.State { return out[i].state })
			best, bestV := -1, math.Inf(-1)
			for j := range out {
				if v, ok := out[j].objective(); ok && v > bestV {
					best, bestV = j, v
				}
			}
			if best >= 0 {
				b := out[best]
				status.CurrentOptimalTrial = &experiment.OptimalTrial{BestTrialName: b.name,
					ParameterAssignments: map[string]string{"lr": strconv.FormatFloat(b.lr, 'g', -1, 64)},
					Metrics:              map[string]float64{"accuracy": bestV}}
			}
			stp = &status
		}
		if err := st.SaveTrial(ctx, "mixed", tr, logs, stp); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
