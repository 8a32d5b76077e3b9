package enas_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/enas"
)

// BenchmarkReplay measures a Suggest call on a fresh Suggester (as after a
// resume: the whole history is replayed) with Katib's default settings on
// the 6-layer, 10-operation toy space; ns/op divided by the trials is the
// cost of one trial of history (controller_train_steps training steps).
func BenchmarkReplay(b *testing.B) {
	for _, trials := range []int{10, 100} {
		b.Run(fmt.Sprintf("trials=%d", trials), func(b *testing.B) {
			hist := history(b, trials)
			req := suggest.Request{NAS: toyNAS(), Goal: suggest.Maximize, N: 1, History: hist}
			b.ResetTimer()
			for range b.N {
				s, _ := enas.New(nil)
				if _, err := s.Suggest(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(trials), "ms/trial")
		})
	}
}

// history returns n completed trials of random architectures scored by
// hiddenScore.
func history(tb testing.TB, n int) []suggest.Observation {
	nas := toyNAS()
	ops, _ := enas.Expand(nas)
	rng := rand.New(rand.NewPCG(1, 1))
	var out []suggest.Observation
	for range n {
		arc := randomArc(rng, nas.NumLayers, len(ops))
		a := suggest.Assignment{"architecture": arc.String(), "nn_config": enas.NNConfig(arc, nas, ops)}
		out = append(out, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: hiddenScore(tb, a["architecture"], a["nn_config"])})
	}
	return out
}
