package cmaes_test

import (
	"context"
	"fmt"
	"log"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/cmaes"
)

func ExampleSuggester_Suggest() {
	s, err := cmaes.New(map[string]string{"random_state": "2", "restart_strategy": "ipop"})
	if err != nil {
		log.Fatal(err)
	}
	space := suggest.Space{
		{Name: "x", Type: suggest.Double, Min: -5, Max: 5},
		{Name: "y", Type: suggest.Double, Min: -5, Max: 5},
		{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
	}
	// Minimise (x−1)² + (y+2)², four trials at a time.
	var history []suggest.Observation
	best := suggest.Observation{Value: 1e300}
	for len(history) < 120 {
		as, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: history, N: 4})
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range as {
			x, _ := strconv.ParseFloat(a["x"], 64)
			y, _ := strconv.ParseFloat(a["y"], 64)
			o := suggest.Observation{Assignment: a, Status: suggest.Completed, Value: (x-1)*(x-1) + (y+2)*(y+2)}
			history = append(history, o)
			if o.Value < best.Value {
				best = o
			}
		}
	}
	fmt.Printf("best value below 1e-3: %v\n", best.Value < 1e-3)
	// Output:
	// best value below 1e-3: true
}
