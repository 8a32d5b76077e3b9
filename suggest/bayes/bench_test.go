package bayes

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

// benchRequest returns a request for one suggestion in a 6-dimensional
// continuous space after n completed trials of a smooth function.
func benchRequest(n int) suggest.Request {
	space := make(suggest.Space, 6)
	for i := range space {
		space[i] = suggest.Param{Name: "x" + strconv.Itoa(i), Type: suggest.Double, Min: -1, Max: 1}
	}
	r := rand.New(rand.NewPCG(7, 8))
	history := make([]suggest.Observation, n)
	for k := range history {
		a := suggest.Assignment{}
		var y float64
		for i, p := range space {
			v := 2*r.Float64() - 1
			a[p.Name] = suggest.FormatFloat(v)
			y += math.Pow(v-0.1*float64(i), 2) + 0.1*math.Sin(5*v)
		}
		history[k] = suggest.Observation{Assignment: a, Status: suggest.Completed, Value: y}
	}
	return suggest.Request{Space: space, History: history, N: 1, Seed: 1}
}

func benchmarkSuggest(b *testing.B, n int) {
	s, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Suggest(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSuggest100x6(b *testing.B)  { benchmarkSuggest(b, 100) }
func BenchmarkSuggest1000x6(b *testing.B) { benchmarkSuggest(b, 1000) }
