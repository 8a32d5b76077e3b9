package tpe

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/suggest/suggesttest"
)

// BenchmarkSuggest100x6 measures one suggestion from 100 completed
// observations in a 6-dimensional mixed space.
func BenchmarkSuggest100x6(b *testing.B) {
	space := slices.DeleteFunc(suggesttest.MixedSpace(), func(p suggest.Param) bool {
		return p.Name == "units" || p.Name == "width" || p.Name == "optimizer"
	})
	prior, err := random.NewPrior(space)
	if err != nil {
		b.Fatal(err)
	}
	h := make([]suggest.Observation, 100)
	for i := range h {
		a := prior.Sample(rand.New(rand.NewPCG(5, uint64(i))))
		h[i] = suggest.Observation{Assignment: a, Status: suggest.Completed, Value: objective(a)}
	}
	for name, s := range variants(b, nil) {
		b.Run(name, func(b *testing.B) {
			req := suggest.Request{Space: space, History: h, N: 1, Seed: 1}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Suggest(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
