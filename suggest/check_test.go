package suggest_test

import (
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestParamCheck(t *testing.T) {
	lr := suggest.Param{Name: "lr", Type: suggest.Double, Min: 0.001, Max: 0.1}
	m := suggest.Param{Name: "m", Type: suggest.Double, Min: 0.5, Max: 0.9, Step: 0.1}
	n := suggest.Param{Name: "n", Type: suggest.Int, Min: 1, Max: 8}
	opt := suggest.Param{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam"}}
	bs := suggest.Param{Name: "bs", Type: suggest.Discrete, Values: []string{"16", "32"}}
	for _, tc := range []struct {
		p     suggest.Param
		value string
		ok    bool
	}{
		{lr, "0.01", true}, {lr, "0.001", true}, {lr, "0.5", false}, {lr, "fast", false}, {lr, "NaN", false},
		{m, "0.7", true}, {m, "0.75", false},
		{n, "3", true}, {n, "3.5", false}, {n, "9", false},
		{opt, "adam", true}, {opt, "Adam", false},
		{bs, "32", true}, {bs, "32.0", false},
	} {
		err := tc.p.Check(tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%s.Check(%q) = %v, want ok=%v", tc.p.Name, tc.value, err, tc.ok)
		}
	}
}
