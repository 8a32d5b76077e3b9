package bayes_test

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/bayes"
)

func ExampleSuggester_Suggest() {
	s, err := bayes.New(map[string]string{"n_initial_points": "5", "acq_func": "EI", "random_state": "7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1, Distribution: suggest.LogUniform},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
	}
	// The objective: best at lr = 0.01 and 3 layers.
	loss := func(a suggest.Assignment) float64 {
		lr, _ := strconv.ParseFloat(a["lr"], 64)
		layers, _ := strconv.ParseFloat(a["layers"], 64)
		return math.Pow(math.Log10(lr)+2, 2) + math.Pow(layers-3, 2)/10
	}
	var history []suggest.Observation
	for range 8 {
		// Two trials at a time, as with parallelTrialCount: 2.
		batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: history, N: 2})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, a := range batch {
			history = append(history, suggest.Observation{Assignment: a, Status: suggest.Completed, Value: loss(a)})
		}
	}
	best := history[0]
	for _, o := range history {
		if suggest.Minimize.Better(o.Value, best.Value) {
			best = o
		}
	}
	fmt.Println("trials:", len(history))
	fmt.Println("best layers:", best.Assignment["layers"])
	fmt.Println("best loss below 0.01:", best.Value < 0.01)
	// Output:
	// trials: 16
	// best layers: 3
	// best loss below 0.01: true
}
