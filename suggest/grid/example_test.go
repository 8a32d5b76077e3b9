package grid_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/grid"
)

func ExampleSuggester_Suggest() {
	s, err := grid.New(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.02, Step: 0.005},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
	}
	var history []suggest.Observation
	for {
		batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: history, N: 4})
		if errors.Is(err, suggest.ErrExhausted) {
			fmt.Println("done")
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, a := range batch {
			fmt.Println(a["lr"], a["optimizer"])
			history = append(history, suggest.Observation{Assignment: a, Status: suggest.Completed})
		}
	}
	// Output:
	// 0.01 sgd
	// 0.01 adam
	// 0.015 sgd
	// 0.015 adam
	// 0.02 sgd
	// 0.02 adam
	// done
}

func ExampleSize() {
	n, err := grid.Size(suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005},
		{Name: "momentum", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1},
	})
	fmt.Println(n, err)
	// Output: 45 <nil>
}
