package enas_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/enas"
)

// toyNAS is a space of 10 operations over 6 layers.
func toyNAS() *suggest.NASConfig {
	cat := func(name string, vals ...string) suggest.Param {
		return suggest.Param{Name: name, Type: suggest.Categorical, Values: vals}
	}
	return &suggest.NASConfig{
		NumLayers: 6, InputSizes: []int{32, 32, 3}, OutputSizes: []int{10},
		Operations: []suggest.NASOperation{
			{Type: "convolution", Parameters: suggest.Space{cat("filter_size", "3", "5", "7"), cat("num_filter", "32", "64")}},
			{Type: "separable_convolution", Parameters: suggest.Space{cat("filter_size", "3", "5")}},
			{Type: "reduction", Parameters: suggest.Space{cat("reduction_type", "max_pooling", "avg_pooling")}},
		},
	}
}

// hiddenScore scores an architecture as a trial program would, from the
// two strings alone: 3x3 convolutions are best, other convolutions half as
// good, separable ones poorer, pooling worthless; a skip connection from
// the layer just before helps, longer ones hurt. It returns a value in
// [0, 1], like an accuracy.
func hiddenScore(t testing.TB, arch, nnConfig string) float64 {
	var arc [][]int
	if err := json.Unmarshal([]byte(strings.ReplaceAll(arch, "'", `"`)), &arc); err != nil {
		t.Fatalf("architecture %q: %v", arch, err)
	}
	var cfg struct {
		NumLayers int `json:"num_layers"`
		Embedding map[string]struct {
			Type   string            `json:"opt_type"`
			Params map[string]string `json:"opt_params"`
		} `json:"embedding"`
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(nnConfig, "'", `"`)), &cfg); err != nil {
		t.Fatalf("nn_config %q: %v", nnConfig, err)
	}
	var score, best float64
	for l, layer := range arc {
		op, ok := cfg.Embedding[fmt.Sprint(layer[0])]
		if !ok {
			t.Fatalf("nn_config %q lacks operation %d", nnConfig, layer[0])
		}
		switch {
		case op.Type == "convolution" && op.Params["filter_size"] == "3":
			score += 1
		case op.Type == "convolution":
			score += 0.5
		case op.Type == "separable_convolution":
			score += 0.3
		}
		best += 1
		for j, s := range layer[1:] {
			switch {
			case j == l-1 && s == 1:
				score += 0.5
			case s == 1:
				score -= 0.25
			}
		}
		if l > 0 {
			best += 0.5
		}
	}
	return max(0, score/best)
}

// runENAS runs trials one at a time (as parallelTrialCount 1 would) and
// returns their scores.
func runENAS(t testing.TB, settings map[string]string, seed uint64, trials int) []float64 {
	s, err := enas.New(settings)
	if err != nil {
		t.Fatal(err)
	}
	req := suggest.Request{NAS: toyNAS(), Goal: suggest.Maximize, Seed: seed, N: 1}
	var scores []float64
	for range trials {
		as, err := s.Suggest(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		v := hiddenScore(t, as[0]["architecture"], as[0]["nn_config"])
		scores = append(scores, v)
		req.History = append(req.History, suggest.Observation{Assignment: as[0], Status: suggest.Completed, Value: v})
	}
	return scores
}

// randomArc draws an architecture uniformly: each operation equally
// likely, each skip connection with probability 1/2.
func randomArc(rng *rand.Rand, layers, ops int) enas.Arc {
	arc := make(enas.Arc, layers)
	for l := range arc {
		arc[l] = make([]int, l+1)
		arc[l][0] = rng.IntN(ops)
		for j := 1; j <= l; j++ {
			arc[l][j] = rng.IntN(2)
		}
	}
	return arc
}

// randomScores scores n architectures drawn uniformly.
func randomScores(t testing.TB, seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	nas := toyNAS()
	ops, _ := enas.Expand(nas)
	var out []float64
	for range n {
		arc := randomArc(rng, nas.NumLayers, len(ops))
		out = append(out, hiddenScore(t, arc.String(), enas.NNConfig(arc, nas, ops)))
	}
	return out
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
