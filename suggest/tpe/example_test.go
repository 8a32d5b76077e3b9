package tpe_test

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/tpe"
)

func ExampleSuggester_Suggest() {
	s, err := tpe.New(map[string]string{"n_startup_trials": "5", "random_state": "1"}, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	space := suggest.Space{{Name: "x", Type: suggest.Double, Min: -10, Max: 10}}
	var history []suggest.Observation
	best := math.Inf(1)
	for range 30 {
		batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: history, N: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		x, _ := strconv.ParseFloat(batch[0]["x"], 64)
		loss := (x - 2) * (x - 2)
		best = min(best, loss)
		history = append(history, suggest.Observation{Assignment: batch[0], Status: suggest.Completed, Value: loss})
	}
	fmt.Println(best < 0.05)
	// Output:
	// true
}
