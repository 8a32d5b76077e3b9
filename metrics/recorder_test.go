package metrics_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tune-hpo/tune/metrics"
)

func TestRecorder(t *testing.T) {
	strategies := map[string]metrics.Strategy{
		"loss":     metrics.Min,
		"accuracy": metrics.Max,
		"lr":       metrics.Latest,
	}
	tests := map[string]struct {
		adds       []metrics.Log
		wantValues map[string]float64 // missing: not reported
		wantSums   map[string]metrics.Summary
	}{
		"empty": {
			wantValues: map[string]float64{},
			wantSums:   map[string]metrics.Summary{},
		},
		"strategies": {
			adds: []metrics.Log{
				mlog("loss", 0.5), mlog("accuracy", 0.7), mlog("lr", 0.1), mlog("other", 3),
				mlog("loss", 0.2), mlog("accuracy", 0.9), mlog("lr", 0.01), mlog("other", 1),
				mlog("loss", 0.3), mlog("accuracy", 0.8), mlog("lr", 0.05), mlog("other", 2),
			},
			wantValues: map[string]float64{"loss": 0.2, "accuracy": 0.9, "lr": 0.05, "other": 2},
			wantSums: map[string]metrics.Summary{
				"loss":     {Min: 0.2, Max: 0.5, Latest: 0.3, Count: 3},
				"accuracy": {Min: 0.7, Max: 0.9, Latest: 0.8, Count: 3},
				"lr":       {Min: 0.01, Max: 0.1, Latest: 0.05, Count: 3},
				"other":    {Min: 1, Max: 3, Latest: 2, Count: 3},
			},
		},
		"negative values": {
			adds:       []metrics.Log{mlog("loss", -1), mlog("loss", -3), mlog("loss", -2)},
			wantValues: map[string]float64{"loss": -3},
			wantSums:   map[string]metrics.Summary{"loss": {Min: -3, Max: -1, Latest: -2, Count: 3}},
		},
		"text values": {
			// Text counts as reported but is no number a strategy chooses:
			// accuracy's max is 0.9 though text came last.
			adds:       []metrics.Log{textLog("lr", "Genotype(a)"), mlog("accuracy", 0.9), textLog("accuracy", "best"), textLog("lr", "Genotype(b)")},
			wantValues: map[string]float64{"accuracy": 0.9},
			wantSums: map[string]metrics.Summary{
				"accuracy": {Min: 0.9, Max: 0.9, Latest: 0.9, Count: 1, Text: "best"},
				"lr":       {Text: "Genotype(b)"},
			},
		},
		"non-finite values ignored": {
			adds:       []metrics.Log{mlog("loss", 1), mlog("loss", math.NaN()), mlog("loss", math.Inf(-1))},
			wantValues: map[string]float64{"loss": 1},
			wantSums:   map[string]metrics.Summary{"loss": {Min: 1, Max: 1, Latest: 1, Count: 1}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := metrics.NewRecorder(strategies, 0)
			var wantDrain []metrics.Log
			for _, l := range tc.adds {
				r.Add(l)
				if !math.IsNaN(l.Value) && !math.IsInf(l.Value, 0) {
					wantDrain = append(wantDrain, l)
				}
			}
			for _, m := range []string{"loss", "accuracy", "lr", "other"} {
				got, ok := r.Value(m)
				want, wantOK := tc.wantValues[m]
				if ok != wantOK || (ok && got != want) {
					t.Errorf("Value(%q) = %v, %v; want %v, %v", m, got, ok, want, wantOK)
				}
				if !ok && !math.IsNaN(got) {
					t.Errorf("Value(%q) of unreported metric = %v, want NaN", m, got)
				}
			}
			if diff := cmp.Diff(tc.wantSums, r.Summaries()); diff != "" {
				t.Errorf("Summaries (-want +got):\n%s", diff)
			}
			logs, replace := r.Drain()
			if diff := cmp.Diff(wantDrain, logs, cmpopts.EquateEmpty()); diff != "" || replace {
				t.Errorf("Drain replace %v (-want +got):\n%s", replace, diff)
			}
			if got, _ := r.Drain(); got != nil {
				t.Errorf("second Drain = %v, want nil", got)
			}
		})
	}
}

// A metric reported only as text, thinned: the observation log keeps
// evenly spaced text logs and the latest, and no empty log stands for the
// smallest and largest numbers it never had.
func TestRecorderThinsText(t *testing.T) {
	r := metrics.NewRecorder(nil, metrics.MinMaxLogs)
	for i := range 100 {
		r.Add(textLog("g", fmt.Sprint("G", i)))
	}
	if !r.Reported("g") || r.Reported("other") {
		t.Errorf("Reported(g), Reported(other) = %v, %v; want true, false", r.Reported("g"), r.Reported("other"))
	}
	logs, replace := r.DrainFinal()
	if !replace || len(logs) == 0 || len(logs) > metrics.MinMaxLogs {
		t.Fatalf("DrainFinal = %d logs, replace %v; want 1 to %d, true", len(logs), replace, metrics.MinMaxLogs)
	}
	for _, l := range logs {
		if l.Metric != "g" || !strings.HasPrefix(l.Text, "G") {
			t.Errorf("log %+v, want a text log of g", l)
		}
	}
	if last := logs[len(logs)-1].Text; last != "G99" {
		t.Errorf("last kept log %q, want the latest, G99", last)
	}
	if got := r.Summaries()["g"]; got != (metrics.Summary{Text: "G99"}) {
		t.Errorf("summary %+v, want text G99 and no number", got)
	}
}

func TestRecorderCopies(t *testing.T) {
	strategies := map[string]metrics.Strategy{"loss": metrics.Min}
	r := metrics.NewRecorder(strategies, 0)
	strategies["loss"] = metrics.Max
	r.Add(mlog("loss", 1))
	r.Add(mlog("loss", 2))
	if v, _ := r.Value("loss"); v != 1 {
		t.Errorf("Value after changing the caller's map = %v, want 1 (min)", v)
	}
	s := r.Summaries()
	s["loss"] = metrics.Summary{}
	if got := r.Summaries()["loss"].Count; got != 2 {
		t.Errorf("Count after changing a returned map = %d, want 2", got)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := metrics.NewRecorder(nil, 0)
	const writers, each = 8, 1000
	var (
		wg      sync.WaitGroup
		drained = make(chan int)
		stop    = make(chan struct{})
	)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				logs, _ := r.Drain()
				drained <- n + len(logs)
				return
			default:
				logs, _ := r.Drain()
				n += len(logs)
				r.Summaries()
				r.Value("m")
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r.Add(metrics.Log{Metric: "m", Value: float64(w*each + i), Step: -1, Time: time.Unix(0, 0)})
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-drained; n != writers*each {
		t.Errorf("drained %d logs, want %d", n, writers*each)
	}
	s := r.Summaries()["m"]
	if s.Count != writers*each || s.Min != 0 || s.Max != writers*each-1 {
		t.Errorf("summary = %+v, want count %d, min 0, max %d", s, writers*each, writers*each-1)
	}
}

func TestRecorderReset(t *testing.T) {
	r := metrics.NewRecorder(map[string]metrics.Strategy{"loss": metrics.Min}, 0)
	r.Add(metrics.Log{Metric: "loss", Value: 0.1})
	r.Reset()
	if v, ok := r.Value("loss"); ok {
		t.Errorf("after Reset: loss = %v, want unreported", v)
	}
	r.Add(metrics.Log{Metric: "loss", Value: 0.5})
	if v, _ := r.Value("loss"); v != 0.5 {
		t.Errorf("after Reset and Add(0.5): min loss = %v, want 0.5 (the failed attempt's 0.1 must not count)", v)
	}
	if logs, _ := r.Drain(); len(logs) != 2 {
		t.Errorf("Drain after Reset returned %d logs, want both (the log keeps everything)", len(logs))
	}
}
