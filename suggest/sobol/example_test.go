package sobol_test

import (
	"context"
	"fmt"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/sobol"
)

func ExampleSuggester_Suggest() {
	s, err := sobol.New(map[string]string{"random_state": "42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	space := suggest.Space{
		{Name: "lr", Type: suggest.Double, Min: 1e-4, Max: 1e-1, Distribution: suggest.LogUniform},
		{Name: "layers", Type: suggest.Int, Min: 1, Max: 8},
		{Name: "optimizer", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
	}
	batch, err := s.Suggest(context.Background(), suggest.Request{Space: space, N: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range batch {
		fmt.Println(a["lr"], a["layers"], a["optimizer"])
	}
	// Output:
	// 0.0589805336403 8 sgd
	// 0.00665047858826 2 adam
	// 0.00020758173652 5 sgd
	// 0.000306183138669 1 sgd
}

func ExampleNewUnscrambledSequence() {
	seq, err := sobol.NewUnscrambledSequence(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := make([]float64, seq.Dims())
	for k := range uint64(8) {
		seq.Point(k, p)
		fmt.Println(p)
	}
	// Output:
	// [0 0]
	// [0.5 0.5]
	// [0.75 0.25]
	// [0.25 0.75]
	// [0.375 0.375]
	// [0.875 0.875]
	// [0.625 0.125]
	// [0.125 0.625]
}
