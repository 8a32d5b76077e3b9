package random_test

import (
	"context"
	"fmt"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

func ExampleSuggester_Suggest() {
	s, err := random.New(map[string]string{"random_state": "42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 0.01, Max: 0.05, Step: 0.005},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam", "ftrl"}},
	}
	batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, N: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range batch {
		fmt.Println(a["lr"], a["layers"], a["optimizer"])
	}

	// Asking one at a time, with the history growing, gives the same trials.
	var history []suggest.Observation
	for range 3 {
		one, err := s.Suggest(context.Background(), suggest.Request{Space: space, History: history, N: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		a := one[0]
		fmt.Println(a["lr"], a["layers"], a["optimizer"])
		history = append(history, suggest.Observation{Assignment: a, Status: suggest.Pending})
	}
	// Output:
	// 0.045 5 sgd
	// 0.015 4 adam
	// 0.01 4 sgd
	// 0.045 5 sgd
	// 0.015 4 adam
	// 0.01 4 sgd
}
