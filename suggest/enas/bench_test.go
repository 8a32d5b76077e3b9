package enas_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/enas"
)

// BenchmarkReplay measures a Suggest call on a fresh Suggester (as after a
// resume: the whole history is replayed) with Katib's default settings, on
// the 6-layer, 10-operation toy space and on Katib's enas-cpu.yaml space
// (1 layer, 106 operations); ms/trial is the cost of one trial of history
// (controller_train_steps training steps).
func BenchmarkReplay(b *testing.B) {
	one := cpuNAS()
	one.NumLayers = 1
	one.Operations = one.Operations[:4]
	for _, tc := range []struct {
		name   string
		nas    *suggest.NASConfig
		trials int
	}{{"toy/trials=10", toyNAS(), 10}, {"toy/trials=100", toyNAS(), 100}, {"enas-cpu/trials=100", one, 100}} {
		b.Run(tc.name, func(b *testing.B) {
			if testing.Short() && tc.trials > 10 {
				b.Skip("-short: trials > 10")
			}
			hist := history(b, tc.nas, tc.trials)
			req := suggest.Request{NAS: tc.nas, Goal: suggest.Maximize, N: 1, History: hist}
			b.ResetTimer()
			for range b.N {
				s, _ := enas.New(nil)
				if _, err := s.Suggest(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N)/float64(tc.trials), "ms/trial")
		})
	}
}

// history returns n completed trials of random architectures of nas with
// random values.
func history(tb testing.TB, nas *suggest.NASConfig, n int) []suggest.Observation {
	ops, err := enas.Expand(nas)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var out []suggest.Observation
	for range n {
		arc := randomArc(rng, nas.NumLayers, len(ops))
		a := suggest.Assignment{"architecture": arc.String(), "nn_config": enas.NNConfig(arc, nas, ops)}
		out = append(out, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: rng.Float64()})
	}
	return out
}
